/**
 * `exportOnnx`: a model folder -> `onnx/model.onnx` (fp32) and `onnx/model_quantized.onnx` (int8
 * weights, transformers.js' q8 default on wasm), both checked with onnxruntime-node before they are
 * moved into place: the fp32 graph against the TensorFlow.js encoder, the int8 graph by its cosine
 * agreement with fp32.
 */
import { copyFile, readdir, rename, rm, rmdir, stat, cp } from 'node:fs/promises';
import { join, resolve, dirname } from 'node:path';
import type { ModelConfig, Pooling } from '../model/config.js';
import { bakeExpert, resolveTask } from '../model/moe.js';
import { SentenceEncoder } from '../model/encoder.js';
import { encoderWeights, writeModelFolder } from '../folder/write.js';
import { UserError, userError } from '../util/errors.js';
import { loadEncoder, readModelFolder, type ModelFolder } from '../folder/read.js';
import { ensureDir, fsReason, tempSibling, writeDirAtomic, writeFileAtomic } from '../util/fs.js';
import { buildBertOnnx, DEFAULT_OPSET, validateOpset, type ParamData } from './bert-graph.js';
import { encodeModel, initializerBytes } from './onnx-graph.js';
import { createSession, type OrtSession } from '../onnx/session.js';
import { compareWithTfjs, embeddingAgreement, sampleBatches, type Agreement, type ReferenceDiff } from './check.js';

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
  /**
   * Task-routed (MoE) models: the task whose expert is baked into a plain BertModel folder written to
   * `output` (required, not the model folder), then exported there like any BERT. Refused for dense models.
   */
  task?: string;
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

async function copyMetadata(from: string, to: string): Promise<void> {
  for (const name of METADATA_FILES) {
    const src = join(from, name);
    const info = await stat(src).catch(() => undefined);
    if (!info) continue;
    const dst = join(to, name);
    try {
      if (info.isDirectory()) {
        await cp(src, dst, { recursive: true });
      } else {
        await ensureDir(dirname(dst));
        const tmp = tempSibling(dst);
        await copyFile(src, tmp).catch(async (err) => {
          await rm(tmp, { force: true });
          throw err;
        });
        await rename(tmp, dst);
      }
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw userError(dst, undefined, `cannot write: ${fsReason(err)}`);
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

async function openChecked(bytes: Uint8Array, what: string, threads?: number): Promise<OrtSession> {
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
  const folder = await readModelFolder(opts.model, { requireTokenizer: false });
  if (folder.config.moe || opts.task !== undefined) return exportTask(folder, opts);
  const { config } = folder;
  const outDir = opts.output ?? opts.model;
  const onnxDir = join(outDir, 'onnx');
  const path = join(onnxDir, 'model.onnx');
  const maxLength = Math.min(folder.maxLength, config.maxPositions);
  const sampleOpts = { texts: opts.texts, tokenizerPath: folder.tokenizerPath, vocabSize: config.vocabSize, padId: config.padTokenId };

  // The graph's initializers come from the encoder's params (the one weights reader), which the check also runs.
  const encoder = await loadEncoder(folder);
  let fp32: Uint8Array;
  let quantized: Uint8Array | undefined;
  try {
    const weights = paramData(encoder);
    fp32 = encodeChecked(path, buildBertOnnx({ config, weights, opset }));
    if (opts.quantize ?? true) quantized = encodeChecked(join(onnxDir, 'model_quantized.onnx'), buildBertOnnx({ config, weights, opset, quantize: true }));
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  const session = await openChecked(fp32, path, opts.threads).catch((err) => {
    encoder.dispose();
    throw err;
  });
  const result: ExportResult = { path, bytes: fp32.length, opset, pooling: config.pooling, normalize: config.normalize };
  try {
    if (opts.verify ?? true) {
      const sample = await sampleBatches({ ...sampleOpts, maxLength: Math.min(maxLength, VERIFY_MAX_LENGTH), count: VERIFY_ROWS, batchSize: VERIFY_ROWS });
      const diff = await compareWithTfjs(session, encoder, sample.batches[0]);
      result.check = { ...diff, rows: sample.batches[0].batchSize, source: sample.source };
      const tol = 1e-3 * Math.max(1, diff.scale);
      if (!(diff.lastHiddenState <= tol && diff.sentenceEmbedding <= tol)) {
        throw new Error(`the exported graph disagrees with the TensorFlow.js encoder (max abs diff: last_hidden_state ${diff.lastHiddenState}, sentence_embedding ${diff.sentenceEmbedding}); nothing was written`);
      }
    }

    const quantizedPath = join(onnxDir, 'model_quantized.onnx');
    if (quantized) {
      const qSession = await openChecked(quantized, quantizedPath, opts.threads);
      try {
        const sample = await sampleBatches({ ...sampleOpts, maxLength: Math.min(maxLength, AGREEMENT_MAX_LENGTH), count: AGREEMENT_TEXTS, batchSize: 16 });
        result.cosine = await embeddingAgreement(session, qSession, sample, config.hiddenSize);
      } finally {
        await qSession.release();
      }
    }

    // A new --output folder is built at a temp path and renamed into place (a failed write, e.g. a full
    // disk, leaves nothing); into an existing folder each file is written atomically, and an onnx/
    // folder this export created is removed again if its files cannot be written.
    const fill = async (dir: string) => {
      await ensureDir(join(dir, 'onnx'));
      if (resolve(outDir) !== resolve(opts.model)) await copyMetadata(opts.model, dir);
      await writeFileAtomic(join(dir, 'onnx', 'model.onnx'), fp32);
      if (quantized) await writeFileAtomic(join(dir, 'onnx', 'model_quantized.onnx'), quantized);
    };
    if (!(await stat(outDir).then(() => true, () => false))) await writeDirAtomic(outDir, fill);
    else {
      const hadOnnx = await stat(onnxDir).then(() => true, () => false);
      await fill(outDir).catch(async (err) => {
        if (!hadOnnx) await rmdir(onnxDir).catch(() => undefined); // only when empty: never what was there
        throw err;
      });
    }
    if (quantized) {
      result.quantizedPath = quantizedPath;
      result.quantizedBytes = quantized.length;
    }
    return result;
  } finally {
    encoder.dispose();
    await session.release();
  }
}

/**
 * SciMult's deployment form: one task's expert of an MoE folder as a plain BERT folder at `opts.output`
 * (config.json without moe, the expert's tensors under BertModel names, the same tokenizer, head and
 * prompts), which is then exported like any other folder. transformers, sentence-transformers and
 * transformers.js load the result as a BertModel.
 */
async function exportTask(folder: ModelFolder, opts: ExportOptions): Promise<ExportResult> {
  const expert = resolveTask(folder.config.moe, opts.task, '--task')!;
  const out = opts.output;
  if (out === undefined || resolve(out) === resolve(opts.model)) {
    throw userError('--output', undefined, `required with --task, and not the model folder: the ${opts.task} expert is written there as a plain BERT folder`);
  }
  const entries = await readdir(out).catch(() => undefined);
  if (entries && entries.length > 0 && !entries.includes('config.json')) {
    throw userError(out, undefined, 'exists and is not a model folder; give a new or empty folder (it is replaced by the exported one)');
  }
  const encoder = await loadEncoder(folder);
  try {
    const config: ModelConfig = { ...folder.config, moe: undefined };
    const baked = new SentenceEncoder(config, bakeExpert(encoder.params, expert));
    await writeDirAtomic(out, (tmp) =>
      writeModelFolder(tmp, {
        config,
        weights: encoderWeights(baked),
        tokenizerPath: folder.tokenizerPath,
        maxLength: folder.maxLength,
        prompts: folder.prompts,
        card: { name: `${opts.task} expert of ${opts.model}`, baseModel: opts.model },
      }),
    );
  } finally {
    encoder.dispose();
  }
  return exportOnnx({ ...opts, model: out, output: undefined, task: undefined });
}

/** Every param's values ([in, out] for dense weights, as the graph builder wants them). */
export function paramData(encoder: SentenceEncoder): ParamData {
  const out: ParamData = {};
  for (const [name, v] of Object.entries(encoder.params)) out[name] = { data: v.dataSync() as Float32Array, shape: v.shape.slice() };
  return out;
}
