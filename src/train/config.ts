/**
 * A training recipe (configs/*.json): plain data, validated with errors that name the file and key
 * and list valid values. Relative paths are resolved against the current working directory (run
 * the CLI from the project root, as the README does).
 */
import { userError } from '../util/errors.js';
import { readJsonConfig } from '../util/fs.js';
import { validateLossConfig, LOSS_SPECS, type LossConfig } from '../losses/registry.js';

export type { LossConfig };

export const SAMPLINGS = ['proportional', 'round_robin'] as const;
export type Sampling = (typeof SAMPLINGS)[number];

/** One training source: an Arrow file, the loss it trains with, and how its columns map to roles. */
export interface DatasetConfig {
  name: string;
  /** Arrow file: `pairs` (anchor, positive, negative…) or `labelled` (text1, text2, score). */
  path: string;
  loss: LossConfig;
  /** role -> Arrow column, for files whose columns have other names (default: the role's name). */
  columns: Record<string, string>;
  /** role -> text prepended before tokenizing, e.g. {"anchor": "query: ", "positive": "passage: "}. */
  prompts: Record<string, string>;
  /** Never put the same text twice in a batch (no false in-batch negatives). Default: on for losses with in-batch negatives. */
  noDuplicates: boolean;
  /** The task this dataset trains, for a task-routed (MoE) model: its batches run `model.moe.tasks[task]`'s expert. */
  task?: string;
}

export interface DataConfig {
  /** Optional Arrow (or STS CSV) file evaluated at the end and every `train.evalEvery` steps. */
  eval?: string;
  /** The task (expert) `eval` runs with, for a task-routed (MoE) model. */
  evalTask?: string;
  /** Tokens per text, special tokens included; longer texts are truncated. */
  maxLength: number;
  /** Records held in each dataset's seeded shuffle buffer. */
  shuffleBuffer: number;
  /** How batches of several datasets interleave (each batch comes from one dataset). */
  sampling: Sampling;
}

export interface OptimConfig {
  /** Examples per step: the contrastive batch (in-batch negatives come from it). */
  batchSize: number;
  /** GradCache: embed the batch in chunks of this many rows, so memory is bounded by one chunk (0: off). */
  miniBatchSize: number;
  /** Passes over the data; ignored when `maxSteps` > 0. */
  epochs: number;
  maxSteps: number;
  lr: number;
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Save `checkpoint-<step>/` every N steps (0: only the final model). */
  checkpointEvery: number;
  /** Run eval on `data.eval` every N steps (0: only at the end). */
  evalEvery: number;
  /** Steps in a row whose loss or gradient is NaN/Inf (their updates are skipped) before the run stops. */
  maxBadSteps: number;
}

export interface TrainConfig {
  name: string;
  seed: number;
  /** A tokenizer.json; optional with `model.from` (the folder's own tokenizer is used). */
  tokenizer?: string;
  /** The `model` section, validated against the tokenizer in the trainer (see model/config.ts), or `{ from: "<HF folder>", ... }`. */
  model: Record<string, unknown>;
  datasets: DatasetConfig[];
  data: DataConfig;
  train: OptimConfig;
}

const DATA_DEFAULTS: DataConfig = { maxLength: 128, shuffleBuffer: 10000, sampling: 'proportional' };
const TRAIN_DEFAULTS: OptimConfig = {
  batchSize: 32,
  miniBatchSize: 0,
  epochs: 1,
  maxSteps: 0,
  lr: 5e-5,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  checkpointEvery: 0,
  evalEvery: 0,
  maxBadSteps: 5,
};
const TOP_KEYS = ['name', 'seed', 'tokenizer', 'model', 'datasets', 'data', 'loss', 'train'];
const DATASET_KEYS = ['name', 'path', 'loss', 'columns', 'prompts', 'noDuplicates', 'task'];
const ROLE = /^(anchor|positive|negative(_[2-9]\d*)?|text1|text2|score)$/;

type Section = Record<string, unknown>;

function section(raw: Section, key: string, where: string): Section {
  const v = raw[key] ?? {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw userError(where, key, 'must be an object');
  return v as Section;
}

function checkKeys(obj: Section, valid: string[], where: string, prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!valid.includes(key)) {
      throw userError(where, `${prefix}${key}`, `unknown key; valid keys: ${valid.join(', ')}`);
    }
  }
}

function number(obj: Section, key: string, where: string, path: string, opts: { int?: boolean; min?: number; max?: number } = {}): number {
  const v = obj[key];
  const kind = opts.int ? 'an integer' : 'a number';
  if (typeof v !== 'number' || !Number.isFinite(v) || (opts.int && !Number.isInteger(v))) {
    throw userError(where, path, `must be ${kind}, got ${JSON.stringify(v)}`);
  }
  if (opts.min !== undefined && v < opts.min) throw userError(where, path, `must be ≥ ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw userError(where, path, `must be ≤ ${opts.max}, got ${v}`);
  return v;
}

function string(obj: Section, key: string, where: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v === '') throw userError(where, path, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

export function validateTrainConfig(raw: unknown, where: string): TrainConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw userError(where, undefined, 'a config must be a JSON object');
  const top = raw as Section;
  if (top.stages !== undefined) throw userError(where, undefined, `is a pipeline (it has stages); run it with \`contrastive pipeline --config ${where}\``);
  checkKeys(top, TOP_KEYS, where, '');

  const dataRaw = { ...DATA_DEFAULTS, ...section(top, 'data', where) };
  checkKeys(dataRaw, ['train', 'eval', 'evalTask', 'maxLength', 'shuffleBuffer', 'sampling'], where, 'data.');
  if (!(SAMPLINGS as readonly unknown[]).includes(dataRaw.sampling)) {
    throw userError(where, 'data.sampling', `unknown sampling ${JSON.stringify(dataRaw.sampling)}; valid: ${SAMPLINGS.join(', ')}`);
  }
  const data: DataConfig = {
    eval: dataRaw.eval === undefined ? undefined : string(dataRaw, 'eval', where, 'data.eval'),
    ...(dataRaw.evalTask === undefined ? {} : { evalTask: string(dataRaw, 'evalTask', where, 'data.evalTask') }),
    maxLength: number(dataRaw, 'maxLength', where, 'data.maxLength', { int: true, min: 2 }),
    shuffleBuffer: number(dataRaw, 'shuffleBuffer', where, 'data.shuffleBuffer', { int: true, min: 1 }),
    sampling: dataRaw.sampling as Sampling,
  };
  const datasets = validateDatasets(top, dataRaw, where);

  const trainRaw = { ...TRAIN_DEFAULTS, ...section(top, 'train', where) };
  checkKeys(trainRaw, Object.keys(TRAIN_DEFAULTS), where, 'train.');
  const train: OptimConfig = {
    batchSize: number(trainRaw, 'batchSize', where, 'train.batchSize', { int: true, min: 2 }),
    miniBatchSize: number(trainRaw, 'miniBatchSize', where, 'train.miniBatchSize', { int: true, min: 0 }),
    epochs: number(trainRaw, 'epochs', where, 'train.epochs', { min: 0 }),
    maxSteps: number(trainRaw, 'maxSteps', where, 'train.maxSteps', { int: true, min: 0 }),
    lr: number(trainRaw, 'lr', where, 'train.lr', { min: 0 }),
    warmupRatio: number(trainRaw, 'warmupRatio', where, 'train.warmupRatio', { min: 0, max: 1 }),
    weightDecay: number(trainRaw, 'weightDecay', where, 'train.weightDecay', { min: 0 }),
    maxGradNorm: number(trainRaw, 'maxGradNorm', where, 'train.maxGradNorm', { min: 0 }),
    checkpointEvery: number(trainRaw, 'checkpointEvery', where, 'train.checkpointEvery', { int: true, min: 0 }),
    evalEvery: number(trainRaw, 'evalEvery', where, 'train.evalEvery', { int: true, min: 0 }),
    maxBadSteps: number(trainRaw, 'maxBadSteps', where, 'train.maxBadSteps', { int: true, min: 0 }),
  };
  if (train.maxSteps === 0 && train.epochs <= 0) throw userError(where, 'train.epochs', 'set epochs > 0 or maxSteps > 0');
  if (train.miniBatchSize > train.batchSize) {
    throw userError(where, 'train.miniBatchSize', `${train.miniBatchSize} is larger than train.batchSize ${train.batchSize}; valid: 1..${train.batchSize} (or 0 for no GradCache)`);
  }

  return {
    name: top.name === undefined ? 'model' : string(top, 'name', where, 'name'),
    seed: top.seed === undefined ? 42 : number(top, 'seed', where, 'seed', { int: true, min: 0 }),
    tokenizer: top.tokenizer === undefined && hasFrom(top) ? undefined : string(top, 'tokenizer', where, 'tokenizer'),
    model: section(top, 'model', where),
    datasets,
    data,
    train,
  };
}

function hasFrom(top: Section): boolean {
  const m = top.model;
  return typeof m === 'object' && m !== null && typeof (m as Section).from === 'string';
}

function stringMap(obj: Section, key: string, where: string, path: string): Record<string, string> {
  const m = section(obj, key, where);
  for (const [role, v] of Object.entries(m)) {
    if (!ROLE.test(role)) throw userError(where, `${path}.${role}`, 'unknown role; valid: anchor, positive, negative, negative_2…, text1, text2, score');
    if (typeof v !== 'string') throw userError(where, `${path}.${role}`, `must be a string, got ${JSON.stringify(v)}`);
  }
  return m as Record<string, string>;
}

/**
 * `datasets: [...]`, or the one-dataset shorthand `data.train` + `loss` (what configs/tiny.json uses).
 */
function validateDatasets(top: Section, dataRaw: Section, where: string): DatasetConfig[] {
  let raw: unknown[];
  if (top.datasets !== undefined) {
    if (dataRaw.train !== undefined || top.loss !== undefined) {
      throw userError(where, 'datasets', 'give either datasets: [...] or data.train with loss, not both');
    }
    if (!Array.isArray(top.datasets) || top.datasets.length === 0) throw userError(where, 'datasets', 'must be a non-empty array');
    raw = top.datasets;
  } else {
    raw = [{ name: 'train', path: dataRaw.train, loss: top.loss ?? {} }];
    if (typeof dataRaw.train !== 'string' || dataRaw.train === '') {
      throw userError(where, 'data.train', `must be a non-empty string (or use datasets: [...]), got ${JSON.stringify(dataRaw.train)}`);
    }
  }
  const names = new Set<string>();
  return raw.map((entry, i) => {
    const path = `datasets[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw userError(where, path, 'must be an object');
    const d = entry as Section;
    checkKeys(d, DATASET_KEYS, where, `${path}.`);
    const name = d.name === undefined ? `dataset${i}` : string(d, 'name', where, `${path}.name`);
    if (names.has(name)) throw userError(where, `${path}.name`, `duplicate dataset name ${JSON.stringify(name)}`);
    names.add(name);
    const loss = validateLossConfig(d.loss ?? {}, where, top.datasets ? `${path}.loss` : 'loss');
    if (d.noDuplicates !== undefined && typeof d.noDuplicates !== 'boolean') throw userError(where, `${path}.noDuplicates`, 'must be true or false');
    return {
      name,
      path: string(d, 'path', where, `${path}.path`),
      loss,
      columns: stringMap(d, 'columns', where, `${path}.columns`),
      prompts: stringMap(d, 'prompts', where, `${path}.prompts`),
      noDuplicates: (d.noDuplicates as boolean | undefined) ?? LOSS_SPECS[loss.name].inBatchNegatives,
      ...(d.task === undefined ? {} : { task: string(d, 'task', where, `${path}.task`) }),
    };
  });
}

/** Read and validate a recipe file; unreadable or non-JSON files are one-line errors naming the file. */
export function loadTrainConfig(path: string): TrainConfig {
  return validateTrainConfig(readJsonConfig(path, 'config'), path);
}
