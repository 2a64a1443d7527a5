/**
 * A sentence encoder: BERT -> Pooling -> (Normalize), as sentence-transformers stacks its modules.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.js';
import { bertForward, type EncoderInputs, type ForwardOptions } from './bert.js';
import { initParams, type Params, disposeParams, countParams } from './params.js';
import { pool } from './pooling.js';
import { l2Normalize } from '../math/similarity.js';
import type { TokenBatch } from '../data/tokenizer.js';

export class SentenceEncoder {
  constructor(
    readonly config: ModelConfig,
    readonly params: Params,
  ) {}

  static init(config: ModelConfig, seed: number): SentenceEncoder {
    return new SentenceEncoder(config, initParams(config, seed));
  }

  get numParams(): number {
    return countParams(this.params);
  }

  /** Sentence embeddings [B, H]; call inside tf.tidy / variableGrads. */
  embed(inputs: EncoderInputs, opts: ForwardOptions = {}): tf.Tensor2D {
    const tokens = bertForward(this.config, this.params, inputs, opts); // [B, S, H]
    const pooled = pool(tokens, inputs.attentionMask, this.config.pooling); // [B, H]
    return this.config.normalize ? l2Normalize(pooled) : pooled;
  }

  dispose(): void {
    disposeParams(this.params);
  }
}

/** Token batch (flat Int32Arrays) -> int32 tensors [B, S]. Caller disposes (or tidies). */
export function toInputs(batch: TokenBatch): EncoderInputs {
  const shape: [number, number] = [batch.batchSize, batch.seqLen];
  return {
    inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'),
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'),
  };
}

export function disposeInputs(inputs: EncoderInputs): void {
  inputs.inputIds.dispose();
  inputs.attentionMask.dispose();
  inputs.tokenTypeIds?.dispose();
}
