/**
 * CoSENT against hand-worked values, the float64 PyTorch fixture (test/fixtures/losses/make_fixture.py,
 * which agrees with sentence-transformers' CoSENTLoss / pairwise_angle_sim to ~1e-14), and a float64
 * re-implementation whose gradient is taken by central finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { cosent, type CoSENTOptions } from '../../src/losses/cosent.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend, assertClose, flat } from '../helpers/backend.js';
import { Rng } from '../../src/util/rng.js';

await useBackend('cpu');

const value = (t: tf.Tensor) => t.dataSync()[0];

test('hand-worked: one ordered pair of pairs, both directions', () => {
  // cos(t1_0, t2_0) = 1, cos(t1_1, t2_1) = 0
  const text1 = tf.tensor2d([[1, 0], [2, 0]]);
  const text2 = tf.tensor2d([[3, 0], [0, 1]]);
  // scores [1, 0]: the only (i, j) with y_i < y_j is (1, 0): s·(cos_1 − cos_0) = −s → log(1 + e^−s)
  assertClose([value(cosent({ text1, text2 }, tf.tensor1d([1, 0]), { scale: 1 }))], [Math.log(1 + Math.exp(-1))], 1e-6, 'agreeing order');
  // scores [0, 1]: (0, 1): s·(cos_0 − cos_1) = +s → log(1 + e^s); default scale 20
  assertClose([value(cosent({ text1, text2 }, tf.tensor1d([0, 1])))], [Math.log(1 + Math.exp(20))], 1e-5, 'reversed order');
});

test('hand-worked: ties are never compared, vectors need not be unit length', () => {
  // cos = [1, 0, 0.6]: (3,0)·(1,0); (0,2)·(5,0); (1,0)·(3,4)/5
  const text1 = tf.tensor2d([[3, 0], [0, 2], [1, 0]]);
  const text2 = tf.tensor2d([[1, 0], [5, 0], [3, 4]]);
  // scores [2, 1, 1]: pairs (1,0): 0 − 1 = −1; (2,0): 0.6 − 1 = −0.4; (1,2) tie: skipped
  const expected = Math.log(1 + Math.exp(-1) + Math.exp(-0.4));
  assertClose([value(cosent({ text1, text2 }, tf.tensor1d([2, 1, 1]), { scale: 1 }))], [expected], 1e-6, 'loss');
});

test('hand-worked: angle similarity (sentence-transformers AnglELoss)', () => {
  // u = (1,1) = 1+i, v = (1,0) = 1: z = 1, re = ac+bd = 1, im = bc−ad = 1; ‖u‖/‖v‖ = √2 → Δ = (1+1)/√2 = √2
  // u = (1,−1) = 1−i, v = (1,0): re = 1, im = −1 → Δ = |0| = 0
  const text1 = tf.tensor2d([[1, 1], [1, -1]]);
  const text2 = tf.tensor2d([[1, 0], [1, 0]]);
  // scores [0, 1]: (0, 1): s·(Δ_0 − Δ_1) = s·√2
  const loss = cosent({ text1, text2 }, tf.tensor1d([0, 1]), { scale: 1, similarity: 'angle' });
  assertClose([value(loss)], [Math.log(1 + Math.exp(Math.SQRT2))], 1e-6, 'angle loss');
  // the cosine of the same pairs is 1/√2 and 1/√2: a tie in similarity → log(1 + e^0) = log 2
  assertClose([value(cosent({ text1, text2 }, tf.tensor1d([0, 1]), { scale: 1 }))], [Math.LN2], 1e-6, 'cosine loss');
});

test('odd dimension with angle similarity: zero-padded as sentence-transformers', () => {
  // u = (1,0,1) → (1,0,1,0): a = (1,0), b = (1,0); v = (1,0,0) → c = (1,0), d = (0,0)
  // re = ac+bd = (1,0), im = bc−ad = (1,0), ‖u‖/‖v‖ = √2 → Δ = 2/√2 = √2; second pair Δ(v, v) = 1
  const text1 = tf.tensor2d([[1, 0, 1], [1, 0, 0]]);
  const text2 = tf.tensor2d([[1, 0, 0], [1, 0, 0]]);
  const scores = tf.tensor1d([0, 1]);
  const loss = cosent({ text1, text2 }, scores, { scale: 1, similarity: 'angle' });
  assertClose([value(loss)], [Math.log(1 + Math.exp(Math.SQRT2 - 1))], 1e-6, 'padded loss');
  const padded = cosent({ text1: tf.pad(text1, [[0, 0], [0, 1]]), text2: tf.pad(text2, [[0, 0], [0, 1]]) }, scores, { scale: 1, similarity: 'angle' });
  assertClose([value(loss)], [value(padded)], 1e-7, 'same as explicit zero column');
});

test('all scores equal: loss log(1) = 0 and no gradient', () => {
  const rng = new Rng(5);
  const m = () => tf.tensor2d(Array.from({ length: 4 }, () => Array.from({ length: 3 }, () => rng.next() - 0.5)));
  const [x, y] = [m(), m()];
  for (const similarity of ['cosine', 'angle'] as const) {
    const f = (a: tf.Tensor, b: tf.Tensor) => cosent({ text1: a as tf.Tensor2D, text2: b as tf.Tensor2D }, tf.tensor1d([3, 3, 3, 3]), { similarity });
    assert.equal(value(f(x, y)), 0, similarity);
    const [gx, gy] = tf.grads(f)([x, y]);
    assert.deepEqual([...gx.dataSync(), ...gy.dataSync()].map(Math.abs), new Array(24).fill(0), `${similarity} gradient`);
  }
  // a single pair has nothing to rank either
  assert.equal(value(cosent({ text1: tf.tensor2d([[1, 2]]), text2: tf.tensor2d([[3, 1]]) }, tf.tensor1d([0.7]))), 0);
});

interface Case {
  name: string;
  inputs: { text1: number[][]; text2: number[][] };
  scores: number[];
  options: CoSENTOptions;
  loss: number;
  grads: { text1: number[][]; text2: number[][] };
}

test('float64 PyTorch fixture: loss and gradients', () => {
  const { cases } = JSON.parse(readFileSync('test/fixtures/losses/cosent.json', 'utf8')) as { cases: Case[] };
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    const scores = tf.tensor1d(c.scores);
    const f = (a: tf.Tensor, b: tf.Tensor) => cosent({ text1: a as tf.Tensor2D, text2: b as tf.Tensor2D }, scores, c.options);
    const { value: loss, grads } = tf.valueAndGrads(f)([tf.tensor2d(c.inputs.text1), tf.tensor2d(c.inputs.text2)]);
    assertClose([value(loss)], [c.loss], 1e-5, `${c.name} loss`);
    assertClose(grads[0].dataSync(), flat(c.grads.text1), 1e-5, `${c.name} d/d text1`, 1e-4);
    assertClose(grads[1].dataSync(), flat(c.grads.text2), 1e-5, `${c.name} d/d text2`, 1e-4);
  }
});

/** float64 reference of the definition: log(1 + Σ_{y_i<y_j} exp(s(sim_i − sim_j))). */
function reference(t1: number[][], t2: number[][], y: number[], scale: number, similarity: 'cosine' | 'angle'): number {
  const dot = (u: number[], v: number[]) => u.reduce((acc, x, k) => acc + x * v[k], 0);
  const norm = (u: number[]) => Math.sqrt(dot(u, u));
  const sim = (u: number[], v: number[]) => {
    if (similarity === 'cosine') return dot(u, v) / (norm(u) * norm(v));
    if (u.length % 2) [u, v] = [[...u, 0], [...v, 0]];
    const h = u.length / 2;
    // Σ re = u·v/(‖u‖‖v‖), Σ im = Σ_k (b_k c_k − a_k d_k)/(‖u‖‖v‖)
    let im = 0;
    for (let k = 0; k < h; k++) im += u[h + k] * v[k] - u[k] * v[h + k];
    return Math.abs((dot(u, v) + im) / (norm(u) * norm(v)));
  };
  const s = t1.map((u, i) => scale * sim(u, t2[i]));
  let total = 1;
  for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) if (y[i] < y[j]) total += Math.exp(s[i] - s[j]);
  return Math.log(total);
}

/** Central differences of f over every entry of every matrix. */
function numericGrads(f: (ms: number[][][]) => number, ms: number[][][], eps = 1e-6): number[][] {
  return ms.map((m, w) =>
    m.flatMap((row, i) =>
      row.map((_, k) => {
        const shifted = (d: number) => ms.map((mm, ww) => mm.map((r, ii) => r.map((x, kk) => (ww === w && ii === i && kk === k ? x + d : x))));
        return (f(shifted(eps)) - f(shifted(-eps))) / (2 * eps);
      }),
    ),
  );
}

test('gradient matches central finite differences of a float64 reference', () => {
  const rng = new Rng(11);
  const B = 4;
  const y = [0.2, 0.9, 0.5, 0.2];
  for (const [similarity, H, scale] of [['cosine', 5, 5], ['angle', 6, 5], ['angle', 5, 3]] as const) {
    const rand = () => Array.from({ length: B }, () => Array.from({ length: H }, () => rng.next() * 2 - 1));
    const [t1, t2] = [rand(), rand()];
    const opts = { scale, similarity };
    const { value: loss, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
      cosent({ text1: a as tf.Tensor2D, text2: b as tf.Tensor2D }, tf.tensor1d(y), opts),
    )([tf.tensor2d(t1), tf.tensor2d(t2)]);
    const what = `${similarity} H=${H}`;
    assertClose([value(loss)], [reference(t1, t2, y, scale, similarity)], 1e-5, `${what} loss`);
    const [n1, n2] = numericGrads(([a, b]) => reference(a, b, y, scale, similarity), [t1, t2]);
    assertClose(grads[0].dataSync(), n1, 1e-4, `${what} d/d text1`, 1e-3);
    assertClose(grads[1].dataSync(), n2, 1e-4, `${what} d/d text2`, 1e-3);
  }
});

const isUserError = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
  assert.match(e.message, pattern);
  return true;
};

test('option and shape validation', () => {
  const text1 = tf.tensor2d([[1, 0], [0, 1]]);
  const text2 = tf.tensor2d([[1, 1], [0, 1]]);
  const scores = tf.tensor1d([0, 1]);
  const bad = (opts: unknown) => () => cosent({ text1, text2 }, scores, opts as CoSENTOptions);
  assert.throws(bad({ similarity: 'dot' }), isUserError(/^cosent loss: similarity: must be one of cosine, angle; got "dot"$/));
  assert.throws(bad({ scale: 0 }), isUserError(/^cosent loss: scale: must be a finite number > 0, got 0$/));
  assert.throws(bad({ scale: '20' }), isUserError(/scale: must be a finite number > 0, got "20"/));
  assert.throws(bad({ temperature: 0.05 }), isUserError(/^cosent loss: temperature: unknown option; valid options: scale, similarity$/));
  assert.throws(() => cosent({ text1, text2: tf.tensor2d([[1, 1, 0]]) }, scores), isUserError(/text2: shape \[1,3\] differs from text1 \[2,2\]/));
  assert.throws(() => cosent({ text1, text2 }, tf.tensor1d([1, 2, 3])), isUserError(/scores: must be a 1-D tensor with one score per pair \(\[2\]\), got shape \[3\]/));
});

test('no tensors leak', () => {
  const text1 = tf.tensor2d([[1, 0, 2, 1], [0, 1, 1, 1]]);
  const text2 = tf.tensor2d([[1, 1, 0, 1], [0, 1, 3, 1]]);
  const scores = tf.tensor1d([0, 1]);
  for (const similarity of ['cosine', 'angle'] as const) {
    const before = tf.memory().numTensors;
    cosent({ text1, text2 }, scores, { similarity }).dispose();
    assert.equal(tf.memory().numTensors, before, similarity);
  }
});
