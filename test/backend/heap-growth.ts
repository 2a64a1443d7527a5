/**
 * Makes the wasm heap grow at a chosen moment, to test code that reads or writes the heap from JS.
 *
 * When an emscripten `_malloc` finds no room it grows the WebAssembly memory, which replaces the
 * ArrayBuffer behind `HEAPU8`: every typed array made on the old buffer is detached (length 0,
 * reads undefined, writes dropped). Whether a given allocation grows the heap depends on everything
 * the process allocated before (in a real run: the first step after constructing AdamW, after
 * loading a checkpoint, after any large tensor), so tests force it instead of waiting for it.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface WasmHeap {
  wasm: { HEAPU8: Uint8Array; _malloc(n: number): number; _free(p: number): void };
  makeOutput(...args: unknown[]): TensorInfo;
}

/**
 * Grows the wasm heap once (emscripten grows by about 20 %): mallocs 1 MiB blocks until the buffer
 * behind HEAPU8 is replaced, then frees them. Every earlier view of the heap is detached afterwards.
 */
export function growHeap(backend: unknown): void {
  const { wasm } = backend as WasmHeap;
  const before = wasm.HEAPU8.buffer;
  const blocks: number[] = [];
  try {
    while (wasm.HEAPU8.buffer === before) {
      const p = wasm._malloc(1 << 20);
      if (p === 0) throw new Error('the wasm heap cannot grow any more');
      blocks.push(p);
    }
  } finally {
    for (const p of blocks) wasm._free(p);
  }
  if (before.byteLength !== 0) throw new Error('growHeap: the old heap buffer was not detached');
}

/**
 * Runs `fn` with the wasm kernels `kernelNames` wrapped so that, in the first `callsPerKernel`
 * calls of each, the first `backend.makeOutput` inside the kernel grows the heap right after it
 * allocates (as a real malloc that finds no room does). The kernels are restored afterwards.
 * Returns fn's result and how many times the heap was grown.
 */
export async function withHeapGrowthInside<T>(
  kernelNames: readonly string[],
  fn: () => T | Promise<T>,
  callsPerKernel = 1,
): Promise<{ result: T; growths: number }> {
  const originals: KernelConfig[] = [];
  let growths = 0;
  for (const name of kernelNames) {
    const config = tf.getKernel(name, 'wasm');
    if (config == null) throw new Error(`wasm kernel ${name} is not registered`);
    originals.push(config);
    let calls = 0;
    const kernelFunc = ((args: { backend: unknown }) => {
      if (calls++ >= callsPerKernel) return config.kernelFunc(args as never);
      const backend = args.backend as WasmHeap;
      const makeOutput = backend.makeOutput;
      backend.makeOutput = function (this: WasmHeap, ...a: unknown[]): TensorInfo {
        delete (backend as Partial<WasmHeap>).makeOutput; // only the first allocation grows the heap
        const out = makeOutput.apply(this, a);
        growHeap(backend);
        growths++;
        return out;
      };
      try {
        return config.kernelFunc(args as never);
      } finally {
        if (Object.prototype.hasOwnProperty.call(backend, 'makeOutput')) delete (backend as Partial<WasmHeap>).makeOutput;
      }
    }) as unknown as KernelFunc;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc });
  }
  try {
    return { result: await fn(), growths };
  } finally {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      tf.registerKernel(config);
    }
  }
}
