/**
 * Triplet margin loss for citation triplets, as SPECTER (`specter/model.py::TripletLoss`, margin 1,
 * 'l2-norm') and SciNCL (`nn.TripletMarginLoss(margin=1.0, p=2)`):
 *
 *   l2:     L = mean_i max(0, ‖a_i − p_i + ε‖₂ − ‖a_i − n_i + ε‖₂ + margin)
 *   cosine: L = mean_i max(0, cos(a_i, n_i) − cos(a_i, p_i) + margin)
 *
 * ε = 1e-6 is added to every coordinate of the difference, as torch's F.pairwise_distance (which both
 * references use) does; it keeps the distance, and its gradient, finite when a = p. The cosine is
 * torch's F.cosine_similarity: each vector is divided by max(‖x‖, 1e-8). On the kink (margin exactly
 * met) the gradient is 0, as F.relu (SPECTER); torch's TripletMarginLoss uses clamp_min, which passes
 * the gradient there, a measure-zero difference.
 */
import * as tf from '@tensorflow/tfjs';
import { pairwiseCosine } from '../math/similarity.js';
import { checkChoice, checkNumber, checkOptionKeys, checkSameShape } from './options.js';

export type TripletDistance = 'l2' | 'cosine';
export const TRIPLET_DISTANCES: readonly TripletDistance[] = ['l2', 'cosine'];

export interface TripletOptions {
  /** Default 1 (SPECTER, SciNCL). */
  margin?: number;
  /** Default 'l2'. */
  distance?: TripletDistance;
}

export interface TripletEmbeddings {
  anchor: tf.Tensor2D; // [B, H]
  positive: tf.Tensor2D; // [B, H]
  negative: tf.Tensor2D; // [B, H]
}

const WHERE = 'triplet loss';
const PAIRWISE_DISTANCE_EPS = 1e-6;
const COSINE_EPS = 1e-8;

/** ‖x_i − y_i + ε‖₂ for each row. x, y [B, H] -> [B] */
function l2Distance(x: tf.Tensor2D, y: tf.Tensor2D): tf.Tensor1D {
  return tf.sqrt(tf.sum(tf.square(tf.add(tf.sub(x, y), PAIRWISE_DISTANCE_EPS)), 1)) as tf.Tensor1D;
}

export function triplet({ anchor, positive, negative }: TripletEmbeddings, opts: TripletOptions = {}): tf.Scalar {
  checkOptionKeys(WHERE, opts, ['margin', 'distance']);
  const margin = checkNumber(WHERE, 'margin', opts.margin ?? 1, 'nonNegative');
  const distance = checkChoice(WHERE, 'distance', opts.distance ?? 'l2', TRIPLET_DISTANCES);
  checkSameShape(WHERE, { anchor, positive, negative });
  return tf.tidy(() => {
    const violation =
      distance === 'l2'
        ? tf.sub(l2Distance(anchor, positive), l2Distance(anchor, negative)) // [B]
        : tf.sub(pairwiseCosine(anchor, negative, COSINE_EPS), pairwiseCosine(anchor, positive, COSINE_EPS)); // [B]
    return tf.mean(tf.relu(tf.add(violation, margin))) as tf.Scalar;
  });
}
