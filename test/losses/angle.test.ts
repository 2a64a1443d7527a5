/**
 * AnglE loss against hand-worked values, the float64 PyTorch fixture (test/fixtures/losses/make_fixture.py,
 * which agrees with AnglE v0.6.1's AngleLoss run on the zigzag layout to ~1e-14), and a float64
 * re-implementation differentiated by central finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { angle, ANGLE_DEFAULTS, type AnglEOptions } from '../../src/losses/angle.js';
import { cosent } from '../../src/losses/cosent.js';
import { infoNCE } from '../../src/losses/infonce.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend, assertClose, flat } from '../helpers/backend.js';
import { Rng } from '../../src/util/rng.js';

await useBackend('cpu');

const value = (t: tf.Tensor) => t.dataSync()[0];
const IBN_ONLY = { ibnW: 1, angleW: 0, ibnTau: 1 };

test('defaults are AngleLoss v0.6.1 (cosine 0, ibn 1, cln 1, angle 0.02, taus 20, sum)', () => {
  assert.deepEqual({ ...ANGLE_DEFAULTS }, { cosineW: 0, ibnW: 1, clnW: 1, angleW: 0.02, cosineTau: 20, ibnTau: 20, angleTau: 20, pooling: 'sum' });
});

test('hand-worked in-batch term: only positive pairs are queries, both of their texts', () => {
  // zigzag rows: r0 = t1_0 = (1,0), r1 = t2_0 = (1,0), r2 = t1_1 = (0,1), r3 = t2_1 = (0,1); labels [1, 0]
  const text1 = tf.tensor2d([[1, 0], [0, 1]]);
  const text2 = tf.tensor2d([[1, 0], [0, 1]]);
  // row 0 logits (τ = 1, self masked): [−∞, 1, 0, 0], target r1 → log(e + 2) − 1; row 1 the same;
  // rows 2, 3 belong to a negative pair: all-zero target, 0. Mean over the 4 rows.
  const expected = (2 * (Math.log(Math.E + 2) - 1)) / 4;
  assertClose([value(angle({ text1, text2 }, tf.tensor1d([1, 0]), IBN_ONLY))], [expected], 1e-6, 'labels [1, 0]');
  // both pairs positive: rows 2, 3 add the same amount → log(e + 2) − 1
  assertClose([value(angle({ text1, text2 }, tf.tensor1d([1, 1]), IBN_ONLY))], [Math.log(Math.E + 2) - 1], 1e-6, 'labels [1, 1]');
});

test('in-batch term: "label is 1" is trunc(label) != 0, and larger labels match other pairs', () => {
  // four orthonormal rows: every off-diagonal logit is 0, so each target costs −log_softmax = log 3
  const text1 = tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0]]);
  const text2 = tf.tensor2d([[0, 1, 0, 0], [0, 0, 0, 1]]);
  const ibn = (labels: number[]) => value(angle({ text1, text2 }, tf.tensor1d(labels), IBN_ONLY));
  // 0.999 and 0.5 truncate to 0: no pair is positive, every row contributes 0
  assert.equal(ibn([0.999, 0.5]), 0);
  // 1.5 truncates to 1: the same as binary [1, 1], one target per row → 4·log 3 / 4
  assertClose([ibn([1.5, 1])], [Math.log(3)], 1e-6, 'labels [1.5, 1]');
  // labels [2, 1] → n = [2, 2, 1, 1] on rows 0..3. key[c] = c·n_c = [0, 2, 2, 3];
  // query[r] = (r^1)·n_r = [2, 0, 3, 2] → row 0 hits columns 1 AND 2, row 1 → 0, row 2 → 3,
  // row 3 → 1 AND 2 (as AnglE's make_target_matrix): 6 targets → 6·log 3 / 4
  assertClose([ibn([2, 1])], [(6 * Math.log(3)) / 4], 1e-6, 'labels [2, 1]');
});

test('hand-worked angle and cosine terms', () => {
  // Δ(1+i, 1) = √2 and Δ(1−i, 1) = 0 (see cosent.test.ts); cos = 1/√2 for both
  const text1 = tf.tensor2d([[1, 1], [1, -1]]);
  const text2 = tf.tensor2d([[1, 0], [1, 0]]);
  const scores = tf.tensor1d([0, 1]); // penalise s·(Δ_0 − Δ_1)
  const only = (o: Partial<AnglEOptions>) => value(angle({ text1, text2 }, scores, { ibnW: 0, angleW: 0, ...o }));
  assertClose([only({ angleW: 1, angleTau: 1 })], [Math.log(1 + Math.exp(Math.SQRT2))], 1e-6, 'angle, sum');
  // mean pooling divides the sum over the H = 2 entries [re; im] by 2
  assertClose([only({ angleW: 1, angleTau: 1, pooling: 'mean' })], [Math.log(1 + Math.exp(Math.SQRT1_2))], 1e-6, 'angle, mean');
  assertClose([only({ cosineW: 1, cosineTau: 3 })], [Math.LN2], 1e-6, 'cosine tie');
  // weights multiply: 0.5·angle + 2·cosine
  assertClose([only({ angleW: 0.5, angleTau: 1, cosineW: 2 })], [0.5 * Math.log(1 + Math.exp(Math.SQRT2)) + 2 * Math.LN2], 1e-6, 'weighted');
  assert.equal(only({}), 0, 'all weights 0');
});

test('format B is InfoNCE(q, p; ibnTau) with no weights; format C composes InfoNCE and the ranking terms', () => {
  const rng = new Rng(2);
  const m = () => tf.tensor2d(Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rng.next() - 0.5)));
  const [query, positive, negative] = [m(), m(), m()];
  const b = angle({ query, positive }, null, { ibnTau: 7, ibnW: 5, angleW: 1, cosineW: 1 });
  assertClose([value(b)], [value(infoNCE({ anchor: query, positive }, { scale: 7 }))], 1e-6, 'format B');

  const o = { ibnW: 0.7, clnW: 0.3, angleW: 0.4, cosineW: 0.2, ibnTau: 5, angleTau: 2, cosineTau: 10 };
  const c = angle({ query, positive, negative }, null, o);
  // ranking terms see (q_i, p_i) labelled 1 and (q_i, n_i) labelled 0
  const pairs = { text1: tf.concat([query, query]) as tf.Tensor2D, text2: tf.concat([positive, negative]) as tf.Tensor2D };
  const labels = tf.tensor1d([1, 1, 1, 0, 0, 0]);
  const expected =
    (0.7 * value(infoNCE({ anchor: query, positive }, { scale: 5 })) +
      0.3 * value(infoNCE({ anchor: query, positive, negatives: [negative] }, { scale: 5 }))) /
      2 +
    0.4 * value(cosent(pairs, labels, { scale: 2, similarity: 'angle' })) +
    0.2 * value(cosent(pairs, labels, { scale: 10 }));
  assertClose([value(c)], [expected], 1e-5, 'format C');
});

test('odd dimension: the angle term is refused (AnglE fails too); without it the loss works', () => {
  const t = tf.tensor2d([[1, 0, 2], [0, 1, 1]]);
  const u = tf.tensor2d([[1, 1, 0], [2, 1, 1]]);
  assert.throws(
    () => angle({ text1: t, text2: u }, tf.tensor1d([1, 0])),
    isUserError(/^angle loss: angleW: the angle term .* needs an even dimension, got 3 .*use an even dimension or angleW 0$/),
  );
  assert.throws(() => angle({ query: t, positive: u, negative: t }, null), isUserError(/needs an even dimension, got 3/));
  assert.ok(Number.isFinite(value(angle({ text1: t, text2: u }, tf.tensor1d([1, 0]), { angleW: 0 }))));
  // format B has no angle term
  assert.ok(Number.isFinite(value(angle({ query: t, positive: u }, null))));
});

interface Case {
  name: string;
  inputs: Record<string, number[][]>;
  scores: number[] | null;
  options: Partial<AnglEOptions>;
  loss: number;
  grads: Record<string, number[][]>;
}

test('float64 PyTorch fixture: loss and gradients, formats A, B, C', () => {
  const { cases } = JSON.parse(readFileSync('test/fixtures/losses/angle.json', 'utf8')) as { cases: Case[] };
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const names = Object.keys(c.inputs);
    const scores = c.scores === null ? null : tf.tensor1d(c.scores);
    const f = (...xs: tf.Tensor[]) =>
      angle(Object.fromEntries(names.map((k, i) => [k, xs[i]])) as unknown as Parameters<typeof angle>[0], scores, c.options);
    const { value: loss, grads } = tf.valueAndGrads(f)(names.map((k) => tf.tensor2d(c.inputs[k])));
    assertClose([value(loss)], [c.loss], 1e-5, `${c.name} loss`);
    names.forEach((k, i) => assertClose(grads[i].dataSync(), flat(c.grads[k]), 1e-5, `${c.name} d/d ${k}`, 1e-4));
  }
});

// ---- float64 reference, written from the definitions ----

type M = number[][];
const dot = (u: number[], v: number[]) => u.reduce((acc, x, k) => acc + x * v[k], 0);
const norm = (u: number[]) => Math.sqrt(dot(u, u));
const cos = (u: number[], v: number[]) => dot(u, v) / (norm(u) * norm(v));
const lse = (xs: number[]) => {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
};

function ranking(s: number[], y: number[]): number {
  const terms = [0];
  for (let i = 0; i < s.length; i++) for (let j = 0; j < s.length; j++) if (y[i] < y[j]) terms.push(s[i] - s[j]);
  return lse(terms);
}

function angleScore(u: number[], v: number[], pooling: 'sum' | 'mean'): number {
  const h = u.length / 2;
  let im = 0;
  for (let k = 0; k < h; k++) im += u[h + k] * v[k] - u[k] * v[h + k];
  const total = (dot(u, v) + im) / (norm(u) * norm(v));
  return Math.abs(pooling === 'sum' ? total : total / u.length);
}

function infonce(q: M, docs: M, tau: number): number {
  return q.reduce((acc, qi, i) => {
    const logits = docs.map((d) => tau * cos(qi, d));
    return acc + lse(logits) - logits[i];
  }, 0) / q.length;
}

/** In-batch term on the zigzag rows with AnglE's target rule (see src/losses/angle.ts). */
function ibn(t1: M, t2: M, y: number[], tau: number): number {
  const rows = t1.flatMap((u, p) => [u, t2[p]]);
  const n = y.flatMap((v) => [Math.trunc(v), Math.trunc(v)]);
  const key = n.map((v, c) => (v !== 0 ? c * v : -2));
  const query = n.map((v, r) => (v !== 0 ? (r ^ 1) * v : -1));
  let total = 0;
  for (let r = 0; r < rows.length; r++) {
    const others = rows.map((e, c) => (c === r ? -Infinity : tau * cos(rows[r], e)));
    const z = lse(others.filter((x) => x > -Infinity));
    for (let c = 0; c < rows.length; c++) if (c !== r && query[r] === key[c]) total += z - others[c];
  }
  return total / rows.length;
}

function reference(inputs: Record<string, M>, y: number[] | null, opts: Partial<AnglEOptions>): number {
  const o = { ...ANGLE_DEFAULTS, ...opts };
  const rank = (t1: M, t2: M, labels: number[]) =>
    (o.cosineW > 0 ? o.cosineW * ranking(t1.map((u, i) => o.cosineTau * cos(u, t2[i])), labels) : 0) +
    (o.angleW > 0 ? o.angleW * ranking(t1.map((u, i) => o.angleTau * angleScore(u, t2[i], o.pooling)), labels) : 0);
  if (inputs.text1) {
    const { text1, text2 } = inputs;
    return rank(text1, text2, y!) + (o.ibnW > 0 ? o.ibnW * ibn(text1, text2, y!, o.ibnTau) : 0);
  }
  const { query: q, positive: p, negative: n } = inputs;
  if (!n) return infonce(q, p, o.ibnTau);
  const cl = (o.ibnW > 0 ? o.ibnW * infonce(q, p, o.ibnTau) : 0) + (o.clnW > 0 ? o.clnW * infonce(q, [...p, ...n], o.ibnTau) : 0);
  return cl / 2 + rank([...q, ...q], [...p, ...n], [...q.map(() => 1), ...q.map(() => 0)]);
}

function numericGrads(f: (ms: M[]) => number, ms: M[], eps = 1e-6): number[][] {
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
  const rng = new Rng(23);
  const B = 3;
  const H = 4;
  const rand = () => Array.from({ length: B }, () => Array.from({ length: H }, () => rng.next() * 2 - 1));
  const small = { cosineTau: 3, ibnTau: 4, angleTau: 2 };
  const cases: [string, string[], number[] | null, Partial<AnglEOptions>][] = [
    ['A all terms', ['text1', 'text2'], [1, 0.3, 1], { ...small, cosineW: 0.5, angleW: 0.8 }],
    ['A quirky labels, mean', ['text1', 'text2'], [2.5, 1, 0], { ...small, angleW: 0.8, pooling: 'mean' }],
    ['A defaults', ['text1', 'text2'], [1, 0, 1], {}],
    ['B', ['query', 'positive'], null, small],
    ['C all terms', ['query', 'positive', 'negative'], null, { ...small, cosineW: 0.5, ibnW: 0.7, clnW: 0.4, angleW: 0.8 }],
  ];
  for (const [what, names, y, opts] of cases) {
    const ms = names.map(() => rand());
    const inputsOf = (xs: M[]) => Object.fromEntries(names.map((k, i) => [k, xs[i]]));
    const { value: loss, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) =>
      angle(inputsOf(xs as unknown as M[]) as unknown as Parameters<typeof angle>[0], y && tf.tensor1d(y), opts),
    )(ms.map((m) => tf.tensor2d(m)));
    const f = (xs: M[]) => reference(inputsOf(xs), y, opts);
    assertClose([value(loss)], [f(ms)], 1e-5, `${what} loss`, 1e-6);
    numericGrads(f, ms).forEach((g, i) => assertClose(grads[i].dataSync(), g, 1e-4, `${what} d/d ${names[i]}`, 1e-3));
  }
});

function isUserError(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  };
}

test('option, format and shape validation', () => {
  const t = tf.tensor2d([[1, 0], [0, 1]]);
  const y = tf.tensor1d([1, 0]);
  const bad = (opts: unknown) => () => angle({ text1: t, text2: t }, y, opts as Partial<AnglEOptions>);
  assert.throws(bad({ pooling: 'max' }), isUserError(/^angle loss: pooling: must be one of sum, mean; got "max"$/));
  assert.throws(
    bad({ cosine_w: 1 }),
    isUserError(/^angle loss: cosine_w: unknown option; valid options: cosineW, ibnW, clnW, angleW, cosineTau, ibnTau, angleTau, pooling$/),
  );
  assert.throws(bad({ angleW: -0.1 }), isUserError(/^angle loss: angleW: must be a finite number >= 0, got -0.1$/));
  assert.throws(bad({ ibnTau: 0 }), isUserError(/^angle loss: ibnTau: must be a finite number > 0, got 0$/));
  assert.throws(() => angle({ text1: t, text2: t }, null), isUserError(/^angle loss: scores: format A \(text1, text2\) needs one score per pair$/));
  assert.throws(() => angle({ text1: t, text2: t }, tf.tensor1d([1])), isUserError(/scores: must be a 1-D tensor with one score per pair \(\[2\]\)/));
  assert.throws(() => angle({ query: t, positive: t }, y), isUserError(/^angle loss: scores: only format A/));
  assert.throws(
    () => angle({ text1: t, text2: t, query: t } as unknown as Parameters<typeof angle>[0], y),
    isUserError(/^angle loss: embeddings: give either text1, text2 \(format A\) or query, positive\[, negative\]/),
  );
  assert.throws(() => angle({ query: t } as unknown as Parameters<typeof angle>[0], null), isUserError(/embeddings: expected text1, text2/));
  assert.throws(() => angle({ query: t, positive: t, negative: tf.tensor2d([[1, 2, 3, 4]]) }, null), isUserError(/negative: shape \[1,4\] differs from query \[2,2\]/));
});

test('no tensors leak', () => {
  const rng = new Rng(4);
  const m = () => tf.tensor2d(Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => rng.next() - 0.5)));
  const [a, b, c] = [m(), m(), m()];
  const y = tf.tensor1d([1, 0, 2]);
  const all = { cosineW: 1, angleW: 1 };
  for (const [what, run] of [
    ['A', () => angle({ text1: a, text2: b }, y, all)],
    ['B', () => angle({ query: a, positive: b }, null, all)],
    ['C', () => angle({ query: a, positive: b, negative: c }, null, all)],
  ] as const) {
    const before = tf.memory().numTensors;
    run().dispose();
    assert.equal(tf.memory().numTensors, before, what);
  }
});
