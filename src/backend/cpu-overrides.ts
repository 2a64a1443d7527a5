/**
 * The cpu backend's stock `UnsortedSegmentSum` (the gradient of tf.gather, i.e. of every embedding
 * lookup) builds an equality mask and a reduction per segment: O(vocab) tensor ops per step, about
 * 3.4 s for a 5900-token vocabulary. This is the same sum as a single scatter-add pass:
 * out[s, ...] = Σ x[i, ...] over i with segmentIds[i] == s (ids outside [0, numSegments) dropped).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo, DataType } from '@tensorflow/tfjs';

interface CpuBackend {
  readSync(dataId: object): tf.TypedArray;
  makeTensorInfo(shape: number[], dtype: DataType, values: tf.TypedArray): TensorInfo;
}

function unsortedSegmentSum(args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = Number((args.attrs as { numSegments: number }).numSegments);
  const backend = args.backend as CpuBackend;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = tf.util.sizeFromShape(innerShape);
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const xs = backend.readSync(x.dataId);
  const ids = backend.readSync(segmentIds.dataId);
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (!(s >= 0 && s < numSegments)) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += xs[src + j];
  }
  return backend.makeTensorInfo([numSegments, ...innerShape], x.dtype, out);
}

const ours = unsortedSegmentSum as unknown as KernelFunc;

/** Idempotent. */
export function registerCpuOverrides(): void {
  const current = tf.getKernel('UnsortedSegmentSum', 'cpu');
  if (current?.kernelFunc === ours) return;
  if (current) tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc: ours });
}
