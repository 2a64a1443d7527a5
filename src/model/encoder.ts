/**
 * A sentence encoder: BERT -> Pooling -> (Normalize), as sentence-transformers stacks its modules.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.js';
import { bertForward, type EncoderInputs, type ForwardOptions } from './bert.js';
import { debertaForward } from './deberta.js';
import { initParams, withExperts, type Params, disposeParams, countParams } from './params.js';
import { pool } from './pooling.js';
import { resolveTask, type MoeConfig } from './moe.js';
import { l2Normalize } from '../math/similarity.js';
import type { TokenBatch } from '../data/tokenizer.js';

export class SentenceEncoder {
  constructor(
    readonly config: ModelConfig,
    readonly params: Params,
    /** The expert inputs without one of their own are routed to (MoE models; see `forTask`). */
    readonly expert?: number,
  ) {}

  /**
   * This encoder routed to `task`'s expert (a view sharing the params: dispose only one of the two);
   * a dense encoder with no task is itself. A missing, unknown or needless task is a UserError naming `where`.
   */
  forTask(task: string | undefined, where = '--task'): SentenceEncoder {
    const expert = resolveTask(this.config.moe, task, where);
    return expert === undefined ? this : new SentenceEncoder(this.config, this.params, expert);
  }

  static init(config: ModelConfig, seed: number): SentenceEncoder {
    return new SentenceEncoder(config, initParams(config, seed));
  }

  /**
   * A dense encoder turned into SciMult's task-routed model: every expert a copy of the dense weights
   * it replaces. Consumes this encoder's params (do not use or dispose it afterwards).
   */
  withExperts(moe: MoeConfig): SentenceEncoder {
    if (this.config.moe) throw new Error('the encoder already has experts');
    const config = { ...this.config, moe };
    return new SentenceEncoder(config, withExperts(this.params, config));
  }

  get numParams(): number {
    return countParams(this.params);
  }

  /** Token embeddings of the last layer [B, S, H] (the network of config.modelType); call inside tf.tidy / variableGrads. */
  tokens(inputs: EncoderInputs, opts: ForwardOptions = {}): tf.Tensor3D {
    if (this.config.modelType === 'deberta') return debertaForward(this.config, this.params, inputs, opts);
    const routed = inputs.expert === undefined && this.expert !== undefined ? { ...inputs, expert: this.expert } : inputs;
    return bertForward(this.config, this.params, routed, opts);
  }

  /** Sentence embeddings [B, H]; call inside tf.tidy / variableGrads. */
  embed(inputs: EncoderInputs, opts: ForwardOptions = {}): tf.Tensor2D {
    const tokens = this.tokens(inputs, opts); // [B, S, H]
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
  if (typeof inputs.expert === 'object') inputs.expert.dispose();
}
