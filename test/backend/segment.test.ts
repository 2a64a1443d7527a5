import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { assertClose, backendDataIds, on, values } from './helpers.js';

test('UnsortedSegmentSum on wasm: hand-worked values, repeated and out-of-range ids dropped', async () => {
  registerWasmOverrides();
  const got = await on('wasm', () =>
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]); // [5, 2]
      const ids = tf.tensor1d([2, 0, 2, -1, 7], 'int32'); // -1 and 7 are outside [0, 4)
      const y = tf.unsortedSegmentSum(x, ids, 4);
      return { v: Array.from(y.dataSync()), shape: y.shape };
    }),
  );
  assert.deepEqual(got.shape, [4, 2]);
  assert.deepEqual(got.v, [3, 4, 0, 0, 6, 8, 0, 0]);
});

test('UnsortedSegmentSum on wasm equals cpu: float32 rank-3 and int32', async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(values(6 * 3 * 2, 1), [6, 3, 2]);
      const ids = tf.tensor1d([1, 4, 1, 1, 0, 4], 'int32');
      const xi = tf.tensor2d([[1, -2], [3, 4], [5, 6]], [3, 2], 'int32');
      const idsi = tf.tensor1d([1, 1, 0], 'int32');
      const outs = [tf.unsortedSegmentSum(x, ids, 5), tf.unsortedSegmentSum(xi, idsi, 2)];
      return outs.map((y) => ({ v: y.dataSync(), shape: y.shape, dtype: y.dtype }));
    });
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, ref[i].shape, `case ${i} shape`);
    // TensorFlow keeps x's dtype; tfjs-cpu returns float32 for int32 x (its mask multiply upcasts).
    assert.equal(g.dtype, ['float32', 'int32'][i], `case ${i} dtype`);
    assertClose(g.v, ref[i].v, 1e-5, `case ${i}`);
  });
});

test('gradient of tf.gather (embedding lookup) w.r.t. the table on wasm equals cpu, repeated indices', async () => {
  const run = () =>
    tf.tidy(() => {
      const table = tf.tensor(values(11 * 4, 3), [11, 4]); // [V, H]
      const ids = tf.tensor2d([[3, 7, 3, 0], [10, 3, 7, 7]], [2, 4], 'int32'); // [B, S], repeats
      const w = tf.tensor(values(2 * 4 * 4, 4), [2, 4, 4]);
      // loss = sum(gather(table, ids) * w): d/dtable[v] = sum of w over positions with id v
      const g = tf.grad((t: tf.Tensor) => tf.gather(t, ids).mul(w).sum())(table);
      // axis-1 gather (e.g. a [H, V] table) goes through a transpose in the gradient
      const g1 = tf.grad((t: tf.Tensor) => tf.gather(t, ids.reshape([8]), 1).square().sum())(table.transpose());
      return [g.dataSync(), g1.dataSync()];
    });
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  assertClose(got[0], ref[0], 1e-5, 'axis 0');
  assertClose(got[1], ref[1], 1e-5, 'axis 1');
  // rows never looked up get zero gradient (row 1), repeated rows accumulate (row 3: three hits)
  const w = values(2 * 4 * 4, 4);
  const row3 = [0, 1, 2, 3].map((j) => w[0 * 4 + j] + w[2 * 4 + j] + w[5 * 4 + j]);
  assertClose(got[0].slice(12, 16), row3, 1e-5, 'row 3 by hand');
  assert.deepEqual(Array.from(got[0].slice(4, 8)), [0, 0, 0, 0]);
});

test('UnsortedSegmentSum on wasm leaks nothing', async () => {
  registerWasmOverrides();
  await on('wasm', () => undefined);
  const table = tf.tensor(values(9 * 3, 5), [9, 3]);
  const ids = tf.tensor1d([1, 1, 8, 0], 'int32');
  const once = () => tf.dispose(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.gather(t, ids).sum())(table)));
  once();
  const [n0, b0, d0] = [tf.memory().numTensors, tf.memory().numBytes, backendDataIds()];
  for (let i = 0; i < 5; i++) once();
  assert.deepEqual([tf.memory().numTensors, tf.memory().numBytes, backendDataIds()], [n0, b0, d0]);
  tf.dispose([table, ids]);
});
