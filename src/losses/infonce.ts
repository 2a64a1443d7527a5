/**
 * In-batch InfoNCE, as sentence-transformers' MultipleNegativesRankingLoss:
 *
 *   L = -(1/B) Σ_i [ s·cos(a_i, p_i) − log Σ_{d ∈ D} exp(s·cos(a_i, d)) ],   D = [P; N_1; …; N_k]
 *
 * Every anchor scores against all positives and every hard negative in the batch; the label of
 * row i is column i. `scale` s = 1/temperature (20 ⇔ 0.05). With `symmetric`, the positive→anchor
 * direction is added and averaged, as MultipleNegativesSymmetricRankingLoss (negatives join only
 * the forward direction, as there). `similarity: 'dot'` scores with raw dot products instead of cosines
 * (ST's `similarity_fct=dot_score`; SciMult's BiEncoderNllLossV2 with sim_method dot and tau 0.01,
 * i.e. scale 100).
 */
import * as tf from '@tensorflow/tfjs';
import { l2Normalize } from '../math/similarity.js';

export interface InfoNCEOptions {
  /** Multiplies cosine similarities before the softmax; 1/temperature. Default 20. */
  scale?: number;
  symmetric?: boolean;
  /** 'cosine' (default) or 'dot'. */
  similarity?: InfoNCESimilarity;
}

export const INFONCE_SIMILARITIES = ['cosine', 'dot'] as const;
export type InfoNCESimilarity = (typeof INFONCE_SIMILARITIES)[number];

export interface ContrastiveEmbeddings {
  anchor: tf.Tensor2D; // [B, H]
  positive: tf.Tensor2D; // [B, H]
  negatives?: tf.Tensor2D[]; // each [B, H]
}

/** Cross-entropy of rows of `logits` [B, C] against label i for row i (C ≥ B). */
function diagonalCrossEntropy(logits: tf.Tensor2D): tf.Scalar {
  const B = logits.shape[0];
  const positives = tf.sum(tf.mul(tf.slice(logits, [0, 0], [B, B]), tf.eye(B)), 1); // [B]
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), positives));
}

export function infoNCE(emb: ContrastiveEmbeddings, options: InfoNCEOptions = {}): tf.Scalar {
  const scale = options.scale ?? 20;
  return tf.tidy(() => {
    const unit = options.similarity === 'dot' ? (x: tf.Tensor2D) => x : l2Normalize;
    const a = unit(emb.anchor); // [B, H]
    const p = unit(emb.positive); // [B, H]
    const candidates = [p, ...(emb.negatives ?? []).map(unit)];
    const docs = candidates.length === 1 ? p : tf.concat(candidates, 0); // [B(1+k), H]
    const forward = diagonalCrossEntropy(tf.mul(tf.matMul(a, docs, false, true), scale)); // logits [B, B(1+k)]
    if (!options.symmetric) return forward;
    const backward = diagonalCrossEntropy(tf.mul(tf.matMul(p, a, false, true), scale)); // [B, B]
    return tf.div(tf.add(forward, backward), 2);
  });
}
