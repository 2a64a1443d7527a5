/**
 * Reading and making tensors on the cpu backend that the native backend is built on: tensors live
 * in plain typed arrays, which the addon reads and writes in place.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';
import type { BufferPool } from './native-buffer-pool.js';

/** The part of tfjs's MathBackendCPU the native kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values?: ArrayLike<number> } | undefined };
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array | Int32Array): TensorInfo;
}

let pool: BufferPool | null = null;

/** Output arrays come from `p` from now on (null: fresh arrays). */
export function useBufferPool(p: BufferPool | null): void {
  pool = p;
}

/**
 * The tensor's values as a Float32Array, without a copy when it already is one (a float32 tensor
 * can hold an Int32Array after tfjs's int32 -> float32 Cast; that one is converted).
 */
export function f32View(backend: CpuBackend, t: TensorInfo): Float32Array {
  // data.get, not readSync: readSync marks the array as seen by a caller (never recycled)
  const v = backend.data.get(t.dataId)?.values ?? backend.readSync(t.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** An output array of n floats (recycled when a pool is in use); the kernel must write all of it. */
export function outputBuffer(n: number): Float32Array {
  return pool != null ? pool.take(n) : new Float32Array(n);
}
