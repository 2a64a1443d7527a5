/**
 * Exact GELU, 0.5·x·(1 + erf(x/√2)), as HF's "gelu" (not the tanh approximation). Where the
 * backend has the fused `GeluErf` kernels (native), one op each way through tf.customGrad;
 * elsewhere the composite ops.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_KERNELS } from '../backend/native-fused.js';
import { WEBGPU_KERNELS } from '../backend/webgpu-kernels.js';

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

/** gelu(x·W + b) as one kernel forward (z = x·W + b kept for the gradient), the gradient from GeluErfGrad and two matmuls. */
const fusedDense = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  const [y, z] = tf.engine().runKernel(WEBGPU_KERNELS.matMulBiasGelu, { a: x, b: w, bias: b }) as tf.Tensor[]; // [N, out] each
  save([x, w, z]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [sx, sw, sz]: tf.Tensor[]) => {
      const dz = tf.engine().runKernel(FUSED_KERNELS.geluGrad, { x: sz, dy: dy as tf.Tensor }) as tf.Tensor; // [N, out]
      return [tf.matMul(dz, sw, false, true), tf.matMul(sx, dz, true, false), tf.sum(dz, 0)]; // dx [N, in], dW [in, out], db [out]
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * gelu(x·W + b): x [N, in], W [in, out], b [out] -> [N, out]. Where the backend has the
 * `MatMulBiasGeluErf` kernel (webgpu) one dispatch forward; elsewhere the bias-fused matmul, then gelu.
 */
export function geluDense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor): tf.Tensor2D {
  const backend = tf.getBackend();
  if (tf.getKernel(WEBGPU_KERNELS.matMulBiasGelu, backend) != null && tf.getKernel(FUSED_KERNELS.geluGrad, backend) != null) {
    return fusedDense(x, w, b) as tf.Tensor2D;
  }
  return gelu(tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D);
}
