/**
 * Encoder configuration: the Hugging Face `BertConfig` fields we honour, in camelCase, plus the
 * sentence-embedding head (pooling, normalization). Plain data; `validateModelConfig` turns a JSON
 * object from a recipe into one, with errors that name the key and list valid values.
 */
import { userError } from '../util/errors.js';
import { validateMoe, type MoeConfig } from './moe.js';

export const POOLINGS = ['mean', 'cls'] as const;
export type Pooling = (typeof POOLINGS)[number];

/**
 * Architectures: `bert`; `xlm-roberta`, which differs only in its position ids (they start at
 * padTokenId + 1 and skip padding, see bert.ts) and its HF names; `deberta`, DeBERTa v1 without
 * relative attention as USER's base uses it (deberta.ts: fused in_proj, masked embeddings, no token types).
 */
export const MODEL_TYPES = ['bert', 'xlm-roberta', 'deberta'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface BertConfig {
  /** Default 'bert'. */
  modelType?: ModelType;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** Learned absolute positions; SciRus-tiny uses 1024. XLM-R spends padTokenId + 1 of them (514 = 512 + 2). */
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  initializerRange: number;
  padTokenId: number;
  /** SciMult's task-routed experts (moe.ts); absent: a dense BERT. */
  moe?: MoeConfig;
}

export interface ModelConfig extends BertConfig {
  pooling: Pooling;
  /** L2-normalize the pooled embedding (sentence-transformers' Normalize module). */
  normalize: boolean;
}

/** BERT defaults where HF has them; sizes default to a small encoder, not bert-base. */
export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, 'vocabSize'> = {
  modelType: 'bert',
  hiddenSize: 128,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 512,
  maxPositions: 512,
  typeVocabSize: 2,
  layerNormEps: 1e-12, // HF BertConfig default
  hiddenDropout: 0.1, // HF default; sentence-transformers keeps dropout on while training
  attentionDropout: 0.1,
  initializerRange: 0.02,
  padTokenId: 0,
  pooling: 'mean',
  normalize: true,
};

const NUMERIC_KEYS = [
  'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions',
  'typeVocabSize', 'layerNormEps', 'hiddenDropout', 'attentionDropout', 'initializerRange', 'padTokenId',
] as const;
const INT_KEYS = new Set<string>([
  'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize', 'padTokenId',
]);
export const MODEL_CONFIG_KEYS = ['modelType', ...NUMERIC_KEYS, 'pooling', 'normalize', 'moe'] as const;

/**
 * Validate a `model` section from a recipe. `vocabSize` may be omitted: it then comes from the
 * tokenizer (`fallbackVocab`). `where` names the config file for error messages.
 */
export function validateModelConfig(raw: unknown, where: string, fallbackVocab?: number): ModelConfig {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw userError(where, 'model', 'must be an object');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key === 'from') continue; // reserved for loading a Hugging Face folder
    if (!(MODEL_CONFIG_KEYS as readonly string[]).includes(key)) {
      throw userError(where, `model.${key}`, `unknown key; valid keys: ${MODEL_CONFIG_KEYS.join(', ')}`);
    }
  }
  // XLM-R pads with <pad> = 1 (XLMRobertaConfig's default), and its position ids depend on it;
  // DeBERTa (DebertaConfig's defaults, as deepvk/deberta-v1-base): no token types, LayerNorm eps 1e-7
  const typeDefaults = obj.modelType === 'xlm-roberta' ? { padTokenId: 1 } : obj.modelType === 'deberta' ? { typeVocabSize: 0, layerNormEps: 1e-7 } : {};
  const cfg: Record<string, unknown> = { ...DEFAULT_MODEL_CONFIG, ...typeDefaults, vocabSize: fallbackVocab, ...obj };
  for (const key of NUMERIC_KEYS) {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (INT_KEYS.has(key) && !Number.isInteger(v))) {
      throw userError(where, `model.${key}`, `must be a non-negative ${INT_KEYS.has(key) ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
    }
  }
  const c = cfg as unknown as ModelConfig;
  for (const key of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize'] as const) {
    if (key === 'typeVocabSize' && c.modelType === 'deberta') continue; // DeBERTa: 0 = no token-type embeddings
    if (c[key] < 1) throw userError(where, `model.${key}`, 'must be at least 1');
  }
  if (c.hiddenSize % c.numHeads !== 0) {
    throw userError(where, 'model.numHeads', `hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}`);
  }
  if (c.hiddenDropout >= 1 || c.attentionDropout >= 1) {
    throw userError(where, 'model.hiddenDropout', 'dropout rates must be in [0, 1)');
  }
  if (c.padTokenId >= c.vocabSize) throw userError(where, 'model.padTokenId', `must be < vocabSize ${c.vocabSize}`);
  if (!(POOLINGS as readonly string[]).includes(c.pooling)) {
    throw userError(where, 'model.pooling', `unknown pooling ${JSON.stringify(c.pooling)}; valid: ${POOLINGS.join(', ')}`);
  }
  if (typeof c.normalize !== 'boolean') throw userError(where, 'model.normalize', 'must be true or false');
  if (!(MODEL_TYPES as readonly string[]).includes(c.modelType as string)) {
    throw userError(where, 'model.modelType', `unknown model type ${JSON.stringify(c.modelType)}; valid: ${MODEL_TYPES.join(', ')}`);
  }
  if (obj.moe !== undefined) {
    if (c.modelType === 'deberta') throw userError(where, 'model.moe', 'task experts are implemented for BERT layers; valid with modelType bert or xlm-roberta');
    c.moe = validateMoe(obj.moe, c.numLayers, where);
  }
  return c;
}

/** Position-embedding rows a model can use for tokens (XLM-R reserves padTokenId + 1 rows). */
export function maxSequenceLength(c: BertConfig): number {
  return c.modelType === 'xlm-roberta' ? c.maxPositions - c.padTokenId - 1 : c.maxPositions;
}

/**
 * Hugging Face `config.json` for a `BertModel` or `XLMRobertaModel` (what transformers' AutoModel,
 * sentence-transformers and transformers.js read; `model_type` picks the class).
 */
export function toHfConfig(c: BertConfig): Record<string, unknown> {
  if (c.modelType === 'deberta') return toDebertaConfig(c);
  const xlmr = c.modelType === 'xlm-roberta';
  return {
    architectures: [c.moe ? 'MoEBertModel' : xlmr ? 'XLMRobertaModel' : 'BertModel'],
    model_type: xlmr ? 'xlm-roberta' : 'bert',
    attention_probs_dropout_prob: c.attentionDropout,
    ...(xlmr ? { bos_token_id: 0, eos_token_id: 2 } : {}),
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: c.hiddenDropout,
    hidden_size: c.hiddenSize,
    initializer_range: c.initializerRange,
    intermediate_size: c.intermediateSize,
    layer_norm_eps: c.layerNormEps,
    max_position_embeddings: c.maxPositions,
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    pad_token_id: c.padTokenId,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    type_vocab_size: c.typeVocabSize,
    use_cache: true,
    vocab_size: c.vocabSize,
    // SciMult's experts: transformers' BertModel would not load them, so the folder names another class
    ...(c.moe ? { moe: { layers: c.moe.layers, parts: c.moe.parts, experts: c.moe.experts, tasks: c.moe.tasks } } : {}),
  };
}

/** `config.json` for a transformers `DebertaModel` without relative attention (the keys DebertaConfig saves). */
function toDebertaConfig(c: BertConfig): Record<string, unknown> {
  return {
    architectures: ['DebertaModel'],
    model_type: 'deberta',
    attention_probs_dropout_prob: c.attentionDropout,
    hidden_act: 'gelu',
    hidden_dropout_prob: c.hiddenDropout,
    hidden_size: c.hiddenSize,
    initializer_range: c.initializerRange,
    intermediate_size: c.intermediateSize,
    layer_norm_eps: c.layerNormEps,
    max_position_embeddings: c.maxPositions,
    max_relative_positions: -1,
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    pad_token_id: c.padTokenId,
    pooler_dropout: 0,
    pooler_hidden_act: 'gelu',
    pooler_hidden_size: c.hiddenSize,
    pos_att_type: null,
    position_biased_input: true,
    relative_attention: false,
    torch_dtype: 'float32',
    type_vocab_size: c.typeVocabSize,
    vocab_size: c.vocabSize,
  };
}

/**
 * What of a `deberta` config.json the forward pass (deberta.ts) does not implement, as a UserError:
 * relative (disentangled) attention, pos_att_type (it also changes the attention scale), embeddings
 * without positions, a factorised embedding size, talking heads.
 */
function checkDeberta(hf: Record<string, unknown>, where: string): void {
  const later = 'full disentangled attention is a later step; supported: deberta with relative_attention false, as deepvk/deberta-v1-base';
  if (hf.relative_attention === true) throw userError(where, 'relative_attention', `true (DeBERTa's disentangled relative attention) is not supported yet; ${later}`);
  const pos = hf.pos_att_type;
  if (pos !== undefined && pos !== null && !(Array.isArray(pos) && pos.length === 0) && pos !== '') {
    throw userError(where, 'pos_att_type', `${JSON.stringify(pos)} is not supported (it belongs to relative attention and changes the attention scale); supported: null`);
  }
  if (hf.position_biased_input === false) throw userError(where, 'position_biased_input', `false (no absolute positions: relative attention only) is not supported; ${later}`);
  if (hf.embedding_size !== undefined && hf.embedding_size !== hf.hidden_size) throw userError(where, 'embedding_size', `${hf.embedding_size} (a projected embedding) is not supported; supported: equal to hidden_size`);
  if (hf.talking_head === true) throw userError(where, 'talking_head', 'true is not supported; supported: false');
}

/** HF class defaults for keys a config.json may omit (BertConfig / XLMRobertaConfig `__init__`). */
const HF_DEFAULTS: Record<ModelType, Record<string, number>> = {
  bert: { type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 0, max_position_embeddings: 512 },
  'xlm-roberta': { type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 1, max_position_embeddings: 512 },
  deberta: { type_vocab_size: 0, layer_norm_eps: 1e-7, pad_token_id: 0, max_position_embeddings: 512 },
};
const SUPPORTED_ACTIVATIONS = ['gelu'];

/**
 * Read the BERT fields back from a Hugging Face `config.json` object (model_type `bert` or
 * `xlm-roberta`; a missing model_type reads as bert). Anything the forward pass does not implement
 * (another architecture, activation or position-embedding type) is a UserError naming the key.
 */
export function fromHfConfig(hf: Record<string, unknown>, where: string): BertConfig {
  const modelType = (hf.model_type ?? 'bert') as ModelType;
  if (hf.model_type === 'deberta-v2') {
    throw userError(where, 'model_type', 'unsupported model_type "deberta-v2" (DeBERTa v2/v3 need disentangled relative attention, a later step); supported: bert, xlm-roberta, deberta (v1 with relative_attention false)');
  }
  if (!(MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw userError(where, 'model_type', `unsupported model_type ${JSON.stringify(hf.model_type)}; supported: ${MODEL_TYPES.join(', ')} (BertModel, XLMRobertaModel and DebertaModel without relative attention)`);
  }
  if (modelType === 'deberta') checkDeberta(hf, where);
  const defaults = HF_DEFAULTS[modelType];
  const num = (key: string, fallback?: number): number => {
    const v = hf[key] ?? fallback ?? defaults[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw userError(where, key, `missing or not a number`);
    return v;
  };
  // Sizes must be whole and positive: a fractional head size runs with silently wrong numbers on some backends.
  for (const key of ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings']) {
    const v = num(key);
    if (!Number.isInteger(v) || v < 1) throw userError(where, key, `must be a positive integer, got ${v}`);
  }
  if (num('hidden_size') % num('num_attention_heads') !== 0) {
    throw userError(where, 'num_attention_heads', `${num('num_attention_heads')} does not divide hidden_size ${num('hidden_size')}`);
  }
  if (hf.hidden_act !== undefined && !SUPPORTED_ACTIVATIONS.includes(hf.hidden_act as string)) {
    throw userError(where, 'hidden_act', `unsupported activation ${JSON.stringify(hf.hidden_act)}; supported: ${SUPPORTED_ACTIVATIONS.join(', ')}`);
  }
  if (hf.position_embedding_type !== undefined && hf.position_embedding_type !== 'absolute') {
    throw userError(where, 'position_embedding_type', `unsupported ${JSON.stringify(hf.position_embedding_type)}; supported: absolute`);
  }
  if (hf.is_decoder === true || hf.add_cross_attention === true) {
    throw userError(where, 'is_decoder', 'decoder / cross-attention configurations are not supported; supported: encoder-only BertModel, XLMRobertaModel');
  }
  const numLayers = num('num_hidden_layers');
  return {
    modelType,
    ...(hf.moe !== undefined ? { moe: validateMoe(hf.moe, numLayers, where, 'moe') } : {}),
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    numLayers,
    numHeads: num('num_attention_heads'),
    intermediateSize: num('intermediate_size'),
    maxPositions: num('max_position_embeddings'),
    typeVocabSize: num('type_vocab_size'),
    layerNormEps: num('layer_norm_eps'),
    hiddenDropout: num('hidden_dropout_prob', 0.1),
    attentionDropout: num('attention_probs_dropout_prob', 0.1),
    initializerRange: num('initializer_range', 0.02),
    padTokenId: num('pad_token_id'),
  };
}

/** What a model loaded from a folder may change: its head and dropout (sizes come from config.json). */
export type EncoderOverrides = Partial<Pick<ModelConfig, 'pooling' | 'normalize' | 'hiddenDropout' | 'attentionDropout'>>;

/** Keys a recipe's `model` section may set next to `from` (`moe` turns a dense folder into SciMult's MoE model). */
export const MODEL_FROM_KEYS = ['pooling', 'normalize', 'hiddenDropout', 'attentionDropout', 'moe'] as const;

/**
 * A recipe's `model: { from: "<folder>", pooling?, normalize?, hiddenDropout?, attentionDropout? }`:
 * the folder to fine-tune and what to change about it. Any other key (a size, vocabSize, modelType, ...)
 * is a UserError: those are fixed by the checkpoint. `where` names the recipe file.
 */
export function validateModelFrom(model: Record<string, unknown>, where: string): { from: string; overrides: EncoderOverrides; moe?: unknown } {
  const from = model.from;
  if (typeof from !== 'string' || from.length === 0) throw userError(where, 'model.from', 'must be the path of a Hugging Face / sentence-transformers model folder');
  for (const key of Object.keys(model)) {
    if (key !== 'from' && !(MODEL_FROM_KEYS as readonly string[]).includes(key)) {
      throw userError(where, `model.${key}`, `cannot be set together with model.from (it comes from ${from}/config.json); settable: ${MODEL_FROM_KEYS.join(', ')}`);
    }
  }
  const { pooling, normalize, hiddenDropout, attentionDropout } = model;
  if (pooling !== undefined && !POOLINGS.includes(pooling as Pooling)) {
    throw userError(where, 'model.pooling', `unknown pooling ${JSON.stringify(pooling)}; valid: ${POOLINGS.join(', ')}`);
  }
  if (normalize !== undefined && typeof normalize !== 'boolean') throw userError(where, 'model.normalize', 'must be true or false');
  for (const [key, v] of [['hiddenDropout', hiddenDropout], ['attentionDropout', attentionDropout]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v < 1))) throw userError(where, `model.${key}`, `must be a number in [0, 1), got ${JSON.stringify(v)}`);
  }
  const overrides: EncoderOverrides = {};
  if (pooling !== undefined) overrides.pooling = pooling as Pooling;
  if (normalize !== undefined) overrides.normalize = normalize as boolean;
  if (hiddenDropout !== undefined) overrides.hiddenDropout = hiddenDropout as number;
  if (attentionDropout !== undefined) overrides.attentionDropout = attentionDropout as number;
  // `moe` is validated against the folder's layer count once the folder is read (see loadEncoder)
  return { from, overrides, ...(model.moe !== undefined ? { moe: model.moe } : {}) };
}
