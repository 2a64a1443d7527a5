/**
 * The one writer of model folders: what every stage after training reads (eval, encode, export,
 * merge) and what sentence-transformers, transformers and transformers.js load. It is a
 * sentence-transformers folder (modules.json, config_sentence_transformers.json,
 * sentence_bert_config.json, 1_Pooling/, 2_Normalize/, README.md) around a Hugging Face BertModel /
 * XLMRobertaModel (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json). `readModelFolder` (read.ts) reads it back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maxSequenceLength, toHfConfig, type ModelConfig } from '../model/config.js';
import type { SentenceEncoder } from '../model/encoder.js';
import { writeSafetensorsStream, type TensorPayload, type TensorSpec } from './safetensors.js';
import { hfSpecs, paramToHf } from './weights.js';
import { modelCard, toolkitVersion, type ModelCardInfo } from './model-card.js';
import {
  modulesJson, poolingConfig, sentenceBertConfig, specialTokensMap, stConfig, tokenizerConfig, tokenizerFacts, type TokenizerJson,
} from './st-files.js';
import { ensureDir, writeJson } from '../util/fs.js';
import { userError } from '../util/errors.js';

/**
 * The tensors of model.safetensors (HF names, PyTorch layout), handed over one at a time in file order
 * (whole, or as consecutive slices) so a writer never needs them all in memory; a merge computes each
 * slice as it is written.
 */
export interface WeightSource {
  specs: TensorSpec[];
  tensor(name: string): TensorPayload | Promise<TensorPayload>;
}

export interface ModelFolderContents {
  /** The network and its head (pooling, normalize). */
  config: ModelConfig;
  weights: WeightSource;
  /** tokenizer.json to copy; tokenizer_config.json and special_tokens_map.json are derived from it. */
  tokenizerPath: string;
  /** Tokens per text the model was trained with (sentence_bert_config.json max_seq_length); capped at the model's positions. */
  maxLength: number;
  /** Prompts the model was trained with, e.g. { query: 'query: ', passage: 'passage: ' } (config_sentence_transformers.json). */
  prompts?: Record<string, string>;
  /** What the README.md model card says about how the model was made. */
  card?: ModelCardInfo;
}

/** An encoder's params as the weights of a folder (dense weights transposed to PyTorch's [out, in]). */
export function encoderWeights(encoder: SentenceEncoder): WeightSource {
  return { specs: hfSpecs(encoder.params), tensor: (name) => paramToHf(encoder.params, name) };
}

async function readTokenizerJson(path: string): Promise<{ text: string; json: TokenizerJson }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw userError(path, undefined, `cannot read the tokenizer (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    const json = JSON.parse(text) as unknown;
    return { text, json: (typeof json === 'object' && json !== null ? json : {}) as TokenizerJson };
  } catch (err) {
    throw userError(path, undefined, `tokenizer file is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Write a model folder into `dir` (which must exist; callers make it atomic with writeDirAtomic).
 */
export async function writeModelFolder(dir: string, contents: ModelFolderContents): Promise<void> {
  const c = contents.config;
  const maxLength = Math.min(contents.maxLength, maxSequenceLength(c));
  const prompts = contents.prompts ?? {};
  const tokenizer = await readTokenizerJson(contents.tokenizerPath);
  const facts = tokenizerFacts(tokenizer.json);
  const numParams = contents.weights.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);

  await writeJson(join(dir, 'config.json'), toHfConfig(c));
  await writeSafetensorsStream(join(dir, 'model.safetensors'), contents.weights.specs, (name) => contents.weights.tensor(name), { format: 'pt' });
  await writeFile(join(dir, 'tokenizer.json'), tokenizer.text);
  await writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfig(tokenizer.json, { maxLength }));
  await writeJson(join(dir, 'special_tokens_map.json'), specialTokensMap(tokenizer.json));
  await writeJson(join(dir, 'sentence_bert_config.json'), sentenceBertConfig(maxLength));
  await writeJson(join(dir, 'config_sentence_transformers.json'), stConfig({ prompts, toolkitVersion: toolkitVersion() }));
  await writeJson(join(dir, '1_Pooling', 'config.json'), poolingConfig(c.hiddenSize, c.pooling));
  if (c.normalize) await ensureDir(join(dir, '2_Normalize')); // Normalize has no files
  await writeJson(join(dir, 'modules.json'), modulesJson(c.normalize));
  const card = modelCard(
    { config: c, maxLength, numParams, prompts, tokenizerClass: facts.tokenizerClass, doLowerCase: facts.doLowerCase },
    contents.card,
  );
  await writeFile(join(dir, 'README.md'), card);
}
