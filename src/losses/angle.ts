/**
 * AnglE loss, as AnglE v0.6 (SeanLee97/AnglE `angle_emb/angle.py::AngleLoss` with the terms of
 * `angle_emb/loss.py`). AnglE lays a batch out zigzag ([t1_0, t2_0, t1_1, t2_1, …]); this takes the
 * columns as separate tensors and builds the same layout where the result depends on it.
 *
 * Terms (τ = the term's tau):
 * - cosine: CoSENT on τ·cos(t1_i, t2_i) (see cosent.ts).
 * - angle:  CoSENT on τ·Δ_i, Δ = |pool(re; im)| of the complex quotient t1_i / t2_i (see
 *           `pairwiseAngle` in math/similarity.ts). The dimension must be even: AnglE's own `angle_loss`
 *           splits with torch.chunk and raises for odd dimensions ≥ 5 (for 3 it silently broadcasts
 *           a 1-wide imaginary half, which is meaningless), so odd dimensions are a UserError here.
 *           (sentence-transformers' AnglELoss zero-pads instead: `cosent(..., { similarity: 'angle' })`.)
 * - ibn:    format A's in-batch negatives. Rows of the zigzag batch E [2B, H] are L2-normalised,
 *           S = τ·(Ê Êᵀ − 1e12·I), and the loss is the categorical cross-entropy
 *           mean_r −Σ_c T[r,c]·log_softmax(S)[r,c] averaged over ALL 2B rows (rows of negative pairs
 *           have an all-zero target and contribute 0). Both texts of a pair act as queries.
 *           The target T is built exactly as `make_target_matrix` does. With n = trunc(label) (torch's
 *           `.int()` on the float32 label: truncation toward zero), for row r = 2p + side and its
 *           partner r ^ 1:
 *             key[c]   = c·n_c           if n_c ≠ 0, else −2
 *             query[r] = (r ^ 1)·n_r     if n_r ≠ 0, else −1
 *             T[r,c]   = [query[r] = key[c]]
 *           So a pair counts as positive when trunc(label) ≠ 0: with binary labels, or scores in [0, 1]
 *           (only exactly 1.0 is positive; 0.99 is negative), T marks exactly the partner. With scores
 *           ≥ 2 (e.g. raw STS 0–5) the index arithmetic can also match rows of OTHER pairs
 *           (c·n_c = (r^1)·n_r), and negative labels can hit the −1/−2 sentinels of zero-labelled
 *           rows; this reproduces AnglE's numbers, quirks included. Use binary or [0, 1] scores.
 * - InfoNCE (formats B/C): `contrastive_with_negative_loss`, which is infonce.ts with scale τ_ibn.
 *
 * How they combine (a term is computed only when its weight is > 0, as AngleLoss does):
 * - A (text1, text2, scores):   cosineW·cosine + ibnW·ibn + angleW·angle
 * - B (query, positive):        InfoNCE(q, p; ibnTau) alone — AngleLoss applies no weight here
 * - C (query, positive, negative):
 *     (ibnW·InfoNCE(q, p) + clnW·InfoNCE(q, [p; n]))/2 + angleW·angle + cosineW·cosine,
 *     both InfoNCE terms with ibnTau; angle and cosine rank the pairs (q_i, p_i) labelled 1 above
 *     (q_i, n_i) labelled 0.
 * Defaults (AngleLoss v0.5.6–v0.6.1; its docstring's 1.0 weights are stale): cosineW 0, ibnW 1,
 * clnW 1, angleW 0.02, all taus 20, pooling 'sum'.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize, pairwiseAngle, pairwiseCosine, type AnglePooling } from '../math/similarity.js';
import { infoNCE } from './infonce.js';
import { rankingLoss, type PairEmbeddings } from './cosent.js';
import { checkChoice, checkNumber, checkOptionKeys, checkSameShape, checkScores } from './options.js';
import { userError } from '../util/errors.js';

export interface AnglEOptions {
  cosineW: number;
  ibnW: number;
  /** Format C only: weight of InfoNCE with the hard negatives. */
  clnW: number;
  angleW: number;
  cosineTau: number;
  /** Scale of the in-batch term (A) and of both InfoNCE terms (B, C). */
  ibnTau: number;
  angleTau: number;
  pooling: AnglePooling;
}

export const ANGLE_DEFAULTS: Readonly<AnglEOptions> = Object.freeze({
  cosineW: 0,
  ibnW: 1,
  clnW: 1,
  angleW: 0.02,
  cosineTau: 20,
  ibnTau: 20,
  angleTau: 20,
  pooling: 'sum',
});

export interface QueryEmbeddings {
  query: tf.Tensor2D; // [B, H]
  positive: tf.Tensor2D; // [B, H]
  negative?: tf.Tensor2D; // [B, H]
}

const WHERE = 'angle loss';
export const ANGLE_POOLINGS: readonly AnglePooling[] = ['sum', 'mean'];
const WEIGHTS = ['cosineW', 'ibnW', 'clnW', 'angleW'] as const;
const TAUS = ['cosineTau', 'ibnTau', 'angleTau'] as const;

function resolveOptions(opts: Partial<AnglEOptions>): AnglEOptions {
  checkOptionKeys(WHERE, opts, Object.keys(ANGLE_DEFAULTS));
  const o: AnglEOptions = { ...ANGLE_DEFAULTS };
  for (const k of WEIGHTS) o[k] = checkNumber(WHERE, k, opts[k] ?? ANGLE_DEFAULTS[k], 'nonNegative');
  for (const k of TAUS) o[k] = checkNumber(WHERE, k, opts[k] ?? ANGLE_DEFAULTS[k], 'positive');
  o.pooling = checkChoice(WHERE, 'pooling', opts.pooling ?? ANGLE_DEFAULTS.pooling, ANGLE_POOLINGS);
  return o;
}

/** [x_0, y_0, x_1, y_1, …]: x, y [B, …] -> [2B, …] */
function zigzag<T extends tf.Tensor>(x: T, y: T): T {
  const [B, ...rest] = x.shape;
  return tf.reshape(tf.stack([x, y], 1), [2 * B, ...rest]) as T;
}

/** Format A in-batch negatives (`in_batch_negative_loss` with negative_weights 0); see the file comment. */
function inBatchNegative(text1: tf.Tensor2D, text2: tf.Tensor2D, labels: tf.Tensor1D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const N = 2 * text1.shape[0];
    const e = l2Normalize(zigzag(text1, text2)); // [2B, H]
    const sims = tf.mul(tf.sub(tf.matMul(e, e, false, true), tf.mul(tf.eye(N), 1e12)), tau); // [2B, 2B]
    const y = tf.cast(labels, 'float32');
    const n = tf.mul(tf.sign(y), tf.floor(tf.abs(y))); // [B] trunc, as torch's .int()
    const nz = zigzag(n, n); // [2B] each pair's label on both of its rows
    const rows = tf.range(0, N, 1, 'float32'); // [2B]
    const partner = tf.sub(tf.add(rows, 1), tf.mul(tf.mod(rows, 2), 2)); // [2B] r ^ 1
    const isZero = tf.equal(nz, 0);
    const key = tf.where(isZero, tf.fill([N], -2), tf.mul(rows, nz)); // [2B] per column
    const query = tf.where(isZero, tf.fill([N], -1), tf.mul(partner, nz)); // [2B] per row
    const target = tf.cast(tf.equal(tf.expandDims(query, 1), tf.expandDims(key, 0)), 'float32'); // [2B, 2B]
    const perRow = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(sims, 1)), 1)); // [2B]
    return tf.mean(perRow) as tf.Scalar;
  });
}

function cosineTerm(t1: tf.Tensor2D, t2: tf.Tensor2D, labels: tf.Tensor1D, tau: number): tf.Scalar {
  return tf.tidy(() => rankingLoss(tf.mul(pairwiseCosine(t1, t2), tau) as tf.Tensor1D, labels));
}

function angleTerm(t1: tf.Tensor2D, t2: tf.Tensor2D, labels: tf.Tensor1D, o: AnglEOptions): tf.Scalar {
  return tf.tidy(() => rankingLoss(tf.mul(pairwiseAngle(t1, t2, o.pooling), o.angleTau) as tf.Tensor1D, labels));
}

function checkEvenForAngle(H: number, o: AnglEOptions): void {
  if (o.angleW > 0 && H % 2 !== 0)
    throw userError(
      WHERE,
      'angleW',
      `the angle term splits each embedding into real and imaginary halves and needs an even dimension, got ${H} ` +
        '(AnglE fails here too); use an even dimension or angleW 0',
    );
}

/** Σ of the terms whose weight is > 0; 0 if none. */
function weightedSum(terms: [number, () => tf.Scalar][]): tf.Scalar {
  const parts = terms.filter(([w]) => w > 0).map(([w, f]) => tf.mul(f(), w) as tf.Scalar);
  return parts.length === 0 ? tf.scalar(0) : (tf.addN(parts) as tf.Scalar);
}

export function angle(
  emb: PairEmbeddings | QueryEmbeddings,
  scores: tf.Tensor1D | null,
  opts: Partial<AnglEOptions> = {},
): tf.Scalar {
  const o = resolveOptions(opts);
  const has = (k: string) => (emb as unknown as Record<string, unknown>)[k] !== undefined;
  if (has('text1') || has('text2')) {
    if (has('query') || has('positive') || has('negative'))
      throw userError(WHERE, 'embeddings', 'give either text1, text2 (format A) or query, positive[, negative] (formats B, C), not both');
    const { text1, text2 } = emb as PairEmbeddings;
    const [B, H] = checkSameShape(WHERE, { text1, text2 });
    if (scores == null) throw userError(WHERE, 'scores', 'format A (text1, text2) needs one score per pair');
    checkScores(WHERE, scores, B);
    checkEvenForAngle(H, o);
    return tf.tidy(() =>
      weightedSum([
        [o.cosineW, () => cosineTerm(text1, text2, scores, o.cosineTau)],
        [o.ibnW, () => inBatchNegative(text1, text2, scores, o.ibnTau)],
        [o.angleW, () => angleTerm(text1, text2, scores, o)],
      ]),
    );
  }
  if (!has('query') || !has('positive'))
    throw userError(WHERE, 'embeddings', 'expected text1, text2 (format A) or query, positive[, negative] (formats B, C)');
  if (scores != null)
    throw userError(WHERE, 'scores', 'only format A (text1, text2) uses scores; pass null with query, positive[, negative]');
  const { query, positive, negative } = emb as QueryEmbeddings;
  if (negative === undefined) {
    checkSameShape(WHERE, { query, positive });
    return infoNCE({ anchor: query, positive }, { scale: o.ibnTau }); // format B
  }
  const [B, H] = checkSameShape(WHERE, { query, positive, negative });
  checkEvenForAngle(H, o);
  return tf.tidy(() => {
    // format C: (q_i, p_i) labelled 1, (q_i, n_i) labelled 0, for the ranking terms
    const t1 = tf.concat([query, query], 0); // [2B, H]
    const t2 = tf.concat([positive, negative], 0); // [2B, H]
    const labels = tf.concat([tf.ones([B]), tf.zeros([B])]) as tf.Tensor1D; // [2B]
    const contrastive = weightedSum([
      [o.ibnW, () => infoNCE({ anchor: query, positive }, { scale: o.ibnTau })],
      [o.clnW, () => infoNCE({ anchor: query, positive, negatives: [negative] }, { scale: o.ibnTau })],
    ]);
    return tf.addN([
      tf.div(contrastive, 2),
      weightedSum([
        [o.angleW, () => angleTerm(t1, t2, labels, o)],
        [o.cosineW, () => cosineTerm(t1, t2, labels, o.cosineTau)],
      ]),
    ]) as tf.Scalar;
  });
}
