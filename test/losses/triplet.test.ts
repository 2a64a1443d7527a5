/**
 * Triplet margin loss against hand-worked values, the float64 PyTorch fixture
 * (test/fixtures/losses/make_fixture.py, which agrees with torch's TripletMarginLoss and SPECTER's
 * TripletLoss to ~1e-16), and a float64 re-implementation differentiated by central finite differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { triplet, type TripletOptions } from '../../src/losses/triplet.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend, assertClose, flat } from '../helpers/backend.js';
import { Rng } from '../../src/util/rng.js';

await useBackend('cpu');

const value = (t: tf.Tensor) => t.dataSync()[0];
const EPS = 1e-6; // F.pairwise_distance adds it to every coordinate of a − p

test('hand-worked: l2 distances with margin 1 (SPECTER / SciNCL defaults)', () => {
  // row 0: a = (0,0), p = (3,4), n = (1,0): ‖a−p‖ ≈ 5, ‖a−n‖ ≈ 1 → 5 − 1 + 1 = 5
  // row 1: a = (0,0), p = (0,1), n = (0,-4): 1 − 4 + 1 = −2 → 0
  const anchor = tf.tensor2d([[0, 0], [0, 0]]);
  const positive = tf.tensor2d([[3, 4], [0, 1]]);
  const negative = tf.tensor2d([[1, 0], [0, -4]]);
  // with torch's eps: ‖(−3+ε, −4+ε)‖ − ‖(−1+ε, ε)‖ + 1
  const row0 = Math.hypot(-3 + EPS, -4 + EPS) - Math.hypot(-1 + EPS, EPS) + 1;
  assertClose([value(triplet({ anchor, positive, negative }))], [row0 / 2], 1e-6, 'loss');
  assertClose([row0], [5], 1e-5, 'hand value ≈ 5');
});

test('eps: a = p gives distance √H·1e-6, a finite gradient', () => {
  const a = tf.tensor2d([[0.5, -1, 2, 0]]);
  const n = tf.tensor2d([[0.5, -1, 2, 0.25]]);
  // ‖a − a + ε‖ = 2ε (H = 4); ‖a − n + ε‖ = ‖(ε, ε, ε, −0.25+ε)‖; margin 1 → active
  const expected = 2 * EPS - Math.hypot(EPS, EPS, EPS, -0.25 + EPS) + 1;
  const { value: loss, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) =>
    triplet({ anchor: x as tf.Tensor2D, positive: y as tf.Tensor2D, negative: n }),
  )([a, a.clone()]); // a separate tensor: tf.grads would merge one tensor passed twice
  assertClose([value(loss)], [expected], 1e-6, 'loss');
  for (const g of grads) assert.ok([...g.dataSync()].every(Number.isFinite), 'finite gradient');
  // d/dp of ‖a−p+ε‖ at a = p is −(ε,…)/‖(ε,…)‖ = −1/2 per coordinate
  assertClose(grads[1].dataSync(), [-0.5, -0.5, -0.5, -0.5], 1e-4, 'd/dp');
});

test('hand-worked: cosine distance', () => {
  // cos(a,p) = 1/√2, cos(a,n) = 0 → relu(0 − 1/√2 + 1); second row cos(a,p) = 1, cos(a,n) = −1 → 0
  const anchor = tf.tensor2d([[2, 0], [0, 1]]);
  const positive = tf.tensor2d([[1, 1], [0, 3]]);
  const negative = tf.tensor2d([[0, 5], [0, -1]]);
  const loss = triplet({ anchor, positive, negative }, { distance: 'cosine' });
  assertClose([value(loss)], [(1 - Math.SQRT1_2) / 2], 1e-6, 'loss');
  const half = triplet({ anchor, positive, negative }, { distance: 'cosine', margin: 0.5 });
  assertClose([value(half)], [0], 0, 'margin 0.5 is met by both rows');
});

test('satisfied margin: loss 0 and zero gradient', () => {
  const anchor = tf.tensor2d([[0, 0, 1], [1, 1, 1]]);
  const positive = tf.tensor2d([[0.1, 0, 1], [1, 1.2, 1]]);
  const negative = tf.tensor2d([[5, 0, 1], [-3, 1, 1]]);
  for (const distance of ['l2', 'cosine'] as const) {
    const margin = distance === 'l2' ? 1 : 0.1;
    const { value: loss, grads } = tf.valueAndGrads((a: tf.Tensor, p: tf.Tensor, n: tf.Tensor) =>
      triplet({ anchor: a as tf.Tensor2D, positive: p as tf.Tensor2D, negative: n as tf.Tensor2D }, { distance, margin }),
    )([anchor, positive, negative]);
    assert.equal(value(loss), 0, `${distance} loss`);
    for (const g of grads) assert.deepEqual([...g.dataSync()].map(Math.abs), new Array(6).fill(0), `${distance} gradient`);
  }
});

interface Case {
  name: string;
  inputs: { anchor: number[][]; positive: number[][]; negative: number[][] };
  options: TripletOptions;
  loss: number;
  grads: { anchor: number[][]; positive: number[][]; negative: number[][] };
  active: boolean[];
}

test('float64 PyTorch fixture: loss and gradients', () => {
  const { cases } = JSON.parse(readFileSync('test/fixtures/losses/triplet.json', 'utf8')) as { cases: Case[] };
  assert.ok(cases.length >= 3);
  for (const c of cases) {
    // the cases mix triplets inside and outside the margin
    assert.ok(c.active.includes(true) && c.active.includes(false), `${c.name} mixes active and satisfied rows`);
    const { value: loss, grads } = tf.valueAndGrads((a: tf.Tensor, p: tf.Tensor, n: tf.Tensor) =>
      triplet({ anchor: a as tf.Tensor2D, positive: p as tf.Tensor2D, negative: n as tf.Tensor2D }, c.options),
    )([tf.tensor2d(c.inputs.anchor), tf.tensor2d(c.inputs.positive), tf.tensor2d(c.inputs.negative)]);
    assertClose([value(loss)], [c.loss], 1e-5, `${c.name} loss`);
    (['anchor', 'positive', 'negative'] as const).forEach((k, i) =>
      assertClose(grads[i].dataSync(), flat(c.grads[k]), 1e-5, `${c.name} d/d ${k}`, 1e-4),
    );
  }
});

/** float64 reference: mean max(0, ‖a−p+ε‖ − ‖a−n+ε‖ + m), or with cosines. */
function reference(a: number[][], p: number[][], n: number[][], margin: number, distance: 'l2' | 'cosine'): number {
  const dist = (u: number[], v: number[]) => Math.hypot(...u.map((x, k) => x - v[k] + EPS));
  const cos = (u: number[], v: number[]) => u.reduce((acc, x, k) => acc + x * v[k], 0) / (Math.hypot(...u) * Math.hypot(...v));
  const rows = a.map((ai, i) =>
    distance === 'l2' ? dist(ai, p[i]) - dist(ai, n[i]) + margin : cos(ai, n[i]) - cos(ai, p[i]) + margin,
  );
  return rows.reduce((acc, x) => acc + Math.max(0, x), 0) / a.length;
}

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
  const rng = new Rng(17);
  const B = 5;
  const H = 4;
  const rand = () => Array.from({ length: B }, () => Array.from({ length: H }, () => rng.next() * 2 - 1));
  for (const [distance, margin] of [['l2', 1], ['cosine', 0.6]] as const) {
    const [a, p, n] = [rand(), rand(), rand()];
    const { value: loss, grads } = tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      triplet({ anchor: x as tf.Tensor2D, positive: y as tf.Tensor2D, negative: z as tf.Tensor2D }, { distance, margin }),
    )([tf.tensor2d(a), tf.tensor2d(p), tf.tensor2d(n)]);
    assertClose([value(loss)], [reference(a, p, n, margin, distance)], 1e-5, `${distance} loss`);
    const numeric = numericGrads(([x, y, z]) => reference(x, y, z, margin, distance), [a, p, n]);
    numeric.forEach((g, i) => assertClose(grads[i].dataSync(), g, 1e-4, `${distance} gradient ${i}`, 1e-3));
  }
});

const isUserError = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
  assert.match(e.message, pattern);
  return true;
};

test('option and shape validation', () => {
  const t = tf.tensor2d([[1, 0], [0, 1]]);
  const bad = (opts: unknown) => () => triplet({ anchor: t, positive: t, negative: t }, opts as TripletOptions);
  assert.throws(bad({ distance: 'dot' }), isUserError(/^triplet loss: distance: must be one of l2, cosine; got "dot"$/));
  assert.throws(bad({ margin: -1 }), isUserError(/^triplet loss: margin: must be a finite number >= 0, got -1$/));
  assert.throws(bad({ margin: NaN }), isUserError(/margin: must be a finite number >= 0/));
  assert.throws(bad({ p: 2 }), isUserError(/^triplet loss: p: unknown option; valid options: margin, distance$/));
  assert.throws(() => triplet({ anchor: t, positive: t, negative: tf.tensor2d([[1, 0]]) }), isUserError(/negative: shape \[1,2\] differs from anchor \[2,2\]/));
  assert.throws(() => triplet({ anchor: tf.tensor1d([1, 0]) as unknown as tf.Tensor2D, positive: t, negative: t }), isUserError(/anchor: must be a 2-D tensor/));
});

test('no tensors leak', () => {
  const t = tf.tensor2d([[1, 0], [0, 1]]);
  const u = tf.tensor2d([[1, 2], [0, 3]]);
  for (const distance of ['l2', 'cosine'] as const) {
    const before = tf.memory().numTensors;
    triplet({ anchor: t, positive: u, negative: t }, { distance }).dispose();
    assert.equal(tf.memory().numTensors, before, distance);
  }
});
