/**
 * Training checkpoints: a model folder (folder/write.ts) plus what an exact resume needs:
 * trainer_state.json (step, epoch, position in the epoch), optimizer.safetensors (AdamW moments)
 * and training_config.json (the recipe). Written to a temp directory and renamed into place.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SentenceEncoder } from '../model/encoder.js';
import { encoderWeights, writeModelFolder } from '../folder/write.js';
import { loadEncoder, readModelFolder } from '../folder/read.js';
import { readSafetensors, writeSafetensors } from '../folder/safetensors.js';
import type { AdamW } from './adamw.js';
import type { TrainConfig } from './config.js';
import type { ModelCardInfo } from '../folder/model-card.js';
import { writeDirAtomic, writeJson } from '../util/fs.js';
import { UserError, userError } from '../util/errors.js';

export interface TrainerState {
  /** Optimizer updates done. */
  step: number;
  totalSteps: number;
  epoch: number;
  /** Batches of `epoch` already consumed. */
  batchInEpoch: number;
  seed: number;
}

export interface SaveCheckpointOptions {
  dir: string;
  encoder: SentenceEncoder;
  optimizer: AdamW;
  tokenizerPath: string;
  config: TrainConfig;
  state: TrainerState;
  /** sentence-transformers prompt name -> text, as config_sentence_transformers.json stores them. */
  prompts?: Record<string, string>;
  card?: ModelCardInfo;
  extra?: Record<string, unknown>;
}

export async function saveCheckpoint(opts: SaveCheckpointOptions): Promise<void> {
  await writeDirAtomic(opts.dir, async (tmp) => {
    await writeModelFolder(tmp, {
      config: opts.encoder.config,
      weights: encoderWeights(opts.encoder),
      tokenizerPath: opts.tokenizerPath,
      maxLength: opts.config.data.maxLength,
      prompts: opts.prompts,
      card: opts.card,
    });
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), await opts.optimizer.stateTensors(), { step: String(opts.optimizer.step) });
    await writeJson(join(tmp, 'trainer_state.json'), { ...opts.state, ...opts.extra });
    await writeJson(join(tmp, 'training_config.json'), opts.config);
  });
}

/** A `checkpoint-<step>/` (or `final/`) folder; `problem` says why it cannot be resumed from. */
export interface CheckpointEntry {
  path: string;
  step: number;
  problem?: string;
}

/** The files a resumable checkpoint holds (model folder + trainer state). */
const CHECKPOINT_FILES = ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'training_config.json'];

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw userError(path, undefined, err.code === 'ENOENT' ? 'file not found' : `cannot read (${err.code ?? err.message})`);
  });
  try {
    return JSON.parse(text);
  } catch (err) {
    throw userError(path, undefined, `damaged: not valid JSON (${(err as Error).message})`);
  }
}

async function checkEntry(path: string, name: string): Promise<CheckpointEntry> {
  const fromName = name === 'final' ? Number.MAX_SAFE_INTEGER : Number(name.slice('checkpoint-'.length));
  for (const f of CHECKPOINT_FILES) {
    if (!(await stat(join(path, f)).then((st) => st.isFile(), () => false))) return { path, step: fromName, problem: `lacks ${f}` };
  }
  try {
    const state = (await readJson(join(path, 'trainer_state.json'))) as TrainerState;
    if (!Number.isInteger(state?.step)) return { path, step: fromName, problem: 'trainer_state.json has no step' };
    await readJson(join(path, 'training_config.json'));
    return { path, step: state.step };
  } catch (err) {
    if (err instanceof UserError) return { path, step: fromName, problem: err.message };
    throw err;
  }
}

/** `checkpoint-<step>/` folders (and `final/`) under `output`, by step; incomplete or damaged ones carry a `problem`. */
export async function listCheckpoints(output: string): Promise<CheckpointEntry[]> {
  const names = await readdir(output).catch(() => [] as string[]);
  const found: CheckpointEntry[] = [];
  for (const name of names) {
    if (/^checkpoint-\d+$/.test(name) || name === 'final') found.push(await checkEntry(join(output, name), name));
  }
  return found.sort((a, b) => a.step - b.step);
}

/** The latest checkpoint that can be resumed from, and the newer ones that cannot (said to the user, then skipped). */
export async function latestCheckpoint(output: string): Promise<{ latest?: CheckpointEntry; skipped: CheckpointEntry[] }> {
  const all = await listCheckpoints(output);
  const usable = all.filter((c) => !c.problem);
  const latest = usable.at(-1);
  return { latest, skipped: all.filter((c) => c.problem && (!latest || c.step > latest.step)) };
}

/** The eval metric a checkpoint is ranked by: nDCG@10 for retrieval, Spearman for STS. */
export function primaryMetric(metrics: Record<string, number>): { name: string; value: number } | undefined {
  for (const name of ['ndcg@10', 'spearman']) if (typeof metrics[name] === 'number' && Number.isFinite(metrics[name])) return { name, value: metrics[name] };
  return undefined;
}

/**
 * HF Trainer's save_total_limit: keep the last `keep` complete `checkpoint-<step>/` folders and the
 * one with the best eval metric recorded in its trainer_state.json; delete the rest. Returns what it deleted.
 */
export async function pruneCheckpoints(output: string, keep: number): Promise<string[]> {
  if (keep <= 0) return [];
  const all = (await listCheckpoints(output)).filter((c) => !c.problem && /checkpoint-\d+$/.test(c.path));
  const kept = new Set(all.slice(-keep).map((c) => c.path));
  let best: { path: string; value: number } | undefined;
  for (const c of all) {
    const state = JSON.parse(await readFile(join(c.path, 'trainer_state.json'), 'utf8')) as { eval_metric?: number };
    if (typeof state.eval_metric === 'number' && (!best || state.eval_metric > best.value)) best = { path: c.path, value: state.eval_metric };
  }
  if (best) kept.add(best.path);
  const removed = all.filter((c) => !kept.has(c.path)).map((c) => c.path);
  for (const path of removed) await rm(path, { recursive: true, force: true });
  return removed;
}

/** Whether `output` holds results a new run would destroy (a checkpoint or a final model; a bare metrics.jsonl is not). */
export async function hasRun(output: string): Promise<boolean> {
  const names = await readdir(output).catch(() => [] as string[]);
  return names.some((n) => /^checkpoint-\d+$/.test(n) || n === 'final');
}

export interface LoadedCheckpoint {
  encoder: SentenceEncoder;
  state: TrainerState;
  optimizerTensors: Awaited<ReturnType<typeof readSafetensors>>['tensors'];
  optimizerStep: number;
  config: unknown;
}

export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw userError(dir, undefined, 'checkpoint folder not found');
  const state = (await readJson(join(dir, 'trainer_state.json'))) as TrainerState;
  const config = await readJson(join(dir, 'training_config.json'));
  const opt = await readSafetensors(join(dir, 'optimizer.safetensors'));
  const encoder = await loadEncoder(await readModelFolder(dir, { requireTokenizer: false }));
  return { encoder, state, optimizerTensors: opt.tensors, optimizerStep: Number(opt.metadata.step ?? state.step), config };
}
