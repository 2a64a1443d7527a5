/**
 * Two ways to turn token batches into sentence embeddings: onnxruntime-node on the folder's
 * onnx/model.onnx (all cores), or the TensorFlow.js encoder on the current tfjs backend.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { TokenBatch } from '../data/tokenizer.js';
import type { Pooling } from '../model/config.js';
import { toInputs, disposeInputs } from '../model/encoder.js';
import { loadWeights, type PretrainedMeta } from '../model/pretrained.js';
import { userError } from '../util/errors.js';

export const ENGINES = ['onnx', 'tfjs'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface EmbedEngine {
  readonly name: EngineName;
  readonly dim: number;
  /** Sentence embeddings of a padded batch, row-major [batchSize, dim]. */
  embed(batch: TokenBatch): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/**
 * Pooling (+ L2 normalization) of token embeddings in plain JS, for ONNX graphs that only output
 * `last_hidden_state` (e.g. an optimum export). hidden [B, S, H], mask [B, S] -> [B, H].
 */
export function poolHidden(hidden: Float32Array, mask: Int32Array, B: number, S: number, H: number, pooling: Pooling, normalize: boolean): Float32Array {
  const out = new Float32Array(B * H);
  for (let b = 0; b < B; b++) {
    const row = out.subarray(b * H, (b + 1) * H);
    if (pooling === 'cls') {
      row.set(hidden.subarray(b * S * H, b * S * H + H));
    } else {
      const acc = new Float64Array(H);
      let count = 0;
      for (let s = 0; s < S; s++) {
        if (!mask[b * S + s]) continue;
        count++;
        const off = (b * S + s) * H;
        for (let h = 0; h < H; h++) acc[h] += hidden[off + h];
      }
      const denom = Math.max(count, 1e-9);
      for (let h = 0; h < H; h++) row[h] = acc[h] / denom;
    }
    if (normalize) {
      let ss = 0;
      for (let h = 0; h < H; h++) ss += row[h] * row[h];
      const norm = Math.max(Math.sqrt(ss), 1e-12);
      for (let h = 0; h < H; h++) row[h] /= norm;
    }
  }
  return out;
}

/** onnxruntime-node on `modelPath`: reads `sentence_embedding` when the graph has it (our exporter), else pools `last_hidden_state`. */
export async function createOnnxEngine(meta: PretrainedMeta, modelPath: string, opts: { threads?: number } = {}): Promise<EmbedEngine> {
  const ort = await import('onnxruntime-node');
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: opts.threads ?? availableParallelism(),
      logSeverityLevel: 3,
    });
  } catch (e) {
    throw userError(modelPath, undefined, `onnxruntime cannot load the model (${(e as Error).message}); re-export it with \`contrastive export\` or use --engine tfjs`);
  }
  const { pooling, normalize, hiddenSize } = meta.config;
  const hasSentence = session.outputNames.includes('sentence_embedding');
  const hiddenName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
  if (!session.inputNames.includes('input_ids')) {
    throw userError(modelPath, 'inputs', `the graph has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
  }
  return {
    name: 'onnx',
    dim: hiddenSize,
    async embed(batch) {
      const dims = [batch.batchSize, batch.seqLen];
      const i64 = (a: Int32Array) => new ort.Tensor('int64', BigInt64Array.from(a, (v) => BigInt(v)), dims);
      const all: Record<string, () => OrtTensor> = {
        input_ids: () => i64(batch.inputIds),
        attention_mask: () => i64(batch.attentionMask),
        token_type_ids: () => i64(batch.tokenTypeIds),
      };
      const feeds: Record<string, OrtTensor> = {};
      for (const name of session.inputNames) {
        if (!all[name]) throw userError(modelPath, 'inputs', `unknown graph input ${JSON.stringify(name)}; supported: input_ids, attention_mask, token_type_ids`);
        feeds[name] = all[name]();
      }
      const out = await session.run(feeds, [hasSentence ? 'sentence_embedding' : hiddenName]);
      if (hasSentence) return Float32Array.from(out.sentence_embedding.data as Float32Array);
      const hidden = out[hiddenName];
      if (hidden.dims.length !== 3 || hidden.dims[2] !== hiddenSize) {
        throw userError(modelPath, hiddenName, `output has shape [${hidden.dims.join(', ')}], expected [batch, sequence, ${hiddenSize}]`);
      }
      return poolHidden(hidden.data as Float32Array, batch.attentionMask, batch.batchSize, batch.seqLen, hiddenSize, pooling, normalize);
    },
    async dispose() {
      await session.release();
    },
  };
}

/** The TensorFlow.js encoder on the current backend (set it up first). */
export async function createTfjsEngine(meta: PretrainedMeta): Promise<EmbedEngine> {
  const encoder = await loadWeights(meta);
  return {
    name: 'tfjs',
    dim: meta.config.hiddenSize,
    async embed(batch) {
      const inputs = toInputs(batch);
      try {
        const emb = tf.tidy(() => encoder.embed(inputs)); // [B, H]
        const data = (await emb.data()) as Float32Array;
        emb.dispose();
        return data;
      } finally {
        disposeInputs(inputs);
      }
    },
    async dispose() {
      encoder.dispose();
    },
  };
}
