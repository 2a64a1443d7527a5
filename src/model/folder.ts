/**
 * A model folder: what every stage after training reads (eval, encode, export) and what
 * sentence-transformers, transformers and transformers.js load. It is a sentence-transformers folder
 * (modules.json, config_sentence_transformers.json, sentence_bert_config.json, 1_Pooling/,
 * 2_Normalize/, README.md) around a Hugging Face BertModel / XLMRobertaModel (config.json,
 * model.safetensors, tokenizer.json, tokenizer_config.json, special_tokens_map.json).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { maxSequenceLength, toHfConfig } from './config.js';
import type { SentenceEncoder } from './encoder.js';
import { writeSafetensors } from './safetensors.js';
import { paramsToHf } from './weights.js';
import { modelCard, toolkitVersion, type ModelCardInfo } from './model-card.js';
import {
  modulesJson, poolingConfig, sentenceBertConfig, specialTokensMap, stConfig, tokenizerConfig, tokenizerFacts, type TokenizerJson,
} from './st-files.js';
import { loadWeights, readPretrainedMeta } from './pretrained.js';
import { writeJson } from '../util/fs.js';
import { userError } from '../util/errors.js';

export interface ModelFolderInfo {
  /** Tokens per text the model was trained with (sentence_bert_config.json max_seq_length). */
  maxLength: number;
  /** Prompts the model was trained with, e.g. { query: 'query: ', passage: 'passage: ' } (config_sentence_transformers.json). */
  prompts?: Record<string, string>;
  /** What the README.md model card says about the training run. */
  card?: ModelCardInfo;
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
 * Write the encoder and its tokenizer into `dir` as a sentence-transformers folder (`dir` must exist;
 * callers make it atomic with writeDirAtomic). `info.maxLength` is capped at the model's positions.
 */
export async function saveModelFolder(dir: string, encoder: SentenceEncoder, tokenizerPath: string, info: ModelFolderInfo): Promise<void> {
  const c = encoder.config;
  const maxLength = Math.min(info.maxLength, maxSequenceLength(c));
  const prompts = info.prompts ?? {};
  const tokenizer = await readTokenizerJson(tokenizerPath);
  const facts = tokenizerFacts(tokenizer.json);

  await writeJson(join(dir, 'config.json'), toHfConfig(c));
  await writeSafetensors(join(dir, 'model.safetensors'), paramsToHf(encoder.params), { format: 'pt' });
  await writeFile(join(dir, 'tokenizer.json'), tokenizer.text);
  await writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfig(tokenizer.json, { maxLength }));
  await writeJson(join(dir, 'special_tokens_map.json'), specialTokensMap(tokenizer.json));
  await writeJson(join(dir, 'sentence_bert_config.json'), sentenceBertConfig(maxLength));
  await writeJson(join(dir, 'config_sentence_transformers.json'), stConfig({ prompts, toolkitVersion: toolkitVersion() }));
  await writeJson(join(dir, '1_Pooling', 'config.json'), poolingConfig(c.hiddenSize, c.pooling));
  if (c.normalize) await mkdir(join(dir, '2_Normalize'), { recursive: true }); // Normalize has no files
  await writeJson(join(dir, 'modules.json'), modulesJson(c.normalize));
  const card = modelCard(
    { config: c, maxLength, numParams: encoder.numParams, prompts, tokenizerClass: facts.tokenizerClass, doLowerCase: facts.doLowerCase },
    info.card,
  );
  await writeFile(join(dir, 'README.md'), card);
}

/**
 * Load a model folder written by `saveModelFolder` (or any folder `loadPretrained` reads). Unlike
 * `loadPretrained` it does not require tokenizer.json (golden fixtures have none).
 */
export async function loadModelFolder(dir: string): Promise<{ encoder: SentenceEncoder; info: ModelFolderInfo; tokenizerPath: string }> {
  const meta = await readPretrainedMeta(dir, { requireTokenizer: false });
  const encoder = await loadWeights(meta);
  return { encoder, info: { maxLength: meta.info.maxLength, prompts: meta.info.prompts }, tokenizerPath: meta.tokenizerPath };
}
