/**
 * `bench --profile`: where a training step's time goes, per kernel. Wraps every kernel registered for
 * the active backend with a wall-clock timer (re-registering it, so nothing changes in the kernels
 * themselves) and reports calls and milliseconds per step, largest first. Synchronous backends only
 * (cpu, native, wasm): an asynchronous one returns before its kernel has run.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';

export interface KernelTime {
  kernel: string;
  calls_per_step: number;
  ms_per_step: number;
}

export interface KernelProfiler {
  /** Starts (or restarts) counting. */
  start(): void;
  /** Per-kernel figures over `steps` steps since start(), and restores the original kernels. */
  finish(steps: number): KernelTime[];
}

export function profileKernels(backend: string = tf.getBackend()): KernelProfiler {
  const originals: KernelConfig[] = tf.getKernelsForBackend(backend).map((k) => ({ ...k }));
  const stats = new Map<string, { calls: number; ms: number }>();
  let counting = false;
  for (const k of originals) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<typeof inner>[0]) => {
        if (!counting) return inner(args);
        const t0 = performance.now();
        const out = inner(args);
        const s = stats.get(k.kernelName) ?? { calls: 0, ms: 0 };
        s.calls++;
        s.ms += performance.now() - t0;
        stats.set(k.kernelName, s);
        return out;
      }) as typeof inner,
    });
  }
  return {
    start() {
      stats.clear();
      counting = true;
    },
    finish(steps) {
      counting = false;
      for (const k of originals) {
        tf.unregisterKernel(k.kernelName, backend);
        tf.registerKernel(k);
      }
      return [...stats.entries()]
        .map(([kernel, s]) => ({ kernel, calls_per_step: Number((s.calls / steps).toFixed(1)), ms_per_step: Number((s.ms / steps).toFixed(2)) }))
        .sort((a, b) => b.ms_per_step - a.ms_per_step);
    },
  };
}
