/**
 * Faster `BatchMatMul` / `_FusedMatMul` for the wasm backend.
 *
 * The stock wasm kernel uses XNNPACK only for a non-transposed product with batch 1 on both sides;
 * everything else (transposeA/transposeB, batched attention products, broadcast batches) runs a
 * scalar triple loop that is 10-20x slower. This wrapper
 *   1. transposes explicitly with the wasm Transpose kernel, so XNNPACK sees a row-major [M,K]x[K,N];
 *   2. folds a batch-1 right operand into the rows of the left one: [B,M,K]x[K,N] = [B*M,K]x[K,N];
 *   3. otherwise runs one XNNPACK product per batch entry on zero-copy views into the operands and
 *      the output (no slice/concat copies), or keeps the stock batched loop where that measured
 *      faster (tiny products, see `matmulTuning`). Broadcast batch dims follow tf.matMul's rules.
 * Every intermediate is released with `backend.disposeData`; views are released on the C side.
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastIndex } from './batch-broadcast.js';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import {
  asWasmBackend,
  heapInfo,
  registerView,
  releaseView,
  shapeBytes,
  wasmInternalsAvailable,
  type WasmBackend,
} from './wasm-internals.js';

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
type Kernel = (args: KernelArgs) => TensorInfo | TensorInfo[];

/**
 * `loopMinMacs`: per-entry XNNPACK products beat the stock batched scalar loop once one entry has
 * at least this many multiply-adds (M*K*N). Measured with src/backend/probe-matmul.ts; below it
 * the per-call cost of creating an XNNPACK operator (packing B, ~17 us) dominates. Measured
 * crossover (batch 64): 1024 MACs stock 1.4x faster, 2048 MACs loop 1.6x faster. Mutable for the probe.
 */
export const matmulTuning = { loopMinMacs: 1536 };

/** C entry point of the stock kernel: ids, int32 shape bytes, transpose flags, output id. */
type RawBatchMatMul = (
  aId: number, aShape: Uint8Array, aRank: number,
  bId: number, bShape: Uint8Array, bRank: number,
  transposeA: boolean, transposeB: boolean, outId: number,
) => void;

const rawByModule = new WeakMap<object, RawBatchMatMul>();

function rawBatchMatMul(backend: WasmBackend): RawBatchMatMul {
  let fn = rawByModule.get(backend.wasm);
  if (fn == null) {
    fn = backend.wasm.cwrap('BatchMatMul', null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]) as RawBatchMatMul;
    rawByModule.set(backend.wasm, fn);
  }
  return fn;
}

interface MatMulPlan {
  M: number;
  K: number;
  N: number;
  batchA: number;
  batchB: number;
  outBatchDims: number[];
  outShape: number[];
}

function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) return null; // the stock kernel throws the proper error
  const dimsA = a.shape.slice(0, -2);
  const dimsB = b.shape.slice(0, -2);
  const outBatchDims = tf.broadcast_util.assertAndGetBroadcastShape(dimsA, dimsB);
  const batchA = tf.util.sizeFromShape(dimsA);
  const batchB = tf.util.sizeFromShape(dimsB);
  const outBatch = tf.util.sizeFromShape(outBatchDims);
  if (M * K * N * outBatch === 0) return null;
  return { M, K, N, batchA, batchB, outBatchDims, outShape: [...outBatchDims, M, N] };
}

/** Row-major copy [batch, cols, rows] -> [batch, rows, cols] with the wasm Transpose kernel. */
function transposeLast2(transpose: Kernel, backend: unknown, x: TensorInfo, batch: number, rows: number, cols: number): TensorInfo {
  const x3: TensorInfo = { dataId: x.dataId, dtype: x.dtype, shape: [batch, cols, rows] };
  return transpose({ inputs: { x: x3 }, backend, attrs: { perm: [0, 2, 1] } }) as TensorInfo;
}

/**
 * out[o] = A[ia(o)] · B[ib(o)] with one XNNPACK call per output entry, on views.
 * `a` is row-major [batchA, M, K], `b` row-major [batchB, K, N].
 */
function loopedProducts(backend: WasmBackend, a: TensorInfo, b: TensorInfo, p: MatMulPlan, dimsA: number[], dimsB: number[]): TensorInfo {
  const { M, K, N } = p;
  const outBatch = tf.util.sizeFromShape(p.outBatchDims);
  const out = backend.makeOutput([outBatch, M, N], 'float32');
  const raw = rawBatchMatMul(backend);
  const aHeap = heapInfo(backend, a);
  const bHeap = heapInfo(backend, b);
  const oHeap = heapInfo(backend, out);
  const ia = broadcastIndex(p.outBatchDims, dimsA);
  const ib = broadcastIndex(p.outBatchDims, dimsB);
  const aShape = shapeBytes([1, M, K]);
  const bShape = shapeBytes([1, K, N]);
  // One view per distinct B entry, reused across outputs so XNNPACK's packed weights are reused.
  const aViews = new Map<number, number>();
  const bViews = new Map<number, number>();
  const outViews: number[] = [];
  const view = (cache: Map<number, number>, base: number, entry: number, size: number): number => {
    let id = cache.get(entry);
    if (id == null) {
      id = registerView(backend, base + entry * size * 4, size);
      cache.set(entry, id);
    }
    return id;
  };
  try {
    for (let o = 0; o < outBatch; o++) {
      const aId = view(aViews, aHeap.offset, ia[o], M * K);
      const bId = view(bViews, bHeap.offset, ib[o], K * N);
      const oId = registerView(backend, oHeap.offset + o * M * N * 4, M * N);
      outViews.push(oId);
      raw(aId, aShape, 3, bId, bShape, 3, false, false, oId);
    }
  } finally {
    for (const id of aViews.values()) releaseView(backend, id);
    for (const id of bViews.values()) releaseView(backend, id);
    for (const id of outViews) releaseView(backend, id);
  }
  return out;
}

function shapeOf(x: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: x.dataId, dtype: x.dtype, shape };
}

export interface MatMulOriginals {
  batchMatMul: Kernel;
  transpose: Kernel;
}

/** Builds the BatchMatMul kernel function around the stock one. */
export function makeBatchMatMul(orig: MatMulOriginals): Kernel {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const transposeA = !!attrs.transposeA;
    const transposeB = !!attrs.transposeB;
    const backend = args.backend;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !wasmInternalsAvailable(backend)) {
      return orig.batchMatMul(args);
    }
    const p = plan(a, b, transposeA, transposeB);
    if (p == null) return orig.batchMatMul(args);
    const { M, K, N, batchA, batchB } = p;
    const wb = asWasmBackend(backend);
    const dimsA = a.shape.slice(0, -2);
    const dimsB = b.shape.slice(0, -2);
    const sameBatch = batchA === batchB && dimsA.length === dimsB.length && dimsA.every((d, i) => d === dimsB[i]);

    // Tiny batched products without broadcasting: the stock batched loop is faster than per-entry
    // XNNPACK operators, and it handles transposes itself.
    if (batchA > 1 && batchB > 1 && sameBatch && M * K * N < matmulTuning.loopMinMacs) {
      return orig.batchMatMul(args);
    }

    // [batchA, M, K] and [batchB, K, N], row-major.
    const at = transposeA ? transposeLast2(orig.transpose, backend, a, batchA, M, K) : shapeOf(a, [batchA, M, K]);
    const bt = transposeB ? transposeLast2(orig.transpose, backend, b, batchB, K, N) : shapeOf(b, [batchB, K, N]);
    let out: TensorInfo;
    try {
      if (batchB === 1) {
        // [batchA*M, K] x [K, N]: one XNNPACK product (covers the plain 2-D case).
        out = orig.batchMatMul({
          inputs: { a: shapeOf(at, [1, batchA * M, K]), b: shapeOf(bt, [1, K, N]) },
          backend,
          attrs: { transposeA: false, transposeB: false },
        }) as TensorInfo;
      } else {
        out = loopedProducts(wb, at, bt, p, dimsA, dimsB);
      }
    } finally {
      if (transposeA) wb.disposeData(at.dataId);
      if (transposeB) wb.disposeData(bt.dataId);
    }
    return { dataId: out.dataId, dtype: out.dtype, shape: p.outShape };
  };
}

/**
 * `_FusedMatMul` (tf.fused.matMul; inputs already rank 3): with transposes and a batch-1 right
 * operand, transpose explicitly and fold the batch into rows so the stock kernel takes its XNNPACK
 * path (bias and activation still fused there). Other cases go to the stock kernel unchanged.
 */
export function makeFusedMatMul(orig: { fusedMatMul: Kernel; transpose: Kernel }): Kernel {
  return (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const inputs = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
    const { a, b } = inputs;
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const transposeA = !!attrs.transposeA;
    const transposeB = !!attrs.transposeB;
    const backend = args.backend;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 3 || b.shape.length !== 3 ||
        inputs.preluActivationWeights != null || !wasmInternalsAvailable(backend)) {
      return orig.fusedMatMul(args);
    }
    const p = plan(a, b, transposeA, transposeB);
    if (p == null || p.batchB !== 1 || (!transposeA && !transposeB && p.batchA === 1)) return orig.fusedMatMul(args);
    const { M, K, N, batchA } = p;
    const wb = asWasmBackend(backend);
    const at = transposeA ? transposeLast2(orig.transpose, backend, a, batchA, M, K) : a;
    const bt = transposeB ? transposeLast2(orig.transpose, backend, b, 1, K, N) : b;
    let out: TensorInfo;
    try {
      out = orig.fusedMatMul({
        inputs: { ...inputs, a: shapeOf(at, [1, batchA * M, K]), b: shapeOf(bt, [1, K, N]) },
        backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
    } finally {
      if (transposeA) wb.disposeData(at.dataId);
      if (transposeB) wb.disposeData(bt.dataId);
    }
    return { dataId: out.dataId, dtype: out.dtype, shape: p.outShape };
  };
}

/** Replaces a registered wasm kernel by `make(original)`, keeping the original's setup. */
export function overrideWasmKernel(kernelName: string, make: (original: KernelConfig) => Kernel): KernelConfig {
  const original = tf.getKernel(kernelName, 'wasm');
  if (original == null) throw new Error(`wasm kernel ${kernelName} is not registered`);
  const config: KernelConfig = {
    kernelName,
    backendName: 'wasm',
    kernelFunc: make(original) as unknown as KernelFunc,
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  };
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(config);
  return original;
}
