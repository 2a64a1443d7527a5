/**
 * The one reader of model folders: a folder written by `writeModelFolder` (training checkpoints,
 * `final/`, merges), a sentence-transformers model, or a plain transformers checkpoint (BertModel, XLMRobertaModel,
 * DebertaModel without relative attention, or their task-head variants whose encoder tensors carry a `bert.` /
 * `roberta.` / `deberta.` prefix), or a task-routed (SciMult MoE) folder this toolkit wrote.
 *
 * What is read:
 *   config.json            model_type bert | xlm-roberta | deberta (relative_attention false), optional `moe`
 *                          (others, deberta-v2 and relative attention: UserError listing the supported ones)
 *   model.safetensors      F32/F16/BF16 (PyTorch pickles, sharded and TF/Flax checkpoints: UserError)
 *   tokenizer.json         WordPiece, Unigram (SentencePiece) or byte-level BPE tokenizers, via @huggingface/tokenizers
 *   modules.json           sentence-transformers pipeline: Transformer -> Pooling -> (Normalize); the
 *                          Transformer may sit in a subfolder (older `0_Transformer/` layouts)
 *   1_Pooling/config.json  mean or cls
 *   sentence_bert_config.json, config_sentence_transformers.json, tokenizer_config.json (optional)
 *
 * Without modules.json the folder is a plain transformers model and gets what sentence-transformers
 * gives one: mean pooling, no Normalize ("No sentence-transformers model found ... Creating a new one
 * with mean pooling"). The recipe can still ask for another head when fine-tuning.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig, maxSequenceLength, type EncoderOverrides, type ModelConfig, type ModelType, type Pooling } from '../model/config.js';
import { SentenceEncoder } from '../model/encoder.js';
import { openSafetensors, type SafetensorsFile } from './safetensors.js';
import { paramsFromHf } from './weights.js';
import {
  asObject, parseModules, parsePooling, parseSentenceBertConfig, parseStConfig, parseTokenizerConfig, readJsonFile, tokenizerIdCount, tokenizerVocab, type TokenizerJson,
} from './st-files.js';
import { userError } from '../util/errors.js';

/** What a model folder holds, without its weights: the model config and where everything is. */
export interface ModelFolder {
  /** The folder given. */
  dir: string;
  /** The network (config.json) with the folder's head (pooling, normalize). */
  config: ModelConfig;
  /** Tokens per text: sentence_bert_config.json max_seq_length, else tokenizer_config.json model_max_length, else min(512, positions). */
  maxLength: number;
  modelType: ModelType;
  /** 'sentence-transformers': modules.json chose pooling/normalize; 'default': plain HF folder, mean pooling, no Normalize. */
  head: 'sentence-transformers' | 'default';
  /** config_sentence_transformers.json prompts ({} when none). */
  prompts: Record<string, string>;
  defaultPromptName: string | null;
  /** Folder holding config.json, model.safetensors and tokenizer.json (the folder, or its Transformer subfolder). */
  modelDir: string;
  weightsPath: string;
  tokenizerPath: string;
}

/** tokenizer_config.json model_max_length of HF tokenizers without a limit is int(1e30). */
const NO_LIMIT = 1e6;

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Why there is no model.safetensors, in words, for the error message. */
async function missingWeights(dir: string): Promise<string> {
  const has = async (name: string) => exists(join(dir, name));
  if (await has('model.safetensors.index.json')) return 'the checkpoint is sharded (model.safetensors.index.json); sharded checkpoints are not supported — save it as one file (`model.save_pretrained(dir, max_shard_size="100GB")`)';
  if (await has('pytorch_model.bin')) return 'only pytorch_model.bin (a PyTorch pickle) is present; it is not supported — convert it in Python: `AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)` writes model.safetensors';
  if ((await has('tf_model.h5')) || (await has('flax_model.msgpack'))) return 'only TensorFlow/Flax weights are present; re-save the model with transformers to get model.safetensors';
  return `not found in ${dir}`;
}

async function missingTokenizer(dir: string): Promise<string> {
  const has = async (name: string) => exists(join(dir, name));
  const slow = (await has('vocab.txt')) ? 'vocab.txt' : (await has('sentencepiece.bpe.model')) ? 'sentencepiece.bpe.model' : undefined;
  return slow
    ? `tokenizer.json not found (the folder has only the slow tokenizer's ${slow}); write it in Python with \`AutoTokenizer.from_pretrained(dir).save_pretrained(dir)\``
    : 'tokenizer.json not found (a Hugging Face fast tokenizer file is required)';
}

/** The pad id TextTokenizer will pad with (same rule as src/data/tokenizer.ts). */
function tokenizerPadId(json: TokenizerJson & { padding?: { pad_id?: number } | null }): number {
  const vocab = tokenizerVocab(json);
  return json.padding?.pad_id ?? ['[PAD]', '<pad>', '<PAD>'].map((t) => vocab.get(t)).find((id) => id !== undefined) ?? 0;
}

/**
 * Read a model folder: everything but the weights (the model config with the folder's pooling and
 * normalize, maxLength, prompts, where the files are). Cheap, so a CLI validates a folder before it
 * chooses a backend. `requireTokenizer` (default true) checks tokenizer.json against the config.
 * Every problem is a UserError naming the file and the field.
 */
export async function readModelFolder(dir: string, opts: { requireTokenizer?: boolean } = {}): Promise<ModelFolder> {
  if (!(await exists(dir))) throw userError(dir, undefined, 'model folder not found');
  if (!(await isDir(dir))) throw userError(dir, undefined, 'not a folder (expected a Hugging Face / sentence-transformers model folder with config.json and model.safetensors)');

  const modulesPath = join(dir, 'modules.json');
  const modulesRaw = await readJsonFile(modulesPath, false);
  const pipeline = modulesRaw === undefined ? undefined : parseModules(modulesRaw, modulesPath);
  const modelDir = pipeline?.transformerPath ? join(dir, pipeline.transformerPath) : dir;

  const configPath = join(modelDir, 'config.json');
  const hf = asObject(await readJsonFile(configPath, true, ' (not a Hugging Face model folder)'), configPath);
  const bert = fromHfConfig(hf, configPath);
  const modelType = bert.modelType ?? 'bert';

  let pooling: Pooling = 'mean';
  if (pipeline?.poolingPath !== undefined) {
    const poolPath = join(dir, pipeline.poolingPath, 'config.json');
    pooling = parsePooling(await readJsonFile(poolPath, true), poolPath, bert.hiddenSize);
  }
  const normalize = pipeline?.normalize ?? false;

  const stPath = join(dir, 'config_sentence_transformers.json');
  const { prompts, defaultPromptName } = parseStConfig(await readJsonFile(stPath, false), stPath);

  const limit = maxSequenceLength(bert);
  const sbertPath = join(modelDir, 'sentence_bert_config.json');
  const maxSeqLength = parseSentenceBertConfig(await readJsonFile(sbertPath, false), sbertPath);
  const tokCfgPath = join(modelDir, 'tokenizer_config.json');
  const modelMaxLength = parseTokenizerConfig(await readJsonFile(tokCfgPath, false), tokCfgPath);
  let maxLength: number;
  if (maxSeqLength !== undefined) maxLength = Math.min(maxSeqLength, limit); // the model cannot take more positions
  else if (modelMaxLength !== undefined && modelMaxLength < NO_LIMIT) maxLength = Math.min(modelMaxLength, limit);
  else maxLength = Math.min(512, limit);

  const tokenizerPath = join(modelDir, 'tokenizer.json');
  if (opts.requireTokenizer ?? true) {
    if (!(await exists(tokenizerPath))) throw userError(tokenizerPath, undefined, await missingTokenizer(modelDir));
    const tok = asObject(await readJsonFile(tokenizerPath, true), tokenizerPath) as TokenizerJson;
    const needed = tokenizerIdCount(tok);
    if (needed > bert.vocabSize) {
      throw userError(tokenizerPath, undefined, `the tokenizer has ids up to ${needed - 1} but config.json vocab_size is ${bert.vocabSize}; tokenizer and model do not belong together`);
    }
    if (modelType === 'xlm-roberta') {
      const pad = tokenizerPadId(tok as TokenizerJson & { padding?: { pad_id?: number } | null });
      if (pad !== bert.padTokenId) {
        throw userError(tokenizerPath, 'pad', `pads with id ${pad} but config.json pad_token_id is ${bert.padTokenId}; XLM-R position ids depend on the pad id, so they must agree`);
      }
    }
  }

  return {
    dir,
    config: { ...bert, pooling, normalize },
    maxLength,
    modelType,
    head: pipeline ? 'sentence-transformers' : 'default',
    prompts,
    defaultPromptName,
    modelDir,
    weightsPath: join(modelDir, 'model.safetensors'),
    tokenizerPath,
  };
}

/**
 * The folder's model.safetensors, open for reading one tensor at a time (close it when done).
 * A missing file is a UserError that says what the folder has instead (a pickle, shards, TF weights).
 */
export async function openWeights(folder: ModelFolder): Promise<SafetensorsFile> {
  if (!(await exists(folder.weightsPath))) throw userError(folder.weightsPath, undefined, await missingWeights(folder.modelDir));
  return openSafetensors(folder.weightsPath);
}

/**
 * The folder's encoder, with its weights. `overrides` change the head or dropout (a recipe that
 * fine-tunes with another pooling; a merge told which pooling to use); sizes come from config.json.
 */
export async function loadEncoder(folder: ModelFolder, overrides: EncoderOverrides = {}): Promise<SentenceEncoder> {
  const config: ModelConfig = { ...folder.config, ...overrides };
  const file = await openWeights(folder);
  try {
    return new SentenceEncoder(config, await paramsFromHf(config, file));
  } finally {
    await file.close();
  }
}

/** The folder's saved prompt for queries (`query`) and for documents (`passage`, `document` or `doc`), if it has them. */
export function savedPrompts(folder: Pick<ModelFolder, 'prompts'>): { query?: string; document?: string } {
  const p = folder.prompts;
  return { query: p.query, document: p.passage ?? p.document ?? p.doc };
}
