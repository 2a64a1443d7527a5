/**
 * `mergeModels`: LM-Cocktail's model merge (ANCHORS.md §1c) for model folders. Every floating-point
 * tensor of the result is Σ_m w_m·θ_m, accumulated in float64 and written in the inputs' dtype;
 * integer tensors are copied from the first model. Weights are given, or automatic:
 * softmax(−loss_m / T) from each model's InfoNCE loss on example data, computed with each model's
 * own pooling and saved prompts (LM-Cocktail hard-codes CLS pooling; this does not).
 *
 * Memory: the folders' model.safetensors are read one tensor at a time (header first, bytes on
 * demand) and the result is written the same way, so merging N models holds one tensor per model and
 * one float64 accumulator, never N models. Automatic weights load one model at a time.
 *
 * The output is a complete sentence-transformers folder with the first model's tokenizer, prompts and
 * max_seq_length, and a model card listing the sources and weights; it is written atomically.
 */
import { resolve } from 'node:path';
import { stat, readdir } from 'node:fs/promises';
import { POOLINGS, type ModelConfig, type Pooling } from '../model/config.js';
import { loadEncoder, openWeights, readModelFolder, savedPrompts, type ModelFolder } from '../folder/read.js';
import { writeModelFolder, type WeightSource } from '../folder/write.js';
import type { SafetensorsFile, TensorData } from '../folder/safetensors.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { writeDirAtomic } from '../util/fs.js';
import { userError } from '../util/errors.js';
import { checkSameArchitecture, checkSameTensors, checkSameTokenizer } from './compatible.js';
import { readExamples } from './examples.js';
import { checkWeights, exampleLoss, negativesPerExample, softmaxWeights } from './weights.js';

export interface MergeOptions {
  /** Model folders, two or more; the first gives the tokenizer, prompts and max_seq_length. */
  models: string[];
  /** Folder to write (atomically). */
  output: string;
  /** One weight per model, summing to 1 (±1e-3). Default: uniform, or automatic with `exampleData`. */
  weights?: number[];
  /** Examples for automatic weights: LM-Cocktail JSONL ({"query", "pos": [...], "neg": [...]}) or a pairs Arrow file. */
  exampleData?: string;
  /** Use only the first N examples of `exampleData` (LM-Cocktail suggests a few per task). */
  maxExamples?: number;
  /** Softmax temperature of the automatic weights (LM-Cocktail's default 5). */
  temperature?: number;
  /** Examples per batch for the example loss (LM-Cocktail's default 2). */
  batchSize?: number;
  /** Hard negatives per example for the example loss (LM-Cocktail's neg_number, 7). */
  negatives?: number;
  /** The result's pooling / normalization, required when the models differ in them. */
  pooling?: Pooling;
  normalize?: boolean;
  /** Replace an existing output folder. */
  overwrite?: boolean;
  /** Called once per model when automatic weights are computed. */
  onLoss?: (info: { model: string; loss: number; index: number }) => void;
}

export interface MergeResult {
  output: string;
  models: string[];
  weights: number[];
  /** Example losses (automatic weights only). */
  losses?: number[];
  mode: 'given' | 'uniform' | 'automatic';
  pooling: Pooling;
  normalize: boolean;
  /** Tensors merged (float) and copied (integer). */
  tensors: { merged: number; copied: number };
}

export const MERGE_DEFAULTS = { temperature: 5, batchSize: 2, negatives: 7 } as const;
/** LM-Cocktail scores q·p / 0.05. */
const EXAMPLE_SCALE = 20;

const isFloat = (dtype: string) => dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';

/** The result's head: the models' common pooling/normalize, or what the caller says; a difference nobody resolved is an error. */
function resolveHead(folders: ModelFolder[], opts: MergeOptions): Pick<ModelConfig, 'pooling' | 'normalize'> {
  if (opts.pooling !== undefined && !POOLINGS.includes(opts.pooling)) throw userError('--pooling', undefined, `unknown pooling ${JSON.stringify(opts.pooling)}; valid: ${POOLINGS.join(', ')}`);
  const head = (key: 'pooling' | 'normalize', given: Pooling | boolean | undefined, flag: string) => {
    if (given !== undefined) return given;
    const values = folders.map((f) => f.config[key]);
    const other = values.findIndex((v) => v !== values[0]);
    if (other >= 0) {
      throw userError(folders[other].dir, key, `is ${String(values[other])} but ${folders[0].dir} has ${String(values[0])}; say which the merged model uses with ${flag}`);
    }
    return values[0];
  };
  return { pooling: head('pooling', opts.pooling, '--pooling mean|cls') as Pooling, normalize: head('normalize', opts.normalize, '--normalize / --no-normalize') as boolean };
}

async function checkOutput(output: string, models: string[], overwrite: boolean): Promise<void> {
  const target = resolve(output);
  const same = models.find((m) => resolve(m) === target);
  if (same) throw userError(output, undefined, `is one of the models being merged (${same}); write the merge to another folder`);
  const info = await stat(output).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw userError(output, undefined, 'exists and is not a folder');
  if (!overwrite && (await readdir(output)).length > 0) throw userError(output, undefined, 'already exists and is not empty; pass --overwrite to replace it');
}

/** Automatic weights: each model's example loss (one model in memory at a time), then softmax(−loss/T). */
async function automaticWeights(folders: ModelFolder[], opts: MergeOptions): Promise<{ weights: number[]; losses: number[] }> {
  const path = opts.exampleData!;
  const limit = opts.maxExamples ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1)) throw userError('--max-examples', undefined, `must be a positive integer, got ${limit}`);
  const examples = await readExamples(path, limit);
  const batchSize = opts.batchSize ?? MERGE_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw userError('--batch-size', undefined, `must be a positive integer, got ${batchSize}`);
  const negatives = negativesPerExample(examples, opts.negatives ?? MERGE_DEFAULTS.negatives);
  const temperature = opts.temperature ?? MERGE_DEFAULTS.temperature;
  softmaxWeights([0], temperature); // validate before the slow part
  const losses: number[] = [];
  for (const [index, folder] of folders.entries()) {
    const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
    const encoder = await loadEncoder(folder);
    try {
      const prompts = savedPrompts(folder);
      const loss = exampleLoss(encoder, tokenizer, examples, {
        batchSize, negatives, maxLength: folder.maxLength, queryPrompt: prompts.query, documentPrompt: prompts.document, scale: EXAMPLE_SCALE,
      });
      if (!Number.isFinite(loss)) throw userError(folder.dir, undefined, `example loss is ${loss} on ${path}; the model's weights are broken`);
      losses.push(loss);
      opts.onLoss?.({ model: folder.dir, loss, index });
    } finally {
      encoder.dispose();
    }
  }
  return { weights: softmaxWeights(losses, temperature), losses };
}

/** Values per slice: a merge holds one slice per model plus a float64 accumulator (≈ 4·N + 12 bytes × SLICE). */
export const MERGE_SLICE = 1 << 16;

/**
 * The merged tensors, computed slice by slice from the open files in the result's file order:
 * Σ_m w_m·θ_m in float64 for float tensors (models with w = 0 are skipped, so 0·NaN cannot poison the
 * sum; the first term is assigned, not added to 0, so w = 1 keeps −0 and reproduces a model bit for
 * bit), the first model's values for integer tensors.
 */
function mergedWeights(files: SafetensorsFile[], paths: string[], weights: number[], counts: MergeResult['tensors']): WeightSource {
  const specs = new Map(files[0].specs.map((s) => [s.name, s]));
  async function* slices(name: string): AsyncGenerator<TensorData> {
    const spec = specs.get(name)!;
    const total = spec.shape.reduce((a, b) => a * b, 1);
    const float = isFloat(spec.dtype);
    for (let start = 0; start < total; start += MERGE_SLICE) {
      const count = Math.min(MERGE_SLICE, total - start);
      if (!float) {
        yield await files[0].readSlice(name, start, count); // integer tensors (e.g. position_ids buffers) are copied
        continue;
      }
      const acc = new Float64Array(count);
      let started = false;
      for (let m = 0; m < files.length; m++) {
        if (weights[m] === 0) continue;
        const data = (await files[m].readSlice(name, start, count)) as Float32Array;
        const bad = data.findIndex((x) => !Number.isFinite(x)); // as loadEncoder refuses them: a NaN would spread into the merged model
        if (bad >= 0) throw userError(paths[m], name, `holds ${data[bad]} at index ${start + bad}: the weights are broken (a run that diverged?); refusing to merge them`);
        const w = weights[m];
        if (started) for (let i = 0; i < count; i++) acc[i] += w * data[i];
        else for (let i = 0; i < count; i++) acc[i] = w * data[i];
        started = true;
      }
      yield Float32Array.from(acc);
    }
  }
  return {
    specs: files[0].specs,
    tensor(name) {
      if (isFloat(specs.get(name)!.dtype)) counts.merged++;
      else counts.copied++;
      return slices(name);
    },
  };
}

/** Merge model folders into `opts.output`. UserErrors name the first mismatch, bad weights or bad files. */
export async function mergeModels(opts: MergeOptions): Promise<MergeResult> {
  if (opts.models.length < 2) throw userError('--models', undefined, `give two or more model folders to merge, got ${opts.models.length}`);
  if (opts.weights !== undefined && opts.exampleData !== undefined) throw userError('--weights', undefined, 'give either --weights or --example-data (automatic weights), not both');
  if (opts.weights !== undefined) checkWeights(opts.weights, opts.models.length);
  await checkOutput(opts.output, opts.models, opts.overwrite ?? false);

  // Every check before the slow part: folders, architecture, tokenizer, head, tensors.
  const folders: ModelFolder[] = [];
  for (const dir of opts.models) folders.push(await readModelFolder(dir));
  for (const f of folders.slice(1)) {
    checkSameArchitecture(folders[0], f);
    await checkSameTokenizer(folders[0], f);
  }
  const head = resolveHead(folders, opts);
  const files: SafetensorsFile[] = [];
  try {
    for (const f of folders) files.push(await openWeights(f));
    for (const [m, file] of files.entries()) {
      if (m > 0) checkSameTensors({ dir: folders[0].dir, specs: files[0].specs }, { dir: folders[m].dir, specs: file.specs });
    }

    let weights: number[];
    let losses: number[] | undefined;
    let mode: MergeResult['mode'];
    if (opts.weights) [weights, mode] = [opts.weights, 'given'];
    else if (opts.exampleData) [{ weights, losses }, mode] = [await automaticWeights(folders, opts), 'automatic'];
    else [weights, mode] = [folders.map(() => 1 / folders.length), 'uniform'];

    const counts = { merged: 0, copied: 0 };
    const first = folders[0];
    const config: ModelConfig = { ...first.config, ...head };
    await writeDirAtomic(opts.output, (tmp) =>
      writeModelFolder(tmp, {
        config,
        weights: mergedWeights(files, folders.map((f) => f.weightsPath), weights, counts),
        tokenizerPath: first.tokenizerPath,
        maxLength: first.maxLength,
        prompts: first.prompts,
        card: {
          name: 'merged sentence encoder (LM-Cocktail)',
          merge: {
            method: mode === 'automatic' ? `automatic weights, softmax(−loss/${opts.temperature ?? MERGE_DEFAULTS.temperature}) of each model's InfoNCE loss on ${opts.exampleData}` : mode === 'given' ? 'weights given' : 'uniform weights',
            models: folders.map((f, m) => ({ path: f.dir, weight: weights[m], ...(losses ? { loss: losses[m] } : {}) })),
          },
        },
      }),
    );
    return { output: opts.output, models: opts.models, weights, losses, mode, ...head, tensors: counts };
  } finally {
    for (const f of files) await f.close();
  }
}
