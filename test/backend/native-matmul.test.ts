/**
 * The native backend's BatchMatMul / _FusedMatMul against the cpu backend and a plain-JS reference:
 * every transpose, odd / empty / 1xN / Nx1 shapes, batches and broadcasts, the bias + activation
 * epilogue, on each SIMD path this CPU has (AVX-512, AVX2, portable), and bitwise equal for 1 and 2 threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, computeMatMul, jsMatMul, matMulCases, on, size, values, type MatMulCase, type MatMulShape } from './helpers.js';
import { backendSkip, useBackend } from '../helpers/backend.js';
import { loadNativeAddon, type SimdPath } from '../../src/backend/native-addon.js';

const skip = backendSkip('native');
const TOL = 1e-5; // |got - want| <= TOL * max(1, |want|)


function cases(): MatMulCase[] {
  const shapes: MatMulShape[] = [
    { name: '2-D 7x13x5', ba: [], bb: [], M: 7, K: 13, N: 5 },
    { name: '2-D odd 37x61x43 (edge tiles on every path)', ba: [], bb: [], M: 37, K: 61, N: 43 },
    { name: '2-D 100x300x70 (two row blocks, two k blocks)', ba: [], bb: [], M: 100, K: 300, N: 70 },
    { name: '1xN', ba: [], bb: [], M: 1, K: 17, N: 33 },
    { name: 'Nx1', ba: [], bb: [], M: 33, K: 17, N: 1 },
    { name: '1x1x1', ba: [], bb: [], M: 1, K: 1, N: 1 },
    { name: 'empty M', ba: [], bb: [], M: 0, K: 5, N: 3 },
    { name: 'empty K (zeros)', ba: [], bb: [], M: 4, K: 0, N: 3 },
    { name: 'empty batch', ba: [0], bb: [0], M: 4, K: 5, N: 3 },
    { name: '3-D batch 4', ba: [4], bb: [4], M: 17, K: 13, N: 19 },
    { name: '4-D [2,3] batch', ba: [2, 3], bb: [2, 3], M: 9, K: 13, N: 15 },
    { name: 'broadcast B batch 1 (folded rows)', ba: [3], bb: [1], M: 7, K: 13, N: 5 },
    { name: 'broadcast B rank 2', ba: [3], bb: [], M: 7, K: 13, N: 5 },
    { name: 'broadcast A batch 1', ba: [1], bb: [3], M: 11, K: 13, N: 14 },
    { name: 'broadcast A rank 2', ba: [], bb: [2], M: 11, K: 13, N: 14 },
    // cpu computes these wrong (it only broadcasts a batch of 1): JS reference only.
    { name: 'broadcast both [2,1]x[3]', ba: [2, 1], bb: [3], M: 11, K: 13, N: 14, cpuOk: false },
    { name: 'broadcast both [1,3]x[2,1]', ba: [1, 3], bb: [2, 1], M: 11, K: 13, N: 14, cpuOk: false },
  ];
  return matMulCases(shapes);
}


function paths(): SimdPath[] {
  const info = loadNativeAddon().addon?.info();
  return info == null ? [] : [...(info.avx512 ? ['avx512' as const] : []), ...(info.avx2fma ? ['avx2' as const] : []), 'scalar'];
}

test('native BatchMatMul matches cpu and a JS reference on every SIMD path (transposes, odd/empty shapes, batches, broadcasts)', { skip }, async () => {
  const all = cases();
  const ref = await on('cpu', () => all.map(computeMatMul));
  await useBackend('native');
  const addon = loadNativeAddon().addon!;
  try {
    for (const path of paths()) {
      assert.equal(addon.setPath(path), path);
      const got = all.map(computeMatMul);
      all.forEach((c, i) => {
        const js = jsMatMul(values(size(c.a), 2 * i + 1), c.a, values(size(c.b), 2 * i + 2), c.b, c.ta, c.tb);
        assert.deepEqual(got[i].shape, js.shape, `${path} ${c.name}: shape`);
        assertClose(got[i].v, js.v, TOL, `${path} ${c.name} vs JS`);
        if (c.cpuOk) assertClose(got[i].v, ref[i].v, TOL, `${path} ${c.name} vs cpu`);
      });
    }
  } finally {
    addon.setPath('auto');
  }
});

test('native _FusedMatMul: bias [N] and each activation match cpu; PReLU and a non-row bias fall back correctly', { skip }, async () => {
  const run = () => {
    const outs: Array<{ name: string; v: Float32Array }> = [];
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'] as const) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        tf.tidy(() => {
          const M = 19, K = 23, N = 37;
          const a = tf.tensor(values(M * K, 3), ta ? [K, M] : [M, K]).mul(4) as tf.Tensor2D;
          const b = tf.tensor(values(K * N, 4), tb ? [N, K] : [K, N]) as tf.Tensor2D;
          const bias = tf.tensor1d(values(N, 5));
          const prelu = activation === 'prelu' ? tf.tensor1d(values(N, 6)) : undefined;
          const y = tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias, activation, preluActivationWeights: prelu, leakyreluAlpha: 0.3 });
          outs.push({ name: `${activation} ${ta}${tb}`, v: y.dataSync() as Float32Array });
          const col = tf.tensor2d(values(M, 7), [M, 1]); // a column bias: broadcast the other way
          outs.push({ name: `${activation} column bias`, v: tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: col, activation, preluActivationWeights: prelu }).dataSync() as Float32Array });
        });
      }
    }
    return outs;
  };
  const want = await on('cpu', run);
  await useBackend('native');
  const got = run();
  got.forEach((g, i) => assertClose(g.v, want[i].v, TOL, g.name));
});

test('native matmul results are bitwise identical for 1 and 2 threads', { skip }, async () => {
  await useBackend('native');
  const addon = loadNativeAddon().addon!;
  const run = () => tf.tidy(() => {
    const a = tf.tensor(values(3 * 200 * 130, 1), [3, 200, 130]);
    const b = tf.tensor(values(130 * 300, 2), [130, 300]);
    const c = tf.tensor(values(3 * 64 * 200, 3), [3, 64, 200]);
    return [tf.matMul(a, b).dataSync().slice(), tf.matMul(c, a).dataSync().slice(), tf.matMul(a, a, true, false).dataSync().slice()];
  });
  try {
    addon.setThreads(1);
    const one = run();
    addon.setThreads(2);
    const two = run();
    one.forEach((v, i) => assert.ok(Buffer.from(v.buffer).equals(Buffer.from(two[i].buffer)), `product ${i} differs between 1 and 2 threads`));
  } finally {
    addon.setThreads(2);
  }
});
