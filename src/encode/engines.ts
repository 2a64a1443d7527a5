/**
 * Two ways to turn token batches into sentence embeddings: onnxruntime-node on the folder's
 * onnx/model.onnx (all cores), or the TensorFlow.js encoder on the current tfjs backend.
 */
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { TokenBatch } from '../data/tokenizer.js';
import type { Pooling } from '../model/config.js';
import { toInputs, disposeInputs } from '../model/encoder.js';
import { loadEncoder, type ModelFolder } from '../folder/read.js';
import { batchFeeds, createSession, ONNX_INPUTS, unknownInputs, type OrtSession } from '../onnx/session.js';
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
export async function createOnnxEngine(folder: ModelFolder, modelPath: string, opts: { threads?: number } = {}): Promise<EmbedEngine> {
  let session: OrtSession;
  try {
    session = await createSession(modelPath, { threads: opts.threads ?? availableParallelism() });
  } catch (e) {
    throw userError(modelPath, undefined, `onnxruntime cannot load the model (${(e as Error).message}); re-export it with \`contrastive export\` or use --engine tfjs`);
  }
  const { pooling, normalize, hiddenSize } = folder.config;
  const hasSentence = session.outputNames.includes('sentence_embedding');
  const hiddenName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
  if (!session.inputNames.includes('input_ids')) {
    throw userError(modelPath, 'inputs', `the graph has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
  }
  const unknown = unknownInputs(session);
  if (unknown.length) throw userError(modelPath, 'inputs', `unknown graph input ${JSON.stringify(unknown[0])}; supported: ${ONNX_INPUTS.join(', ')}`);
  return {
    name: 'onnx',
    dim: hiddenSize,
    async embed(batch) {
      const out = await session.run(batchFeeds(session, batch), [hasSentence ? 'sentence_embedding' : hiddenName]);
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
export async function createTfjsEngine(folder: ModelFolder, opts: { task?: string } = {}): Promise<EmbedEngine> {
  const loaded = await loadEncoder(folder);
  let encoder: typeof loaded;
  try {
    encoder = loaded.forTask(opts.task); // MoE folders: the task's expert
  } catch (err) {
    loaded.dispose();
    throw err;
  }
  return {
    name: 'tfjs',
    dim: folder.config.hiddenSize,
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
