/**
 * The native backend's element-wise, Transpose, reduction and Softmax kernels against the cpu
 * backend on odd, empty, 1xN, Nx1 and broadcast shapes (1e-5 relative), and bitwise equal for 1
 * and 2 threads on sizes big enough to be split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, on, size, values } from './helpers.js';
import { backendSkip, useBackend } from '../helpers/backend.js';
import { loadNativeAddon } from '../../src/backend/native-addon.js';

const skip = backendSkip('native');
const TOL = 1e-5;

type Case = { name: string; run: () => tf.Tensor };

const t = (shape: number[], seed: number, scale = 1, offset = 0) => tf.tensor(values(size(shape), seed), shape).mul(scale).add(offset);

function cases(): Case[] {
  const out: Case[] = [];
  const pairs: Array<[number[], number[]]> = [
    [[5, 7], [5, 7]], [[5, 7], [7]], [[5, 1], [1, 7]], [[2, 3, 4], [3, 1]], [[3, 1, 4], [2, 1]], [[6, 9], []],
    [[], [4, 3]], [[1, 33], [33, 1]], [[0, 3], [3]], [[2, 0, 3], [1, 1, 3]], [[300, 257], [257]], [[4, 300, 70], [4, 1, 70]],
  ];
  const binary: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor]> = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['div', tf.div], ['maximum', tf.maximum], ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference],
  ];
  pairs.forEach(([sa, sb], i) => {
    for (const [name, f] of binary) {
      out.push({ name: `${name} [${sa}] x [${sb}]`, run: () => f(t(sa, 10 + i), name === 'div' ? t(sb, 50 + i, 1, 2.5) : t(sb, 50 + i)) });
    }
  });
  const unary: Array<[string, (x: tf.Tensor) => tf.Tensor, boolean]> = [
    ['exp', tf.exp, false], ['neg', tf.neg, false], ['erf', tf.erf, false], ['sqrt', tf.sqrt, true], ['square', tf.square, false],
    ['rsqrt', tf.rsqrt, true], ['tanh', tf.tanh, false], ['log', tf.log, true], ['abs', tf.abs, false], ['sigmoid', tf.sigmoid, false],
    ['relu', tf.relu, false], ['reciprocal', tf.reciprocal, true],
  ];
  for (const shape of [[7, 13], [0, 4], [1], [200, 300]]) {
    for (const [name, f, positive] of unary) {
      out.push({ name: `${name} [${shape}]`, run: () => f(positive ? t(shape, 3, 2, 2.1) : t(shape, 3, 3)) });
    }
  }
  const reductions: Array<[string, (x: tf.Tensor, axis?: number | number[], keep?: boolean) => tf.Tensor]> = [
    ['sum', tf.sum], ['mean', tf.mean], ['max', tf.max], ['min', tf.min],
  ];
  const axesCases: Array<[number[], number | number[] | undefined]> = [
    [[5, 7], 0], [[5, 7], 1], [[5, 7], undefined], [[2, 3, 4], [0, 2]], [[2, 3, 4], 1], [[2, 3, 4], [1, 2]], [[1, 9], 1], [[9, 1], 0],
    [[4096, 64], 0], [[64, 4096], 1], [[8, 512, 33], [0, 1]], [[0, 5], 1], [[3, 0], 1],
  ];
  axesCases.forEach(([shape, axis], i) => {
    for (const [name, f] of reductions) {
      for (const keep of [false, true]) {
        out.push({ name: `${name} [${shape}] axis ${axis} keepDims ${keep}`, run: () => f(t(shape, 70 + i), axis, keep) });
      }
    }
  });
  for (const [shape, perm] of [[[5, 7], [1, 0]], [[2, 3, 4], [0, 2, 1]], [[2, 3, 4, 5], [0, 2, 1, 3]], [[2, 3, 4], [2, 0, 1]], [[1, 9], [1, 0]], [[0, 3], [1, 0]], [[64, 300, 33], [2, 0, 1]], [[5, 7], [0, 1]], [[2, 1, 3], [1, 0, 2]], [[4, 1, 5, 1], [1, 0, 3, 2]]] as Array<[number[], number[]]>) {
    out.push({ name: `transpose [${shape}] perm ${perm}`, run: () => tf.transpose(t(shape, 9), perm) });
  }
  for (const shape of [[3, 7], [1, 1], [2, 4, 17], [0, 5], [600, 129]]) {
    out.push({ name: `softmax [${shape}]`, run: () => tf.softmax(t(shape, 11, 5)) });
  }
  // the embedding gradient: repeated ids summed in order, out-of-range ids dropped
  out.push({ name: 'unsortedSegmentSum [6, 5] -> [4, 5]', run: () => tf.unsortedSegmentSum(t([6, 5], 31), tf.tensor1d([0, 2, 2, -1, 7, 1], 'int32'), 4) });
  out.push({ name: 'unsortedSegmentSum [6, 3, 4] -> [9, 3, 4]', run: () => tf.unsortedSegmentSum(t([6, 3, 4], 32), tf.tensor1d([8, 0, 8, 3, 3, 3], 'int32'), 9) });
  // int32 inputs take the cpu kernels
  out.push({ name: 'int32 add and sum (cpu fallback)', run: () => tf.sum(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.scalar(4, 'int32'))) });
  return out;
}

function runAll(all: Case[]): Array<{ v: Float32Array; shape: number[]; dtype: string }> {
  return all.map((c) => tf.tidy(() => {
    const y = c.run();
    return { v: Float32Array.from(y.dataSync()), shape: y.shape, dtype: y.dtype };
  }));
}

test('native element-wise, Transpose, reductions and Softmax match cpu (odd, empty, 1xN, Nx1, broadcast shapes)', { skip }, async () => {
  const all = cases();
  const want = await on('cpu', () => runAll(all));
  await useBackend('native');
  const got = runAll(all);
  all.forEach((c, i) => {
    assert.deepEqual(got[i].shape, want[i].shape, `${c.name}: shape`);
    assert.equal(got[i].dtype, want[i].dtype, `${c.name}: dtype`);
    // NaN where cpu gives NaN (max of an empty axis), then closeness elsewhere
    const bothNaN = (j: number) => Number.isNaN(got[i].v[j]) && Number.isNaN(want[i].v[j]);
    assertClose(got[i].v.map((x, j) => (bothNaN(j) ? 0 : x)), want[i].v.map((x, j) => (bothNaN(j) ? 0 : x)), TOL, c.name);
  });
});

test('native element-wise and reductions are bitwise identical for 1 and 2 threads', { skip }, async () => {
  await useBackend('native');
  const addon = loadNativeAddon().addon!;
  const all = cases();
  try {
    addon.setThreads(1);
    const one = runAll(all);
    addon.setThreads(2);
    const two = runAll(all);
    all.forEach((c, i) => assert.ok(Buffer.from(one[i].v.buffer).equals(Buffer.from(two[i].v.buffer)), `${c.name} differs between 1 and 2 threads`));
  } finally {
    addon.setThreads(2);
  }
});

test('fused LayerNorm and GELU (native customGrad kernels) match the composite ops on cpu, values and gradients', { skip }, async () => {
  const { layerNorm } = await import('../../src/model/layer-norm.js');
  const { gelu } = await import('../../src/model/gelu.js');
  const run = () => {
    const out: Array<{ name: string; v: Float32Array }> = [];
    for (const [n, h] of [[7, 13], [1, 64], [300, 129], [0, 8]]) {
      tf.tidy(() => {
        const x = t([n, h], 21, 3, 0.5) as tf.Tensor2D;
        const g = t([h], 22, 1, 1);
        const b = t([h], 23);
        const w = t([n, h], 24); // a weighting, so the upstream gradient is not uniform
        const ln = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(layerNorm(xi as tf.Tensor2D, gi, bi, 1e-12), w));
        const ge = (xi: tf.Tensor) => tf.sum(tf.mul(gelu(xi), w));
        out.push({ name: `layerNorm [${n},${h}]`, v: layerNorm(x, g, b, 1e-12).dataSync() as Float32Array });
        tf.grads(ln)([x, g, b]).forEach((d, i) => out.push({ name: `layerNorm [${n},${h}] grad ${i}`, v: d.dataSync() as Float32Array }));
        out.push({ name: `gelu [${n},${h}]`, v: gelu(x).dataSync() as Float32Array });
        out.push({ name: `gelu [${n},${h}] grad`, v: tf.grad(ge)(x).dataSync() as Float32Array });
      });
    }
    return out;
  };
  const want = await on('cpu', run);
  await useBackend('native');
  const got = run();
  got.forEach((g, i) => assertClose(g.v, want[i].v, 2e-5, g.name));
});

test('an order-keeping Transpose shares its input array, which stays valid after the input is disposed and the pool reuses memory', { skip }, async () => {
  await useBackend('native');
  const x = tf.tensor2d(values(64 * 1024, 5), [64, 1024]);
  const want = Float32Array.from(x.dataSync());
  const before = tf.memory().numDataBuffers;
  const y = tf.transpose(x, [0, 1]);
  assert.equal(tf.memory().numDataBuffers, before, 'no new array for an identity permutation');
  x.dispose();
  const z = tf.add(tf.zeros([64, 1024]), 1); // same-size arrays from the pool
  assert.deepEqual(y.dataSync(), want);
  tf.dispose([y, z]);
});
