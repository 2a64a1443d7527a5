/**
 * GatherV2 (embedding and position lookups), its gradient UnsortedSegmentSum, and Cast for the native backend, in JS on the cpu
 * backend's arrays: the cpu GatherV2 computes every element's index through a TensorBuffer
 * (~45 ms per lookup of a 32x64 batch), these copy whole rows. tfjs's int32 -> float32 Cast keeps
 * an Int32Array under a float32 tensor, which every native kernel would then have to convert.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { NativeAddon } from './native-addon.js';
import { f32View, outputBuffer, type CpuBackend } from './native-cpu-data.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };

export function makeNativeGather(_addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const attrs = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    if (x.dtype !== 'float32' || (attrs.batchDims ?? 0) !== 0 || indices.dtype !== 'int32') return original(args as never);
    const backend = args.backend as CpuBackend;
    const axis = tf.util.parseAxisParam(attrs.axis ?? 0, x.shape)[0];
    const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const rows = x.shape[axis];
    const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    const ids = backend.data.get(indices.dataId)?.values ?? backend.readSync(indices.dataId);
    const n = ids.length;
    for (let i = 0; i < n; i++) {
      const id = ids[i] as number;
      if (!(id >= 0 && id < rows)) throw new Error(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
    }
    const xs = f32View(backend, x);
    const out = outputBuffer(outer * n * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < n; i++) {
        const src = (o * rows + (ids[i] as number)) * inner;
        out.set(xs.subarray(src, src + inner), (o * n + i) * inner);
      }
    }
    const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    return backend.makeTensorInfo(outShape, 'float32', out);
  }) as unknown as KernelFunc;
}

/**
 * UnsortedSegmentSum (the gradient of every embedding lookup) as the cpu override's scatter-add
 * (same order, same sums), but with its [vocab, H] output from the buffer pool and the input read in
 * place: the cpu kernel's fresh 37 MB array per lookup and per step cost page faults, and its
 * readSync kept the input's array from ever being recycled.
 */
export function makeNativeSegmentSum(_addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') return original(args as never);
    const numSegments = Number((args.attrs as { numSegments: number }).numSegments);
    const backend = args.backend as CpuBackend;
    const innerShape = x.shape.slice(segmentIds.shape.length);
    const inner = tf.util.sizeFromShape(innerShape);
    const rows = tf.util.sizeFromShape(segmentIds.shape);
    const xs = f32View(backend, x);
    const ids = backend.data.get(segmentIds.dataId)?.values ?? backend.readSync(segmentIds.dataId);
    const out = outputBuffer(numSegments * inner).fill(0);
    for (let i = 0; i < rows; i++) {
      const s = ids[i] as number;
      if (!(s >= 0 && s < numSegments)) continue;
      const src = i * inner;
      const dst = s * inner;
      for (let j = 0; j < inner; j++) out[dst + j] += xs[src + j];
    }
    return backend.makeTensorInfo([numSegments, ...innerShape], 'float32', out);
  }) as unknown as KernelFunc;
}

export function makeNativeCast(_addon: NativeAddon, original: KernelFunc): KernelFunc {
  return ((args: KernelArgs) => {
    const { x } = args.inputs as { x: TensorInfo };
    const dtype = (args.attrs as { dtype: string }).dtype;
    if (dtype !== 'float32' || (x.dtype !== 'int32' && x.dtype !== 'bool')) return original(args as never);
    const backend = args.backend as CpuBackend;
    const src = backend.data.get(x.dataId)?.values ?? backend.readSync(x.dataId);
    const out = outputBuffer(src.length);
    for (let i = 0; i < src.length; i++) out[i] = src[i] as number;
    return backend.makeTensorInfo(x.shape.slice(), 'float32', out);
  }) as unknown as KernelFunc;
}
