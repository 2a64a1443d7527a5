/**
 * Registers the wasm kernel fixes (idempotent):
 *   - BatchMatMul, _FusedMatMul: route transposed and batched products to XNNPACK (wasm-matmul.ts);
 *   - GatherV2: row copies instead of the stock per-element kernel (~30 ms per embedding lookup);
 *   - UnsortedSegmentSum: missing on wasm, needed by the gradient of tf.gather (wasm-segment.ts);
 *   - Identity, same-dtype Cast: share the buffer instead of copying it (wasm-identity.ts).
 * and lists the kernels a BERT encoder forward + backward + Adam step hits, so a missing one is
 * found at start-up instead of mid-training.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend and its stock kernels
import type { KernelFunc } from '@tensorflow/tfjs';
import { makeBatchMatMul, makeFusedMatMul, overrideWasmKernel } from './wasm-matmul.js';
import { makeGatherV2 } from './wasm-gather.js';
import { unsortedSegmentSumConfig } from './wasm-segment.js';
import { makeCast, makeIdentity } from './wasm-identity.js';

/**
 * Kernels a BERT-like encoder trained with InfoNCE reaches (embedding gathers, LayerNorm,
 * multi-head attention, exact-erf GELU, dropout, masked mean pooling, L2 normalisation, softmax
 * cross-entropy, their gradients, Adam, gradient clipping). Checked against a profile of a real
 * forward + backward + Adam step in test/backend/kernels.test.ts.
 */
export const BERT_KERNELS: readonly string[] = [
  'Abs', 'Add', 'AddN', 'BatchMatMul', 'Cast', 'ClipByValue', 'Concat', 'Equal', 'Erf', 'Exp',
  'ExpandDims', 'Fill', 'Floor', 'GatherV2', 'Greater', 'GreaterEqual', 'Identity', 'Less', 'Log', 'Max',
  'Maximum', 'Mean', 'Min', 'Minimum', 'Multiply', 'Neg', 'NotEqual', 'OneHot', 'OnesLike', 'Pack',
  'PadV2', 'Pow', 'Prod', 'Range', 'RealDiv', 'Reshape', 'Rsqrt', 'Select', 'Sign', 'Slice', 'Softmax', 'Sqrt',
  'Square', 'SquaredDifference', 'Sub', 'Sum', 'Tile', 'Transpose', 'UnsortedSegmentSum',
  'ZerosLike', '_FusedMatMul',
];

/** Kernels from `names` (default: BERT_KERNELS) that `backendName` has no implementation for. */
export function missingKernels(backendName = 'wasm', names: readonly string[] = BERT_KERNELS): string[] {
  const have = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
  return names.filter((n) => !have.has(n));
}

/** Kernel functions installed by registerWasmOverrides, to recognise them on a second call. */
const ours = new WeakSet<KernelFunc>();

function isOurs(kernelName: string): boolean {
  const k = tf.getKernel(kernelName, 'wasm');
  return k != null && ours.has(k.kernelFunc);
}

/** The kernels this module registered on wasm (overrides and additions), read from tfjs's registry. */
export function ourWasmKernels(): string[] {
  return tf.getKernelsForBackend('wasm').filter((k) => ours.has(k.kernelFunc)).map((k) => k.kernelName);
}

export function registerWasmOverrides(): void {
  const transposeConfig = tf.getKernel('Transpose', 'wasm');
  if (transposeConfig == null) throw new Error('wasm backend kernels are not registered (Transpose missing)');
  const transpose = transposeConfig.kernelFunc as never;

  if (!isOurs('BatchMatMul')) {
    overrideWasmKernel('BatchMatMul', (original) => {
      const f = makeBatchMatMul({ batchMatMul: original.kernelFunc as never, transpose });
      ours.add(f as unknown as KernelFunc);
      return f;
    });
  }
  if (!isOurs('_FusedMatMul')) {
    overrideWasmKernel('_FusedMatMul', (original) => {
      const f = makeFusedMatMul({ fusedMatMul: original.kernelFunc as never, transpose });
      ours.add(f as unknown as KernelFunc);
      return f;
    });
  }
  if (!isOurs('GatherV2')) {
    overrideWasmKernel('GatherV2', (original) => {
      const f = makeGatherV2(original.kernelFunc as never);
      ours.add(f as unknown as KernelFunc);
      return f;
    });
  }
  for (const [name, make] of [['Identity', makeIdentity], ['Cast', makeCast]] as const) {
    if (!isOurs(name)) {
      overrideWasmKernel(name, (original) => {
        const f = make(original.kernelFunc as never);
        ours.add(f as unknown as KernelFunc);
        return f;
      });
    }
  }
  const seg = tf.getKernel('UnsortedSegmentSum', 'wasm');
  if (seg == null) {
    tf.registerKernel(unsortedSegmentSumConfig);
    ours.add(unsortedSegmentSumConfig.kernelFunc);
  }
}
