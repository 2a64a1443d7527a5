/** wasm Identity / same-dtype Cast share buffers: values, lifetimes and variable updates stay right. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../helpers/backend.js';

await useBackend('wasm');

test('a clone outlives its source and keeps its values; no bytes leak', () => {
  const before = tf.memory().numBytes;
  const x = tf.tensor1d([1, 2, 3]);
  const y = x.clone();
  const z = tf.cast(x, 'float32');
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3]);
  assert.deepEqual([...z.dataSync()], [1, 2, 3]);
  y.dispose();
  assert.deepEqual([...z.dataSync()], [1, 2, 3]);
  z.dispose();
  assert.equal(tf.memory().numBytes, before);
});

test('assigning a variable does not change an earlier clone of it', () => {
  const v = tf.variable(tf.tensor1d([1, 2]));
  const snapshot = v.clone();
  v.assign(tf.tensor1d([5, 6]));
  assert.deepEqual([...snapshot.dataSync()], [1, 2]);
  assert.deepEqual([...v.dataSync()], [5, 6]);
  tf.dispose([v, snapshot]);
});

test('a cast to another dtype still converts', () => {
  const x = tf.tensor1d([1.7, -2.2]);
  assert.deepEqual([...tf.cast(x, 'int32').dataSync()], [1, -2]);
  assert.deepEqual([...tf.cast(tf.tensor1d([3, 4], 'int32'), 'float32').dataSync()], [3, 4]);
});
