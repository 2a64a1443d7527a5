/**
 * `GatherV2` for the wasm backend as row copies on the heap. The stock wasm kernel computes every
 * element's address separately and took 31-40 ms for a [2048] lookup into a [8000,128] (or even a
 * [2,128]) table, i.e. ~0.2 s of each BERT training step spent in embedding lookups; this copies
 * one contiguous slice per index (Uint8Array.copyWithin), the same output for any axis/batchDims.
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend, assertHeapViewsLive, heapInfo, heapView, wasmInternalsAvailable } from './wasm-internals.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

export function makeGatherV2(original: Kernel): Kernel {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = (args.attrs ?? {}) as { axis: number; batchDims: number };
    const bytes = BYTES[x.dtype];
    if (bytes == null || indices.dtype !== 'int32' || !wasmInternalsAvailable(args.backend)) return original(args);
    const backend = asWasmBackend(args.backend);
    const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
    const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims ?? 0);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const numIndices = tf.util.sizeFromShape(indices.shape);
    // Check the indices before allocating the output: this view dies with the next allocation.
    const check = heapView(backend, indices) as Int32Array;
    for (let i = 0; i < numIndices; i++) {
      const v = check[i];
      if (!(v >= 0 && v < dimSize)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dimSize - 1}]`);
    }
    const out = backend.makeOutput(info.outputShape, x.dtype);
    if (tf.util.sizeFromShape(info.outputShape) === 0 || sliceSize === 0) return out;
    // makeOutput may have grown the heap and detached every earlier view (`check` included, whose
    // length is then 0: sizes below come from shapes). Nothing from here on allocates, so the heap
    // and index views are taken now.
    const perBatch = numIndices / batchSize;
    const heap = backend.wasm.HEAPU8;
    const ids = heapView(backend, indices) as Int32Array;
    const xOff = heapInfo(backend, x).offset;
    const oOff = heapInfo(backend, out).offset;
    const row = sliceSize * bytes;
    let dst = oOff;
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < outerSize; o++) {
        const base = xOff + (b * outerSize + o) * dimSize * row;
        for (let i = 0; i < perBatch; i++) {
          const src = base + ids[b * perBatch + i] * row;
          heap.copyWithin(dst, src, src + row);
          dst += row;
        }
      }
    }
    assertHeapViewsLive(backend, heap, ids);
    return out;
  };
}
