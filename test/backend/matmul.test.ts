import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { matmulTuning } from '../../src/backend/wasm-matmul.js';
import { assertClose, backendDataIds, computeMatMul, jsMatMul, matMulCases, on, size, values, type MatMulCase, type MatMulShape } from './helpers.js';


/** [batch..., M, K] x [batch..., K, N] in the stored layout for each transpose combo. */
function cases(): MatMulCase[] {
  const shapes: MatMulShape[] = [
    { name: '2-D 7x13x5', ba: [], bb: [], M: 7, K: 13, N: 5 },
    { name: '3-D batch 1', ba: [1], bb: [1], M: 7, K: 13, N: 5 },
    { name: '3-D batch 3 (tiny: stock path)', ba: [3], bb: [3], M: 7, K: 13, N: 5 },
    { name: '3-D batch 4 (looped XNNPACK)', ba: [4], bb: [4], M: 17, K: 13, N: 19 },
    { name: '4-D [2,3] batch', ba: [2, 3], bb: [2, 3], M: 9, K: 13, N: 15 },
    { name: 'broadcast B batch 1', ba: [3], bb: [1], M: 7, K: 13, N: 5 },
    { name: 'broadcast B rank 2', ba: [3], bb: [], M: 7, K: 13, N: 5 },
    { name: 'broadcast A batch 1', ba: [1], bb: [3], M: 11, K: 13, N: 14 },
    { name: 'broadcast A rank 2', ba: [], bb: [2], M: 11, K: 13, N: 14 },
    // cpu computes these wrong (it only broadcasts a batch of 1): compare with the JS reference only.
    { name: 'broadcast both [2,1]x[3]', ba: [2, 1], bb: [3], M: 11, K: 13, N: 14, cpuOk: false },
    { name: 'broadcast both [1,3]x[2,1]', ba: [1, 3], bb: [2, 1], M: 11, K: 13, N: 14, cpuOk: false },
  ];
  return matMulCases(shapes);
}


test('wasm BatchMatMul override matches cpu and a JS reference (all transpose combos, batches, broadcasts)', async () => {
  const all = cases();
  const ref = await on('cpu', () => all.map(computeMatMul));
  registerWasmOverrides();
  const got = await on('wasm', () => all.map(computeMatMul));
  all.forEach((c, i) => {
    const js = jsMatMul(values(size(c.a), 2 * i + 1), c.a, values(size(c.b), 2 * i + 2), c.b, c.ta, c.tb);
    assert.deepEqual(got[i].shape, js.shape, `${c.name}: shape`);
    assertClose(got[i].v, js.v, 1e-4, `${c.name} vs JS`);
    if (c.cpuOk) {
      assert.deepEqual(got[i].shape, ref[i].shape, `${c.name}: shape vs cpu`);
      assertClose(got[i].v, ref[i].v, 1e-4, `${c.name} vs cpu`);
    }
  });
});

test('looped path and stock path agree for a batch on both sides of the size threshold', async () => {
  registerWasmOverrides();
  const c: MatMulCase = { name: 'batch 5 4x3x2 NT', a: [5, 4, 3], b: [5, 2, 3], ta: false, tb: true, cpuOk: true };
  const saved = matmulTuning.loopMinMacs;
  try {
    matmulTuning.loopMinMacs = 0; // force per-entry XNNPACK
    const looped = await on('wasm', () => computeMatMul(c, 7));
    matmulTuning.loopMinMacs = Number.MAX_SAFE_INTEGER; // force the stock batched kernel
    const stock = await on('wasm', () => computeMatMul(c, 7));
    assertClose(looped.v, stock.v, 1e-5, 'looped vs stock');
  } finally {
    matmulTuning.loopMinMacs = saved;
  }
});

test('fused matMul (bias + relu) with transposes on wasm matches cpu', async () => {
  const combos = [[false, false], [true, false], [false, true], [true, true]] as const;
  const run = () =>
    combos.map(([ta, tb], i) =>
      tf.tidy(() => {
        const [M, K, N] = [6, 11, 5];
        const a = tf.tensor(values(2 * M * K, 40 + i), ta ? [2, K, M] : [2, M, K]);
        const b = tf.tensor(values(K * N, 50 + i), tb ? [N, K] : [K, N]);
        const bias = tf.tensor(values(N, 60 + i), [N]);
        const y = tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation: 'relu' });
        return { v: y.dataSync() as Float32Array, shape: y.shape };
      }),
    );
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, ref[i].shape);
    assertClose(g.v, ref[i].v, 1e-4, `fused combo ${i}`);
  });
});

test('matMul gradients (transposed products) on wasm match cpu', async () => {
  const run = () =>
    tf.tidy(() => {
      const a = tf.tensor(values(4 * 6 * 8, 70), [4, 6, 8]);
      const b = tf.tensor(values(4 * 8 * 5, 71), [4, 8, 5]);
      const w = tf.tensor(values(5 * 3, 72), [5, 3]);
      // [4,6,8]x[4,8,5] -> [24,5]x[5,3]: every transposed product in the backward pass.
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => tf.matMul(tf.matMul(x, y).reshape([24, 5]), z).square().sum();
      const [ga, gb, gw] = tf.grads(f)([a, b, w]);
      return [ga, gb, gw].map((g) => g.dataSync() as Float32Array);
    });
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  got.forEach((g, i) => assertClose(g, ref[i], 1e-4, `grad ${i}`));
});

test('no leaks: tensors, bytes and backend data ids constant across repeated override calls', async () => {
  registerWasmOverrides();
  await on('wasm', () => undefined);
  const a = tf.tensor(values(3 * 13 * 7, 80), [3, 13, 7]);
  const b = tf.tensor(values(3 * 5 * 13, 81), [3, 5, 13]);
  const a2 = tf.tensor(values(2 * 1 * 9 * 13, 82), [2, 1, 9, 13]);
  const b2 = tf.tensor(values(3 * 13 * 20, 83), [3, 13, 20]);
  const c = tf.tensor(values(10 * 7, 84), [10, 7]);
  const drop = (f: () => tf.TensorContainer) => tf.dispose(tf.tidy(f));
  const once = () => {
    for (const [ta, tb] of [[false, false], [true, true]] as const) {
      drop(() => tf.matMul(ta ? a : a.transpose([0, 2, 1]), tb ? b : b.transpose([0, 2, 1]), ta, tb));
    }
    drop(() => tf.matMul(a2, b2)); // looped, broadcast
    drop(() => tf.matMul(a2.transpose([0, 1, 3, 2]), b2.transpose([0, 2, 1]), true, true)); // looped TT
    drop(() => tf.matMul(a.reshape([39, 7]), a.reshape([39, 7]), true, false)); // 2-D TN
    drop(() => tf.matMul(a, b, true, true)); // tiny batched: stock
    drop(() => tf.matMul(a.reshape([39, 7]), c, false, true)); // 2-D NT
    drop(() => tf.fused.matMul({ a: a.reshape([39, 7]), b: c, transposeB: true, bias: c.sum(1), activation: 'relu' }));
    drop(() => tf.fused.matMul({ a: a.reshape([39, 7]), b: a.reshape([39, 7]), transposeA: true, activation: 'relu' }));
    drop(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, true, true).sum())([a, b]));
  };
  once();
  const m0 = tf.memory();
  const ids0 = backendDataIds();
  for (let i = 0; i < 5; i++) once();
  const m1 = tf.memory();
  assert.equal(m1.numTensors, m0.numTensors, 'numTensors');
  assert.equal(m1.numBytes, m0.numBytes, 'numBytes');
  assert.equal(backendDataIds(), ids0, 'backend data ids (kernel intermediates)');
  tf.dispose([a, b, a2, b2, c]);
});
