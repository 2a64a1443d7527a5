/**
 * Recycles the native kernels' output arrays. A fresh 4 MB Float32Array costs 6-12 ms in
 * first-touch page faults, and V8 frees it only at GC; training allocates the same sizes every
 * step, so an array freed by one step is handed to the next.
 *
 * Only arrays the native kernels allocated are recycled, and never one that may still be seen:
 *  - readSync/read (dataSync(), data(), array(), moving to another backend) hand the backend's own
 *    array to the caller, so those arrays "escape" and are left to the GC;
 *  - a cpu kernel may return a view of its input (Slice takes `subarray`), so an input whose buffer
 *    an output shares escapes too (see `markSharedInputs`).
 */
import type { TensorInfo } from '@tensorflow/tfjs';

/** Arrays below this many floats are not worth pooling. */
const MIN_POOLED = 1024;

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly ours = new WeakSet<Float32Array>();
  private readonly escaped = new WeakSet<object>();
  private pooledBytes = 0;

  /** `maxBytes`: most memory held in free arrays. */
  constructor(readonly maxBytes: number) {}

  take(n: number): Float32Array {
    const a = this.free.get(n)?.pop();
    if (a != null) {
      this.pooledBytes -= a.byteLength;
      return a;
    }
    const fresh = new Float32Array(n);
    if (n >= MIN_POOLED) this.ours.add(fresh);
    return fresh;
  }

  release(a: unknown): void {
    if (!(a instanceof Float32Array) || !this.ours.has(a) || this.escaped.has(a)) return;
    if (this.pooledBytes + a.byteLength > this.maxBytes) return;
    let list = this.free.get(a.length);
    if (list == null) this.free.set(a.length, (list = []));
    list.push(a);
    this.pooledBytes += a.byteLength;
  }

  escape(a: unknown): void {
    if (a != null && typeof a === 'object') this.escaped.add(a);
  }

  /** Bytes held in free arrays. */
  get heldBytes(): number {
    return this.pooledBytes;
  }
}

interface CpuData {
  // get() of a missing id asks the engine to move the data in: always ask has() first
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Wraps a cpu backend instance so its freed arrays go back to `pool` and read arrays escape. */
export function attachPool(backend: object, pool: BufferPool): void {
  const b = backend as CpuData;
  const readSync = b.readSync.bind(b);
  const read = b.read.bind(b);
  const disposeData = b.disposeData.bind(b);
  b.readSync = (dataId) => {
    const v = readSync(dataId);
    pool.escape(v);
    return v;
  };
  b.read = async (dataId) => {
    const v = await read(dataId);
    pool.escape(v);
    return v;
  };
  b.disposeData = (dataId, force) => {
    const values = b.data.has(dataId) ? b.data.get(dataId)?.values : undefined;
    const deleted = disposeData(dataId, force);
    if (deleted && values != null && !b.data.has(dataId)) pool.release(values);
    return deleted;
  };
}

/** After a cpu kernel: inputs whose buffer an output shares must never be recycled. */
export function markSharedInputs(backend: object, pool: BufferPool, inputs: TensorInfo[], outputs: TensorInfo[]): void {
  const data = (backend as CpuData).data;
  for (const o of outputs) {
    const ov = (data.has(o.dataId) ? data.get(o.dataId)?.values : undefined) as ArrayBufferView | undefined;
    if (ov?.buffer == null) continue;
    for (const i of inputs) {
      const iv = (data.has(i.dataId) ? data.get(i.dataId)?.values : undefined) as ArrayBufferView | undefined;
      if (iv != null && iv !== ov && iv.buffer === ov.buffer) {
        pool.escape(iv);
        pool.escape(ov);
      }
    }
  }
}
