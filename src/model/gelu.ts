/**
 * Exact GELU, 0.5·x·(1 + erf(x/√2)), as HF's "gelu" (not the tanh approximation). Where the
 * backend has the fused `GeluErf` kernels (native), one op each way through tf.customGrad;
 * elsewhere the composite ops.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNELS } from '../backend/native-fused.js';

function composite<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

const fused = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.engine().runKernel(FUSED_KERNELS.gelu, { x }) as tf.Tensor, // same shape as x
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [sx]: tf.Tensor[]) => tf.engine().runKernel(FUSED_KERNELS.geluGrad, { x: sx, dy: dy as tf.Tensor }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.getKernel(FUSED_KERNELS.gelu, tf.getBackend()) != null ? (fused(x) as T) : composite(x);
}
