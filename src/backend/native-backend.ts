/**
 * The `native` backend: tfjs's cpu backend (tensors stay in Float32Arrays, so there is no 4 GB
 * wasm heap limit) with the hot kernels replaced by the C++ addon's (native/). Registered under its
 * own name, so the stock cpu backend stays the reference that tests compare against.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '@tensorflow/tfjs';
import { registerCpuOverrides } from './cpu-overrides.js';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
import { makeNativeBatchMatMul, makeNativeFusedMatMul } from './native-matmul.js';
import { makeNativeBinary, makeNativeTranspose, makeNativeUnary } from './native-elementwise.js';
import { makeNativeReduce, makeNativeSoftmax } from './native-reduce.js';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from './native-addon.js';
import { makeNativeCast, makeNativeGather, makeNativeSegmentSum } from './native-gather.js';
import { BufferPool, attachPool, markSharedInputs } from './native-buffer-pool.js';
import { useBufferPool } from './native-cpu-data.js';
import { makeFusedKernels } from './native-fused.js';
import { makeAttentionKernels } from './native-attention.js';

export const NATIVE = 'native';

/** Kernel name -> builder from the addon and the cpu kernel it replaces (used as the fallback). */
const OVERRIDES: Record<string, (addon: NativeAddon, original: KernelFunc) => KernelFunc> = {
  BatchMatMul: makeNativeBatchMatMul,
  _FusedMatMul: makeNativeFusedMatMul,
  Transpose: makeNativeTranspose,
  GatherV2: makeNativeGather,
  UnsortedSegmentSum: makeNativeSegmentSum,
  Cast: makeNativeCast,
  Softmax: makeNativeSoftmax,
  ...Object.fromEntries(Object.keys(BINARY_OPS).filter((k) => k !== 'copy').map((k) => [k, makeNativeBinary(k as keyof typeof BINARY_OPS)])),
  ...Object.fromEntries(Object.keys(UNARY_OPS).map((k) => [k, makeNativeUnary(k as keyof typeof UNARY_OPS)])),
  ...Object.fromEntries(Object.keys(REDUCE_OPS).map((k) => [k, makeNativeReduce(k as keyof typeof REDUCE_OPS)])),
};

/** Most memory the buffer pool keeps in freed arrays for the next step. */
const POOL_MAX_BYTES = 1024 ** 3;

/** A cpu kernel, with its inputs kept out of the pool when an output views their memory (Slice's subarray). */
function sharingChecked(kernelFunc: KernelFunc, pool: BufferPool): KernelFunc {
  return ((args: { inputs: Record<string, tf.TensorInfo>; backend: object }) => {
    const out = kernelFunc(args as never) as tf.TensorInfo | tf.TensorInfo[];
    markSharedInputs(args.backend, pool, Object.values(args.inputs).filter((t) => t != null), Array.isArray(out) ? out : [out]);
    return out;
  }) as unknown as KernelFunc;
}

/** Kernel names the addon implements on the native backend (the rest are the cpu backend's). */
export function nativeKernelNames(): string[] {
  return Object.keys(OVERRIDES);
}

/**
 * Registers the `native` backend (idempotent) and sets the addon's thread count. Returns null, or
 * why the addon is unavailable (then nothing is registered).
 */
export function registerNativeBackend(threads: number): string | null {
  const { addon, error } = loadNativeAddon();
  if (addon == null) return error ?? 'the addon did not load';
  addon.setThreads(threads);
  if (tf.findBackendFactory(NATIVE) != null) return null;
  registerCpuOverrides();
  const cpuFactory = tf.findBackendFactory('cpu');
  if (cpuFactory == null) return 'tfjs registered no cpu backend to build on';
  const pool = new BufferPool(POOL_MAX_BYTES);
  tf.registerBackend(NATIVE, () => {
    const backend = cpuFactory() as object;
    attachPool(backend, pool);
    useBufferPool(pool);
    return backend as tf.KernelBackend;
  }, 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    const make = OVERRIDES[k.kernelName];
    tf.registerKernel({ ...k, backendName: NATIVE, kernelFunc: make ? make(addon, k.kernelFunc) : sharingChecked(k.kernelFunc, pool) });
  }
  for (const [kernelName, kernelFunc] of Object.entries({ ...makeFusedKernels(addon), ...makeAttentionKernels(addon) })) {
    tf.registerKernel({ kernelName, backendName: NATIVE, kernelFunc });
  }
  return null;
}
