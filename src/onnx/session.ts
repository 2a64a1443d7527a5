/**
 * onnxruntime-node sessions, in one place: how a session is opened (full graph optimization, quiet
 * logs, a thread count) and how a token batch becomes its int64 feeds (HF's dtype) for exactly the
 * inputs the graph declares (input_ids, attention_mask, token_type_ids).
 */
import * as ort from 'onnxruntime-node';
import type { TokenBatch } from '../data/tokenizer.js';

export type OrtSession = ort.InferenceSession;

/** The inputs a BERT-like graph may declare, in the names HF/optimum export them with. */
export const ONNX_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/** Open a model (file path or bytes). `threads`: onnxruntime intra-op threads (default: its own choice). */
export async function createSession(model: Uint8Array | string, opts: { threads?: number } = {}): Promise<OrtSession> {
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  if (opts.threads) options.intraOpNumThreads = opts.threads;
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** The graph inputs it declares that are not one of ONNX_INPUTS (a graph this toolkit cannot feed). */
export function unknownInputs(session: OrtSession): string[] {
  return session.inputNames.filter((n) => !(ONNX_INPUTS as readonly string[]).includes(n));
}

/** int64 feeds of a token batch for the inputs `session` declares. */
export function batchFeeds(session: OrtSession, batch: TokenBatch): Record<string, ort.Tensor> {
  const dims = [batch.batchSize, batch.seqLen];
  const arrays: Record<(typeof ONNX_INPUTS)[number], Int32Array> = {
    input_ids: batch.inputIds,
    attention_mask: batch.attentionMask,
    token_type_ids: batch.tokenTypeIds,
  };
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const a = arrays[name as keyof typeof arrays];
    if (a) feeds[name] = new ort.Tensor('int64', BigInt64Array.from(a, (v) => BigInt(v)), dims);
  }
  return feeds;
}
