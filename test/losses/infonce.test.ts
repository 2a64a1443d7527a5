/**
 * InfoNCE against hand-worked values and against a float64 re-implementation whose gradient is
 * taken by central finite differences.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { infoNCE } from '../../src/losses/infonce.js';
import { useBackend, assertClose } from '../helpers/backend.js';
import { Rng } from '../../src/util/rng.js';

await useBackend('cpu');

test('hand-worked: orthonormal pairs, scale 1', () => {
  // Given: a = p = identity rows, so the logits are [[1,0],[0,1]]
  const a = tf.tensor2d([[1, 0], [0, 1]]);
  // When / Then: each row's loss is log(e + 1) − 1
  const loss = infoNCE({ anchor: a, positive: a }, { scale: 1 });
  assertClose([loss.dataSync()[0]], [Math.log(Math.E + 1) - 1], 1e-6, 'loss');
});

test('hand-worked: scale multiplies cosines (vectors not unit length) and a hard negative joins the pool', () => {
  // a0 = (2,0) ~ (1,0); a1 = (0,3) ~ (0,1); p0 = (1,0); p1 = (1,1)/√2; n0 = (0,1); n1 = (-1,0)
  const anchor = tf.tensor2d([[2, 0], [0, 3]]);
  const positive = tf.tensor2d([[1, 0], [1, 1]]);
  const negative = tf.tensor2d([[0, 1], [-1, 0]]);
  const s = 20;
  const r = Math.SQRT1_2;
  // row 0 logits vs [p0, p1, n0, n1] = s·[1, r, 0, -1], label 0
  // row 1 logits vs [p0, p1, n0, n1] = s·[0, r, 1, 0], label 1
  const lse = (xs: number[]) => Math.log(xs.reduce((acc, x) => acc + Math.exp(x), 0));
  const row0 = lse([s, s * r, 0, -s]) - s;
  const row1 = lse([0, s * r, s, 0]) - s * r;
  const loss = infoNCE({ anchor, positive, negatives: [negative] }, { scale: s });
  assertClose([loss.dataSync()[0]], [(row0 + row1) / 2], 1e-4, 'loss with negatives');

  // symmetric: the backward direction scores positives against anchors only
  // p0 vs [a0, a1] = s·[1, 0] label 0; p1 vs [a0, a1] = s·[r, r] label 1
  const back = (lse([s, 0]) - s + (lse([s * r, s * r]) - s * r)) / 2;
  const fwd = (lse([s, s * r]) - s + (lse([0, s * r]) - s * r)) / 2;
  const sym = infoNCE({ anchor, positive }, { scale: s, symmetric: true });
  assertClose([sym.dataSync()[0]], [(fwd + back) / 2], 1e-4, 'symmetric loss');
});

/** float64 reference of the same definition, for finite differences. */
function reference(a: number[][], d: number[][], B: number, scale: number): number {
  const unit = (v: number[]) => {
    const n = Math.max(Math.hypot(...v), 1e-12);
    return v.map((x) => x / n);
  };
  const A = a.map(unit);
  const D = d.map(unit);
  let total = 0;
  for (let i = 0; i < B; i++) {
    const logits = D.map((row) => scale * row.reduce((acc, x, k) => acc + x * A[i][k], 0));
    const m = Math.max(...logits);
    total += m + Math.log(logits.reduce((acc, x) => acc + Math.exp(x - m), 0)) - logits[i];
  }
  return total / B;
}

test('gradient matches central finite differences of a float64 reference', () => {
  const rng = new Rng(3);
  const B = 3;
  const H = 5;
  const rand = (rows: number) => Array.from({ length: rows }, () => Array.from({ length: H }, () => rng.next() * 2 - 1));
  const a = rand(B);
  const p = rand(B);
  const n = rand(B);
  const scale = 5;
  const f = (aa: number[][], pp: number[][]) => reference(aa, [...pp, ...n], B, scale);
  const [ga, gp] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
    infoNCE({ anchor: x as tf.Tensor2D, positive: y as tf.Tensor2D, negatives: [tf.tensor2d(n)] }, { scale }),
  )([tf.tensor2d(a), tf.tensor2d(p)]);
  const eps = 1e-6;
  const numeric = (which: 0 | 1) => {
    const out: number[] = [];
    for (let i = 0; i < B; i++)
      for (let k = 0; k < H; k++) {
        const plus = [a, p].map((m) => m.map((r) => r.slice()));
        const minus = [a, p].map((m) => m.map((r) => r.slice()));
        plus[which][i][k] += eps;
        minus[which][i][k] -= eps;
        out.push((f(plus[0], plus[1]) - f(minus[0], minus[1])) / (2 * eps));
      }
    return out;
  };
  assertClose(ga.dataSync(), numeric(0), 1e-4, 'd loss / d anchor', 1e-3);
  assertClose(gp.dataSync(), numeric(1), 1e-4, 'd loss / d positive', 1e-3);
});

test('several hard-negative columns: every column joins the pool unscaled (float64 reference)', () => {
  // Given: 3 rows, 3 hard-negative columns of vectors far from unit length
  const rng = new Rng(17);
  const rows = (n: number) => Array.from({ length: n }, () => Array.from({ length: 4 }, () => 3 * (rng.next() - 0.5)));
  const [a, p, n1, n2, n3] = [rows(3), rows(3), rows(3), rows(3), rows(3)];
  // When
  const loss = infoNCE({ anchor: tf.tensor2d(a), positive: tf.tensor2d(p), negatives: [n1, n2, n3].map((n) => tf.tensor2d(n)) }, { scale: 20 });
  // Then: equals the definition with D = [P; N1; N2; N3]
  assertClose([loss.dataSync()[0]], [reference(a, [...p, ...n1, ...n2, ...n3], 3, 20)], 1e-5, 'loss with 3 negative columns');
});

test('similarity dot scores raw dot products (hand-worked), cosine normalizes first', () => {
  const anchor = tf.tensor2d([[1, 0], [0, 2]]);
  const positive = tf.tensor2d([[1, 0], [0, 1]]);
  // dot logits [[1, 0], [0, 2]]: rows log(e + 1) − 1 and log(1 + e²) − 2
  const dot = infoNCE({ anchor, positive }, { scale: 1, similarity: 'dot' });
  assertClose(dot.dataSync(), [(Math.log(Math.E + 1) - 1 + Math.log(1 + Math.E ** 2) - 2) / 2], 1e-6, 'dot');
  // cosine logits [[1, 0], [0, 1]]
  const cos = infoNCE({ anchor, positive }, { scale: 1 });
  assertClose(cos.dataSync(), [Math.log(Math.E + 1) - 1], 1e-6, 'cosine');
  tf.dispose([anchor, positive, dot, cos]);
});
