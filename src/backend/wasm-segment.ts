/**
 * `UnsortedSegmentSum` for the wasm backend (tfjs-backend-wasm 4.22 has none). The gradient of
 * tf.gather — every embedding lookup — needs it. Runs in JS directly on the wasm heap:
 * out[s, ...] = sum of x[i, ...] over all i with segmentIds[i] == s; ids outside [0, numSegments)
 * are dropped, as in TensorFlow.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { asWasmBackend, assertHeapViewsLive, heapView } from './wasm-internals.js';

function unsortedSegmentSum(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = Number((args.attrs as { numSegments: number }).numSegments);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32, got ${x.dtype}`);
  }
  const segRank = segmentIds.shape.length;
  for (let d = 0; d < segRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
    }
  }
  const innerShape = x.shape.slice(segRank);
  const inner = tf.util.sizeFromShape(innerShape);
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const backend = asWasmBackend(args.backend);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype); // [numSegments, ...inner]
  // Views only after the last allocation: makeOutput may grow the heap and detach earlier views
  // (see heapView). Nothing below allocates.
  const o = heapView(backend, out);
  o.fill(0);
  const xs = heapView(backend, x);
  const ids = heapView(backend, segmentIds);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (!(s >= 0 && s < numSegments)) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) o[dst + j] += xs[src + j];
  }
  assertHeapViewsLive(backend, o, xs, ids);
  return out;
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc,
};
