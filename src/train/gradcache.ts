/**
 * GradCache (Gao et al. 2021; sentence-transformers' Cached* losses): the gradients of a contrastive
 * loss over a batch too large to backprop through at once.
 *
 *   1. embed every column in mini-batches without building a graph            reps [B, H] per role
 *   2. loss on the full reps and its gradient w.r.t. them (cheap: no encoder)  dL/dreps [B, H]
 *   3. per mini-batch, re-embed with the same dropout seeds and backprop the surrogate
 *      Σ reps_mb · stop_grad(dL/dreps_mb); the parameter gradients add up to dL/dθ exactly.
 *
 * Activation memory is one mini-batch; compute is about one extra forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { SentenceEncoder } from '../model/encoder.js';
import type { EncoderInputs } from '../model/bert.js';
import { trainableParams } from '../model/params.js';
import { computeLoss, type LossConfig } from '../losses/registry.js';
import { roleOrder, forwardOptions, type TensorBatch } from './batch.js';

export interface GradCacheOptions {
  loss: LossConfig;
  miniBatchSize: number;
  /** Dropout seed of the step; each (role, mini-batch) gets its own, the same in passes 1 and 3. */
  seed?: number;
}

/** Rows [start, start + size) of every input tensor. */
function sliceRows(inputs: EncoderInputs, start: number, size: number): EncoderInputs {
  const rows = <T extends tf.Tensor2D>(t: T) => tf.slice(t, [start, 0], [size, t.shape[1]]) as T;
  return {
    inputIds: rows(inputs.inputIds),
    attentionMask: rows(inputs.attentionMask),
    tokenTypeIds: inputs.tokenTypeIds && rows(inputs.tokenTypeIds),
    expert: typeof inputs.expert === 'object' ? tf.slice(inputs.expert, [start], [size]) : inputs.expert,
  };
}

function chunks(n: number, size: number): { start: number; size: number }[] {
  const out = [];
  for (let start = 0; start < n; start += size) out.push({ start, size: Math.min(size, n - start) });
  return out;
}

/** Loss value and parameter gradients (keyed by variable name, as tf.variableGrads). Caller disposes. */
export function gradCache(
  encoder: SentenceEncoder,
  batch: TensorBatch,
  opts: GradCacheOptions,
): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const roles = roleOrder(batch);
  const parts = chunks(batch.size, opts.miniBatchSize);
  const vars = Object.values(trainableParams(encoder.params));

  // 1. Representations, no graph kept: [B, H] per role.
  const reps = roles.map((role, r) =>
    tf.tidy(() =>
      tf.concat(parts.map((c, k) => encoder.embed(sliceRows(batch.columns[role], c.start, c.size), forwardOptions(opts.seed, r, k))), 0),
    ),
  ) as tf.Tensor2D[];

  // 2. The loss over the whole batch and its gradient w.r.t. each role's reps.
  const lossOf = (...xs: tf.Tensor[]) =>
    computeLoss(opts.loss, { embeddings: Object.fromEntries(roles.map((role, r) => [role, xs[r] as tf.Tensor2D])), scores: batch.scores });
  const { value, grads: repGrads } = tf.valueAndGrads(lossOf)(reps);
  tf.dispose(reps);

  // 3. Re-embed each mini-batch with its seed and push its slice of dL/dreps through the encoder.
  const total: Record<string, tf.Tensor> = {};
  roles.forEach((role, r) => {
    parts.forEach((c, k) => {
      const upstream = tf.slice(repGrads[r], [c.start, 0], [c.size, encoder.config.hiddenSize]); // [b, H]
      const { value: surrogate, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(encoder.embed(sliceRows(batch.columns[role], c.start, c.size), forwardOptions(opts.seed, r, k)), upstream)),
        vars,
      );
      for (const [name, g] of Object.entries(grads)) {
        const prev = total[name];
        total[name] = prev ? tf.add(prev, g) : g;
        if (prev) tf.dispose([prev, g]);
      }
      tf.dispose([surrogate, upstream]);
    });
  });
  tf.dispose(repGrads);
  return { value, grads: total };
}
