/**
 * The similarity functions, in one place: row-wise L2 normalization (sentence-transformers' Normalize,
 * torch's F.normalize), cosine of row pairs and of every row with every row, AnglE's angle similarity,
 * and the same cosine on plain Float32Arrays for code that never builds a tensor (eval, export checks).
 */
import * as tf from '@tensorflow/tfjs';

/** torch's F.normalize clamps the norm at 1e-12; F.cosine_similarity at 1e-8. */
export const NORMALIZE_EPS = 1e-12;

/** x_i / max(‖x_i‖, eps). x [N, H] -> [N, H] */
function unitRows(x: tf.Tensor2D, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.mul(x, x), -1, true)); // [N, 1]
    return tf.div(x, tf.maximum(norm, eps));
  });
}

/**
 * Row-wise L2 normalization, x_i / max(‖x_i‖, 1e-12) (torch's F.normalize). One argument only, so
 * `tensors.map(l2Normalize)` is safe. x [N, H] -> [N, H]
 */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return unitRows(x, NORMALIZE_EPS);
}

/** cos(x_i, y_i) for each row, norms clamped at `eps` (1e-12; F.cosine_similarity uses 1e-8). x, y [N, H] -> [N] */
export function pairwiseCosine(x: tf.Tensor2D, y: tf.Tensor2D, eps = NORMALIZE_EPS): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(unitRows(x, eps), unitRows(y, eps)), 1) as tf.Tensor1D);
}

/** cos(a_i, b_j) for every pair of rows. a [N, H], b [M, H] -> [N, M] */
export function cosineMatrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.matMul(l2Normalize(a), l2Normalize(b), false, true));
}

/** Which pooling reduces the complex quotient in {@link pairwiseAngle}. */
export type AnglePooling = 'sum' | 'mean';

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
 * cos(a_i, b_i) of row pairs of two row-major [N, dim] arrays, accumulated in float64, norms clamped
 * at eps as {@link l2Normalize}. -> [N]
 */
export function cosineRows(a: Float32Array, b: Float32Array, dim: number, eps = NORMALIZE_EPS): Float64Array {
  if (a.length !== b.length || a.length % dim !== 0) throw new Error(`cosineRows: arrays of ${a.length} and ${b.length} values are not [N, ${dim}] alike`);
  const n = a.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) {
      dot += a[k] * b[k];
      na += a[k] * a[k];
      nb += b[k] * b[k];
    }
    out[i] = dot / (Math.max(Math.sqrt(na), eps) * Math.max(Math.sqrt(nb), eps));
  }
  return out;
}
