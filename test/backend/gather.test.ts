import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { backendDataIds, on, values } from './helpers.js';

test('wasm GatherV2 override equals cpu: axes, negative axis, batchDims, int32 and bool tables', async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(values(5 * 4 * 3, 1), [5, 4, 3]);
      const xi = tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32');
      const xb = tf.tensor2d([[true, false], [false, false], [true, true]], [3, 2], 'bool');
      const ids2 = tf.tensor2d([[4, 0, 4], [1, 1, 2]], [2, 3], 'int32'); // repeated ids
      const outs = [
        tf.gather(x, ids2), // axis 0, 2-D indices: [2, 3, 4, 3]
        tf.gather(x, tf.tensor1d([3, 0, 3], 'int32'), 1), // axis 1: [5, 3, 3]
        tf.gather(x, tf.tensor1d([2, 2, 0, 1], 'int32'), -1), // last axis: [5, 4, 4]
        tf.gather(x.slice([0, 0, 0], [2, 4, 3]), tf.tensor2d([[3, 1], [0, 0]], [2, 2], 'int32'), 1, 1), // batchDims 1
        tf.gather(xi, tf.tensor1d([2, 0, 2], 'int32')),
        tf.gather(xb, tf.tensor1d([0, 2], 'int32')),
        tf.gather(x, tf.tensor1d([], 'int32')), // empty
      ];
      return outs.map((y) => ({ v: Array.from(y.dataSync(), Number), shape: y.shape, dtype: y.dtype }));
    });
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  got.forEach((g, i) => assert.deepEqual(g, ref[i], `case ${i}`));
});

test('wasm GatherV2 rejects an out-of-range index like the cpu backend and leaks nothing', async () => {
  registerWasmOverrides();
  await on('wasm', () => undefined);
  const x = tf.tensor(values(6 * 2, 2), [6, 2]);
  const bad = tf.tensor1d([1, 6], 'int32');
  const good = tf.tensor1d([5, 0, 5], 'int32');
  assert.throws(() => tf.gather(x, bad), /index value 6 is not in \[0, 5\]/);
  const once = () => tf.dispose(tf.tidy(() => tf.gather(x, good).add(1)));
  once();
  const [n0, d0] = [tf.memory().numTensors, backendDataIds()];
  for (let i = 0; i < 5; i++) once();
  assert.deepEqual([tf.memory().numTensors, backendDataIds()], [n0, d0]);
  tf.dispose([x, bad, good]);
});
