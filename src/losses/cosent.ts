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
 * |Σ_k (re_k + im_k)| of the element-wise quotient u/v divided by ‖u‖/‖v‖ (see `pairwiseAngle` in math/similarity.ts).
 * For an odd dimension recent sentence-transformers (util/similarity.py) appends one zero to both
 * vectors (older versions fail in torch.chunk); so does this.
 */
import * as tf from '@tensorflow/tfjs';
import { pairwiseAngle, pairwiseCosine } from '../math/similarity.js';
import { checkChoice, checkNumber, checkOptionKeys, checkSameShape, checkScores } from './options.js';

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
