/**
 * Merge weights, as LM-Cocktail chooses them (FlagEmbedding research/LM_Cocktail, ANCHORS.md §1c):
 * given by the user (they must sum to 1), or automatic, w = softmax(−loss_m / T) where loss_m is model
 * m's InfoNCE loss on a few examples, so the model that fits the examples best weighs most.
 */
import * as tf from '@tensorflow/tfjs';
import type { SentenceEncoder } from '../model/encoder.js';
import { disposeInputs, toInputs } from '../model/encoder.js';
import type { TextTokenizer } from '../data/tokenizer.js';
import { infoNCE } from '../losses/infonce.js';
import type { Example } from './examples.js';
import { userError } from '../util/errors.js';

/** LM-Cocktail's `assert sum(weights) - 1 <= 1e-3`, here on both sides. */
export const WEIGHT_SUM_TOLERANCE = 1e-3;

/** `weights` for `n` models: finite, one per model, summing to 1 within 1e-3. */
export function checkWeights(weights: number[], n: number, where = '--weights'): number[] {
  if (weights.length !== n) throw userError(where, undefined, `${weights.length} weights for ${n} models; give one weight per model`);
  const bad = weights.findIndex((w) => typeof w !== 'number' || !Number.isFinite(w));
  if (bad >= 0) throw userError(where, undefined, `weight ${bad + 1} is ${String(weights[bad])}; weights must be finite numbers`);
  const sum = weights.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) throw userError(where, undefined, `weights sum to ${sum}, not 1 (within ${WEIGHT_SUM_TOLERANCE}); e.g. ${weights.map((w) => +(w / sum).toFixed(4)).join(' ')}`);
  return weights;
}

/** softmax(−loss / T), computed in float64 with the largest logit subtracted. */
export function softmaxWeights(losses: number[], temperature: number): number[] {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw userError('--temperature', undefined, `must be a number > 0, got ${temperature}`);
  const logits = losses.map((l) => -l / temperature);
  const top = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

export interface ExampleLossOptions {
  /** Examples per batch; LM-Cocktail's `batch_size` (default 2). Passages of the whole batch are candidates. */
  batchSize: number;
  /** Hard negatives per example (the first `negatives` of each); LM-Cocktail samples `neg_number` = 7. */
  negatives: number;
  /** Tokens per text, specials included. */
  maxLength: number;
  /** Prefixes the model was trained with (its saved `query` / `passage` prompts). */
  queryPrompt?: string;
  documentPrompt?: string;
  /** InfoNCE scale (1/temperature); LM-Cocktail scores q·p / 0.05, i.e. 20. */
  scale: number;
}

/**
 * LM-Cocktail's encoder loss on the examples: batches of `batchSize` examples in order; each query
 * is scored against every passage of its batch (positives and hard negatives, in-batch negatives
 * included) with scale·cos, cross-entropy on its own positive; the loss is the mean over batches of
 * each batch's mean. Embeddings are the model's own (pooling, prompts); the score is a cosine, the
 * similarity sentence-transformers folders declare, so a Normalize module changes nothing.
 */
export function exampleLoss(encoder: SentenceEncoder, tokenizer: TextTokenizer, examples: Example[], o: ExampleLossOptions): number {
  const embed = (texts: string[], prompt = ''): tf.Tensor2D => {
    const inputs = toInputs(tokenizer.encode(texts.map((t) => prompt + t), { maxLength: o.maxLength }));
    try {
      return tf.tidy(() => encoder.embed(inputs)); // [b, H]
    } finally {
      disposeInputs(inputs);
    }
  };
  let total = 0;
  let batches = 0;
  for (let start = 0; start < examples.length; start += o.batchSize) {
    const batch = examples.slice(start, start + o.batchSize);
    const loss = tf.tidy(() => {
      const anchor = embed(batch.map((e) => e.query), o.queryPrompt); // [b, H]
      const positive = embed(batch.map((e) => e.pos), o.documentPrompt); // [b, H]
      const negatives = Array.from({ length: o.negatives }, (_, k) => embed(batch.map((e) => e.neg[k]), o.documentPrompt)); // k × [b, H]
      return infoNCE({ anchor, positive, negatives }, { scale: o.scale });
    });
    total += loss.dataSync()[0];
    loss.dispose();
    batches++;
  }
  return total / batches;
}

/** Negatives per example: LM-Cocktail's 7, or fewer when some example has fewer (every example uses the same number). */
export function negativesPerExample(examples: Example[], wanted: number): number {
  return examples.reduce((k, e) => Math.min(k, e.neg.length), wanted); // no spread: files may hold many examples
}
