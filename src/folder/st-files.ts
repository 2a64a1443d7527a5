/**
 * The small JSON files of a sentence-transformers folder, written and read back: tokenizer_config.json
 * and special_tokens_map.json (derived from tokenizer.json, so transformers and transformers.js
 * rebuild the same tokenizer), sentence_bert_config.json, config_sentence_transformers.json,
 * 1_Pooling/config.json and modules.json. Layouts follow sentence-transformers 5.1 `save` and
 * transformers' `save_pretrained` (see shared/notes/ANCHORS.md §4).
 */
import { readFile } from 'node:fs/promises';
import type { Pooling } from '../model/config.js';
import { z } from 'zod';
import { userError } from '../util/errors.js';
import { flag, integer, mustBe, number, text } from '../config/fields.js';
import { parseConfig } from '../config/parse.js';

// ------------------------------------------------------------------------------------------------
// tokenizer.json facts

/** The parts of a Hugging Face tokenizer.json we look at. */
export interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | [string, number][]; unk_id?: number | null; unk_token?: string };
  normalizer?: NormalizerJson | null;
  pre_tokenizer?: PreTokenizerJson | null;
  added_tokens?: AddedTokenJson[];
  post_processor?: { type?: string; single?: Array<{ SpecialToken?: { id: string } }>; trim_offsets?: boolean; processors?: unknown[] } | null;
}
interface NormalizerJson {
  type?: string;
  lowercase?: boolean;
  strip_accents?: boolean | null;
  handle_chinese_chars?: boolean;
  normalizers?: NormalizerJson[];
  clean_text?: boolean;
  pattern?: { String?: string; Regex?: string };
}
interface PreTokenizerJson {
  type?: string;
  pretokenizers?: PreTokenizerJson[];
  replacement?: string;
  prepend_scheme?: string;
  add_prefix_space?: boolean;
  split?: boolean;
}
interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** Every token string -> id of a tokenizer.json (model vocabulary + added tokens). */
export function tokenizerVocab(json: TokenizerJson): Map<string, number> {
  const ids = new Map<string, number>();
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([piece], i) => ids.set(piece, i)); // Unigram: [piece, score], id = index
  else if (vocab) for (const [piece, id] of Object.entries(vocab)) ids.set(piece, id);
  for (const t of json.added_tokens ?? []) ids.set(t.content, t.id);
  return ids;
}

/** Embedding rows the tokenizer needs: its largest id + 1. */
export function tokenizerIdCount(json: TokenizerJson): number {
  let max = -1;
  for (const id of tokenizerVocab(json).values()) max = Math.max(max, id);
  return max + 1;
}

/** Every normalizer of the (possibly nested) Sequence, flattened. */
function normalizers(n: NormalizerJson | null | undefined): NormalizerJson[] {
  if (!n) return [];
  return n.type === 'Sequence' ? (n.normalizers ?? []).flatMap(normalizers) : [n];
}

export interface TokenizerFacts {
  /** The tokenizer.json model type: WordPiece, Unigram, BPE, WordLevel. */
  kind: string;
  /** transformers tokenizer class to name in tokenizer_config.json. */
  tokenizerClass: 'BertTokenizer' | 'XLMRobertaTokenizer' | 'RobertaTokenizer' | 'PreTrainedTokenizerFast';
  /** The normalizer lowercases (BertNormalizer.lowercase or a Lowercase normalizer). */
  doLowerCase: boolean;
  /** special_tokens_map.json: role (cls_token, pad_token, ...) -> token. */
  specialTokens: Record<string, string>;
  /** BertNormalizer settings, when the normalizer is one (BertTokenizerFast re-creates the normalizer unless they match). */
  bert?: { stripAccents: boolean | null; tokenizeChineseChars: boolean };
  /** Byte-level BPE settings (RobertaTokenizerFast rebuilds the pre-tokenizer / post-processor unless they match). */
  byteLevel?: { addPrefixSpace: boolean; trimOffsets: boolean };
}

/** A component and, for a Sequence, its parts (flattened). */
function parts<T extends { type?: string }>(x: T | null | undefined, key: string): T[] {
  if (!x) return [];
  const inner = (x as Record<string, unknown>)[key];
  return x.type === 'Sequence' && Array.isArray(inner) ? (inner as T[]).flatMap((y) => parts(y, key)) : [x];
}

const BERT_SPECIALS: Record<string, string> = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
const XLMR_SPECIALS: Record<string, string> = {
  bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>', sep_token: '</s>', pad_token: '<pad>', cls_token: '<s>', mask_token: '<mask>',
};

/**
 * What transformers 5's BertTokenizer builds: one BertNormalizer (clean_text on; its lowercase,
 * strip_accents and handle_chinese_chars come from tokenizer_config.json, which we write from it) and
 * the BertPreTokenizer.
 */
function isBertPipeline(json: TokenizerJson): boolean {
  const n = json.normalizer;
  return n?.type === 'BertNormalizer' && n.clean_text !== false && json.pre_tokenizer?.type === 'BertPreTokenizer';
}

/**
 * What transformers 5's XLMRobertaTokenizer builds: the SentencePiece Precompiled normalizer or none
 * (XLM-R's own tokenizer.json adds a Replace of runs of spaces, which the whitespace split makes moot),
 * then WhitespaceSplit + Metaspace("▁", prepend always). A Metaspace pre-tokenizer alone is the same only
 * when a Precompiled normalizer has turned other whitespace into spaces; NFKC, Lowercase, … normalizers
 * would be dropped.
 */
function isXlmrPipeline(json: TokenizerJson): boolean {
  const norms = normalizers(json.normalizer);
  const precompiled = norms.some((n) => n.type === 'Precompiled');
  const spacesOnly = (n: NormalizerJson) => n.type === 'Replace' && /^ +(\{2,\})?$/.test(n.pattern?.String ?? n.pattern?.Regex ?? '');
  if (!norms.every((n) => n.type === 'Precompiled' || (precompiled && spacesOnly(n)))) return false;
  const pre = json.pre_tokenizer;
  const list = pre?.type === 'Sequence' ? pre.pretokenizers ?? [] : pre ? [pre] : [];
  const meta = list[list.length - 1];
  const metaOk = meta?.type === 'Metaspace' && meta.replacement === '\u2581' && (meta.prepend_scheme === 'always' || (meta.prepend_scheme === undefined && meta.add_prefix_space !== false)) && meta.split !== false;
  if (!metaOk) return false;
  if (list.length === 2) return list[0].type === 'WhitespaceSplit';
  return list.length === 1 && precompiled;
}

export function tokenizerFacts(json: TokenizerJson): TokenizerFacts {
  const kind = json.model?.type ?? 'unknown';
  const vocab = tokenizerVocab(json);
  const norms = normalizers(json.normalizer);
  const bertNorm = norms.find((n) => n.type === 'BertNormalizer');
  const doLowerCase = norms.some((n) => n.type === 'Lowercase' || (n.type === 'BertNormalizer' && n.lowercase !== false));
  const present = (family: Record<string, string>) => Object.fromEntries(Object.entries(family).filter(([, tok]) => vocab.has(tok)));
  const bertSpecials = present(BERT_SPECIALS);
  const xlmrSpecials = present(XLMR_SPECIALS);
  const bertFamily = Object.keys(bertSpecials).length >= Object.keys(xlmrSpecials).length;
  // transformers 5's BertTokenizer / XLMRobertaTokenizer do not load tokenizer.json as it is: they take
  // its vocabulary and rebuild the rest of the pipeline their own way (checked against 5.23 by
  // `npm run interop`). Name them only when that rebuild is this tokenizer.json's own pipeline;
  // otherwise the generic class, which runs tokenizer.json verbatim (PreTrainedTokenizerFast in
  // transformers 4, TokenizersBackend in 5, PreTrainedTokenizer in transformers.js).
  let tokenizerClass: TokenizerFacts['tokenizerClass'] = 'PreTrainedTokenizerFast';
  if (kind === 'WordPiece' && bertFamily && isBertPipeline(json)) tokenizerClass = 'BertTokenizer';
  else if (kind === 'Unigram' && !bertFamily && ['<s>', '</s>', '<pad>', '<unk>'].every((t) => vocab.has(t)) && isXlmrPipeline(json)) tokenizerClass = 'XLMRobertaTokenizer';
  const byteLevel = parts(json.pre_tokenizer, 'pretokenizers').find((p) => p.type === 'ByteLevel');
  const roberta = parts(json.post_processor, 'processors').find((p) => (p as { type?: string }).type === 'RobertaProcessing') as { trim_offsets?: boolean } | undefined;
  // byte-level BPE with RoBERTa's specials: USER's base (deepvk/deberta-v1-base) names RobertaTokenizer
  if (kind === 'BPE' && byteLevel && !bertFamily && ['<s>', '</s>', '<pad>', '<unk>'].every((t) => vocab.has(t))) tokenizerClass = 'RobertaTokenizer';
  const facts: TokenizerFacts = { kind, tokenizerClass, doLowerCase, specialTokens: bertFamily ? bertSpecials : xlmrSpecials };
  if (tokenizerClass === 'RobertaTokenizer') facts.byteLevel = { addPrefixSpace: byteLevel?.add_prefix_space ?? false, trimOffsets: roberta?.trim_offsets ?? true };
  if (bertNorm) {
    facts.bert = { stripAccents: bertNorm.strip_accents ?? null, tokenizeChineseChars: bertNorm.handle_chinese_chars !== false };
  }
  return facts;
}

/**
 * tokenizer_config.json as transformers' `save_pretrained` writes it for the fast tokenizer.
 * `model_max_length` is the length the model was trained with: transformers.js truncates to it (it
 * never reads sentence_bert_config.json), so it must equal max_seq_length to give the same embeddings.
 */
export function tokenizerConfig(json: TokenizerJson, opts: { maxLength: number }): Record<string, unknown> {
  const facts = tokenizerFacts(json);
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const t of [...(json.added_tokens ?? [])].sort((a, b) => a.id - b.id)) {
    addedTokensDecoder[String(t.id)] = {
      content: t.content,
      lstrip: t.lstrip ?? false,
      normalized: t.normalized ?? false,
      rstrip: t.rstrip ?? false,
      single_word: t.single_word ?? false,
      special: t.special ?? false,
    };
  }
  const cfg: Record<string, unknown> = {
    added_tokens_decoder: addedTokensDecoder,
    clean_up_tokenization_spaces: true,
    ...facts.specialTokens,
    do_lower_case: facts.doLowerCase,
    model_max_length: opts.maxLength,
    tokenizer_class: facts.tokenizerClass,
  };
  if (facts.tokenizerClass === 'BertTokenizer' && facts.bert) {
    // BertTokenizerFast rebuilds the normalizer when these differ from tokenizer.json's BertNormalizer
    // (strip_accents null would strip accents whenever lowercasing, e.g. Russian й -> и).
    Object.assign(cfg, { do_basic_tokenize: true, never_split: null, strip_accents: facts.bert.stripAccents, tokenize_chinese_chars: facts.bert.tokenizeChineseChars });
  }
  if (facts.byteLevel) {
    // RobertaTokenizerFast rebuilds tokenizer.json's ByteLevel pre-tokenizer and RobertaProcessing when these differ
    Object.assign(cfg, { add_prefix_space: facts.byteLevel.addPrefixSpace, trim_offsets: facts.byteLevel.trimOffsets, errors: 'replace' });
  }
  return sortKeys(cfg);
}

export function specialTokensMap(json: TokenizerJson): Record<string, string> {
  return sortKeys(tokenizerFacts(json).specialTokens) as Record<string, string>;
}

function sortKeys(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ------------------------------------------------------------------------------------------------
// sentence-transformers files

/**
 * The sentence-transformers release whose folder layout we write. sentence-transformers only
 * compares `__version__.sentence_transformers` with the installed version (a warning when the folder
 * claims a newer one), so this names the oldest release that reads every key we write
 * (`similarity_fn_name`, prompts: 3.0), not a library we ran.
 */
export const ST_LAYOUT_VERSION = { sentence_transformers: '3.0.0', transformers: '4.41.0', pytorch: '2.1.0' };

/** Prompt names sentence-transformers' `encode_document` tries, in its order (6.x). */
const DOCUMENT_PROMPTS = ['document', 'passage', 'corpus'] as const;

/**
 * The prompts as saved: the model's, plus `document` = its `passage`/`corpus` prompt when it has one
 * and no `document`. sentence-transformers 6 adds `{"query": "", "document": ""}` to every model's
 * prompts and `encode_document` takes the first of document/passage/corpus that is present, so
 * without the alias it would embed documents with the empty prompt instead of `passage: `
 * (found by `npm run interop`).
 */
export function savedStPrompts(prompts: Record<string, string>): Record<string, string> {
  const doc = DOCUMENT_PROMPTS.map((n) => prompts[n]).find((p) => p !== undefined);
  return prompts.document === undefined && doc !== undefined ? { ...prompts, document: doc } : { ...prompts };
}

export function stConfig(opts: { prompts?: Record<string, string>; toolkitVersion: string }): Record<string, unknown> {
  return {
    __version__: { ...ST_LAYOUT_VERSION, contrastive: opts.toolkitVersion },
    model_type: 'SentenceTransformer',
    prompts: savedStPrompts(opts.prompts ?? {}),
    default_prompt_name: null,
    similarity_fn_name: 'cosine',
  };
}

/** sentence_bert_config.json; lowercasing is the tokenizer's job, so do_lower_case stays false. */
export function sentenceBertConfig(maxLength: number): Record<string, unknown> {
  return { max_seq_length: maxLength, do_lower_case: false };
}

export function poolingConfig(hiddenSize: number, pooling: Pooling): Record<string, unknown> {
  return {
    word_embedding_dimension: hiddenSize,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  };
}

export interface StModule {
  idx: number;
  name: string;
  path: string;
  type: string;
}

export function modulesJson(normalize: boolean): StModule[] {
  const modules: StModule[] = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (normalize) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  return modules;
}

// ------------------------------------------------------------------------------------------------
// reading

/** A JSON file, or `undefined` when it does not exist (`required: false`); UserErrors name the file. */
export async function readJsonFile(path: string, required: boolean, hint = ''): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!required && code === 'ENOENT') return undefined;
    throw userError(path, undefined, code === 'ENOENT' ? `file not found${hint}` : `cannot read (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw userError(path, undefined, `not valid JSON: ${(err as Error).message}`);
  }
}

export function asObject(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw userError(where, undefined, 'must be a JSON object');
  return value as Record<string, unknown>;
}

export const SUPPORTED_MODULES = ['Transformer', 'Pooling', 'Normalize'] as const;

/** modules.json resolved: the Transformer's folder (relative), the Pooling folder, and Normalize. */
export interface StPipeline {
  transformerPath: string;
  poolingPath?: string;
  normalize: boolean;
}

/** Parse modules.json: Transformer -> Pooling -> (Normalize) is what the encoder implements; anything else is an error. */
export function parseModules(raw: unknown, where: string): StPipeline {
  if (!Array.isArray(raw)) throw userError(where, undefined, 'must be a JSON array of modules');
  const pipeline: StPipeline = { transformerPath: '', normalize: false };
  let sawTransformer = false;
  for (const m of raw as Array<Record<string, unknown>>) {
    const type = String(m?.type ?? '');
    const short = type.split('.').pop() ?? '';
    const path = typeof m?.path === 'string' ? m.path : '';
    if (short === 'Transformer' && !sawTransformer) {
      sawTransformer = true;
      pipeline.transformerPath = path;
    } else if (short === 'Pooling' && pipeline.poolingPath === undefined) {
      pipeline.poolingPath = path;
    } else if (short === 'Normalize') {
      pipeline.normalize = true;
    } else {
      throw userError(where, `module ${JSON.stringify(m?.name ?? m?.idx)}`, `unsupported module ${JSON.stringify(type)}${path ? ` (${path})` : ''}; supported: ${SUPPORTED_MODULES.join(' -> ')} (Dense, LayerNorm, CNN, … are not implemented)`);
    }
  }
  if (!sawTransformer) throw userError(where, undefined, 'no sentence_transformers.models.Transformer module');
  return pipeline;
}

/**
 * sentence_bert_config.json and tokenizer_config.json, the keys read from them (others are kept and
 * ignored): the sequence length the model was trained with. transformers writes int(1e30) as
 * model_max_length for tokenizers without a limit, hence no upper bound there.
 */
const sentenceBertSchema = z.looseObject({ max_seq_length: integer({ min: 2 }).nullish(), do_lower_case: flag().nullish() }, { error: mustBe('a JSON object') });
const tokenizerConfigSchema = z.looseObject({ model_max_length: number({ min: 1 }).nullish() }, { error: mustBe('a JSON object') });

/** max_seq_length of a sentence_bert_config.json (absent file or key: undefined). */
export function parseSentenceBertConfig(raw: unknown, where: string): number | undefined {
  return raw === undefined ? undefined : parseConfig(sentenceBertSchema, raw, where).max_seq_length ?? undefined;
}

/** model_max_length of a tokenizer_config.json (absent file or key: undefined). */
export function parseTokenizerConfig(raw: unknown, where: string): number | undefined {
  return raw === undefined ? undefined : parseConfig(tokenizerConfigSchema, raw, where).model_max_length ?? undefined;
}

/** The keys of 1_Pooling/config.json and config_sentence_transformers.json that are read (others are ignored). */
const poolingFileSchema = z.looseObject(
  { word_embedding_dimension: integer({ min: 1 }).optional(), pooling_mode: text().optional(), include_prompt: flag().optional() },
  { error: mustBe('a JSON object') },
);
const stConfigSchema = z.looseObject(
  {
    prompts: z.record(z.string(), z.string({ error: mustBe('a string') }), { error: mustBe('an object of prompt name → prefix') }).nullish(),
    default_prompt_name: z.string({ error: mustBe('a prompt name or null') }).nullish(),
  },
  { error: mustBe('a JSON object') },
);

/** The pooling of a 1_Pooling/config.json; UserError for modes the encoder does not implement. */
export function parsePooling(raw: unknown, where: string, hiddenSize: number): Pooling {
  const cfg = parseConfig(poolingFileSchema, raw, where);
  const on = Object.keys(cfg).filter((k) => k.startsWith('pooling_mode_') && cfg[k] === true);
  const modeString = cfg.pooling_mode;
  const modes = on.length ? on : modeString ? [`pooling_mode_${modeString}_token${modeString === 'cls' ? '' : 's'}`] : [];
  const supported = 'supported: pooling_mode_mean_tokens (mean) or pooling_mode_cls_token (cls), one of them';
  if (modes.length !== 1 || !['pooling_mode_mean_tokens', 'pooling_mode_cls_token'].includes(modes[0])) {
    throw userError(where, 'pooling_mode', `unsupported pooling ${modes.length ? modes.join(' + ') : '(none set)'}; ${supported}`);
  }
  if (cfg.word_embedding_dimension !== undefined && cfg.word_embedding_dimension !== hiddenSize) {
    throw userError(where, 'word_embedding_dimension', `${cfg.word_embedding_dimension} does not match the model's hidden_size ${hiddenSize}`);
  }
  if (cfg.include_prompt === false) {
    throw userError(where, 'include_prompt', 'false (prompt tokens left out of the pooling) is not supported; supported: true');
  }
  return modes[0] === 'pooling_mode_cls_token' ? 'cls' : 'mean';
}

/** prompts and default_prompt_name of config_sentence_transformers.json (absent file: none). */
export function parseStConfig(raw: unknown, where: string): { prompts: Record<string, string>; defaultPromptName: string | null } {
  if (raw === undefined) return { prompts: {}, defaultPromptName: null };
  const cfg = parseConfig(stConfigSchema, raw, where);
  return { prompts: { ...(cfg.prompts ?? {}) }, defaultPromptName: cfg.default_prompt_name ?? null };
}
