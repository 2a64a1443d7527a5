/** sentence-transformers' Pooling module (its Normalize module is `l2Normalize` in math/similarity.ts). */
import * as tf from '@tensorflow/tfjs';
import type { Pooling } from './config.js';

/** tokens [B, S, H], mask [B, S] (1 = real token) -> [B, H] */
export function pool(tokens: tf.Tensor3D, attentionMask: tf.Tensor2D, mode: Pooling): tf.Tensor2D {
  if (mode === 'cls') {
    const [B, , H] = tokens.shape;
    return tf.slice(tokens, [0, 0, 0], [B, 1, H]).reshape([B, H]);
  }
  // mean over real tokens, as ST: sum(x·m) / clamp(sum(m), 1e-9)
  const m = tf.cast(attentionMask, 'float32').expandDims(-1); // [B, S, 1]
  const summed = tf.sum(tf.mul(tokens, m), 1); // [B, H]
  const counts = tf.maximum(tf.sum(m, 1), 1e-9); // [B, 1]
  return tf.div(summed, counts) as tf.Tensor2D;
}
