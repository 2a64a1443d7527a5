/**
 * `BatchMatMul` and `_FusedMatMul` for the native backend: the addon's blocked sgemm, reading and
 * writing the cpu backend's Float32Arrays in place (no copies). Every transpose, numpy batch
 * broadcasting, and the fused bias [N] + activation epilogue; anything else (int32 products,
 * PReLU, a bias that is not a row vector) goes to the cpu kernel it replaces.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { broadcastIndex } from './batch-broadcast.js';
import { ACTIVATIONS, type NativeAddon } from './native-addon.js';
import { outputBuffer, type CpuBackend, f32View } from './native-cpu-data.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

interface MatMulPlan {
  M: number;
  K: number;
  N: number;
  /** Per output entry: which A / B entry it reads. */
  ia: Int32Array;
  ib: Int32Array;
  outShape: number[];
}

const ENTRY0 = new Int32Array([0]);

/** Sizes, batch indices and output shape of op(a)·op(b); null when this is not a float product we handle. */
export function planMatMul(a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): MatMulPlan | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2 || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const M = ta ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) {
    throw new Error(`Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${ta} and transposeB=${tb} must match.`);
  }
  const dimsA = a.shape.slice(0, -2);
  const dimsB = b.shape.slice(0, -2);
  const outDims = tf.broadcast_util.assertAndGetBroadcastShape(dimsA, dimsB);
  const outShape = [...outDims, M, N];
  const batch = tf.util.sizeFromShape(outDims);
  const batchA = tf.util.sizeFromShape(dimsA);
  const batchB = tf.util.sizeFromShape(dimsB);
  // [B..., M, K] x [K, N]: fold the batch into the rows, one product of [B*M, K] x [K, N].
  if (batchB === 1 && !ta && batchA === batch) {
    return { M: M * batch, K, N, ia: ENTRY0, ib: ENTRY0, outShape };
  }
  const ia = batchA === 1 ? new Int32Array(batch) : broadcastIndex(outDims, dimsA);
  const ib = batchB === 1 ? new Int32Array(batch) : broadcastIndex(outDims, dimsB);
  return { M, K, N, ia, ib, outShape };
}

function run(addon: NativeAddon, backend: CpuBackend, a: TensorInfo, b: TensorInfo, p: MatMulPlan, ta: boolean, tb: boolean,
  bias: Float32Array | null, act: number, alpha: number): TensorInfo {
  const out = outputBuffer(p.ia.length * p.M * p.N);
  addon.matmul(f32View(backend, a), f32View(backend, b), out, p.ia, p.ib, p.M, p.K, p.N, ta, tb, bias, act, alpha);
  return backend.makeTensorInfo(p.outShape, 'float32', out);
}

export function makeNativeBatchMatMul(addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const ta = !!attrs.transposeA;
    const tb = !!attrs.transposeB;
    const p = planMatMul(a, b, ta, tb);
    if (p == null) return original(args as never);
    return run(addon, args.backend as CpuBackend, a, b, p, ta, tb, null, ACTIVATIONS.linear, 0);
  }) as unknown as KernelFunc;
}

export function makeNativeFusedMatMul(addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const inputs = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
    const ta = !!attrs.transposeA;
    const tb = !!attrs.transposeB;
    const act = ACTIVATIONS[(attrs.activation ?? 'linear') as keyof typeof ACTIVATIONS];
    const p = planMatMul(inputs.a, inputs.b, ta, tb);
    const { bias } = inputs;
    const rowBias = bias == null || (bias.dtype === 'float32' && bias.shape.length >= 1 &&
      bias.shape[bias.shape.length - 1] === p?.N && tf.util.sizeFromShape(bias.shape) === p?.N);
    if (p == null || act == null || inputs.preluActivationWeights != null || !rowBias) return original(args as never);
    const backend = args.backend as CpuBackend;
    const biasValues = bias == null ? null : f32View(backend, bias);
    return run(addon, backend, inputs.a, inputs.b, p, ta, tb, biasValues, act, attrs.leakyreluAlpha ?? 0.2);
  }) as unknown as KernelFunc;
}
