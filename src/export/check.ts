/**
 * Running an exported model with onnxruntime-node and measuring it: the inputs to feed (real text
 * through the folder's tokenizer, else seeded random ids), fp32-vs-int8 cosine agreement, and the
 * max abs difference against the TensorFlow.js encoder (the reference the toolkit trains).
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import type { TokenBatch } from '../data/tokenizer.js';
import { TextTokenizer } from '../data/tokenizer.js';
import type { SentenceEncoder } from '../model/encoder.js';
import { bertForward } from '../model/bert.js';
import { toInputs, disposeInputs } from '../model/encoder.js';
import { Rng } from '../util/rng.js';

export interface OnnxOutputs {
  /** [B, S, H] row-major */
  lastHiddenState: Float32Array;
  /** [B, H] row-major */
  sentenceEmbedding: Float32Array;
}

export async function createSession(model: Uint8Array | string, opts: { threads?: number } = {}): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  if (opts.threads) options.intraOpNumThreads = opts.threads;
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** Feed a token batch (as int64, HF's dtype) to the inputs the session declares. */
export async function runBatch(session: ort.InferenceSession, batch: TokenBatch): Promise<OnnxOutputs> {
  const dims = [batch.batchSize, batch.seqLen];
  const i64 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(a, (v) => BigInt(v)), dims);
  const all: Record<string, ort.Tensor> = {
    input_ids: i64(batch.inputIds),
    attention_mask: i64(batch.attentionMask),
    token_type_ids: i64(batch.tokenTypeIds),
  };
  const feeds = Object.fromEntries(session.inputNames.map((n) => [n, all[n]]));
  const out = await session.run(feeds);
  return {
    lastHiddenState: out.last_hidden_state.data as Float32Array,
    sentenceEmbedding: out.sentence_embedding.data as Float32Array,
  };
}

/** Row-pad token id rows into a TokenBatch (mask 1 on real tokens, token types 0). */
export function padRows(rows: number[][], padId: number): TokenBatch {
  const batchSize = rows.length;
  const seqLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const inputIds = new Int32Array(batchSize * seqLen).fill(padId);
  const attentionMask = new Int32Array(batchSize * seqLen);
  rows.forEach((r, b) => {
    inputIds.set(r, b * seqLen);
    attentionMask.fill(1, b * seqLen, b * seqLen + r.length);
  });
  return { inputIds, attentionMask, tokenTypeIds: new Int32Array(batchSize * seqLen), batchSize, seqLen };
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

export function cosine(a: Float32Array, b: Float32Array, offset: number, length: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = offset; i < offset + length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-30);
}

export interface Agreement {
  mean: number;
  min: number;
  /** Sentences compared. */
  count: number;
  source: 'text' | 'random-ids';
}

/** Mean and min cosine between two sessions' sentence embeddings over the same batches. */
export async function embeddingAgreement(a: ort.InferenceSession, b: ort.InferenceSession, sample: SampleBatches, hidden: number): Promise<Agreement> {
  let sum = 0;
  let min = Infinity;
  let count = 0;
  for (const batch of sample.batches) {
    const [ea, eb] = [await runBatch(a, batch), await runBatch(b, batch)];
    for (let r = 0; r < batch.batchSize; r++) {
      const cos = cosine(ea.sentenceEmbedding, eb.sentenceEmbedding, r * hidden, hidden);
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
    const [hidden, emb] = tf.tidy(() => [bertForward(encoder.config, encoder.params, inputs), encoder.embed(inputs)]);
    const out = { lastHiddenState: hidden.dataSync() as Float32Array, sentenceEmbedding: emb.dataSync() as Float32Array };
    hidden.dispose();
    emb.dispose();
    return out;
  } finally {
    disposeInputs(inputs);
  }
}

/** Max abs difference of both outputs between the session and the tfjs encoder on `batch`. */
export async function compareWithTfjs(session: ort.InferenceSession, encoder: SentenceEncoder, batch: TokenBatch): Promise<ReferenceDiff> {
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
