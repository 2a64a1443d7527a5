/**
 * Typed access to the parts of @tensorflow/tfjs-backend-wasm 4.22 that are not in its public types:
 * the tensor-id map, the emscripten heap, and the C entry points. Kernel overrides use these to
 * create zero-copy "view" tensors (a C-side tensor id pointing into another tensor's buffer) and
 * to call the XNNPACK matmul on them. Every accessor is checked by `wasmInternalsAvailable`, so a
 * different wasm backend version falls back to the stock kernels instead of crashing.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';

interface WasmTensorData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: DataType;
  refCount: number;
}

interface WasmModule {
  HEAPU8: Uint8Array;
  cwrap(name: string, ret: string | null, args: string[]): (...args: unknown[]) => unknown;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
  };
}

/** The fields of `BackendWasm` that the overrides touch. */
export interface WasmBackend {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function asWasmBackend(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

/** True when the private fields the overrides rely on exist (they do in tfjs-backend-wasm 4.22). */
export function wasmInternalsAvailable(backend: unknown): boolean {
  const b = backend as Partial<WasmBackend> | null;
  return (
    b != null &&
    typeof b.dataIdNextNumber === 'number' &&
    b.dataIdMap != null &&
    typeof b.wasm?.cwrap === 'function' &&
    typeof b.wasm?.tfjs?.registerTensor === 'function' &&
    typeof b.wasm?.tfjs?.disposeData === 'function' &&
    typeof b.makeOutput === 'function'
  );
}

/** Byte offset of a tensor's buffer on the wasm heap, and its C-side id. */
export function heapInfo(backend: WasmBackend, t: TensorInfo): { id: number; offset: number } {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new Error(`wasm tensor ${String(t.dataId)} is not on the wasm backend`);
  return { id: d.id, offset: d.memoryOffset };
}

/**
 * Registers a C-side tensor id for `size` float32 values at `byteOffset` (inside a buffer owned by
 * another tensor). It is invisible to the JS engine (no dataId, no refcount, not in tf.memory()).
 * Release it with `releaseView`, which forgets the id (and any XNNPACK operator cached on it)
 * without freeing the memory.
 */
export function registerView(backend: WasmBackend, byteOffset: number, size: number): number {
  const id = backend.dataIdNextNumber++;
  backend.wasm.tfjs.registerTensor(id, size, byteOffset);
  return id;
}

export function releaseView(backend: WasmBackend, id: number): void {
  backend.wasm.tfjs.disposeData(id);
}

/**
 * A typed-array view of `t`'s data on the wasm heap, made on the heap buffer as it is now.
 *
 * Any allocation on the wasm heap — `makeOutput`, `_malloc`, calling another kernel, a C entry point
 * that allocates (XNNPACK operators, tensor registration) — can grow the WebAssembly memory, which
 * replaces the ArrayBuffer behind HEAPU8 and detaches every view made on the old one: its length
 * becomes 0, reads give undefined, writes are dropped, and nothing throws. So a kernel that touches
 * the heap from JS allocates everything first, then takes its views (and HEAPU8 itself), and never
 * keeps a view — or anything read from one, such as its length — across an allocation; sizes come
 * from shapes. `assertHeapViewsLive` checks that before the kernel returns.
 */
export function heapView(backend: WasmBackend, t: TensorInfo): Float32Array | Int32Array | Uint8Array {
  const view = backend.typedArrayFromHeap(t);
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (view.length !== size) throw new Error(`wasm heap view of ${view.length} elements for a tensor of ${size}`);
  return view;
}

/**
 * Throws if a view was made on a heap buffer that has since been replaced (the heap grew after it
 * was taken), i.e. what was read through it was not the tensor's data and what was written is lost.
 */
export function assertHeapViewsLive(backend: WasmBackend, ...views: ArrayBufferView[]): void {
  const heap = backend.wasm.HEAPU8.buffer;
  for (const v of views) {
    if (v.buffer !== heap) throw new Error('internal error: a wasm heap view was used after the heap grew (stale view)');
  }
}

/** Int32 shape as the byte array the C entry points take. */
export function shapeBytes(shape: readonly number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}
