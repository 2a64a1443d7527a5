/**
 * `encodeFile`: embed one text column of an Arrow/JSONL file with a model folder and write an Arrow
 * file of (id, embedding). Streams: a window of rows is read, sorted longest-first so each batch
 * pads little (as sentence-transformers does), embedded batch by batch, written back in input order
 * as one record batch; memory stays at one window whatever the file size.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TextTokenizer } from '../data/tokenizer.js';
import { maxSequenceLength } from '../model/config.js';
import { resolveTask } from '../model/moe.js';
import { readModelFolder } from '../folder/read.js';
import { userError } from '../util/errors.js';
import { countInputRows, inputKind, readTextChunks, type IdKind } from './input.js';
import { EmbeddingFileWriter } from './output.js';
import { createOnnxEngine, createTfjsEngine, ENGINES, type EmbedEngine, type EngineName } from './engines.js';

export interface EncodeFileOptions {
  /** Model folder (saveModelFolder / sentence-transformers / Hugging Face layout). */
  model: string;
  /** .arrow/.feather/.ipc (Arrow IPC) or .jsonl/.ndjson. */
  input: string;
  /** Arrow IPC file to write (temp file + rename). */
  output: string;
  /** Default: 'onnx' when `<model>/onnx/model.onnx` exists, else 'tfjs' (which uses the current tfjs backend). */
  engine?: EngineName;
  /** Text column / JSON field (default 'anchor'). */
  column?: string;
  /** Texts per forward pass (default 64). */
  batchSize?: number;
  /** Tokens per text, specials included (default: the folder's max_seq_length). */
  maxLength?: number;
  /** Prepend the folder's prompt of this name (config_sentence_transformers.json), e.g. 'query'. */
  promptName?: string;
  /** Prepend this literal text (overrides promptName). */
  prompt?: string;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** The task (expert) of a task-routed (MoE) model; required for one, refused for a dense model. */
  task?: string;
  /** Called after each batch with rows done and the total (the input is counted first). */
  onProgress?: (done: number, total: number) => void;
  /** Called once the model is loaded, before the first batch. */
  onStart?: (info: { engine: EngineName; rows: number; dim: number; maxLength: number; idKind: IdKind }) => void;
}

export interface EncodeFileResult {
  output: string;
  rows: number;
  dim: number;
  engine: EngineName;
  idKind: IdKind;
  maxLength: number;
  seconds: number;
}

/** Rows read, sorted and written together, in batches. */
const WINDOW_BATCHES = 16;

function positiveInt(value: number, where: string): number {
  if (!Number.isInteger(value) || value < 1) throw userError(where, undefined, `must be a positive integer, got ${value}`);
  return value;
}

export async function encodeFile(opts: EncodeFileOptions): Promise<EncodeFileResult> {
  const started = Date.now();
  const batchSize = positiveInt(opts.batchSize ?? 64, '--batch-size');
  const column = opts.column ?? 'anchor';
  inputKind(opts.input); // unknown extension: fail before anything else
  if (resolve(opts.input) === resolve(opts.output)) throw userError(opts.output, undefined, 'output would overwrite the input');
  if (opts.engine !== undefined && !(ENGINES as readonly string[]).includes(opts.engine)) {
    throw userError('--engine', undefined, `unknown engine ${JSON.stringify(opts.engine)}; valid: ${ENGINES.join(', ')}`);
  }

  const total = await countInputRows(opts.input); // also validates the file before the model loads
  const folder = await readModelFolder(opts.model);
  resolveTask(folder.config.moe, opts.task, '--task'); // before anything loads
  const limit = maxSequenceLength(folder.config);
  const maxLength = opts.maxLength ?? folder.maxLength;
  if (!Number.isInteger(maxLength) || maxLength > limit) {
    throw userError('--max-length', undefined, `must be an integer of at most ${limit} (the model's positions), got ${maxLength}`);
  }
  let prefix = '';
  if (opts.prompt !== undefined) prefix = opts.prompt;
  else if (opts.promptName !== undefined) {
    const names = Object.keys(folder.prompts);
    if (!(opts.promptName in folder.prompts)) {
      throw userError(join(opts.model, 'config_sentence_transformers.json'), 'prompts', `no prompt named ${JSON.stringify(opts.promptName)}; the model has: ${names.length ? names.map((n) => JSON.stringify(n)).join(', ') : '(none)'}`);
    }
    prefix = folder.prompts[opts.promptName];
  }

  const onnxPath = join(opts.model, 'onnx', 'model.onnx');
  const engineName: EngineName = opts.engine ?? (existsSync(onnxPath) ? 'onnx' : 'tfjs');
  if (engineName === 'onnx' && folder.config.moe) {
    throw userError('--engine', undefined, 'onnx runs plain BERT graphs; for a task-routed model use --engine tfjs, or `contrastive export --task <task> --output <dir>` and encode with that folder');
  }
  if (engineName === 'onnx' && !existsSync(onnxPath)) {
    throw userError(onnxPath, undefined, 'not found; write it with `contrastive export --model <folder>` or use --engine tfjs');
  }
  const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
  tokenizer.encodeOne('', maxLength); // maxLength too small for the special tokens: one clear error now
  const engine: EmbedEngine = engineName === 'onnx' ? await createOnnxEngine(folder, onnxPath, { threads: opts.threads }) : await createTfjsEngine(folder, { task: opts.task });

  let writer: EmbeddingFileWriter | undefined;
  let idKind: IdKind = 'index';
  let done = 0;
  try {
    const dim = engine.dim;
    const chunks = readTextChunks({ path: opts.input, column, chunkRows: batchSize * WINDOW_BATCHES, onIdKind: (k) => (idKind = k) });
    const metadata = {
      'contrastive.model': opts.model, 'contrastive.engine': engineName, 'contrastive.pooling': folder.config.pooling,
      'contrastive.normalize': String(folder.config.normalize), 'contrastive.max_length': String(maxLength), 'contrastive.column': column,
      ...(prefix ? { 'contrastive.prompt': prefix } : {}),
    };
    const open = async (): Promise<EmbeddingFileWriter> => {
      const w = await EmbeddingFileWriter.create({ path: opts.output, idKind, dim, metadata });
      opts.onStart?.({ engine: engineName, rows: total, dim, maxLength, idKind });
      return w;
    };
    for await (const chunk of chunks) {
      writer ??= await open(); // after the first chunk: the id kind is known
      const n = chunk.texts.length;
      const texts = prefix ? chunk.texts.map((t) => prefix + t) : chunk.texts;
      const order = texts.map((t, i) => [t.length, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, i]) => i);
      const out = new Float32Array(n * dim); // [n, dim] in input order
      for (let start = 0; start < n; start += batchSize) {
        const idx = order.slice(start, start + batchSize);
        const emb = await engine.embed(tokenizer.encode(idx.map((i) => texts[i]), { maxLength })); // [b, dim]
        idx.forEach((row, j) => out.set(emb.subarray(j * dim, (j + 1) * dim), row * dim));
        done += idx.length;
        opts.onProgress?.(done, total);
      }
      writer.write(chunk.ids, out);
    }
    writer ??= await open(); // empty input: a valid file with no rows
    await writer.commit();
    return { output: opts.output, rows: done, dim, engine: engineName, idKind, maxLength, seconds: (Date.now() - started) / 1000 };
  } catch (err) {
    await writer?.abort();
    throw err;
  } finally {
    await engine.dispose();
  }
}
