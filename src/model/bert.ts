/**
 * A BERT encoder in TensorFlow.js with Hugging Face `BertModel` semantics: word + position +
 * token-type embeddings, post-LN transformer blocks (LayerNorm eps from the config), exact erf GELU,
 * additive attention mask, dropout after embeddings, attention probabilities and each sublayer.
 * `modelType: 'xlm-roberta'` is the same network with RoBERTa's position ids (see `positionIds`).
 */
import * as tf from '@tensorflow/tfjs';
import { maxSequenceLength, type BertConfig } from './config.js';
import type { Params } from './params.js';
import { isRouted, sublayer, type MoeConfig } from './moe.js';
import { layerNorm as layerNormRows } from './layer-norm.js';
import { gelu, geluDense } from './gelu.js';
import { attention, type AttentionOptions } from './attention.js';

export { gelu };

/** Token ids as tensors, all [B, S] int32. */
export interface EncoderInputs {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds?: tf.Tensor2D;
  /**
   * The expert of a task-routed (MoE) model: one index for the whole batch (a batch of one task), or
   * [B] int32, one per row (a mixed batch: every expert runs and each row keeps its own). Ignored by dense models.
   */
  expert?: number | tf.Tensor1D;
}

/**
 * How a forward pass picks experts: `one` names the params of one expert; `rows` runs every expert
 * and keeps, per token row, its example's expert (SciMult's per-sample route, `slice_for_expert`).
 */
type Route = { kind: 'one'; expert: number } | { kind: 'rows'; masks: tf.Tensor2D[] };

function resolveRoute(moe: MoeConfig | undefined, expert: EncoderInputs['expert'], S: number): Route | undefined {
  if (!moe) return undefined;
  if (expert === undefined) throw new Error(`this model has ${moe.experts} task experts: route it with a task (${Object.keys(moe.tasks).join(', ')})`);
  if (typeof expert === 'number') {
    if (!Number.isInteger(expert) || expert < 0 || expert >= moe.experts) throw new Error(`expert ${expert} out of range 0..${moe.experts - 1}`);
    return { kind: 'one', expert };
  }
  const B = expert.shape[0];
  const rows = tf.tile(expert.reshape([B, 1]), [1, S]).reshape([B * S, 1]); // [B*S, 1], each token row's expert
  return { kind: 'rows', masks: Array.from({ length: moe.experts }, (_, e) => tf.equal(rows, e) as tf.Tensor2D) };
}

/**
 * `f` applied with layer `l`'s params of sublayer `sub` (e.g. `attention.self.query`): the dense
 * params, the routed expert's, or every expert's with each row taken from its own ([B*S, out]).
 */
function routed(moe: MoeConfig | undefined, route: Route | undefined, l: number, sub: string, f: (prefix: string) => tf.Tensor2D): tf.Tensor2D {
  if (!route || !isRouted(moe, l, sub)) return f(`encoder.layer.${l}.${sub}`);
  if (route.kind === 'one') return f(sublayer(moe, l, sub, route.expert));
  let out = f(sublayer(moe, l, sub, 0)); // [B*S, out]
  for (let e = 1; e < route.masks.length; e++) {
    const y = f(sublayer(moe, l, sub, e));
    out = tf.where(tf.broadcastTo(route.masks[e], y.shape), y, out); // rows of expert e take y, bit for bit
  }
  return out;
}

/** Dropout is on only when `training` is given; `seed()` hands out a fresh op seed per call. */
export interface ForwardOptions {
  training?: { seed: () => number };
}

export function dense(params: Params, prefix: string, x: tf.Tensor2D): tf.Tensor2D {
  // x: [N, in] @ W: [in, out] + b: [out] -> [N, out], the bias added inside the matmul kernel
  return tf.fused.matMul({ a: x, b: params[`${prefix}.weight`] as tf.Tensor2D, bias: params[`${prefix}.bias`] }) as tf.Tensor2D;
}

/** gelu(dense(x)) of the feed-forward block: [N, in] -> [N, out], one kernel where the backend fuses it (gelu.ts). */
export function denseGelu(params: Params, prefix: string, x: tf.Tensor2D): tf.Tensor2D {
  return geluDense(x, params[`${prefix}.weight`] as tf.Tensor2D, params[`${prefix}.bias`]);
}

export function layerNorm(params: Params, prefix: string, x: tf.Tensor2D, eps: number): tf.Tensor2D {
  // normalise over the last axis: x [N, H] -> [N, H] (one fused op with its gradient where the backend has it)
  return layerNormRows(x, params[`${prefix}.weight`], params[`${prefix}.bias`], eps);
}

/** The attention op's dropout option: on only when training, with the next op seed (the order tf.dropout would take it). */
export function attentionDropout(rate: number, opts: ForwardOptions): AttentionOptions['dropout'] {
  return opts.training && rate > 0 ? { rate, seed: opts.training.seed() } : undefined;
}

export function dropout<T extends tf.Tensor>(x: T, rate: number, opts: ForwardOptions): T {
  if (!opts.training || rate === 0) return x;
  return tf.dropout(x, rate, undefined, opts.training.seed()) as T;
}

/**
 * RoBERTa / XLM-R position ids, as HF `create_position_ids_from_input_ids`: real tokens count up
 * from padTokenId + 1, padding tokens (id == padTokenId) sit at padTokenId.
 * positions = cumsum(ids != pad) · (ids != pad) + pad. ids [B, S] -> [B, S] int32.
 */
export function positionIds(inputIds: tf.Tensor2D, padTokenId: number): tf.Tensor2D {
  return tf.tidy(() => {
    const real = tf.cast(tf.notEqual(inputIds, padTokenId), 'int32'); // [B, S]
    return tf.add(tf.mul(tf.cumsum(real, 1), real), tf.scalar(padTokenId, 'int32')) as tf.Tensor2D; // [B, S]
  });
}

/** Position embeddings to add to the [B, S, H] word + type sum: [S, H] (BERT) or [B, S, H] (XLM-R). */
function positionEmbeddings(c: BertConfig, params: Params, inputIds: tf.Tensor2D): tf.Tensor {
  const [B, S] = inputIds.shape;
  const table = params['embeddings.position_embeddings.weight']; // [P, H]
  if (c.modelType !== 'xlm-roberta') return tf.slice(table, [0, 0], [S, c.hiddenSize]); // [S, H], ids 0..S-1
  const ids = positionIds(inputIds, c.padTokenId).reshape([B * S]); // [B*S]
  return tf.gather(table, ids).reshape([B, S, c.hiddenSize]); // [B, S, H]
}

/**
 * Token embeddings of the last layer, [B, S, H]. Call inside `tf.tidy` (or `variableGrads`).
 */
export function bertForward(c: BertConfig, params: Params, inputs: EncoderInputs, opts: ForwardOptions = {}): tf.Tensor3D {
  if (c.modelType === 'deberta') throw new Error('bertForward: a deberta config runs debertaForward (deberta.ts); SentenceEncoder.tokens picks the right one');
  const [B, S] = inputs.inputIds.shape;
  const H = c.hiddenSize;
  const nh = c.numHeads;
  const dh = H / nh;
  if (S > maxSequenceLength(c)) {
    throw new Error(`Cannot encode a sequence of length ${S}: the model has only ${maxSequenceLength(c)} positions`);
  }

  // Embeddings, flattened to [B*S, H] for the dense layers.
  const words = tf.gather(params['embeddings.word_embeddings.weight'], inputs.inputIds.reshape([B * S])); // [B*S, H]
  const positions = positionEmbeddings(c, params, inputs.inputIds); // [S, H] or [B, S, H]
  const types = inputs.tokenTypeIds ?? tf.zeros([B, S], 'int32');
  const typeEmb = tf.gather(params['embeddings.token_type_embeddings.weight'], types.reshape([B * S])); // [B*S, H]
  const summed = tf.add(tf.add(words, typeEmb).reshape([B, S, H]), positions).reshape([B * S, H]) as tf.Tensor2D;
  let x = dropout(layerNorm(params, 'embeddings.LayerNorm', summed, c.layerNormEps), c.hiddenDropout, opts);

  // Additive key bias: 0 where attended, -1e9 on padding (HF uses dtype min; both give exp() = 0).
  const keyBias = tf.mul(tf.sub(1, tf.cast(inputs.attentionMask, 'float32')), -1e9) as tf.Tensor2D; // [B, S]
  const scale = 1 / Math.sqrt(dh);
  const route = resolveRoute(c.moe, inputs.expert, S);
  // a sublayer's dense / LayerNorm, through the batch's expert where the layer has experts
  const linear = (l: number, sub: string, t: tf.Tensor2D) => routed(c.moe, route, l, sub, (prefix) => dense(params, prefix, t));
  const norm = (l: number, sub: string, t: tf.Tensor2D) => routed(c.moe, route, l, sub, (prefix) => layerNorm(params, prefix, t, c.layerNormEps));

  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    // [B*S, H] -> [B, S, nh, dh]: the heads stay inside, the attention op works per (batch, head)
    const q = linear(l, 'attention.self.query', x).reshape([B, S, nh, dh]) as tf.Tensor4D;
    const k = linear(l, 'attention.self.key', x).reshape([B, S, nh, dh]) as tf.Tensor4D;
    const v = linear(l, 'attention.self.value', x).reshape([B, S, nh, dh]) as tf.Tensor4D;
    const ctx = attention(q, k, v, { scale, keyBias, dropout: attentionDropout(c.attentionDropout, opts) }); // [B, S, nh, dh]
    const merged = ctx.reshape([B * S, H]) as tf.Tensor2D; // [B*S, H]
    const attnOut = dropout(linear(l, 'attention.output.dense', merged), c.hiddenDropout, opts);
    x = layerNorm(params, `${p}.attention.output.LayerNorm`, tf.add(attnOut, x), c.layerNormEps); // shared by all experts

    const inter = routed(c.moe, route, l, 'intermediate.dense', (prefix) => denseGelu(params, prefix, x)); // [B*S, I]
    const out = dropout(linear(l, 'output.dense', inter), c.hiddenDropout, opts); // [B*S, H]
    x = norm(l, 'output.LayerNorm', tf.add(out, x));
  }
  return x.reshape([B, S, H]);
}
