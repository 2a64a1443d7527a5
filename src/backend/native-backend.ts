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

export const NATIVE = 'native';

/** Kernel name -> builder from the addon and the cpu kernel it replaces (used as the fallback). */
const OVERRIDES: Record<string, (addon: NativeAddon, original: KernelFunc) => KernelFunc> = {
  BatchMatMul: makeNativeBatchMatMul,
  _FusedMatMul: makeNativeFusedMatMul,
  Transpose: makeNativeTranspose,
  Softmax: makeNativeSoftmax,
  ...Object.fromEntries(Object.keys(BINARY_OPS).filter((k) => k !== 'copy').map((k) => [k, makeNativeBinary(k as keyof typeof BINARY_OPS)])),
  ...Object.fromEntries(Object.keys(UNARY_OPS).map((k) => [k, makeNativeUnary(k as keyof typeof UNARY_OPS)])),
  ...Object.fromEntries(Object.keys(REDUCE_OPS).map((k) => [k, makeNativeReduce(k as keyof typeof REDUCE_OPS)])),
};

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
  tf.registerBackend(NATIVE, () => cpuFactory(), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    const make = OVERRIDES[k.kernelName];
    tf.registerKernel({ ...k, backendName: NATIVE, kernelFunc: make ? make(addon, k.kernelFunc) : k.kernelFunc });
  }
  return null;
}
