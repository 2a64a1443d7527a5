/**
 * Encoder configuration: the Hugging Face `BertConfig` fields we honour, in camelCase, plus the
 * sentence-embedding head (pooling, normalization). Plain data, with one zod schema per form it comes
 * in: a recipe's `model` section (`modelSchema`), a recipe's `model: {from, ...}` (`modelFromSchema`)
 * and a Hugging Face `config.json` (`hfConfigSchema`); errors name the file and key and list valid values.
 */
import { z } from 'zod';
import { userError } from '../util/errors.js';
import { flag, integer, mustBe, number, oneOf, section, show } from '../config/fields.js';
import { parseConfig } from '../config/parse.js';
import { nearestKey } from '../config/nearest.js';
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

/** A recipe's `model` section (without `from`); sizes default to a small encoder, not bert-base. */
export const modelSchema = section({
  modelType: oneOf(MODEL_TYPES, 'model type').default('bert').meta({ description: '`bert`, `xlm-roberta` (position ids after padTokenId) or `deberta` (v1 without relative attention)' }),
  hiddenSize: integer({ min: 1 }).default(128).meta({ description: 'hidden size' }),
  numLayers: integer({ min: 1 }).default(2).meta({ description: 'transformer layers' }),
  numHeads: integer({ min: 1 }).default(4).meta({ description: 'attention heads (must divide `hiddenSize`)' }),
  intermediateSize: integer({ min: 1 }).default(512).meta({ description: 'feed-forward size' }),
  /** Learned absolute positions; XLM-R spends padTokenId + 1 of them (514 = 512 + 2). */
  maxPositions: integer({ min: 1 }).default(512).meta({ description: 'learned positions (SciRus-tiny: 1024; XLM-R spends padTokenId + 1 of them)' }),
  vocabSize: integer({ min: 1 }).meta({ default: "the tokenizer's", description: 'embedding rows' }),
  // XLM-R pads with <pad> = 1 (XLMRobertaConfig's default), and its position ids depend on it;
  // DeBERTa (DebertaConfig's defaults, as deepvk/deberta-v1-base): no token types, LayerNorm eps 1e-7
  typeVocabSize: integer({ min: 0 }).default(2).meta({ default: '2 (`deberta`: 0)', description: 'token-type embeddings' }),
  layerNormEps: number({ min: 0 }).default(1e-12).meta({ default: '1e-12 (`deberta`: 1e-7)', description: 'as HF `BertConfig`' }),
  hiddenDropout: number({ min: 0, lt: 1 }).default(0.1).meta({ description: 'as HF `BertConfig`; on while training, as in sentence-transformers' }),
  attentionDropout: number({ min: 0, lt: 1 }).default(0.1).meta({ description: 'as HF `BertConfig`' }),
  initializerRange: number({ min: 0 }).default(0.02).meta({ description: 'std of the normal init' }),
  padTokenId: integer({ min: 0 }).default(0).meta({ default: '0 (`xlm-roberta`: 1)', description: 'its embedding row starts at zero' }),
  pooling: oneOf(POOLINGS, 'pooling').default('mean').meta({ description: '`mean` (over real tokens) or `cls`' }),
  /** L2-normalize the pooled embedding (sentence-transformers' Normalize module). */
  normalize: flag().default(true).meta({ description: 'L2-normalize sentence embeddings' }),
  /** SciMult's task-routed experts, checked against numLayers by `validateMoe`; absent: a dense BERT. */
  moe: z.unknown().optional().meta({ type: 'object', description: "SciMult's task-routed experts (below): `{layers, parts, experts, tasks}`" }),
}).superRefine((c, ctx) => {
  if (c.typeVocabSize < 1 && c.modelType !== 'deberta') ctx.addIssue({ code: 'custom', path: ['typeVocabSize'], message: 'must be at least 1 (0, no token types, is for modelType deberta)' });
  if (c.hiddenSize % c.numHeads !== 0) ctx.addIssue({ code: 'custom', path: ['numHeads'], message: `hiddenSize ${c.hiddenSize} is not divisible by numHeads ${c.numHeads}` });
  if (c.padTokenId >= c.vocabSize) ctx.addIssue({ code: 'custom', path: ['padTokenId'], message: `must be < vocabSize ${c.vocabSize}` });
  if (c.moe !== undefined && c.modelType === 'deberta') ctx.addIssue({ code: 'custom', path: ['moe'], message: 'task experts are implemented for BERT layers; valid with modelType bert or xlm-roberta' });
});

/** The network: the Hugging Face `BertConfig` fields we honour, in camelCase (modelType default 'bert'). */
export type BertConfig = Omit<z.output<typeof modelSchema>, 'modelType' | 'pooling' | 'normalize' | 'moe'> & {
  modelType?: ModelType;
  /** SciMult's task-routed experts (moe.ts); absent: a dense BERT. */
  moe?: MoeConfig;
};

/** The network with its sentence-embedding head (pooling, normalization). */
export type ModelConfig = BertConfig & Pick<z.output<typeof modelSchema>, 'pooling' | 'normalize'>;

/** The defaults of every key but vocabSize (which comes from the tokenizer), from the schema. */
export const DEFAULT_MODEL_CONFIG: Omit<ModelConfig, 'vocabSize'> = (() => {
  const { vocabSize: _v, moe: _m, ...rest } = modelSchema.parse({ vocabSize: Number.MAX_SAFE_INTEGER });
  return rest;
})();

/** modelType-specific defaults, applied before the schema's (which are BERT's). */
const TYPE_DEFAULTS: Partial<Record<ModelType, Record<string, number>>> = {
  'xlm-roberta': { padTokenId: 1 },
  deberta: { typeVocabSize: 0, layerNormEps: 1e-7 },
};

/**
 * Validate a `model` section from a recipe. `vocabSize` may be omitted: it then comes from the
 * tokenizer (`fallbackVocab`). `where` names the config file for error messages.
 */
export function validateModelConfig(raw: unknown, where: string, fallbackVocab?: number): ModelConfig {
  if (raw === undefined) raw = {};
  const obj = raw as Record<string, unknown>;
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const filled = isObject ? { ...TYPE_DEFAULTS[obj.modelType as ModelType], ...(fallbackVocab === undefined ? {} : { vocabSize: fallbackVocab }), ...obj } : raw;
  const { moe, ...c } = parseConfig(modelSchema, filled, where, ['model']);
  return { ...c, ...(moe !== undefined ? { moe: validateMoe(moe, c.numLayers, where) } : {}) };
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

const LATER = 'full disentangled attention is a later step; supported: deberta with relative_attention false, as deepvk/deberta-v1-base';

/**
 * What of a `deberta` config.json the forward pass (deberta.ts) does not implement, refused: relative
 * (disentangled) attention, pos_att_type (it also changes the attention scale), embeddings without
 * positions, a factorised embedding size, talking heads.
 */
const debertaSchema = z
  .looseObject({
    relative_attention: flag().refine((v) => !v, { error: `true (DeBERTa's disentangled relative attention) is not supported yet; ${LATER}` }).optional(),
    pos_att_type: z
      .unknown()
      .refine((v) => v === '' || (Array.isArray(v) && v.length === 0), {
        error: (iss) => `${show(iss.input)} is not supported (it belongs to relative attention and changes the attention scale); supported: null`,
      })
      .optional(),
    position_biased_input: flag().refine((v) => v, { error: `false (no absolute positions: relative attention only) is not supported; ${LATER}` }).optional(),
    talking_head: flag().refine((v) => !v, { error: 'true is not supported; supported: false' }).optional(),
    embedding_size: integer({ min: 1 }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.embedding_size !== undefined && c.embedding_size !== c.hidden_size) {
      ctx.addIssue({ code: 'custom', path: ['embedding_size'], message: `${c.embedding_size} (a projected embedding) is not supported; supported: equal to hidden_size` });
    }
  });

/** HF class defaults for keys a config.json may omit (BertConfig / XLMRobertaConfig / DebertaConfig `__init__`). */
const HF_DEFAULTS: Record<ModelType, Record<'type_vocab_size' | 'layer_norm_eps' | 'pad_token_id' | 'max_position_embeddings', number>> = {
  bert: { type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 0, max_position_embeddings: 512 },
  'xlm-roberta': { type_vocab_size: 2, layer_norm_eps: 1e-12, pad_token_id: 1, max_position_embeddings: 512 },
  deberta: { type_vocab_size: 0, layer_norm_eps: 1e-7, pad_token_id: 0, max_position_embeddings: 512 },
};

/**
 * The keys of a Hugging Face `config.json` the encoder reads (others are kept and ignored: the file is
 * transformers', not ours). Sizes must be whole and positive: a fractional head size runs with silently
 * wrong numbers on some backends.
 */
function hfConfigSchema(modelType: ModelType) {
  const d = HF_DEFAULTS[modelType];
  const size = () => integer({ min: 1 });
  return z
    .looseObject({
      vocab_size: size(),
      hidden_size: size(),
      num_hidden_layers: size(),
      num_attention_heads: size(),
      intermediate_size: size(),
      max_position_embeddings: size().default(d.max_position_embeddings),
      type_vocab_size: integer({ min: 0 }).default(d.type_vocab_size),
      layer_norm_eps: number({ min: 0 }).default(d.layer_norm_eps),
      hidden_dropout_prob: number({ min: 0, max: 1 }).default(0.1),
      attention_probs_dropout_prob: number({ min: 0, max: 1 }).default(0.1),
      initializer_range: number({ min: 0 }).default(0.02),
      pad_token_id: integer({ min: 0 }).default(d.pad_token_id),
      hidden_act: oneOf(['gelu'], 'activation', 'unsupported').optional(),
      position_embedding_type: oneOf(['absolute'], undefined, 'unsupported').optional(),
      is_decoder: z.literal(false, { error: 'decoder / cross-attention configurations are not supported; supported: encoder-only BertModel, XLMRobertaModel' }).optional(),
      add_cross_attention: z.literal(false, { error: 'decoder / cross-attention configurations are not supported; supported: encoder-only BertModel, XLMRobertaModel' }).optional(),
    }, { error: mustBe('a JSON object') })
    .superRefine((c, ctx) => {
      if (c.hidden_size % c.num_attention_heads !== 0) {
        ctx.addIssue({ code: 'custom', path: ['num_attention_heads'], message: `${c.num_attention_heads} does not divide hidden_size ${c.hidden_size}` });
      }
    });
}

/**
 * Read the BERT fields back from a Hugging Face `config.json` object (model_type `bert`,
 * `xlm-roberta` or `deberta`; a missing model_type reads as bert). Anything the forward pass does not
 * implement (another architecture, activation or position-embedding type) is a UserError naming the key.
 */
export function fromHfConfig(hf: Record<string, unknown>, where: string): BertConfig {
  if (hf.model_type === 'deberta-v2') {
    throw userError(where, 'model_type', 'unsupported model_type "deberta-v2" (DeBERTa v2/v3 need disentangled relative attention, a later step); supported: bert, xlm-roberta, deberta (v1 with relative_attention false)');
  }
  const modelType = parseConfig(
    oneOf(MODEL_TYPES, 'model_type', 'unsupported', ' (BertModel, XLMRobertaModel and DebertaModel without relative attention)').default('bert'),
    hf.model_type ?? undefined, where, ['model_type'],
  );
  // transformers writes null for "use the class default" (e.g. pad_token_id), as an absent key reads
  const present = Object.fromEntries(Object.entries(hf).filter(([, v]) => v !== null));
  if (modelType === 'deberta') parseConfig(debertaSchema, present, where);
  const c = parseConfig(hfConfigSchema(modelType), present, where);
  return {
    modelType,
    ...(hf.moe !== undefined ? { moe: validateMoe(hf.moe, c.num_hidden_layers, where, 'moe') } : {}),
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size,
    layerNormEps: c.layer_norm_eps,
    hiddenDropout: c.hidden_dropout_prob,
    attentionDropout: c.attention_probs_dropout_prob,
    initializerRange: c.initializer_range,
    padTokenId: c.pad_token_id,
  };
}

/** What a model loaded from a folder may change: its head and dropout (sizes come from config.json). */
const FROM_OVERRIDES = ['pooling', 'normalize', 'hiddenDropout', 'attentionDropout'] as const;
export type EncoderOverrides = Partial<Pick<ModelConfig, (typeof FROM_OVERRIDES)[number]>>;

/**
 * A recipe's `model: { from: "<folder>", pooling?, normalize?, hiddenDropout?, attentionDropout?, moe? }`:
 * the folder to fine-tune and what to change about it (`moe` turns a dense folder into SciMult's MoE
 * model). Any other key (a size, vocabSize, modelType, ...) is refused: the checkpoint fixes those.
 */
export const modelFromSchema = z.strictObject(
  {
    from: z
      .string({ error: 'must be the path of a Hugging Face / sentence-transformers model folder' })
      .min(1, { error: 'must be the path of a Hugging Face / sentence-transformers model folder' })
      .meta({
        type: 'string',
        default: 'none',
        description: "fine-tune a local Hugging Face / sentence-transformers folder (BERT, XLM-R or DeBERTa v1 without relative attention, `model.safetensors`); only `pooling`, `normalize`, the dropouts and `moe` may be set beside it, and `tokenizer` defaults to the folder's",
      }),
    ...Object.fromEntries(FROM_OVERRIDES.map((k) => [k, modelSchema.shape[k].unwrap().optional()])) as {
      [K in (typeof FROM_OVERRIDES)[number]]: z.ZodOptional<ReturnType<(typeof modelSchema.shape)[K]['unwrap']>>;
    },
    moe: z.unknown().optional(),
  },
  {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      const settable = [...FROM_OVERRIDES, 'moe'];
      const key = String(iss.keys[0]);
      if (!(key in modelSchema.shape)) {
        const near = nearestKey(key, settable);
        return `unknown key; settable with model.from: ${settable.join(', ')}${near ? `; did you mean \`${near}\`?` : ''}`;
      }
      const from = (iss.input as Record<string, unknown>).from;
      return `cannot be set together with model.from (it comes from ${String(from)}/config.json); settable: ${settable.join(', ')}`;
    },
  },
);

/** Validate `model: { from, ... }`; `where` names the recipe file. `moe` is checked once the folder's layer count is known (see loadEncoder). */
export function validateModelFrom(model: Record<string, unknown>, where: string): { from: string; overrides: EncoderOverrides; moe?: unknown } {
  const { from, moe, ...overrides } = parseConfig(modelFromSchema, model, where, ['model']);
  return { from, overrides, ...(moe !== undefined ? { moe } : {}) };
}
