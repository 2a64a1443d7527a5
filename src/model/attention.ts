/**
 * Scaled dot-product attention as one generic op, like torch's `scaled_dot_product_attention`, in the
 * layout the dense layers produce ("heads inside": [B, S, heads, size], no transposes for the caller):
 *
 *   out[b, i, h] = Σ_j dropout(softmax_j(q[b, i, h]·k[b, j, h]·scale + keyBias[b, j]))·v[b, j, h]
 *
 * `keyBias` [B, Sk] is added to every head's and query's scores of key j (0 where attended, −1e9 on
 * padding); dropout on the probabilities is tf.dropout's (the same random stream for a given seed).
 * Where the backend has the fused `FusedAttention` kernels (native), one op each way through
 * tf.customGrad that keeps only q, k, v, the bias (and the dropout multiplier) for the gradient;
 * elsewhere the composite ops (transposes, batched matmuls, softmax), which the fused kernels are
 * tested against; there, a backend with a `ScaledMaskedSoftmax` kernel (webgpu) runs scale, bias and
 * softmax as one dispatch each way.
 */
import * as tf from '@tensorflow/tfjs';
import { ATTENTION_KERNELS } from '../backend/native-attention.js';
import { WEBGPU_KERNELS } from '../backend/webgpu-kernels.js';

export interface AttentionOptions {
  /** Multiplies q·kᵀ (1/√size for BERT). */
  scale: number;
  /** [B, Sk], added to the scores of each key. */
  keyBias?: tf.Tensor2D;
  /** Dropout on the attention probabilities (training): rate in [0, 1) and the op seed. */
  dropout?: { rate: number; seed: number };
}

/** tf.dropout's multiplier for x of `shape`: floor(u + keep) / keep with u ~ U[0, 1) from `seed`. */
function dropoutMultiplier(shape: number[], rate: number, seed: number): tf.Tensor {
  const keep = 1 - rate;
  return tf.div(tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', seed), keep)), keep);
}

function composite(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, o: AttentionOptions): tf.Tensor4D {
  const [B, Sq, H, D] = q.shape;
  const Sk = k.shape[1];
  const Dv = v.shape[3];
  const qh = q.transpose([0, 2, 1, 3]).reshape([B * H, Sq, D]) as tf.Tensor3D; // [B*H, Sq, D]
  const kT = k.transpose([0, 2, 3, 1]).reshape([B * H, D, Sk]) as tf.Tensor3D; // [B*H, D, Sk]
  const vh = v.transpose([0, 2, 1, 3]).reshape([B * H, Sk, Dv]) as tf.Tensor3D; // [B*H, Sk, Dv]
  const raw = tf.matMul(qh, kT).reshape([B, H, Sq, Sk]) as tf.Tensor4D; // [B, H, Sq, Sk]
  let probs = tf.getKernel(WEBGPU_KERNELS.maskedSoftmax, tf.getBackend()) != null
    ? scaledMaskedSoftmax(raw, o.scale, o.keyBias ?? tf.zeros([B, Sk]))
    : tf.softmax(o.keyBias ? tf.add(tf.mul(raw, o.scale), o.keyBias.reshape([B, 1, 1, Sk])) : tf.mul(raw, o.scale), -1);
  if (o.dropout && o.dropout.rate > 0) probs = tf.dropout(probs, o.dropout.rate, undefined, o.dropout.seed);
  const ctx = tf.matMul(probs.reshape([B * H, Sq, Sk]) as tf.Tensor3D, vh); // [B*H, Sq, Dv]
  return ctx.reshape([B, H, Sq, Dv]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, Sq, H, Dv]
}

/**
 * softmax(scores·scale + keyBias) over the last axis as one kernel each way: scores [B, H, Sq, Sk],
 * keyBias [B, Sk] -> probs [B, H, Sq, Sk]. Gradients: d(scores) = scale·p·(dp − Σ dp·p), and keyBias
 * gets the same without the scale, summed over heads and queries.
 */
function scaledMaskedSoftmax(scores: tf.Tensor4D, scale: number, keyBias: tf.Tensor2D): tf.Tensor4D {
  const [, H, Sq] = scores.shape;
  const f = tf.customGrad(((x: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    const p = tf.engine().runKernel(WEBGPU_KERNELS.maskedSoftmax, { scores: x, maskBias: bias }, { scale, rowsPerMask: H * Sq }) as tf.Tensor;
    save([p]);
    return {
      value: p,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [sp]: tf.Tensor[]) => {
        const dUnscaled = tf.engine().runKernel(WEBGPU_KERNELS.maskedSoftmaxGrad, { probs: sp, dprobs: dy as tf.Tensor }, { scale: 1 }) as tf.Tensor; // [B, H, Sq, Sk]
        return [tf.mul(dUnscaled, scale), tf.sum(dUnscaled, [1, 2])]; // [B, H, Sq, Sk], [B, Sk]
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(scores, keyBias) as tf.Tensor4D;
}

function fused(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, o: AttentionOptions): tf.Tensor4D {
  const [B, Sq, H] = q.shape;
  const Sk = k.shape[1];
  const attrs = { scale: o.scale };
  const hasBias = o.keyBias != null;
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [qi, ki, vi, bias] = args as tf.Tensor[];
    // the multiplier is made inside, so it is kept only while a gradient may need it
    const mult = o.dropout && o.dropout.rate > 0 ? dropoutMultiplier([B, H, Sq, Sk], o.dropout.rate, o.dropout.seed) : undefined;
    const inputs = { q: qi, k: ki, v: vi, ...(bias ? { bias } : {}), ...(mult ? { mult } : {}) };
    save([qi, ki, vi, ...(bias ? [bias] : []), ...(mult ? [mult] : [])]);
    return {
      value: tf.engine().runKernel(ATTENTION_KERNELS.forward, inputs, attrs) as tf.Tensor, // [B, Sq, H, Dv]
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv] = saved;
        const sb = hasBias ? saved[3] : undefined;
        const sm = mult ? saved[hasBias ? 4 : 3] : undefined;
        const grads = { dy: dy as tf.Tensor, q: sq, k: sk, v: sv, ...(sb ? { bias: sb } : {}), ...(sm ? { mult: sm } : {}) };
        return tf.engine().runKernel(ATTENTION_KERNELS.backward, grads, attrs) as tf.Tensor[]; // dq, dk, dv (, dbias)
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (hasBias ? f(q, k, v, o.keyBias!) : f(q, k, v)) as tf.Tensor4D;
}

/** q [B, Sq, H, D], k [B, Sk, H, D], v [B, Sk, H, Dv] -> [B, Sq, H, Dv]. */
export function attention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, opts: AttentionOptions): tf.Tensor4D {
  return tf.getKernel(ATTENTION_KERNELS.forward, tf.getBackend()) != null ? fused(q, k, v, opts) : composite(q, k, v, opts);
}
