/**
 * One optimisation step: embed each column (role) of the batch, the dataset's loss, gradients,
 * global-norm clipping, AdamW. With `miniBatchSize` the gradients come from GradCache
 * (gradcache.ts) instead, equal up to float error with activation memory of one mini-batch.
 * Everything allocated is disposed before returning (tf.memory() is flat across steps).
 */
import * as tf from '@tensorflow/tfjs';
import type { SentenceEncoder } from '../model/encoder.js';
import { trainableParams } from '../model/params.js';
import { computeLoss, type LossConfig } from '../losses/registry.js';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import { gradCache } from './gradcache.js';
import { forwardOptions, roleOrder, type TensorBatch } from './batch.js';

export interface StepOptions {
  lr: number;
  loss: LossConfig;
  maxGradNorm: number;
  /** Seeds this step's dropout masks; derive it from (run seed, step) so resumed runs replay exactly. */
  seed: number;
  /** GradCache chunk size; 0 or ≥ batch size: plain backprop through the whole batch. */
  miniBatchSize?: number;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** False when the loss or the gradient norm was NaN/Inf: the update was skipped (weights and AdamW moments untouched). */
  applied: boolean;
}

/** The loss of a batch under the model, as a scalar (call inside tidy/variableGrads). */
export function batchLoss(encoder: SentenceEncoder, batch: TensorBatch, loss: LossConfig, seed?: number): tf.Scalar {
  const embeddings: Record<string, tf.Tensor2D> = {};
  roleOrder(batch).forEach((role, r) => {
    embeddings[role] = encoder.embed(batch.columns[role], forwardOptions(seed, r, 0)); // [B, H]
  });
  return computeLoss(loss, { embeddings, scores: batch.scores });
}

/** Gradients, clipped gradients and their norm for one step (nothing read back yet). */
function stepGradients(encoder: SentenceEncoder, batch: TensorBatch, opts: StepOptions) {
  const vars = Object.values(trainableParams(encoder.params));
  const cached = opts.miniBatchSize !== undefined && opts.miniBatchSize > 0 && opts.miniBatchSize < batch.size;
  const { value, grads } = cached
    ? gradCache(encoder, batch, { loss: opts.loss, miniBatchSize: opts.miniBatchSize!, seed: opts.seed })
    : tf.variableGrads(() => batchLoss(encoder, batch, opts.loss, opts.seed), vars);
  const { grads: clipped, norm } = clipByGlobalNorm(grads, opts.maxGradNorm);
  return { value, grads, clipped, norm };
}

function finishStep(optimizer: AdamW, g: ReturnType<typeof stepGradients>, loss: number, gradNorm: number, lr: number): StepResult {
  // A NaN/Inf loss or gradient would poison the weights and AdamW's moments for good: skip the update.
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (applied) optimizer.apply(g.clipped, lr);
  tf.dispose([g.value, g.norm, g.grads, g.clipped]);
  return { loss, gradNorm, applied };
}

export function trainStep(encoder: SentenceEncoder, optimizer: AdamW, batch: TensorBatch, opts: StepOptions): StepResult {
  const g = stepGradients(encoder, batch, opts);
  return finishStep(optimizer, g, g.value.dataSync()[0], g.norm.dataSync()[0], opts.lr);
}

/**
 * The same step, reading the loss and norm back asynchronously: the webgpu backend cannot read
 * synchronously in Node (tfjs-backend-webgpu's readSync needs OffscreenCanvas).
 */
export async function trainStepAsync(encoder: SentenceEncoder, optimizer: AdamW, batch: TensorBatch, opts: StepOptions): Promise<StepResult> {
  const g = stepGradients(encoder, batch, opts);
  const [loss, norm] = await Promise.all([g.value.data(), g.norm.data()]);
  return finishStep(optimizer, g, loss[0], norm[0], opts.lr);
}
