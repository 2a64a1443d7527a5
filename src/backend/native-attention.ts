/**
 * Fused scaled dot-product attention on the native backend, for the generic op of
 * src/model/attention.ts (through tf.customGrad): one kernel forward and one backward instead of
 * transposes, two batched matmuls per direction with a head size of ~26, and separate mask, scale,
 * softmax and dropout ops, none of whose [B, H, Sq, Sk] results are kept for the gradient (the
 * backward recomputes the probabilities). Names are this toolkit's; other backends lack them and the
 * op falls back to the composite ops.
 *
 *   FusedAttention      q [B, Sq, H, D], k [B, Sk, H, D], v [B, Sk, H, Dv], bias? [B, Sk], mult? [B, H, Sq, Sk]
 *                       (attr scale) -> out [B, Sq, H, Dv] = (softmax(q·kᵀ·scale + bias) ⊙ mult)·v per (batch, head)
 *   FusedAttentionGrad  dy, q, k, v, bias?, mult? -> dq, dk, dv (and dbias [B, Sk] when bias is given)
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import { f32View, outputBuffer, type CpuBackend } from './native-cpu-data.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

export const ATTENTION_KERNELS = { forward: 'FusedAttention', backward: 'FusedAttentionGrad' } as const;

interface Dims {
  B: number;
  Sq: number;
  Sk: number;
  H: number;
  D: number;
  Dv: number;
}

/** Sizes from the shapes, checked (a wrong shape would otherwise read out of bounds in C++). */
function dimsOf(q: TensorInfo, k: TensorInfo, v: TensorInfo, bias?: TensorInfo, mult?: TensorInfo): Dims {
  const bad = (why: string) => new Error(`FusedAttention: ${why} (q [${q.shape}], k [${k.shape}], v [${v.shape}]${bias ? `, bias [${bias.shape}]` : ''})`);
  if (q.shape.length !== 4 || k.shape.length !== 4 || v.shape.length !== 4) throw bad('q, k and v must be 4-D [B, S, heads, size]');
  const [B, Sq, H, D] = q.shape;
  const [Bk, Sk, Hk, Dk] = k.shape;
  const [Bv, Sv, Hv, Dv] = v.shape;
  if (Bk !== B || Bv !== B || Hk !== H || Hv !== H || Dk !== D || Sv !== Sk) throw bad('shapes do not agree');
  if (bias != null && (bias.shape.length !== 2 || bias.shape[0] !== B || bias.shape[1] !== Sk)) throw bad('bias must be [B, Sk]');
  if (mult != null && tf.util.sizeFromShape(mult.shape) !== B * H * Sq * Sk) throw bad('mult must be [B, heads, Sq, Sk]');
  for (const t of [q, k, v, bias, mult]) if (t != null && t.dtype !== 'float32') throw bad('inputs must be float32');
  return { B, Sq, Sk, H, D, Dv };
}

export function makeAttentionKernels(addon: NativeAddon): Record<string, KernelFunc> {
  const forward = (args: KernelArgs) => {
    const { q, k, v, bias, mult } = args.inputs as Record<string, TensorInfo | undefined>;
    const b = args.backend as CpuBackend;
    const d = dimsOf(q!, k!, v!, bias, mult);
    const out = outputBuffer(d.B * d.Sq * d.H * d.Dv);
    const view = (t?: TensorInfo) => (t == null ? null : f32View(b, t));
    addon.attention(view(q)!, view(k)!, view(v)!, view(bias), view(mult), out, d.B, d.Sq, d.Sk, d.H, d.D, d.Dv, (args.attrs as { scale: number }).scale);
    return b.makeTensorInfo([d.B, d.Sq, d.H, d.Dv], 'float32', out);
  };
  const backward = (args: KernelArgs) => {
    const { dy, q, k, v, bias, mult } = args.inputs as Record<string, TensorInfo | undefined>;
    const b = args.backend as CpuBackend;
    const d = dimsOf(q!, k!, v!, bias, mult);
    const dq = outputBuffer(d.B * d.Sq * d.H * d.D);
    const dk = outputBuffer(d.B * d.Sk * d.H * d.D);
    const dv = outputBuffer(d.B * d.Sk * d.H * d.Dv);
    const dbias = bias == null ? null : outputBuffer(d.B * d.Sk);
    const view = (t?: TensorInfo) => (t == null ? null : f32View(b, t));
    addon.attentionGrad(view(q)!, view(k)!, view(v)!, view(bias), view(mult), view(dy)!, dq, dk, dv, dbias,
      d.B, d.Sq, d.Sk, d.H, d.D, d.Dv, (args.attrs as { scale: number }).scale);
    const outs = [b.makeTensorInfo(q!.shape.slice(), 'float32', dq), b.makeTensorInfo(k!.shape.slice(), 'float32', dk), b.makeTensorInfo(v!.shape.slice(), 'float32', dv)];
    if (dbias != null) outs.push(b.makeTensorInfo([d.B, d.Sk], 'float32', dbias));
    return outs;
  };
  return {
    [ATTENTION_KERNELS.forward]: forward as unknown as KernelFunc,
    [ATTENTION_KERNELS.backward]: backward as unknown as KernelFunc,
  };
}
