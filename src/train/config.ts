/**
 * A training recipe (configs/*.json): plain data, validated with errors that name the file and key
 * and list valid values. Relative paths are resolved against the current working directory (run
 * the CLI from the project root, as the README does).
 */
import { readFileSync } from 'node:fs';
import { userError } from '../util/errors.js';

export const LOSSES = ['infonce'] as const;
export type LossName = (typeof LOSSES)[number];

export interface LossConfig {
  name: LossName;
  /** 1/temperature; sentence-transformers' MNRL default 20. */
  scale: number;
  /** Average anchor→positive and positive→anchor (MultipleNegativesSymmetricRankingLoss). */
  symmetric: boolean;
}

export interface DataConfig {
  /** Arrow IPC file with `anchor`, `positive` [, `negative`] columns (see `contrastive prepare`). */
  train: string;
  /** Optional Arrow file evaluated (retrieval) at the end and every `train.evalEvery` steps. */
  eval?: string;
  /** Tokens per text, special tokens included; longer texts are truncated. */
  maxLength: number;
  /** Records held in the seeded shuffle buffer (the whole file when it is larger than the file). */
  shuffleBuffer: number;
}

export interface OptimConfig {
  batchSize: number;
  /** Passes over the training file; ignored when `maxSteps` > 0. */
  epochs: number;
  maxSteps: number;
  lr: number;
  warmupRatio: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Save `checkpoint-<step>/` every N steps (0: only the final model). */
  checkpointEvery: number;
  /** Run retrieval eval on `data.eval` every N steps (0: only at the end). */
  evalEvery: number;
}

export interface TrainConfig {
  name: string;
  seed: number;
  tokenizer: string;
  /** The `model` section, validated against the tokenizer in the trainer (see model/config.ts). */
  model: Record<string, unknown>;
  data: DataConfig;
  loss: LossConfig;
  train: OptimConfig;
}

const DATA_DEFAULTS: Omit<DataConfig, 'train'> = { maxLength: 128, shuffleBuffer: 10000 };
const LOSS_DEFAULTS: LossConfig = { name: 'infonce', scale: 20, symmetric: false };
const TRAIN_DEFAULTS: OptimConfig = {
  batchSize: 32,
  epochs: 1,
  maxSteps: 0,
  lr: 5e-5,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1.0,
  checkpointEvery: 0,
  evalEvery: 0,
};
const TOP_KEYS = ['name', 'seed', 'tokenizer', 'model', 'data', 'loss', 'train'];

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
  checkKeys(top, TOP_KEYS, where, '');

  const dataRaw = { ...DATA_DEFAULTS, ...section(top, 'data', where) };
  checkKeys(dataRaw, ['train', 'eval', 'maxLength', 'shuffleBuffer'], where, 'data.');
  const data: DataConfig = {
    train: string(dataRaw, 'train', where, 'data.train'),
    eval: dataRaw.eval === undefined ? undefined : string(dataRaw, 'eval', where, 'data.eval'),
    maxLength: number(dataRaw, 'maxLength', where, 'data.maxLength', { int: true, min: 2 }),
    shuffleBuffer: number(dataRaw, 'shuffleBuffer', where, 'data.shuffleBuffer', { int: true, min: 1 }),
  };

  const lossRaw = { ...LOSS_DEFAULTS, ...section(top, 'loss', where) };
  checkKeys(lossRaw, Object.keys(LOSS_DEFAULTS), where, 'loss.');
  if (!(LOSSES as readonly unknown[]).includes(lossRaw.name)) {
    throw userError(where, 'loss.name', `unknown loss ${JSON.stringify(lossRaw.name)}; valid: ${LOSSES.join(', ')}`);
  }
  if (typeof lossRaw.symmetric !== 'boolean') throw userError(where, 'loss.symmetric', 'must be true or false');
  const loss: LossConfig = {
    name: lossRaw.name as LossName,
    scale: number(lossRaw, 'scale', where, 'loss.scale', { min: 0 }),
    symmetric: lossRaw.symmetric,
  };

  const trainRaw = { ...TRAIN_DEFAULTS, ...section(top, 'train', where) };
  checkKeys(trainRaw, Object.keys(TRAIN_DEFAULTS), where, 'train.');
  const train: OptimConfig = {
    batchSize: number(trainRaw, 'batchSize', where, 'train.batchSize', { int: true, min: 2 }),
    epochs: number(trainRaw, 'epochs', where, 'train.epochs', { min: 0 }),
    maxSteps: number(trainRaw, 'maxSteps', where, 'train.maxSteps', { int: true, min: 0 }),
    lr: number(trainRaw, 'lr', where, 'train.lr', { min: 0 }),
    warmupRatio: number(trainRaw, 'warmupRatio', where, 'train.warmupRatio', { min: 0, max: 1 }),
    weightDecay: number(trainRaw, 'weightDecay', where, 'train.weightDecay', { min: 0 }),
    maxGradNorm: number(trainRaw, 'maxGradNorm', where, 'train.maxGradNorm', { min: 0 }),
    checkpointEvery: number(trainRaw, 'checkpointEvery', where, 'train.checkpointEvery', { int: true, min: 0 }),
    evalEvery: number(trainRaw, 'evalEvery', where, 'train.evalEvery', { int: true, min: 0 }),
  };
  if (train.maxSteps === 0 && train.epochs <= 0) throw userError(where, 'train.epochs', 'set epochs > 0 or maxSteps > 0');

  return {
    name: top.name === undefined ? 'model' : string(top, 'name', where, 'name'),
    seed: top.seed === undefined ? 42 : number(top, 'seed', where, 'seed', { int: true, min: 0 }),
    tokenizer: string(top, 'tokenizer', where, 'tokenizer'),
    model: section(top, 'model', where),
    data,
    loss,
    train,
  };
}

/** Read and validate a recipe file; unreadable or non-JSON files are one-line errors naming the file. */
export function loadTrainConfig(path: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw userError(path, undefined, `cannot read config (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw userError(path, undefined, `not valid JSON: ${(err as Error).message}`);
  }
  return validateTrainConfig(raw, path);
}
