/**
 * CoSENT on labelled pairs, as sentence-transformers' CoSENTLoss (and its AnglELoss, which is CoSENT
 * with `pairwise_angle_sim`):
 *
 *   L = log(1 + Σ_{(i,j): y_i < y_j} exp(s·(sim_i − sim_j)))
 *
 * i.e. for every two pairs where pair j has the higher gold score, penalise sim_i ≥ sim_j. As in the
 * reference, it is computed as one logsumexp over [0, s·(sim_i − sim_j) − (1 − [y_i < y_j])·1e12], so
 * pairs that do not meet the condition vanish after exp(). Pairs with equal scores are never compared:
 * a batch whose scores are all equal has loss log(1) = 0.
 *
 * `similarity: 'angle'` is sentence-transformers' `util.pairwise_angle_sim`: each vector is read as a
 * complex vector (first half real, second half imaginary), and the score is
 * |Σ_k (re_k + im_k)| of the element-wise quotient u/v divided by ‖u‖/‖v‖ (see {@link pairwiseAngle}).
 * For an odd dimension recent sentence-transformers (util/similarity.py) appends one zero to both
 * vectors (older versions fail in torch.chunk); so does this.
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../model/pooling.js';
import { userError } from '../util/errors.js';

export type PairSimilarity = 'cosine' | 'angle';
export const PAIR_SIMILARITIES: readonly PairSimilarity[] = ['cosine', 'angle'];

export interface CoSENTOptions {
  /** Multiplies the similarities before the ranking; 1/temperature. Default 20. */
  scale?: number;
  /** 'cosine' (CoSENTLoss, default) or 'angle' (sentence-transformers' AnglELoss). */
  similarity?: PairSimilarity;
}

export interface PairEmbeddings {
  text1: tf.Tensor2D; // [N, H]
  text2: tf.Tensor2D; // [N, H]
}

/** Which pooling reduces the complex quotient in {@link pairwiseAngle}. */
export type AnglePooling = 'sum' | 'mean';

/** cos(x_i, y_i) for each row, with torch's F.normalize eps. x, y [N, H] -> [N] */
export function pairwiseCosine(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(l2Normalize(x), l2Normalize(y)), 1) as tf.Tensor1D);
}

/**
 * AnglE's normalised angle difference of each row pair, as `angle_emb/loss.py::angle_loss` and
 * sentence-transformers' `pairwise_angle_sim`. With u = a + bi, v = c + di (halves of the vectors):
 *
 *   re_k = (a_k c_k + b_k d_k)/‖v‖²,  im_k = (b_k c_k − a_k d_k)/‖v‖²   (per-element quotient u_k/v_k
 *                                                                       over the GLOBAL ‖v‖²)
 *   re, im ← re/(‖u‖/‖v‖), im/(‖u‖/‖v‖)                                 (global norms ratio)
 *   Δ = |pool([re; im])|,  pool = sum (default) or mean over the H entries
 *
 * Since Σ re_k = cos(u, v), the summed score is |cos(u, v) + (b·c − a·d)/(‖u‖‖v‖)|.
 * H must be even (callers decide what to do with odd H). x, y [N, H] -> [N]
 */
export function pairwiseAngle(x: tf.Tensor2D, y: tf.Tensor2D, pooling: AnglePooling = 'sum'): tf.Tensor1D {
  const [N, H] = x.shape;
  if (H % 2 !== 0) throw new Error(`pairwiseAngle: dimension must be even, got ${H}`);
  const h = H / 2;
  return tf.tidy(() => {
    const a = tf.slice(x, [0, 0], [N, h]); // [N, h] real part of u
    const b = tf.slice(x, [0, h], [N, h]); // [N, h] imaginary part of u
    const c = tf.slice(y, [0, 0], [N, h]); // [N, h] real part of v
    const d = tf.slice(y, [0, h], [N, h]); // [N, h] imaginary part of v
    const z = tf.sum(tf.add(tf.square(c), tf.square(d)), 1, true); // [N, 1] ‖v‖²
    const re = tf.div(tf.add(tf.mul(a, c), tf.mul(b, d)), z); // [N, h]
    const im = tf.div(tf.sub(tf.mul(b, c), tf.mul(a, d)), z); // [N, h]
    const dz = tf.sqrt(tf.sum(tf.add(tf.square(a), tf.square(b)), 1, true)); // [N, 1] ‖u‖
    const dw = tf.sqrt(z); // [N, 1] ‖v‖
    const ratio = tf.div(dz, dw); // [N, 1]
    const parts = tf.concat([tf.div(re, ratio), tf.div(im, ratio)], 1); // [N, H]
    const pooled = pooling === 'sum' ? tf.sum(parts, 1) : tf.mean(parts, 1); // [N]
    return tf.abs(pooled) as tf.Tensor1D;
  });
}

/**
 * The CoSENT ranking on already-scaled similarities: logsumexp([0] ∪ {s_i − s_j : y_i < y_j}), with
 * the other entries masked by −1e12 as the references do. scaled [N], labels [N] -> scalar
 */
export function rankingLoss(scaled: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const N = scaled.shape[0];
    const diff = tf.sub(tf.expandDims(scaled, 1), tf.expandDims(scaled, 0)); // [N, N] s_i − s_j
    const y = tf.cast(labels, 'float32');
    const wanted = tf.cast(tf.less(tf.expandDims(y, 1), tf.expandDims(y, 0)), 'float32'); // [N, N] y_i < y_j
    const masked = tf.sub(diff, tf.mul(tf.sub(1, wanted), 1e12)); // [N, N]
    const logits = tf.concat([tf.zeros([1]), tf.reshape(masked, [N * N])]); // [1 + N²]
    return tf.logSumExp(logits) as tf.Scalar;
  });
}

// ---- validation shared by the loss files ----

/** Throws unless every key of `opts` is one of `valid`. */
export function checkOptionKeys(where: string, opts: object, valid: readonly string[]): void {
  for (const key of Object.keys(opts)) {
    if (!valid.includes(key)) throw userError(where, key, `unknown option; valid options: ${valid.join(', ')}`);
  }
}

/** A finite number, > 0 (`positive`) or ≥ 0 (`nonNegative`). */
export function checkNumber(where: string, field: string, v: unknown, kind: 'positive' | 'nonNegative'): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (kind === 'positive' ? v > 0 : v >= 0);
  if (!ok) throw userError(where, field, `must be a finite number ${kind === 'positive' ? '> 0' : '>= 0'}, got ${JSON.stringify(v)}`);
  return v as number;
}

export function checkChoice<T extends string>(where: string, field: string, v: unknown, valid: readonly T[]): T {
  if (!valid.includes(v as T)) throw userError(where, field, `must be one of ${valid.join(', ')}; got ${JSON.stringify(v)}`);
  return v as T;
}

/** All named tensors are [B, H] with one B and one H; returns [B, H]. */
export function checkSameShape(where: string, tensors: Record<string, tf.Tensor>): [number, number] {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (t.rank !== 2) throw userError(where, name, `must be a 2-D tensor [batch, dim], got shape [${t.shape}]`);
  }
  const [firstName, first] = entries[0];
  for (const [name, t] of entries.slice(1)) {
    if (t.shape[0] !== first.shape[0] || t.shape[1] !== first.shape[1])
      throw userError(where, name, `shape [${t.shape}] differs from ${firstName} [${first.shape}]`);
  }
  const [B, H] = first.shape as [number, number];
  if (B < 1) throw userError(where, firstName, 'batch is empty');
  return [B, H];
}

/** scores must be 1-D with one entry per pair. */
export function checkScores(where: string, scores: tf.Tensor, B: number): void {
  if (scores.rank !== 1 || scores.shape[0] !== B)
    throw userError(where, 'scores', `must be a 1-D tensor with one score per pair ([${B}]), got shape [${scores.shape}]`);
}

const WHERE = 'cosent loss';
const OPTION_KEYS = ['scale', 'similarity'] as const;

export function cosent({ text1, text2 }: PairEmbeddings, scores: tf.Tensor1D, opts: CoSENTOptions = {}): tf.Scalar {
  checkOptionKeys(WHERE, opts, OPTION_KEYS);
  const scale = checkNumber(WHERE, 'scale', opts.scale ?? 20, 'positive');
  const similarity = checkChoice(WHERE, 'similarity', opts.similarity ?? 'cosine', PAIR_SIMILARITIES);
  const [B, H] = checkSameShape(WHERE, { text1, text2 });
  checkScores(WHERE, scores, B);
  return tf.tidy(() => {
    let sims: tf.Tensor1D;
    if (similarity === 'cosine') {
      sims = pairwiseCosine(text1, text2); // [B]
    } else if (H % 2 === 0) {
      sims = pairwiseAngle(text1, text2); // [B]
    } else {
      // sentence-transformers pads odd dimensions with one zero: [x; 0]
      const pad = (x: tf.Tensor2D) => tf.pad(x, [[0, 0], [0, 1]]); // [B, H+1]
      sims = pairwiseAngle(pad(text1), pad(text2));
    }
    return rankingLoss(tf.mul(sims, scale) as tf.Tensor1D, scores);
  });
}
