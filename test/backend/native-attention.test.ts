/**
 * The fused attention op (src/model/attention.ts) on the native backend against independent
 * expectations: the composite ops on the cpu backend (values and the gradients of q, k, v and the key
 * bias, with padded keys, a fully padded batch row, seq 1, odd head sizes, Sq ≠ Sk, Dv ≠ D, dropout
 * with the same seed), central finite differences of a float64 JS forward, every SIMD path, and
 * bitwise equality for 1 and 2 threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { assertClose, on, values } from './helpers.js';
import { backendSkip, useBackend } from '../helpers/backend.js';
import { loadNativeAddon } from '../../src/backend/native-addon.js';
import { attention } from '../../src/model/attention.js';

const skip = backendSkip('native');

interface Case {
  B: number;
  Sq: number;
  Sk: number;
  H: number;
  D: number;
  Dv: number;
  /** Keys padded (bias −1e9) per batch row: the last `pad[b]` keys. */
  pad?: number[];
  dropout?: number;
}

const CASES: Case[] = [
  { B: 2, Sq: 5, Sk: 5, H: 3, D: 7, Dv: 7, pad: [0, 2] },
  { B: 1, Sq: 1, Sk: 1, H: 1, D: 1, Dv: 1 }, // seq 1
  { B: 3, Sq: 1, Sk: 1, H: 2, D: 26, Dv: 26, pad: [0, 0, 0] },
  { B: 3, Sq: 17, Sk: 17, H: 2, D: 26, Dv: 26, pad: [0, 16, 17] }, // one row keeps one key, one has none
  { B: 2, Sq: 9, Sk: 13, H: 4, D: 5, Dv: 3, pad: [4, 0] }, // Sq ≠ Sk, Dv ≠ D
  { B: 2, Sq: 40, Sk: 40, H: 12, D: 26, Dv: 26, pad: [0, 11] }, // SciRus-tiny's head size, tiles with edges
  { B: 1, Sq: 70, Sk: 33, H: 2, D: 64, Dv: 64 }, // wider heads than one tile
  { B: 2, Sq: 6, Sk: 6, H: 2, D: 4, Dv: 4, pad: [0, 3], dropout: 0.3 },
];

function inputs(c: Case, seed: number) {
  const q = tf.tensor4d(values(c.B * c.Sq * c.H * c.D, seed), [c.B, c.Sq, c.H, c.D]).mul(2) as tf.Tensor4D;
  const k = tf.tensor4d(values(c.B * c.Sk * c.H * c.D, seed + 1), [c.B, c.Sk, c.H, c.D]).mul(2) as tf.Tensor4D;
  const v = tf.tensor4d(values(c.B * c.Sk * c.H * c.Dv, seed + 2), [c.B, c.Sk, c.H, c.Dv]) as tf.Tensor4D;
  const w = tf.tensor4d(values(c.B * c.Sq * c.H * c.Dv, seed + 3), [c.B, c.Sq, c.H, c.Dv]); // weights the output, so dy is not uniform
  const bias = c.pad == null ? undefined : tf.tensor2d(
    Array.from({ length: c.B }, (_, b) => Array.from({ length: c.Sk }, (_, j) => (j >= c.Sk - c.pad![b] ? -1e9 : 0))),
  );
  return { q, k, v, w, bias };
}

/** Output and the gradients of sum(out ⊙ w) for q, k, v (and the bias), as flat arrays. */
function run(c: Case, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const { q, k, v, w, bias } = inputs(c, seed);
    const opts = (b?: tf.Tensor) => ({ scale: 1 / Math.sqrt(c.D), keyBias: b as tf.Tensor2D | undefined, dropout: c.dropout ? { rate: c.dropout, seed: 7 } : undefined });
    const out = attention(q, k, v, opts(bias));
    const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(attention(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, xs[2] as tf.Tensor4D, opts(xs[3])), w));
    const grads = tf.grads(loss)(bias ? [q, k, v, bias] : [q, k, v]);
    return [out, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const NAMES = ['out', 'dq', 'dk', 'dv', 'dbias'];

test('fused attention matches the composite ops on cpu: values and gradients of q, k, v and the key bias', { skip }, async () => {
  const want = await on('cpu', () => CASES.map((c, i) => run(c, 10 * i)));
  await useBackend('native');
  const addon = loadNativeAddon().addon!;
  const paths = ['avx512', 'avx2', 'scalar'] as const;
  try {
    for (const path of paths) {
      if (addon.setPath(path) !== path) continue; // a path this CPU lacks
      CASES.forEach((c, i) => {
        const got = run(c, 10 * i);
        assert.equal(got.length, want[i].length);
        // the bias gradient sums B·H·Sq products: absolute tolerance on its scale
        got.forEach((g, j) => assertClose(g, want[i][j], 2e-5, `${path} ${JSON.stringify(c)} ${NAMES[j]}`));
      });
    }
  } finally {
    addon.setPath('auto');
  }
});

/** float64 forward of sum(attention(q, k, v) ⊙ w), no dropout: the reference for finite differences. */
function lossF64(c: Case, q: Float64Array, k: Float64Array, v: Float64Array, bias: Float64Array | null, w: Float64Array): number {
  const scale = 1 / Math.sqrt(c.D);
  let total = 0;
  for (let b = 0; b < c.B; b++) {
    for (let h = 0; h < c.H; h++) {
      for (let i = 0; i < c.Sq; i++) {
        const s = new Float64Array(c.Sk);
        for (let j = 0; j < c.Sk; j++) {
          let dot = 0;
          for (let d = 0; d < c.D; d++) dot += q[((b * c.Sq + i) * c.H + h) * c.D + d] * k[((b * c.Sk + j) * c.H + h) * c.D + d];
          s[j] = dot * scale + (bias ? bias[b * c.Sk + j] : 0);
        }
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, x) => a + x, 0);
        for (let d = 0; d < c.Dv; d++) {
          let o = 0;
          for (let j = 0; j < c.Sk; j++) o += (e[j] / z) * v[((b * c.Sk + j) * c.H + h) * c.Dv + d];
          total += o * w[((b * c.Sq + i) * c.H + h) * c.Dv + d];
        }
      }
    }
  }
  return total;
}

test('fused attention gradients match central finite differences of a float64 forward', { skip }, async () => {
  await useBackend('native');
  for (const c of [CASES[0], CASES[4]]) {
    const got = run(c, 3);
    const { q, k, v, w, bias } = inputs(c, 3);
    const arrays = [q, k, v, ...(bias ? [bias] : [])].map((t) => Float64Array.from(t.dataSync()));
    const wv = Float64Array.from(w.dataSync());
    tf.dispose([q, k, v, w, bias]);
    const f = () => lossF64(c, arrays[0], arrays[1], arrays[2], arrays[3] ?? null, wv);
    arrays.forEach((a, which) => {
      // every 3rd element of each input (the bias: only unpadded keys, where the gradient is not ~0·1e9)
      for (let e = 0; e < a.length; e += 3) {
        if (which === 3 && a[e] !== 0) continue;
        const x = a[e];
        const h = 1e-5;
        a[e] = x + h;
        const up = f();
        a[e] = x - h;
        const down = f();
        a[e] = x;
        const fd = (up - down) / (2 * h);
        const g = got[1 + which][e];
        assert.ok(Math.abs(g - fd) <= 2e-4 * Math.max(1, Math.abs(fd)), `${JSON.stringify(c)} ${NAMES[1 + which]}[${e}]: fused ${g}, finite differences ${fd}`);
      }
    });
  }
});

test('fused attention is bitwise identical for 1 and 2 threads', { skip }, async () => {
  await useBackend('native');
  const addon = loadNativeAddon().addon!;
  try {
    addon.setThreads(1);
    const one = CASES.map((c, i) => run(c, 10 * i));
    addon.setThreads(2);
    const two = CASES.map((c, i) => run(c, 10 * i));
    one.forEach((outs, i) => outs.forEach((o, j) => assert.ok(Buffer.from(o.buffer).equals(Buffer.from(two[i][j].buffer)), `${JSON.stringify(CASES[i])} ${NAMES[j]} differs`)));
  } finally {
    addon.setThreads(2);
  }
});
