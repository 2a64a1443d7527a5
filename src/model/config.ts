/**
 * Encoder configuration: the Hugging Face `BertConfig` fields we honour, in camelCase, plus the
 * sentence-embedding head (pooling, normalization). Plain data; `validateModelConfig` turns a JSON
 * object from a recipe into one, with errors that name the key and list valid values.
 */
import { userError } from '../util/errors.js';

export const POOLINGS = ['mean', 'cls'] as const;
export type Pooling = (typeof POOLINGS)[number];

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** Learned absolute positions; SciRus-tiny uses 1024. */
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  initializerRange: number;
  padTokenId: number;
}

export interface ModelConfig extends BertConfig {
  pooling: Pooling;
  /** L2-normalize the pooled embedding (sentence-transformers' Normalize module). */
  normalize: boolean;
}

/** BERT defaults where HF has them; sizes default to a small encoder, not bert-base. */
export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, 'vocabSize'> = {
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
export const MODEL_CONFIG_KEYS = [...NUMERIC_KEYS, 'pooling', 'normalize'] as const;

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
  const cfg: Record<string, unknown> = { ...DEFAULT_MODEL_CONFIG, vocabSize: fallbackVocab, ...obj };
  for (const key of NUMERIC_KEYS) {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (INT_KEYS.has(key) && !Number.isInteger(v))) {
      throw userError(where, `model.${key}`, `must be a non-negative ${INT_KEYS.has(key) ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
    }
  }
  const c = cfg as unknown as ModelConfig;
  for (const key of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize'] as const) {
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
  return c;
}

/** Hugging Face `config.json` for a `BertModel` (what transformers' AutoModel reads). */
export function toHfConfig(c: BertConfig): Record<string, unknown> {
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    attention_probs_dropout_prob: c.attentionDropout,
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
  };
}

/** Read the BERT fields back from a Hugging Face `config.json` object. */
export function fromHfConfig(hf: Record<string, unknown>, where: string): BertConfig {
  const num = (key: string, fallback?: number): number => {
    const v = hf[key] ?? fallback;
    if (typeof v !== 'number') throw userError(where, key, `missing or not a number`);
    return v;
  };
  if (hf.model_type !== undefined && hf.model_type !== 'bert') {
    throw userError(where, 'model_type', `unsupported model_type ${JSON.stringify(hf.model_type)}; supported: bert`);
  }
  if (hf.hidden_act !== undefined && hf.hidden_act !== 'gelu') {
    throw userError(where, 'hidden_act', `unsupported activation ${JSON.stringify(hf.hidden_act)}; supported: gelu`);
  }
  return {
    vocabSize: num('vocab_size'),
    hiddenSize: num('hidden_size'),
    numLayers: num('num_hidden_layers'),
    numHeads: num('num_attention_heads'),
    intermediateSize: num('intermediate_size'),
    maxPositions: num('max_position_embeddings'),
    typeVocabSize: num('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
    hiddenDropout: num('hidden_dropout_prob', 0.1),
    attentionDropout: num('attention_probs_dropout_prob', 0.1),
    initializerRange: num('initializer_range', 0.02),
    padTokenId: num('pad_token_id', 0),
  };
}
