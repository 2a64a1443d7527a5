/**
 * Retrieval metrics for `contrastive eval`: anchors are queries, positives are the corpus.
 *
 * Definitions follow sentence-transformers' InformationRetrievalEvaluator (binary relevance):
 *   recall@k = |relevant ∩ top-k| / |relevant|
 *   mrr@k    = 1 / rank of the first relevant doc within the top k (rank starts at 1), else 0
 *   ndcg@k   = DCG@k / IDCG@k, DCG@k = Σ_{i=1..k} rel_i / log2(i + 1),
 *              IDCG@k = Σ_{i=1..min(|relevant|, k)} 1 / log2(i + 1)
 * Each is averaged over the evaluated queries.
 *
 * Deterministic ranking rule (the evaluator's heap leaves ties to chance; we do not):
 *   - a higher score ranks first;
 *   - equal scores: the lower doc index ranks first;
 *   - NaN scores rank below every number (below -Infinity), lower index first among NaNs.
 *
 * Queries whose relevant set is empty are skipped, as the evaluator drops them; `queries` reports how
 * many were evaluated (a UserError if none is left). Duplicate relevant indices count once (the evaluator uses sets).
 */
import { userError } from '../util/errors.js';

export interface RetrievalMetrics {
  'recall@1': number;
  'recall@10': number;
  'mrr@10': number;
  'ndcg@10': number;
  /** queries evaluated (those with at least one relevant doc) */
  queries: number;
  /** documents in the corpus */
  corpus: number;
}

/** Which cut-offs to report. The default keys recall@1, recall@10, mrr@10, ndcg@10 are always present. */
export interface RetrievalK {
  recall: number[];
  mrr: number;
  ndcg: number;
}

export const DEFAULT_K: RetrievalK = { recall: [1, 10], mrr: 10, ndcg: 10 };

const WHERE = 'retrievalMetrics';

/** True when doc `a` (score sa) ranks strictly before doc `b` (score sb) under the rule above. */
function before(sa: number, a: number, sb: number, b: number): boolean {
  if (sa > sb) return true;
  if (sa < sb) return false;
  if (sa === sb) return a < b;
  // at least one NaN: a number beats NaN; two NaNs fall back to index order
  const na = Number.isNaN(sa);
  const nb = Number.isNaN(sb);
  if (na !== nb) return nb;
  return a < b;
}

/**
 * Indices of the k best entries of `row`, best first (ties → lower index, NaN last).
 * Bounded heap: O(n log k) time, O(k) memory, no full sort of the row.
 */
export function topK(row: Float32Array | number[], k: number): number[] {
  if (!Number.isInteger(k) || k < 0) throw userError(WHERE, 'k', `must be a non-negative integer, got ${k}`);
  const n = row.length;
  const m = Math.min(k, n);
  if (m === 0) return [];
  // Min-heap keyed by rank order: heap[0] is the WORST of the kept entries.
  const heap: number[] = [];
  const worse = (i: number, j: number): boolean => before(row[j]!, j, row[i]!, i); // i ranks after j
  const siftUp = (p: number): void => {
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (!worse(heap[p]!, heap[parent]!)) break;
      [heap[p], heap[parent]] = [heap[parent]!, heap[p]!];
      p = parent;
    }
  };
  const siftDown = (p: number): void => {
    for (;;) {
      const l = 2 * p + 1;
      const r = l + 1;
      let w = p;
      if (l < heap.length && worse(heap[l]!, heap[w]!)) w = l;
      if (r < heap.length && worse(heap[r]!, heap[w]!)) w = r;
      if (w === p) return;
      [heap[p], heap[w]] = [heap[w]!, heap[p]!];
      p = w;
    }
  };
  for (let i = 0; i < n; i++) {
    if (heap.length < m) {
      heap.push(i);
      siftUp(heap.length - 1);
    } else if (before(row[i]!, i, row[heap[0]!]!, heap[0]!)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  // m ≤ k entries: a small sort is fine here.
  return heap.sort((a, b) => (before(row[a]!, a, row[b]!, b) ? -1 : 1));
}

function checkK(k: RetrievalK): void {
  const all: Array<[string, number]> = [...k.recall.map((v, i): [string, number] => [`k.recall[${i}]`, v]), ['k.mrr', k.mrr], ['k.ndcg', k.ndcg]];
  for (const [field, v] of all) {
    if (!Number.isInteger(v) || v < 1) throw userError(WHERE, field, `must be a positive integer, got ${v}`);
  }
}

/** Unique sorted cut-offs: the defaults plus whatever the caller asked for. */
function cutoffs(defaults: number[], asked: number[]): number[] {
  return [...new Set([...defaults, ...asked])].sort((a, b) => a - b);
}

export function retrievalMetrics(opts: {
  scores: Float32Array;
  numQueries: number;
  numDocs: number;
  relevant: number[][];
  k?: RetrievalK;
}): RetrievalMetrics & Record<string, number> {
  const { scores, numQueries, numDocs, relevant } = opts;
  const k = opts.k ?? DEFAULT_K;
  checkK(k);
  if (!Number.isInteger(numQueries) || numQueries < 0) throw userError(WHERE, 'numQueries', `must be a non-negative integer, got ${numQueries}`);
  if (!Number.isInteger(numDocs) || numDocs < 1) throw userError(WHERE, 'numDocs', `must be a positive integer, got ${numDocs}`);
  if (scores.length !== numQueries * numDocs) {
    throw userError(WHERE, 'scores', `has ${scores.length} values, expected numQueries × numDocs = ${numQueries} × ${numDocs} = ${numQueries * numDocs}`);
  }
  if (relevant.length !== numQueries) throw userError(WHERE, 'relevant', `has ${relevant.length} entries, expected one per query (${numQueries})`);

  const recallKs = cutoffs(DEFAULT_K.recall, k.recall);
  const mrrKs = cutoffs([DEFAULT_K.mrr], [k.mrr]);
  const ndcgKs = cutoffs([DEFAULT_K.ndcg], [k.ndcg]);
  const maxK = Math.max(...recallKs, ...mrrKs, ...ndcgKs);

  // 1 / log2(i + 2) for 0-based position i: the DCG discount table, and its prefix sums for IDCG.
  const discount = new Float64Array(maxK);
  const idcgPrefix = new Float64Array(maxK + 1);
  for (let i = 0; i < maxK; i++) {
    discount[i] = 1 / Math.log2(i + 2);
    idcgPrefix[i + 1] = idcgPrefix[i]! + discount[i]!;
  }

  const sums = new Map<string, number>();
  const add = (key: string, v: number): void => void sums.set(key, (sums.get(key) ?? 0) + v);
  let evaluated = 0;

  for (let q = 0; q < numQueries; q++) {
    const rel = new Set<number>();
    for (const [j, d] of relevant[q]!.entries()) {
      if (!Number.isInteger(d) || d < 0 || d >= numDocs) {
        throw userError(WHERE, `relevant[${q}][${j}]`, `doc index ${d} is out of range 0..${numDocs - 1}`);
      }
      rel.add(d);
    }
    if (rel.size === 0) continue; // the evaluator drops queries without relevant docs
    evaluated++;

    const top = topK(scores.subarray(q * numDocs, (q + 1) * numDocs), maxK);
    const hit = top.map((d) => rel.has(d));
    // hitsUpTo[i] = relevant docs among the first i results; dcgUpTo[i] = DCG of the first i results.
    const hitsUpTo = new Array<number>(maxK + 1).fill(0);
    const dcgUpTo = new Array<number>(maxK + 1).fill(0);
    let firstRank = 0; // 1-based rank of the first relevant doc within top maxK, 0 if none
    for (let i = 0; i < maxK; i++) {
      const h = i < hit.length && hit[i]!;
      hitsUpTo[i + 1] = hitsUpTo[i]! + (h ? 1 : 0);
      dcgUpTo[i + 1] = dcgUpTo[i]! + (h ? discount[i]! : 0);
      if (h && firstRank === 0) firstRank = i + 1;
    }
    for (const c of recallKs) add(`recall@${c}`, hitsUpTo[c]! / rel.size);
    for (const c of mrrKs) add(`mrr@${c}`, firstRank > 0 && firstRank <= c ? 1 / firstRank : 0);
    for (const c of ndcgKs) add(`ndcg@${c}`, dcgUpTo[c]! / idcgPrefix[Math.min(rel.size, c)]!);
  }

  if (evaluated === 0) throw userError(WHERE, 'relevant', 'no query has a relevant doc; nothing to evaluate');
  const out: Record<string, number> = {};
  const keys = [...recallKs.map((c) => `recall@${c}`), ...mrrKs.map((c) => `mrr@${c}`), ...ndcgKs.map((c) => `ndcg@${c}`)];
  for (const key of keys) out[key] = sums.get(key)! / evaluated;
  out.queries = evaluated;
  out.corpus = numDocs;
  return out as RetrievalMetrics & Record<string, number>;
}
