/**
 * Element-wise kernels for the native backend: binary ops with numpy broadcasting (the cpu backend
 * takes a per-element index computation for every broadcast, e.g. a bias add or a LayerNorm scale),
 * unary ops, and Transpose as a strided copy. float32 only; other dtypes go to the cpu kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { BINARY_OPS, UNARY_OPS, type NativeAddon } from './native-addon.js';
import { f32View, outputBuffer, type CpuBackend } from './native-cpu-data.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

/** Row-major strides of `shape` aligned to an output of `rank` dims, 0 on broadcast (size-1 or missing) dims. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const strides = new Int32Array(rank);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    const od = d + rank - shape.length;
    strides[od] = shape[d] === 1 && outShape[od] !== 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

export function makeNativeBinary(op: keyof typeof BINARY_OPS) {
  return (addon: NativeAddon, original: KernelFunc): KernelFunc =>
    ((args: KernelArgs) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args as never);
      const backend = args.backend as CpuBackend;
      const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const out = outputBuffer(tf.util.sizeFromShape(outShape));
      addon.binary(BINARY_OPS[op], f32View(backend, a), broadcastStrides(a.shape, outShape),
        f32View(backend, b), broadcastStrides(b.shape, outShape), out, Int32Array.from(outShape));
      return backend.makeTensorInfo(outShape, 'float32', out);
    }) as unknown as KernelFunc;
}

export function makeNativeUnary(op: keyof typeof UNARY_OPS) {
  return (addon: NativeAddon, original: KernelFunc): KernelFunc =>
    ((args: KernelArgs) => {
      const { x } = args.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return original(args as never);
      const backend = args.backend as CpuBackend;
      const out = outputBuffer(tf.util.sizeFromShape(x.shape));
      addon.unary(UNARY_OPS[op], f32View(backend, x), out);
      return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
    }) as unknown as KernelFunc;
}

/**
 * Transpose: out[..., i_d, ...] = x[..., i_perm[d], ...] as one strided copy. A permutation that
 * keeps the order of the dims longer than 1 (tfjs's gather gradient transposes the embedding
 * gradient [V, H] with perm [0, 1] twice per lookup) moves no data: the output shares the input's
 * array, reference-counted as the cpu backend's Reshape does.
 */
export function makeNativeTranspose(addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const perm = (args.attrs as { perm: number[] }).perm;
    if (x.dtype !== 'float32') return original(args as never);
    const backend = args.backend as CpuBackend;
    const moved = perm.filter((p) => x.shape[p] !== 1);
    if (moved.every((p, i) => i === 0 || p > moved[i - 1])) {
      (backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
    }
    const inStrides = tf.util.computeStrides(x.shape);
    const strideOf = (d: number) => (d === x.shape.length - 1 ? 1 : inStrides[d]);
    const outShape = perm.map((p) => x.shape[p]);
    const strides = Int32Array.from(perm.map((p) => strideOf(p)));
    const out = outputBuffer(tf.util.sizeFromShape(outShape));
    const xv = f32View(backend, x);
    addon.binary(BINARY_OPS.copy, xv, strides, xv, strides, out, Int32Array.from(outShape));
    return backend.makeTensorInfo(outShape, 'float32', out);
  }) as unknown as KernelFunc;
}
