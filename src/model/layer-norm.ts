/**
 * LayerNorm over the last axis, as torch.nn.LayerNorm (biased variance, eps inside the sqrt).
 * Where the backend has the fused `RowLayerNorm` kernels (native), one op forward and one backward
 * through tf.customGrad; elsewhere the composite ops.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNELS } from '../backend/native-fused.js';

function composite(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  // x [N, H]
  const mean = tf.mean(x, -1, true); // [N, 1]
  const centered = tf.sub(x, mean); // [N, H]
  const variance = tf.mean(tf.mul(centered, centered), -1, true); // [N, 1] (biased, as torch)
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, gamma), beta) as tf.Tensor2D;
}

function fused(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    // y [N, H]; mean, rstd [N] kept for the gradient
    const [y, mean, rstd] = tf.engine().runKernel(FUSED_KERNELS.layerNorm, { x: xi, gamma: g, beta: b }, { eps }) as tf.Tensor[];
    save([xi, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sm, sr] = saved;
        return tf.engine().runKernel(FUSED_KERNELS.layerNormGrad, { dy: dy as tf.Tensor, x: sx, gamma: sg, mean: sm, rstd: sr }) as tf.Tensor[]; // dx, dgamma, dbeta
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, gamma, beta) as tf.Tensor2D;
}

export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  return tf.getKernel(FUSED_KERNELS.layerNorm, tf.getBackend()) != null ? fused(x, gamma, beta, eps) : composite(x, gamma, beta, eps);
}
