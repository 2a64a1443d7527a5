/**
 * Reductions (Sum, Mean, Max, Min over any axes) and Softmax (last axis) for the native backend.
 * The cpu backend transposes the reduced axes innermost first (a full copy per bias gradient);
 * these reduce in place. float32 only; other dtypes go to the cpu kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { REDUCE_OPS, type NativeAddon } from './native-addon.js';
import { f32View, outputBuffer, type CpuBackend } from './native-cpu-data.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

export function makeNativeReduce(op: keyof typeof REDUCE_OPS) {
  return (addon: NativeAddon, original: KernelFunc): KernelFunc =>
    ((args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return original(args as never);
      const attrs = (args.attrs ?? {}) as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims?: boolean };
      // null or undefined means every axis (tf.sum(x))
      const axes = tf.util.parseAxisParam((op === 'Max' ? attrs.reductionIndices : attrs.axis) as number[], x.shape);
      const rank = x.shape.length;
      const mask = new Int32Array(rank);
      for (const a of axes) mask[a] = 1;
      const kept = x.shape.filter((_, d) => mask[d] === 0);
      const outShape = attrs.keepDims ? x.shape.map((s, d) => (mask[d] ? 1 : s)) : kept;
      const backend = args.backend as CpuBackend;
      const out = outputBuffer(tf.util.sizeFromShape(kept));
      addon.reduce(REDUCE_OPS[op], f32View(backend, x), Int32Array.from(x.shape), mask, out);
      return backend.makeTensorInfo(outShape, 'float32', out);
    }) as unknown as KernelFunc;
}

export function makeNativeSoftmax(addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const { logits } = args.inputs as { logits: TensorInfo };
    const dim = (args.attrs as { dim: number }).dim;
    const rank = logits.shape.length;
    if (logits.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return original(args as never);
    const backend = args.backend as CpuBackend;
    const n = logits.shape[rank - 1];
    const size = tf.util.sizeFromShape(logits.shape);
    const out = outputBuffer(size);
    addon.softmax(f32View(backend, logits), out, n === 0 ? 0 : size / n, n);
    return backend.makeTensorInfo(logits.shape.slice(), 'float32', out);
  }) as unknown as KernelFunc;
}
