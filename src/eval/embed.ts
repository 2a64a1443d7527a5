/** Embed many texts with a trained encoder, batch by batch, with no gradient bookkeeping. */
import * as tf from '@tensorflow/tfjs';
import type { SentenceEncoder } from '../model/encoder.js';
import { toInputs, disposeInputs } from '../model/encoder.js';
import type { TextTokenizer } from '../data/tokenizer.js';
import { cosineMatrix } from '../math/similarity.js';

export interface EmbedOptions {
  batchSize?: number;
  maxLength: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Row-major [N, H] embeddings (pooled, normalized if the model normalizes), in input order.
 * Texts are embedded longest-first so each batch pads little (sentence-transformers does the same).
 */
export async function embedTexts(encoder: SentenceEncoder, tokenizer: TextTokenizer, texts: string[], opts: EmbedOptions): Promise<Float32Array> {
  const H = encoder.config.hiddenSize;
  const batchSize = opts.batchSize ?? 64;
  const order = texts.map((t, i) => [t.length, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
  const out = new Float32Array(texts.length * H);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const inputs = toInputs(tokenizer.encode(idx.map((i) => texts[i]), { maxLength: opts.maxLength }));
    const emb = tf.tidy(() => encoder.embed(inputs)); // [b, H]
    const values = (await emb.data()) as Float32Array; // async: webgpu cannot read synchronously in Node
    idx.forEach((row, j) => out.set(values.subarray(j * H, (j + 1) * H), row * H));
    emb.dispose();
    disposeInputs(inputs);
    opts.onProgress?.(Math.min(start + batchSize, order.length), order.length);
  }
  return out;
}

/** Cosine similarity of every query row with every doc row: [Q, D] row-major. */
export async function cosineScores(queries: Float32Array, docs: Float32Array, dim: number): Promise<Float32Array> {
  const scores = tf.tidy(() => {
    const q = tf.tensor2d(queries, [queries.length / dim, dim]); // [Q, H]
    const d = tf.tensor2d(docs, [docs.length / dim, dim]); // [D, H]
    return cosineMatrix(q, d); // [Q, D]
  });
  const out = (await scores.data()) as Float32Array;
  scores.dispose();
  return out;
}
