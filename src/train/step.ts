/**
 * One optimisation step: embed the batch's columns, contrastive loss, gradients, global-norm
 * clipping, AdamW. Everything it allocates is disposed before it returns (tf.memory() is flat).
 */
import * as tf from '@tensorflow/tfjs';
import type { SentenceEncoder } from '../model/encoder.js';
import type { EncoderInputs } from '../model/bert.js';
import { trainableParams } from '../model/params.js';
import { infoNCE } from '../losses/infonce.js';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import type { LossConfig } from './config.js';
import { Rng } from '../util/rng.js';

export interface TensorPairBatch {
  anchor: EncoderInputs;
  positive: EncoderInputs;
  negative?: EncoderInputs;
}

export interface StepOptions {
  lr: number;
  loss: LossConfig;
  maxGradNorm: number;
  /** Seeds this step's dropout masks; derive it from (run seed, step) so resumed runs replay exactly. */
  seed: number;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/** The loss of a batch under the model, as a scalar (call inside tidy/variableGrads). */
export function batchLoss(encoder: SentenceEncoder, batch: TensorPairBatch, loss: LossConfig, seed?: number): tf.Scalar {
  const rng = seed === undefined ? undefined : new Rng(seed);
  const fwd = rng ? { training: { seed: () => rng.seed() } } : {};
  const anchor = encoder.embed(batch.anchor, fwd); // [B, H]
  const positive = encoder.embed(batch.positive, fwd); // [B, H]
  const negatives = batch.negative ? [encoder.embed(batch.negative, fwd)] : [];
  return infoNCE({ anchor, positive, negatives }, { scale: loss.scale, symmetric: loss.symmetric });
}

export function trainStep(encoder: SentenceEncoder, optimizer: AdamW, batch: TensorPairBatch, opts: StepOptions): StepResult {
  const { value, grads } = tf.variableGrads(() => batchLoss(encoder, batch, opts.loss, opts.seed), Object.values(trainableParams(encoder.params)));
  const { grads: clipped, norm } = clipByGlobalNorm(grads, opts.maxGradNorm);
  optimizer.apply(clipped, opts.lr);
  const [loss, gradNorm] = [value.dataSync()[0], norm.dataSync()[0]];
  tf.dispose([value, norm, grads, clipped]);
  return { loss, gradNorm };
}
