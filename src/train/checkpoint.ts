/**
 * Training checkpoints: a model folder (folder/write.ts) plus what an exact resume needs:
 * trainer_state.json (step, epoch, position in the epoch), optimizer.safetensors (AdamW moments)
 * and training_config.json (the recipe). Written to a temp directory and renamed into place.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SentenceEncoder } from '../model/encoder.js';
import { encoderWeights, writeModelFolder } from '../folder/write.js';
import { loadEncoder, readModelFolder } from '../folder/read.js';
import { readSafetensors, writeSafetensors } from '../folder/safetensors.js';
import type { AdamW } from './adamw.js';
import type { TrainConfig } from './config.js';
import type { ModelCardInfo } from '../folder/model-card.js';
import { writeDirAtomic, writeJson } from '../util/fs.js';
import { userError } from '../util/errors.js';

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
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), opts.optimizer.stateTensors(), { step: String(opts.optimizer.step) });
    await writeJson(join(tmp, 'trainer_state.json'), { ...opts.state, ...opts.extra });
    await writeJson(join(tmp, 'training_config.json'), opts.config);
  });
}

/** `checkpoint-<step>` folders (and `final`) under `output` that hold a complete trainer state. */
export async function listCheckpoints(output: string): Promise<{ path: string; step: number }[]> {
  const names = await readdir(output).catch(() => [] as string[]);
  const found: { path: string; step: number }[] = [];
  for (const name of names) {
    if (!/^checkpoint-\d+$/.test(name) && name !== 'final') continue;
    const path = join(output, name);
    const state = await readFile(join(path, 'trainer_state.json'), 'utf8').then((t) => JSON.parse(t) as TrainerState, () => null);
    if (state) found.push({ path, step: state.step });
  }
  return found.sort((a, b) => a.step - b.step);
}

export async function hasRun(output: string): Promise<boolean> {
  const names = await readdir(output).catch(() => [] as string[]);
  return names.some((n) => /^checkpoint-\d+$/.test(n) || n === 'final' || n === 'metrics.jsonl');
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
  const statePath = join(dir, 'trainer_state.json');
  const state = JSON.parse(await readFile(statePath, 'utf8')) as TrainerState;
  const encoder = await loadEncoder(await readModelFolder(dir, { requireTokenizer: false }));
  const opt = await readSafetensors(join(dir, 'optimizer.safetensors'));
  const config = JSON.parse(await readFile(join(dir, 'training_config.json'), 'utf8')) as unknown;
  return { encoder, state, optimizerTensors: opt.tensors, optimizerStep: Number(opt.metadata.step ?? state.step), config };
}
