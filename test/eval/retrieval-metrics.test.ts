import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retrievalMetrics, topK } from '../../src/eval/retrieval-metrics.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: got ${actual}, expected ${expected}`);

test('3-query toy with known ranks 1, 2 and 4', () => {
  // 3 queries × 4 docs, one relevant doc each.
  // q0: order 0(.9) 2(.5) 3(.3) 1(.1); relevant 0 → rank 1: r@1=1, mrr=1,   ndcg=1/log2(2)=1
  // q1: order 1(.8) 2(.6) 3(.4) 0(.2); relevant 2 → rank 2: r@1=0, mrr=1/2, ndcg=1/log2(3)=0.6309297536
  // q2: order 0(.7) 1(.6) 2(.5) 3(.4); relevant 3 → rank 4: r@1=0, mrr=1/4, ndcg=1/log2(5)=0.4306765581
  // recall@10 = 1 for all (only 4 docs). IDCG = 1 for a single relevant doc.
  // means: recall@1 = 1/3, mrr@10 = (1 + .5 + .25)/3 = 0.5833333333,
  //        ndcg@10 = (1 + 0.6309297536 + 0.4306765581)/3 = 0.6872021039
  const scores = new Float32Array([
    0.9, 0.1, 0.5, 0.3,
    0.2, 0.8, 0.6, 0.4,
    0.7, 0.6, 0.5, 0.4,
  ]);
  const m = retrievalMetrics({ scores, numQueries: 3, numDocs: 4, relevant: [[0], [2], [3]] });
  close(m['recall@1'], 1 / 3, 'recall@1');
  close(m['recall@10'], 1, 'recall@10');
  close(m['mrr@10'], 0.5833333333, 'mrr@10');
  close(m['ndcg@10'], 0.6872021039, 'ndcg@10');
  assert.equal(m.queries, 3);
  assert.equal(m.corpus, 4);
  assert.deepEqual(Object.keys(m).sort(), ['corpus', 'mrr@10', 'ndcg@10', 'queries', 'recall@1', 'recall@10']);
});

test('a query with 2 relevant docs', () => {
  // 5 docs, relevant {0, 3}. Order: 1(.9) 3(.8) 2(.3) 4(.2) 0(.1) → relevant at ranks 2 and 5.
  // recall@1 = 0, recall@3 = 1/2, recall@10 = 2/2 = 1, mrr = 1/2 (first relevant at rank 2)
  // DCG@10  = 1/log2(3) + 1/log2(6) = 0.6309297536 + 0.3868528072 = 1.0177825608
  // IDCG@10 = 1/log2(2) + 1/log2(3) = 1.6309297536           → ndcg@10 = 0.6240577
  // ndcg@2: DCG = 1/log2(3) = 0.6309297536, IDCG = 1.6309297536 → 0.3868528072
  // ndcg@1: DCG = 0 → 0 (IDCG@1 = 1: only min(2, 1) = 1 ideal doc counts)
  const scores = new Float32Array([0.1, 0.9, 0.3, 0.8, 0.2]);
  const m = retrievalMetrics({ scores, numQueries: 1, numDocs: 5, relevant: [[0, 3]], k: { recall: [3], mrr: 10, ndcg: 2 } });
  close(m['recall@1'], 0, 'recall@1');
  close(m['recall@3']!, 0.5, 'recall@3');
  close(m['recall@10'], 1, 'recall@10');
  close(m['mrr@10'], 0.5, 'mrr@10');
  close(m['ndcg@10'], 1.0177825608 / 1.6309297536, 'ndcg@10');
  close(m['ndcg@2']!, 0.6309297536 / 1.6309297536, 'ndcg@2');

  // ndcg@1 when the top hit IS relevant: DCG@1 = 1, IDCG@1 = 1 (not 1.63) → 1
  const m1 = retrievalMetrics({ scores: new Float32Array([0.9, 0.1, 0.8]), numQueries: 1, numDocs: 3, relevant: [[0, 2]], k: { recall: [], mrr: 1, ndcg: 1 } });
  close(m1['ndcg@1']!, 1, 'ndcg@1');
  close(m1['mrr@1']!, 1, 'mrr@1');
  close(m1['recall@1'], 0.5, 'recall@1 with 2 relevant');
});

test('relevant doc beyond k: mrr@k and ndcg@k are 0, recall@k counts only the top k', () => {
  // 12 docs, score = -index, relevant {11} → rank 12 > 10.
  const scores = Float32Array.from({ length: 12 }, (_, i) => -i);
  const m = retrievalMetrics({ scores, numQueries: 1, numDocs: 12, relevant: [[11]] });
  assert.deepEqual([m['recall@1'], m['recall@10'], m['mrr@10'], m['ndcg@10']], [0, 0, 0, 0]);
  // relevant {9}: rank 10 exactly — inside the cut-off.
  const m10 = retrievalMetrics({ scores, numQueries: 1, numDocs: 12, relevant: [[9]] });
  close(m10['recall@10'], 1, 'recall@10');
  close(m10['mrr@10'], 0.1, 'mrr@10');
  close(m10['ndcg@10'], 1 / Math.log2(11), 'ndcg@10');
});

test('perfect ranking gives 1.0 everywhere', () => {
  const n = 15;
  const scores = new Float32Array(n * n);
  for (let q = 0; q < n; q++) for (let d = 0; d < n; d++) scores[q * n + d] = q === d ? 1 : 0.5 - 0.01 * d;
  const m = retrievalMetrics({ scores, numQueries: n, numDocs: n, relevant: Array.from({ length: n }, (_, q) => [q]) });
  assert.deepEqual([m['recall@1'], m['recall@10'], m['mrr@10'], m['ndcg@10']], [1, 1, 1, 1]);
});

test('worst ranking (relevant doc always last, corpus > 10) gives 0 everywhere', () => {
  const n = 15;
  const scores = new Float32Array(n * n);
  for (let q = 0; q < n; q++) for (let d = 0; d < n; d++) scores[q * n + d] = q === d ? -1 : 0.5 + 0.01 * d;
  const m = retrievalMetrics({ scores, numQueries: n, numDocs: n, relevant: Array.from({ length: n }, (_, q) => [q]) });
  assert.deepEqual([m['recall@1'], m['recall@10'], m['mrr@10'], m['ndcg@10']], [0, 0, 0, 0]);
});

test('ties break toward the lower doc index; NaN ranks last', () => {
  assert.deepEqual(topK([0.5, 0.5, 0.5, 0.5], 4), [0, 1, 2, 3]);
  assert.deepEqual(topK([0.1, 0.7, 0.3, 0.7, 0.7], 3), [1, 3, 4]);
  assert.deepEqual(topK([NaN, 0.2, NaN, -Infinity], 4), [1, 3, 0, 2]);
  assert.deepEqual(topK(new Float32Array([3, 1, 2]), 10), [0, 2, 1]); // k > n: everything, sorted
  assert.deepEqual(topK([3, 1, 2], 0), []);
  // All-equal scores, relevant doc 2 → it is ranked 3rd: mrr = 1/3, ndcg = 1/log2(4) = 0.5.
  const m = retrievalMetrics({ scores: new Float32Array(5).fill(0.25), numQueries: 1, numDocs: 5, relevant: [[2]] });
  close(m['mrr@10'], 1 / 3, 'mrr@10 with ties');
  close(m['ndcg@10'], 0.5, 'ndcg@10 with ties');
  close(m['recall@1'], 0, 'recall@1 with ties');
});

test('topK agrees with a full stable sort on random rows with many ties', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.int(60);
    const row = Array.from({ length: n }, () => rng.int(8) / 8); // few distinct values → many ties
    const k = rng.int(n + 3);
    const expected = row
      .map((s, i) => ({ s, i }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map((e) => e.i);
    assert.deepEqual(topK(row, k), expected, `trial ${trial}: n=${n} k=${k}`);
  }
});

test('metrics are unchanged when corpus columns are permuted (relevant indices mapped)', () => {
  const rng = new Rng(11);
  const Q = 20;
  const D = 30;
  const scores = Float32Array.from({ length: Q * D }, () => rng.next()); // continuous → no ties
  const relevant = Array.from({ length: Q }, () => {
    const count = 1 + rng.int(3);
    return Array.from({ length: count }, () => rng.int(D));
  });
  // perm[newIndex] = oldIndex; inverse[oldIndex] = newIndex
  const perm = Array.from({ length: D }, (_, i) => i);
  for (let i = D - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const inverse = new Array<number>(D);
  perm.forEach((old, nu) => (inverse[old] = nu));
  const permuted = new Float32Array(Q * D);
  for (let q = 0; q < Q; q++) for (let d = 0; d < D; d++) permuted[q * D + d] = scores[q * D + perm[d]!]!;
  const k = { recall: [1, 5, 10], mrr: 10, ndcg: 10 };
  const a = retrievalMetrics({ scores, numQueries: Q, numDocs: D, relevant, k });
  const b = retrievalMetrics({ scores: permuted, numQueries: Q, numDocs: D, relevant: relevant.map((r) => r.map((d) => inverse[d]!)), k });
  assert.deepEqual(b, a);
  assert.ok(a['mrr@10'] > 0 && a['mrr@10'] < 1, 'non-trivial case');
});

test('queries without relevant docs are skipped; duplicates count once', () => {
  // q0 has none (skipped); q1 relevant [1, 1] = {1}, ranked first.
  const scores = new Float32Array([0.9, 0.1, 0.2, 0.8]);
  const m = retrievalMetrics({ scores, numQueries: 2, numDocs: 2, relevant: [[], [1, 1]] });
  assert.equal(m.queries, 1);
  assert.deepEqual([m['recall@1'], m['recall@10'], m['mrr@10'], m['ndcg@10']], [1, 1, 1, 1]);
});

test('bad input is a UserError naming the field', () => {
  const scores = new Float32Array(6);
  assert.throws(() => retrievalMetrics({ scores, numQueries: 2, numDocs: 4, relevant: [[0], [1]] }), (e: unknown) => e instanceof UserError && /scores/.test(e.message));
  assert.throws(() => retrievalMetrics({ scores, numQueries: 2, numDocs: 3, relevant: [[0]] }), (e: unknown) => e instanceof UserError && /relevant/.test(e.message));
  assert.throws(() => retrievalMetrics({ scores, numQueries: 2, numDocs: 3, relevant: [[0], [3]] }), (e: unknown) => e instanceof UserError && /relevant\[1\]\[0\].*0\.\.2/.test(e.message));
  assert.throws(() => retrievalMetrics({ scores, numQueries: 2, numDocs: 3, relevant: [[], []] }), (e: unknown) => e instanceof UserError && /no query/.test(e.message));
  assert.throws(() => retrievalMetrics({ scores, numQueries: 2, numDocs: 3, relevant: [[0], [1]], k: { recall: [0], mrr: 10, ndcg: 10 } }), (e: unknown) => e instanceof UserError && /k\.recall\[0\]/.test(e.message));
});

test('2000 × 2000 runs quickly (partial selection)', () => {
  const n = 2000;
  const rng = new Rng(3);
  const scores = Float32Array.from({ length: n * n }, () => rng.next());
  for (let q = 0; q < n; q++) scores[q * n + q] = 2; // diagonal wins
  const t0 = performance.now();
  const m = retrievalMetrics({ scores, numQueries: n, numDocs: n, relevant: Array.from({ length: n }, (_, q) => [q]) });
  const ms = performance.now() - t0;
  assert.equal(m['mrr@10'], 1);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`); // generous: shared 2-core machine; ~100 ms expected
});
