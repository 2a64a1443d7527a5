/**
 * Running an exported model with onnxruntime-node and measuring it: the inputs to feed (real text
 * through the folder's tokenizer, else seeded random ids), fp32-vs-int8 cosine agreement, and the
 * max abs difference against the TensorFlow.js encoder (the reference the toolkit trains).
 */
import * as tf from '@tensorflow/tfjs';
import { TextTokenizer, padRows, type TokenBatch } from '../data/tokenizer.js';
import { batchFeeds, type OrtSession } from '../onnx/session.js';
import { cosineRows } from '../math/similarity.js';
import type { SentenceEncoder } from '../model/encoder.js';
import { toInputs, disposeInputs } from '../model/encoder.js';
import { Rng } from '../util/rng.js';

export interface OnnxOutputs {
  /** [B, S, H] row-major */
  lastHiddenState: Float32Array;
  /** [B, H] row-major */
  sentenceEmbedding: Float32Array;
}

/** Run a token batch through the session: both outputs of our exporter's graph. */
export async function runBatch(session: OrtSession, batch: TokenBatch): Promise<OnnxOutputs> {
  const out = await session.run(batchFeeds(session, batch));
  return {
    lastHiddenState: out.last_hidden_state.data as Float32Array,
    sentenceEmbedding: out.sentence_embedding.data as Float32Array,
  };
}

/** Seeded random rows of ids in [1, vocab) with lengths 1..maxLength, padded with `padId`. */
export function randomBatch(opts: { rows: number; maxLength: number; vocabSize: number; padId: number; seed: number }): TokenBatch {
  const rng = new Rng(opts.seed);
  const rows = Array.from({ length: opts.rows }, () =>
    Array.from({ length: 1 + rng.int(opts.maxLength) }, () => 1 + rng.int(Math.max(1, opts.vocabSize - 1))),
  );
  return padRows(rows, opts.padId);
}

export interface SampleBatches {
  batches: TokenBatch[];
  source: 'text' | 'random-ids';
}

/**
 * Batches to measure with: `texts` tokenized by `tokenizerPath` when both are usable, else seeded
 * random ids. `maxLength` caps tokens per text (specials included).
 */
export async function sampleBatches(opts: {
  texts?: string[];
  tokenizerPath?: string;
  maxLength: number;
  vocabSize: number;
  padId: number;
  count: number;
  batchSize: number;
  seed?: number;
}): Promise<SampleBatches> {
  const batches: TokenBatch[] = [];
  const texts = (opts.texts ?? []).filter((t) => t.trim().length > 0).slice(0, opts.count);
  if (texts.length > 0 && opts.tokenizerPath) {
    const tok = await TextTokenizer.load(opts.tokenizerPath).catch(() => undefined);
    if (tok && tok.vocabSize <= opts.vocabSize) {
      for (let i = 0; i < texts.length; i += opts.batchSize) {
        batches.push(tok.encode(texts.slice(i, i + opts.batchSize), { maxLength: opts.maxLength }));
      }
      return { batches, source: 'text' };
    }
  }
  for (let i = 0; i < opts.count; i += opts.batchSize) {
    const rows = Math.min(opts.batchSize, opts.count - i);
    batches.push(randomBatch({ rows, maxLength: opts.maxLength, vocabSize: opts.vocabSize, padId: opts.padId, seed: (opts.seed ?? 1234) + i }));
  }
  return { batches, source: 'random-ids' };
}

export interface Agreement {
  mean: number;
  min: number;
  /** Sentences compared. */
  count: number;
  source: 'text' | 'random-ids';
}

/** Mean and min cosine between two sessions' sentence embeddings over the same batches. */
export async function embeddingAgreement(a: OrtSession, b: OrtSession, sample: SampleBatches, hidden: number): Promise<Agreement> {
  let sum = 0;
  let min = Infinity;
  let count = 0;
  for (const batch of sample.batches) {
    const [ea, eb] = [await runBatch(a, batch), await runBatch(b, batch)];
    for (const cos of cosineRows(ea.sentenceEmbedding, eb.sentenceEmbedding, hidden)) {
      sum += cos;
      min = Math.min(min, cos);
      count++;
    }
  }
  return { mean: count ? sum / count : NaN, min: count ? min : NaN, count, source: sample.source };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

export interface ReferenceDiff {
  lastHiddenState: number;
  sentenceEmbedding: number;
  /** Largest |value| of the reference, to judge the diff against. */
  scale: number;
}

/** The tfjs encoder's outputs on `batch` (current backend, inference mode). */
export function tfjsOutputs(encoder: SentenceEncoder, batch: TokenBatch): OnnxOutputs {
  const inputs = toInputs(batch);
  try {
    const [hidden, emb] = tf.tidy(() => [encoder.tokens(inputs), encoder.embed(inputs)]);
    const out = { lastHiddenState: hidden.dataSync() as Float32Array, sentenceEmbedding: emb.dataSync() as Float32Array };
    hidden.dispose();
    emb.dispose();
    return out;
  } finally {
    disposeInputs(inputs);
  }
}

/** Max abs difference of both outputs between the session and the tfjs encoder on `batch`. */
export async function compareWithTfjs(session: OrtSession, encoder: SentenceEncoder, batch: TokenBatch): Promise<ReferenceDiff> {
  const onnxOut = await runBatch(session, batch);
  const ref = tfjsOutputs(encoder, batch);
  let scale = 0;
  for (const v of ref.lastHiddenState) scale = Math.max(scale, Math.abs(v));
  return {
    lastHiddenState: maxAbsDiff(onnxOut.lastHiddenState, ref.lastHiddenState),
    sentenceEmbedding: maxAbsDiff(onnxOut.sentenceEmbedding, ref.sentenceEmbedding),
    scale,
  };
}
