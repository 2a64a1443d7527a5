/**
 * `exportOnnx`: a model folder -> `onnx/model.onnx` (fp32) and `onnx/model_quantized.onnx` (int8
 * weights, transformers.js' q8 default on wasm), both checked with onnxruntime-node before they are
 * moved into place: the fp32 graph against the TensorFlow.js encoder, the int8 graph by its cosine
 * agreement with fp32.
 */
import { copyFile, mkdir, rename, rm, stat, writeFile, cp } from 'node:fs/promises';
import { join, resolve, dirname } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { fromHfConfig, type BertConfig, type ModelConfig, type Pooling } from '../model/config.js';
import { readSafetensors, type NamedTensor } from '../model/safetensors.js';
import { SentenceEncoder } from '../model/encoder.js';
import { paramsFromHf } from '../model/weights.js';
import { userError } from '../util/errors.js';
import { readPretrainedMeta } from '../model/pretrained.js';
import { readJsonFile, asObject } from '../model/st-files.js';
import { tempSibling } from '../util/fs.js';
import { buildBertOnnx, DEFAULT_OPSET, validateOpset } from './bert-graph.js';
import { encodeModel, initializerBytes } from './onnx-graph.js';
import { compareWithTfjs, createSession, embeddingAgreement, sampleBatches, type Agreement, type ReferenceDiff } from './check.js';

export interface ExportOptions {
  /** Model folder (config.json + model.safetensors; 1_Pooling/ and modules.json pick the head). */
  model: string;
  /** Folder to write `onnx/` into; default the model folder. Another folder also gets the model's
   * config and tokenizer files, so it loads on its own (transformers.js, sentence-transformers' ONNX backend). */
  output?: string;
  /** ONNX opset, 14–17 (default 17: LayerNormalization op; 14–16 decompose it). */
  opset?: number;
  /** Also write `onnx/model_quantized.onnx` (default true). */
  quantize?: boolean;
  /** Texts for the checks (tokenized with the folder's tokenizer.json); seeded random ids otherwise. */
  texts?: string[];
  /** Compare the fp32 graph with the TensorFlow.js encoder on the current backend before writing (default true). */
  verify?: boolean;
  /** onnxruntime intra-op threads for the checks (default: onnxruntime's choice). */
  threads?: number;
}

export interface ExportResult {
  /** The fp32 model file. */
  path: string;
  bytes: number;
  quantizedPath?: string;
  quantizedBytes?: number;
  opset: number;
  pooling: Pooling;
  normalize: boolean;
  /** Cosine between fp32 and int8 sentence embeddings. */
  cosine?: Agreement;
  /** Max abs difference of the fp32 graph vs the TensorFlow.js encoder (on `verifyRows` sentences). */
  check?: ReferenceDiff & { rows: number; source: Agreement['source'] };
}

/** Sentences used for the int8 agreement, and tokens per sentence at most. */
const AGREEMENT_TEXTS = 64;
const AGREEMENT_MAX_LENGTH = 128;
const VERIFY_ROWS = 4;
const VERIFY_MAX_LENGTH = 48;
/** protobuf messages cannot exceed 2 GiB; bigger models need ONNX external data (not written here). */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** Files copied next to `onnx/` when exporting into another folder (when they exist). */
const METADATA_FILES = [
  'config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt',
  'sentence_bert_config.json', 'config_sentence_transformers.json', 'modules.json', '1_Pooling', '2_Normalize', 'README.md',
];

/**
 * The folder's BERT config (config.json), with UserErrors for a missing folder or file: a cheap
 * check before slower work (the CLI calls it before picking a TensorFlow.js backend).
 */
export async function readBertConfig(dir: string): Promise<BertConfig> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw userError(dir, undefined, 'model folder not found');
  if (!info.isDirectory()) throw userError(dir, undefined, 'not a folder (expected a model folder with config.json and model.safetensors)');
  const configPath = join(dir, 'config.json');
  const hf = asObject(await readJsonFile(configPath, true, '; is this a model folder written by `contrastive train`?'), configPath);
  return fromHfConfig(hf, configPath);
}

export interface ModelFolderContents {
  config: ModelConfig;
  tensors: Record<string, NamedTensor>;
  weightsPath: string;
  /** sentence_bert_config.json max_seq_length, if any. */
  maxLength?: number;
}

/**
 * Read a model folder the way `loadModelFolder` does (same pooling/normalize rules: 1_Pooling and
 * modules.json optional, default mean without Normalize), but keep the raw HF tensors.
 */
export async function readModelFolder(dir: string): Promise<ModelFolderContents> {
  // The same folder rules as loading for training (0_Transformer/ layouts, bert./roberta. prefixes, pooling, Normalize).
  const meta = await readPretrainedMeta(dir, { requireTokenizer: false });
  const { weightsPath, modelDir } = meta.info;
  const { tensors } = await readSafetensors(weightsPath).catch(async (err) => {
    if (!(await stat(weightsPath).then(() => true, () => false))) throw userError(weightsPath, undefined, `not found in ${modelDir}`);
    throw err;
  });
  return { config: meta.config, tensors, weightsPath, maxLength: meta.info.maxLength };
}

/** Write `bytes` to `path` through a temp file in the same folder and one rename. */
async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw userError(path, undefined, `cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function copyMetadata(from: string, to: string): Promise<void> {
  for (const name of METADATA_FILES) {
    const src = join(from, name);
    const info = await stat(src).catch(() => undefined);
    if (!info) continue;
    const dst = join(to, name);
    if (info.isDirectory()) {
      await cp(src, dst, { recursive: true });
    } else {
      await mkdir(dirname(dst), { recursive: true });
      const tmp = tempSibling(dst);
      await copyFile(src, tmp);
      await rename(tmp, dst);
    }
  }
}

function encodeChecked(where: string, model: ReturnType<typeof buildBertOnnx>): Uint8Array {
  const size = initializerBytes(model);
  if (size > PROTOBUF_LIMIT - 2 ** 20) {
    throw userError(where, undefined, `the weights are ${(size / 2 ** 30).toFixed(2)} GiB; ONNX files over 2 GiB need external data, which this exporter does not write`);
  }
  return encodeModel(model);
}

async function openChecked(bytes: Uint8Array, what: string, threads?: number): Promise<InferenceSession> {
  try {
    return await createSession(bytes, { threads });
  } catch (err) {
    throw new Error(`onnxruntime rejected the exported ${what}: ${(err as Error).message}`);
  }
}

/**
 * Export a model folder to ONNX. The fp32 graph is checked against the TensorFlow.js encoder
 * (unless `verify: false`) and an error is thrown, writing nothing, when they disagree.
 */
export async function exportOnnx(opts: ExportOptions): Promise<ExportResult> {
  const opset = validateOpset(opts.opset ?? DEFAULT_OPSET, '--opset');
  const folder = await readModelFolder(opts.model);
  const { config, tensors, weightsPath } = folder;
  const outDir = opts.output ?? opts.model;
  const onnxDir = join(outDir, 'onnx');
  const path = join(onnxDir, 'model.onnx');
  const tokenizerPath = join(opts.model, 'tokenizer.json');
  const maxLength = Math.min(folder.maxLength ?? config.maxPositions, config.maxPositions);
  const sampleOpts = { texts: opts.texts, tokenizerPath, vocabSize: config.vocabSize, padId: config.padTokenId };

  const fp32 = encodeChecked(path, buildBertOnnx({ config, tensors, opset, where: weightsPath }));
  const session = await openChecked(fp32, path, opts.threads);
  const result: ExportResult = { path, bytes: fp32.length, opset, pooling: config.pooling, normalize: config.normalize };
  try {
    if (opts.verify ?? true) {
      const sample = await sampleBatches({ ...sampleOpts, maxLength: Math.min(maxLength, VERIFY_MAX_LENGTH), count: VERIFY_ROWS, batchSize: VERIFY_ROWS });
      const encoder = new SentenceEncoder(config, paramsFromHf(config, tensors, weightsPath));
      let diff: ReferenceDiff;
      try {
        diff = await compareWithTfjs(session, encoder, sample.batches[0]);
      } finally {
        encoder.dispose();
      }
      result.check = { ...diff, rows: sample.batches[0].batchSize, source: sample.source };
      const tol = 1e-3 * Math.max(1, diff.scale);
      if (!(diff.lastHiddenState <= tol && diff.sentenceEmbedding <= tol)) {
        throw new Error(`the exported graph disagrees with the TensorFlow.js encoder (max abs diff: last_hidden_state ${diff.lastHiddenState}, sentence_embedding ${diff.sentenceEmbedding}); nothing was written`);
      }
    }

    let quantized: Uint8Array | undefined;
    const quantizedPath = join(onnxDir, 'model_quantized.onnx');
    if (opts.quantize ?? true) {
      quantized = encodeChecked(quantizedPath, buildBertOnnx({ config, tensors, opset, quantize: true, where: weightsPath }));
      const qSession = await openChecked(quantized, quantizedPath, opts.threads);
      try {
        const sample = await sampleBatches({ ...sampleOpts, maxLength: Math.min(maxLength, AGREEMENT_MAX_LENGTH), count: AGREEMENT_TEXTS, batchSize: 16 });
        result.cosine = await embeddingAgreement(session, qSession, sample, config.hiddenSize);
      } finally {
        await qSession.release();
      }
    }

    await mkdir(onnxDir, { recursive: true }).catch((err) => {
      throw userError(onnxDir, undefined, `cannot create folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    });
    if (resolve(outDir) !== resolve(opts.model)) await copyMetadata(opts.model, outDir);
    await writeFileAtomic(path, fp32);
    if (quantized) {
      await writeFileAtomic(quantizedPath, quantized);
      result.quantizedPath = quantizedPath;
      result.quantizedBytes = quantized.length;
    }
    return result;
  } finally {
    await session.release();
  }
}
