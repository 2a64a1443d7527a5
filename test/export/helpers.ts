/** Tiny random model folders for the export tests. */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MODEL_CONFIG, type ModelConfig, type Pooling } from '../../src/model/config.js';
import { SentenceEncoder } from '../../src/model/encoder.js';
import { saveEncoder } from '../helpers/folder.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { Rng } from '../../src/util/rng.js';
import { padRows } from '../../src/data/tokenizer.js';
import type { TokenBatch } from '../../src/data/tokenizer.js';

/** The repo's sample tokenizer, when the data folder is there (the ONNX graph itself needs none). */
export const SAMPLE_TOKENIZER = 'data/tokenizer.json';
export const SAMPLE_TEXTS = 'data/sample.jsonl';

export async function tinyConfig(over: Partial<ModelConfig> = {}): Promise<ModelConfig> {
  const vocabSize = existsSync(SAMPLE_TOKENIZER) ? (await TextTokenizer.load(SAMPLE_TOKENIZER)).vocabSize : 97;
  return {
    ...DEFAULT_MODEL_CONFIG,
    vocabSize,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    intermediateSize: 64,
    maxPositions: 40,
    layerNormEps: 1e-12,
    // large enough that attention is far from uniform, so head/mask/transpose mistakes show
    initializerRange: 0.2,
    ...over,
  };
}

/**
 * A random encoder whose biases and LayerNorm parameters are random too (init leaves them 0/1,
 * which would hide a swapped or missing bias), saved as a model folder in a fresh temp dir.
 */
export async function tinyModelFolder(opts: { pooling: Pooling; normalize: boolean; seed: number }): Promise<{ dir: string; encoder: SentenceEncoder }> {
  const config = await tinyConfig({ pooling: opts.pooling, normalize: opts.normalize });
  const encoder = SentenceEncoder.init(config, opts.seed);
  const rng = new Rng(opts.seed + 1);
  for (const [name, v] of Object.entries(encoder.params)) {
    if (name.endsWith('.bias') || name.includes('LayerNorm')) {
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, name.endsWith('LayerNorm.weight') ? 1 : 0, 0.3, 'float32', rng.seed())));
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'contrastive-export-'));
  let tokenizerPath = SAMPLE_TOKENIZER;
  if (!existsSync(tokenizerPath)) {
    tokenizerPath = join(dir, 'stub-tokenizer.json'); // not a usable tokenizer: checks fall back to random ids
    await writeFile(tokenizerPath, '{}');
  }
  await saveEncoder(dir, encoder, tokenizerPath, { maxLength: config.maxPositions });
  return { dir, encoder };
}

/** A padded batch with rows of the given lengths: ids in [1, vocab), random token types. */
export function mixedBatch(lengths: number[], vocabSize: number, seed: number, typeVocab = 2): TokenBatch {
  const rng = new Rng(seed);
  const batch = padRows(lengths.map((n) => Array.from({ length: n }, () => 1 + rng.int(vocabSize - 1))), 0);
  for (let i = 0; i < batch.tokenTypeIds.length; i++) batch.tokenTypeIds[i] = batch.attentionMask[i] ? rng.int(typeVocab) : 0;
  return batch;
}
