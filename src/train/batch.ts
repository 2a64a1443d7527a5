/**
 * A training batch on the device, and the two rules both the plain step and GradCache follow: roles
 * are embedded in a fixed order, and each (role, chunk) forward pass gets its own dropout seeds.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncoderInputs, ForwardOptions } from '../model/bert.js';
import { disposeInputs, toInputs } from '../model/encoder.js';
import type { TextBatch } from '../data/loader.js';
import { Rng, mixSeed } from '../util/rng.js';

/** A batch on the device: role -> token tensors [B, S], gold scores [B] for labelled data. */
export interface TensorBatch {
  columns: Record<string, EncoderInputs>;
  scores?: tf.Tensor1D;
  size: number;
}

/** Roles in a fixed order, so dropout seeds and concatenations never depend on object key order. */
export function roleOrder(batch: TensorBatch): string[] {
  return Object.keys(batch.columns).sort();
}

/** Dropout seeds for one forward pass, a function of (step seed, role, chunk). */
export function forwardOptions(seed: number | undefined, role: number, chunk: number): ForwardOptions {
  if (seed === undefined) return {};
  const rng = new Rng(mixSeed(seed, role, chunk));
  return { training: { seed: () => rng.seed() } };
}

/**
 * Token batches of every role (and gold scores) as tensors. Dispose with `disposeBatch`. `expert`
 * routes every role of a task-routed model (a batch comes from one dataset, so from one task).
 */
export function tensorBatch(b: TextBatch, expert?: number): TensorBatch {
  const columns = Object.fromEntries(Object.entries(b.columns).map(([role, tokens]) => [role, { ...toInputs(tokens), ...(expert === undefined ? {} : { expert }) }]));
  return { columns, scores: b.scores && tf.tensor1d(b.scores, 'float32'), size: b.size };
}

export function disposeBatch(b: TensorBatch): void {
  for (const inputs of Object.values(b.columns)) disposeInputs(inputs);
  b.scores?.dispose();
}
