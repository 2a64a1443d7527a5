/**
 * The webgpu backend's WGSL kernels against the cpu backend's composite ops, on whatever adapter
 * this machine has. Without a GPU, the tests accept a software adapter (CONTRASTIVE_WEBGPU_SOFTWARE=1
 * is set here: Dawn's GL backend on Mesa llvmpipe, where libEGL/Mesa are installed); with neither,
 * every test skips and prints why (webgpu.ts's one-line reason).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { prepareWebgpu, webgpuErrors } from '../../src/backend/webgpu.js';
import { WEBGPU_KERNELS } from '../../src/backend/webgpu-kernels.js';
import { layerNorm } from '../../src/model/layer-norm.js';
import { gelu, geluDense } from '../../src/model/gelu.js';
import { attention } from '../../src/model/attention.js';
import { AdamW } from '../../src/train/adamw.js';
import { SentenceEncoder, toInputs, disposeInputs } from '../../src/model/encoder.js';
import { trainableParams } from '../../src/model/params.js';
import { DEFAULT_MODEL_CONFIG } from '../../src/model/config.js';
import { trainStepAsync } from '../../src/train/step.js';
import { registerCpuOverrides } from '../../src/backend/cpu-overrides.js';
import { assertClose } from '../helpers/backend.js';
import { values } from './helpers.js';

process.env.CONTRASTIVE_WEBGPU_SOFTWARE ??= '1';
const prepared = await prepareWebgpu();
const skip = prepared.ok ? false : prepared.why;
if (prepared.ok) console.log(`# ${prepared.why}`);

/** Runs `f` on `backend` and reads every output tensor back (asynchronously: webgpu has no sync read in Node). */
async function on(backend: 'cpu' | 'webgpu', f: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (backend === 'cpu') registerCpuOverrides();
  await tf.setBackend(backend);
  await tf.ready();
  const outs = f();
  const read = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return read;
}

async function compare(what: string, f: () => tf.Tensor[], atol: number, rtol = 0): Promise<void> {
  const want = await on('cpu', f);
  const got = await on('webgpu', f);
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assertClose(g, want[i], atol, `${what}[${i}]`, rtol));
}

test('webgpu GeluErf and its gradient equal the composite erf GELU on cpu', { skip }, async () => {
  const x = values(5000, 1).map((v) => v * 6); // [-6, 6): both tails and the middle
  await compare('gelu', () => {
    const t = tf.tensor1d(x);
    const dy = tf.tensor1d(values(5000, 2));
    const [y, dx] = [gelu(t), tf.grad((u: tf.Tensor) => tf.sum(tf.mul(gelu(u), dy)))(t)];
    tf.dispose([t, dy]);
    return [y, dx];
  }, 2e-6, 2e-6);
  await on('webgpu', () => {
    assert.ok(tf.getKernel(WEBGPU_KERNELS.gelu, 'webgpu') != null, 'the fused kernel is what ran');
    return [];
  });
});

test('webgpu RowLayerNorm forward and backward equal the composite ops on cpu (rows wider and narrower than a workgroup)', { skip }, async () => {
  for (const [n, h] of [[37, 312], [5, 96], [3, 1000]]) {
    await compare(`layerNorm ${n}x${h}`, () => {
      const x = tf.tensor2d(values(n * h, n).map((v, i) => v * 3 + (i % 7)), [n, h]); // non-zero means
      const g = tf.tensor1d(values(h, 3).map((v) => 1 + v / 2));
      const b = tf.tensor1d(values(h, 4));
      const w = tf.tensor2d(values(n * h, 5), [n, h]);
      const f = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(layerNorm(xi as tf.Tensor2D, gi, bi, 1e-12), w));
      const y = layerNorm(x, g, b, 1e-12);
      const grads = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, g, b]);
      tf.dispose([x, g, b, w]);
      return [y, ...grads];
    }, 2e-5, 2e-5);
  }
});

test('webgpu AdamWUpdate equals the composite AdamW ops on cpu over three steps, with and without decay', { skip }, async () => {
  const run = () => {
    const p = tf.variable(tf.tensor1d(values(3000, 7)));
    const bias = tf.variable(tf.tensor1d(values(17, 8)));
    const opt = new AdamW({ 'l.weight': p, 'l.bias': bias }, { weightDecay: 0.1 });
    for (let s = 0; s < 3; s++) {
      const g = { [p.name]: tf.tensor1d(values(3000, 20 + s)), [bias.name]: tf.tensor1d(values(17, 30 + s)) };
      opt.apply(g, 0.01 * (s + 1));
      tf.dispose(Object.values(g));
    }
    opt.dispose();
    return [p, bias];
  };
  await compare('adamw', run, 1e-6, 1e-5);
});

test('webgpu MatMulBiasGeluErf equals gelu(a @ b + bias) on cpu for shapes that are not tile multiples', { skip }, async () => {
  for (const [M, K, N] of [[70, 37, 130], [64, 64, 64], [1, 300, 5]]) {
    const a = values(M * K, M);
    const b = values(K * N, K);
    const bias = values(N, N);
    const want = await on('cpu', () => {
      const z = tf.add(tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N])), tf.tensor1d(bias));
      return [gelu(z), z];
    });
    const got = await on('webgpu', () => tf.engine().runKernel(WEBGPU_KERNELS.matMulBiasGelu, { a: tf.tensor2d(a, [M, K]), b: tf.tensor2d(b, [K, N]), bias: tf.tensor1d(bias) }) as tf.Tensor[]);
    assertClose(got[0], want[0], 1e-5, `gelu(z) ${M}x${K}x${N}`, 1e-5);
    assertClose(got[1], want[1], 1e-5, `z ${M}x${K}x${N}`, 1e-5);
  }
});

test('geluDense (the feed-forward op of the model) on webgpu: one fused kernel forward, gradients equal dense-then-gelu on cpu', { skip }, async () => {
  const [N, I, O] = [50, 40, 70];
  await compare('geluDense', () => {
    const x = tf.tensor2d(values(N * I, 1), [N, I]);
    const w = tf.tensor2d(values(I * O, 2), [I, O]);
    const b = tf.tensor1d(values(O, 3));
    const dy = tf.tensor2d(values(N * O, 4), [N, O]);
    const y = geluDense(x, w, b);
    const grads = tf.grads(((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(geluDense(xi as tf.Tensor2D, wi as tf.Tensor2D, bi), dy))) as (...a: tf.Tensor[]) => tf.Tensor)([x, w, b]);
    tf.dispose([x, w, b, dy]);
    return [y, ...grads];
  }, 1e-5, 1e-4);
});

test('webgpu ScaledMaskedSoftmax and its gradient equal softmax(scores·scale + mask) on cpu', { skip }, async () => {
  const [B, nh, S] = [2, 3, 150];
  const scores = values(B * nh * S * S, 9).map((v) => v * 8);
  const mask = new Float32Array(B * S).map((_, i) => (i % S < S - 1 - 40 * (Math.floor(i / S) + 1) ? 0 : -1e9)); // padding at the end of each row
  const dp = values(B * nh * S * S, 10);
  const scale = 0.125;
  const want = await on('cpu', () => {
    const x = tf.tensor4d(scores, [B, nh, S, S]);
    const m = tf.tensor4d(mask, [B, 1, 1, S]);
    const f = (t: tf.Tensor) => tf.softmax(tf.add(tf.mul(t, scale), m), -1);
    const p = f(x);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), tf.tensor4d(dp, [B, nh, S, S]))))(x);
    return [p, dx];
  });
  const got = await on('webgpu', () => {
    const p = tf.engine().runKernel(WEBGPU_KERNELS.maskedSoftmax, { scores: tf.tensor3d(scores, [B * nh, S, S]), maskBias: tf.tensor2d(mask, [B, S]) }, { scale, rowsPerMask: nh * S }) as tf.Tensor;
    const dx = tf.engine().runKernel(WEBGPU_KERNELS.maskedSoftmaxGrad, { probs: p, dprobs: tf.tensor3d(dp, [B * nh, S, S]) }, { scale }) as tf.Tensor;
    return [p, dx];
  });
  assertClose(got[0], want[0], 1e-6, 'probs', 1e-5);
  assertClose(got[1], want[1], 1e-6, 'dscores', 1e-4);
});

test('attention() on webgpu (scale, key bias and softmax as one kernel each way) equals the composite ops on cpu: output and gradients of q, k, v and the key bias', { skip }, async () => {
  const [B, S, H, D] = [2, 9, 3, 5];
  const n = B * S * H * D;
  // a real-valued bias (so its gradient means something) with the last key of each text padded
  const bias = values(B * S, 24).map((v, i) => (i % S === S - 1 ? -1e9 : v));
  const f = () => {
    const [q, k, v, dy] = [21, 22, 23, 25].map((seed) => tf.tensor4d(values(n, seed), [B, S, H, D]));
    const b = tf.tensor2d(bias, [B, S]);
    const loss = (qi: tf.Tensor, ki: tf.Tensor, vi: tf.Tensor, bi: tf.Tensor) =>
      tf.sum(tf.mul(attention(qi as tf.Tensor4D, ki as tf.Tensor4D, vi as tf.Tensor4D, { scale: 0.45, keyBias: bi as tf.Tensor2D }), dy));
    const y = attention(q, k, v, { scale: 0.45, keyBias: b }); // [B, S, H, D]
    return [y, ...tf.grads(loss)([q, k, v, b])];
  };
  await compare('attention output, dq, dk, dv, dbias', f, 1e-5, 1e-4);
});

test('a whole training step on webgpu (fused kernels + tfjs-webgpu with our fixes) matches cpu and leaks no tensor', { skip }, async () => {
  const run = async (backend: 'cpu' | 'webgpu') => {
    if (backend === 'cpu') registerCpuOverrides();
    await tf.setBackend(backend);
    const encoder = SentenceEncoder.init({ ...DEFAULT_MODEL_CONFIG, vocabSize: 300, hiddenSize: 48, numLayers: 2, numHeads: 4, intermediateSize: 96, maxPositions: 32, hiddenDropout: 0, attentionDropout: 0, pooling: 'mean', normalize: false }, 0);
    const opt = new AdamW(trainableParams(encoder.params), { weightDecay: 0.01 });
    const ids = (seed: number) => Int32Array.from(values(6 * 12, seed), (v) => Math.floor((v + 1) * 149));
    const mask = Int32Array.from({ length: 6 * 12 }, (_, i) => (i % 12 < 12 - (Math.floor(i / 12) % 3) * 3 ? 1 : 0)); // some padding
    const tb = (seed: number) => ({ inputIds: ids(seed), attentionMask: mask, tokenTypeIds: new Int32Array(6 * 12), batchSize: 6, seqLen: 12 });
    const batch = { columns: { anchor: toInputs(tb(1)), positive: toInputs(tb(2)) }, size: 6 };
    const losses: number[] = [];
    const counts: number[] = [];
    for (let s = 0; s < 3; s++) {
      const r = await trainStepAsync(encoder, opt, batch, { lr: 1e-3, loss: { name: 'infonce', scale: 20, symmetric: false, similarity: 'cosine' }, maxGradNorm: 1, seed: s });
      losses.push(r.loss, r.gradNorm);
      counts.push(tf.memory().numTensors);
    }
    const w = (await encoder.params['encoder.layer.1.output.dense.weight'].data()) as Float32Array;
    disposeInputs(batch.columns.anchor);
    disposeInputs(batch.columns.positive);
    opt.dispose();
    encoder.dispose();
    return { losses, counts, w };
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  assertClose(gpu.losses, cpu.losses, 1e-4, 'loss and grad norm of 3 steps', 1e-4);
  assertClose(gpu.w, cpu.w, 1e-5, 'a weight after 3 steps', 1e-4);
  assert.equal(gpu.counts[2], gpu.counts[1], `tensors after each step: ${gpu.counts.join(', ')}`);
  assert.equal(webgpuErrors().count, 0, `WebGPU validation errors (results would be garbage): ${webgpuErrors().first}`);
});
