/**
 * A model folder: what every stage after training reads (eval, encode, export). It is a
 * sentence-transformers folder (modules.json, 1_Pooling/, 2_Normalize/) around a Hugging Face
 * BertModel (config.json, model.safetensors, tokenizer.json).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig, toHfConfig, type ModelConfig, type Pooling } from './config.js';
import { SentenceEncoder } from './encoder.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { paramsFromHf, paramsToHf } from './weights.js';
import { writeJson } from '../util/fs.js';
import { userError } from '../util/errors.js';

export interface ModelFolderInfo {
  /** Tokens per text the model was trained with (sentence_bert_config.json max_seq_length). */
  maxLength: number;
}

/** Write the encoder and its tokenizer into `dir` (which must exist; callers make it atomic). */
export async function saveModelFolder(dir: string, encoder: SentenceEncoder, tokenizerPath: string, info: ModelFolderInfo): Promise<void> {
  const c = encoder.config;
  await writeJson(join(dir, 'config.json'), toHfConfig(c));
  await writeSafetensors(join(dir, 'model.safetensors'), paramsToHf(encoder.params), { format: 'pt' });
  await copyFile(tokenizerPath, join(dir, 'tokenizer.json'));
  await writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: info.maxLength, do_lower_case: false });
  await writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: c.hiddenSize,
    pooling_mode_cls_token: c.pooling === 'cls',
    pooling_mode_mean_tokens: c.pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  });
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (c.normalize) {
    await mkdir(join(dir, '2_Normalize'), { recursive: true });
    modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  }
  await writeJson(join(dir, 'modules.json'), modules);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw userError(path, undefined, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)}); is this a model folder written by \`contrastive train\`?`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw userError(path, undefined, `not valid JSON: ${(err as Error).message}`);
  }
}

/** Load a model folder written by `saveModelFolder` (or a compatible sentence-transformers BERT folder). */
export async function loadModelFolder(dir: string): Promise<{ encoder: SentenceEncoder; info: ModelFolderInfo; tokenizerPath: string }> {
  const bert = fromHfConfig(await readJson(join(dir, 'config.json')), join(dir, 'config.json'));
  const poolPath = join(dir, '1_Pooling', 'config.json');
  const poolCfg = await readJson(poolPath).catch(() => ({}) as Record<string, unknown>);
  const pooling: Pooling = poolCfg.pooling_mode_cls_token === true ? 'cls' : 'mean';
  if (poolCfg.pooling_mode_max_tokens === true || poolCfg.pooling_mode_lasttoken === true) {
    throw userError(poolPath, 'pooling_mode', 'unsupported pooling mode; supported: mean, cls');
  }
  const modules = (await readJson(join(dir, 'modules.json')).catch(() => [])) as unknown as Array<{ type?: string }>;
  const normalize = Array.isArray(modules) && modules.some((m) => String(m.type).endsWith('Normalize'));
  const stPath = join(dir, 'sentence_bert_config.json');
  const st = await readJson(stPath).catch(() => ({}) as Record<string, unknown>);
  const maxLength = typeof st.max_seq_length === 'number' ? st.max_seq_length : Math.min(512, bert.maxPositions);
  const config: ModelConfig = { ...bert, pooling, normalize };
  const weightsPath = join(dir, 'model.safetensors');
  const { tensors } = await readSafetensors(weightsPath);
  const encoder = new SentenceEncoder(config, paramsFromHf(bert, tensors, weightsPath));
  return { encoder, info: { maxLength }, tokenizerPath: join(dir, 'tokenizer.json') };
}
