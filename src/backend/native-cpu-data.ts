/**
 * Reading and making tensors on the cpu backend that the native backend is built on: tensors live
 * in plain typed arrays, which the addon reads and writes in place.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';

/** The part of tfjs's MathBackendCPU the native kernels use. */
export interface CpuBackend {
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array | Int32Array): TensorInfo;
}

/**
 * The tensor's values as a Float32Array, without a copy when it already is one (a float32 tensor
 * can hold an Int32Array after tfjs's int32 -> float32 Cast; that one is converted).
 */
export function f32View(backend: CpuBackend, t: TensorInfo): Float32Array {
  const v = backend.readSync(t.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** A fresh output array of n floats. */
export function outputBuffer(n: number): Float32Array {
  return new Float32Array(n);
}
