/**
 * The training loop as an async generator of events: `trainIter` does the work and yields
 * start / step / eval / checkpoint / end; `train` drains it; the CLI only renders the events.
 *
 * Repeatability: the model init, data order (seed, epoch) and dropout masks (seed, step) are all
 * functions of the recipe's seed, so a run resumed from `checkpoint-N` continues exactly as the
 * uninterrupted run would have.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import { validateModelConfig, validateModelFrom, maxSequenceLength } from '../model/config.js';
import { expertOf, validateMoe, type MoeConfig } from '../model/moe.js';
import { SentenceEncoder } from '../model/encoder.js';
import { trainableParams } from '../model/params.js';
import * as tf from '@tensorflow/tfjs';
import { TextTokenizer } from '../data/tokenizer.js';
import { AdamW } from './adamw.js';
import { linearWarmupDecay } from './schedule.js';
import { trainStepAsync } from './step.js';
import { tensorBatch, disposeBatch } from './batch.js';
import { resolveDataset, epochBatches, epochLength, type ResolvedDataset } from './datasets.js';
import { saveCheckpoint, latestCheckpoint, loadCheckpoint, hasRun, primaryMetric, pruneCheckpoints, type CheckpointEntry, type TrainerState } from './checkpoint.js';
import { appendText, ensureDir, removeTempSiblings, writeFileAtomic } from '../util/fs.js';
import { evaluateFile, checkEvalFile, type EvalMetrics, type EvalPrompts } from '../eval/evaluate.js';
import { mixSeed } from '../util/rng.js';
import type { ModelCardInfo } from '../folder/model-card.js';
import { loadEncoder, readModelFolder } from '../folder/read.js';
import type { LossConfig } from '../losses/registry.js';
import { userError } from '../util/errors.js';

export interface TrainOptions {
  config: TrainConfig;
  /** Run folder: checkpoint-<step>/, final/, metrics.jsonl. */
  output: string;
  /** Continue from the latest checkpoint in `output`. */
  resume?: boolean;
  /** Start over even if `output` already holds a run. */
  overwrite?: boolean;
  /** Stop after this many steps in this invocation (the schedule still spans the whole run). */
  stopAfter?: number;
  /** The recipe's file, for error messages. */
  configPath?: string;
  /**
   * Stop cleanly when aborted (the CLI aborts on SIGINT/SIGTERM): the step under way finishes, a
   * resumable checkpoint is written and an `interrupted` event ends the run.
   */
  signal?: AbortSignal;
}

export type TrainEvent =
  | {
      type: 'start';
      totalSteps: number;
      startStep: number;
      numParams: number;
      datasets: { name: string; path: string; loss: string; batchesPerEpoch: number }[];
      stepsPerEpoch: number;
      output: string;
      resumedFrom?: string;
      /** What the start did about the run folder's crash leftovers, in words (temp folders removed, checkpoints skipped). */
      notes: string[];
    }
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      epoch: number;
      dataset: string;
      loss: number;
      lr: number;
      gradNorm: number;
      pairsPerSec: number;
      seconds: number;
      /** The loss or gradient norm was NaN/Inf and the update was skipped. */
      skipped: boolean;
    }
  | { type: 'interrupted'; step: number; path: string }
  | { type: 'eval'; step: number; metrics: EvalMetrics }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'end'; step: number; path: string; seconds: number; metrics?: EvalMetrics };

/** "infonce (scale 20, symmetric false)" */
function describeLoss(loss: LossConfig): string {
  const { name, ...opts } = loss;
  const args = Object.entries(opts).map(([k, v]) => `${k} ${v}`).join(', ');
  return args ? `${name} (${args})` : name;
}

/**
 * sentence-transformers prompt names for the saved folder: "query: " is saved as {"query": "query: "},
 * "passage: " as {"passage": "passage: "} (the name is the prefix without its colon).
 */
export function stPrompts(p: EvalPrompts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [role, text] of Object.entries(p)) {
    if (!text) continue;
    const name = text.trim().replace(/[:：]$/, '').trim() || role;
    out[name] = text;
  }
  return out;
}

/** The prompts the model was trained with, as query/document prefixes for eval and the saved folder. */
export function trainedPrompts(datasets: ResolvedDataset[]): EvalPrompts {
  const first = (roles: string[]) => {
    for (const d of datasets) for (const r of roles) if (d.prompts[r]) return d.prompts[r];
    return undefined;
  };
  return { query: first(['anchor', 'text1']), document: first(['positive', 'negative', 'text2']) };
}

/**
 * A task-routed model needs a task on every dataset (and on the eval file), each one the model knows;
 * a dense model takes none. Errors name the recipe key and list the model's tasks.
 */
function checkTasks(moe: MoeConfig | undefined, config: TrainConfig, where: string): void {
  config.datasets.forEach((d, i) => {
    const key = `datasets[${i}].task`;
    if (!moe) {
      if (d.task !== undefined) throw userError(where, key, 'the model has no task experts; add model.moe (e.g. {"layers": "mod3", "parts": ["attn"], "experts": 3}) or leave task out');
      return;
    }
    if (d.task === undefined) throw userError(where, key, `missing: the model routes by task; valid: ${Object.keys(moe.tasks).join(', ')}`);
    expertOf(moe, d.task, `${where}: ${key}`);
  });
  if (config.data.evalTask !== undefined && !moe) throw userError(where, 'data.evalTask', 'the model has no task experts; leave it out');
  if (config.data.evalTask !== undefined) expertOf(moe!, config.data.evalTask, `${where}: data.evalTask`);
  if (moe && config.data.eval !== undefined && config.data.evalTask === undefined) {
    throw userError(where, 'data.evalTask', `missing: the model routes by task, so data.eval needs one; valid: ${Object.keys(moe.tasks).join(', ')}`);
  }
}

/**
 * Drop metric lines past `step` (they belong to the part of a killed run that is being redone), and a
 * torn line (a kill in the middle of an append).
 */
async function truncateMetrics(path: string, step: number): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const kept = text.split('\n').filter((line) => {
    try {
      return line !== '' && (JSON.parse(line) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  // a temp file renamed over the old one: a kill during this rewrite must not lose the lines being kept
  await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
}

/** "rows 3, 17, 42 of data/train.arrow" (at most `max` rows listed). */
function describeRows(path: string, rows: number[] | undefined, max = 8): string {
  if (!rows?.length) return path;
  return `rows ${rows.slice(0, max).join(', ')}${rows.length > max ? `, … (${rows.length})` : ''} of ${path}`;
}

export async function* trainIter(opts: TrainOptions): AsyncGenerator<TrainEvent> {
  const { config } = opts;
  const started = Date.now();

  // Validate everything before writing anything.
  const where = opts.configPath ?? 'config';
  const pretrained = config.model.from !== undefined ? validateModelFrom(config.model, where) : undefined;
  const from = pretrained?.from;
  const folder = from !== undefined ? await readModelFolder(from, { requireTokenizer: config.tokenizer === undefined }) : undefined;
  const tokenizerPath = config.tokenizer ?? folder?.tokenizerPath ?? 'tokenizer.json';
  const tokenizer = await TextTokenizer.load(tokenizerPath);
  const modelConfig = from ? undefined : validateModelConfig(config.model, where, tokenizer.vocabSize);
  const { batchSize } = config.train;
  const streamOpts = { batchSize, seed: config.seed, shuffleBuffer: config.data.shuffleBuffer };
  const datasets: ResolvedDataset[] = [];
  for (const [i, d] of config.datasets.entries()) datasets.push(await resolveDataset(d, i, streamOpts, where));
  if (config.data.eval) await checkEvalFile(config.data.eval);
  const stepsPerEpoch = epochLength(datasets.map((d) => d.batchesPerEpoch), config.data.sampling);
  const totalSteps = config.train.maxSteps > 0 ? config.train.maxSteps : Math.max(1, Math.round(config.train.epochs * stepsPerEpoch));
  const warmupSteps = Math.ceil(config.train.warmupRatio * totalSteps);
  const prompts = trainedPrompts(datasets);

  let encoder: SentenceEncoder;
  let optimizer: AdamW;
  let state: TrainerState = { step: 0, totalSteps, epoch: 0, batchInEpoch: 0, seed: config.seed };
  let resumedFrom: string | undefined;
  const adamOpts = { weightDecay: config.train.weightDecay };
  const notes = (await removeTempSiblings(opts.output)).map((n) => `removed ${join(opts.output, n)} (left by a killed write)`);
  let resumable: CheckpointEntry | undefined;
  if (opts.resume) {
    const { latest, skipped } = await latestCheckpoint(opts.output);
    for (const c of skipped) notes.push(`skipped ${c.path}: ${c.problem}`);
    if (!latest && skipped.length) throw userError(opts.output, undefined, `nothing to resume: no complete checkpoint (${skipped.map((c) => `${c.path}: ${c.problem}`).join('; ')})`);
    if (!latest && !existsSync(opts.output)) throw userError(opts.output, undefined, 'nothing to resume: the folder does not exist');
    if (!latest) notes.push('no checkpoint yet (the run stopped before its first one): starting from step 0');
    resumable = latest;
  }
  if (resumable) {
    const latest = resumable;
    const ckpt = await loadCheckpoint(latest.path);
    if (JSON.stringify(ckpt.config) !== JSON.stringify(config)) {
      ckpt.encoder.dispose();
      throw userError(latest.path, 'training_config.json', 'differs from the recipe given; resume with the same config');
    }
    encoder = ckpt.encoder;
    optimizer = new AdamW(trainableParams(encoder.params), adamOpts);
    optimizer.loadState(ckpt.optimizerTensors, ckpt.optimizerStep, latest.path);
    const { step, totalSteps: total, epoch, batchInEpoch, seed } = ckpt.state; // not the eval_metric a checkpoint may also record
    state = { step, totalSteps: total, epoch, batchInEpoch, seed };
    resumedFrom = latest.path;
    await truncateMetrics(join(opts.output, 'metrics.jsonl'), state.step);
  } else {
    if (!opts.overwrite && !opts.resume && (await hasRun(opts.output))) {
      throw userError(opts.output, undefined, 'already holds a training run; pass --resume to continue it or --overwrite to start over');
    }
    encoder = folder ? await loadEncoder(folder, pretrained!.overrides) : SentenceEncoder.init(modelConfig!, config.seed);
    if (pretrained?.moe !== undefined) {
      // SciMult: the dense checkpoint's weights become every expert's starting point
      if (encoder.config.moe) {
        encoder.dispose();
        throw userError(where, 'model.moe', `${from} already has task experts (config.json moe); leave model.moe out to keep training them`);
      }
      let moe;
      try {
        moe = validateMoe(pretrained.moe, encoder.config.numLayers, where);
      } catch (err) {
        encoder.dispose();
        throw err;
      }
      encoder = encoder.withExperts(moe);
    }
    const usable = maxSequenceLength(encoder.config); // XLM-R: positions − padding_idx − 1
    const problem =
      config.data.maxLength > usable
        ? userError(where, 'data.maxLength', `${config.data.maxLength} exceeds the ${usable} tokens the model's positions allow`)
        : encoder.config.vocabSize < tokenizer.vocabSize
          ? userError(where, 'tokenizer', `${tokenizerPath} has ${tokenizer.vocabSize} ids but the model has only ${encoder.config.vocabSize} embeddings`)
          : encoder.config.modelType === 'xlm-roberta' && tokenizer.padId !== encoder.config.padTokenId
            ? userError(where, 'tokenizer', `${tokenizerPath} pads with id ${tokenizer.padId} but the model's pad_token_id is ${encoder.config.padTokenId} (XLM-R position ids depend on it)`)
            : undefined;
    if (problem) {
      encoder.dispose();
      throw problem;
    }
    try {
      checkTasks(encoder.config.moe, config, where);
    } catch (err) {
      encoder.dispose();
      throw err;
    }
    optimizer = new AdamW(trainableParams(encoder.params), adamOpts);
    await ensureDir(opts.output);
    await appendText(join(opts.output, 'metrics.jsonl'), '', { replace: true });
  }

  const metricsPath = join(opts.output, 'metrics.jsonl');
  const card = (metrics?: EvalMetrics): ModelCardInfo => ({
    name: config.name,
    baseModel: from,
    datasets: datasets.map((d) => ({ name: d.name, path: d.path, loss: describeLoss(d.loss) })),
    loss: datasets.length === 1 ? { ...datasets[0].loss } : Object.fromEntries(datasets.map((d) => [d.name, describeLoss(d.loss)])),
    hyperparameters: { ...config.train, maxLength: config.data.maxLength, sampling: config.data.sampling, seed: config.seed },
    evalMetrics: metrics,
    evalDataset: metrics ? config.data.eval : undefined,
    trainingSeconds: Math.round((Date.now() - started) / 1000),
    steps: state.step,
    backend: tf.getBackend(),
  });
  let lastEval: { step: number; name: string; value: number } | undefined;
  const save = async (dir: string, metrics?: EvalMetrics) => {
    // the eval metric of this step, if eval ran at it, ranks the checkpoint for train.saveTotalLimit
    const extra = lastEval?.step === state.step ? { eval_metric: lastEval.value, eval_metric_name: lastEval.name } : undefined;
    await saveCheckpoint({ dir, encoder, optimizer, tokenizerPath, config, state, prompts: stPrompts(prompts), card: card(metrics), extra });
    await pruneCheckpoints(opts.output, config.train.saveTotalLimit);
  };
  const evaluate = async () =>
    config.data.eval ? evaluateFile({ encoder: encoder.forTask(config.data.evalTask, `${where}: data.evalTask`), tokenizer, path: config.data.eval, maxLength: config.data.maxLength, prompts }) : undefined;

  let badInARow = 0;
  try {
    yield {
      type: 'start',
      notes,
      totalSteps,
      startStep: state.step,
      numParams: encoder.numParams,
      datasets: datasets.map((d) => ({ name: d.name, path: d.path, loss: d.loss.name, batchesPerEpoch: d.batchesPerEpoch })),
      stepsPerEpoch,
      output: opts.output,
      resumedFrom,
    };
    const stopAt = opts.stopAfter !== undefined ? Math.min(totalSteps, state.step + opts.stopAfter) : totalSteps;
    let last = Date.now();
    while (state.step < stopAt) {
      const batches = epochBatches({
        ...streamOpts,
        datasets,
        sampling: config.data.sampling,
        tokenizer,
        maxLength: config.data.maxLength,
        epoch: state.epoch,
        skipBatches: state.batchInEpoch,
      });
      for await (const { dataset, batch: raw, position } of batches) {
        const lr = linearWarmupDecay(state.step, { lr: config.train.lr, warmupSteps, totalSteps });
        const batch = tensorBatch(raw, encoder.config.moe && dataset.task !== undefined ? encoder.config.moe.tasks[dataset.task] : undefined);
        const { loss, gradNorm, applied } = await trainStepAsync(encoder, optimizer, batch, {
          lr,
          loss: dataset.loss,
          maxGradNorm: config.train.maxGradNorm,
          seed: mixSeed(config.seed, state.step, 0x5eed),
          miniBatchSize: config.train.miniBatchSize,
        });
        disposeBatch(batch);
        state = { ...state, step: state.step + 1, batchInEpoch: position + 1 };
        const now = Date.now();
        const seconds = (now - last) / 1000;
        last = now;
        const skipped = !applied;
        const event = { type: 'step' as const, step: state.step, totalSteps, epoch: state.epoch, dataset: dataset.name, loss, lr, gradNorm, pairsPerSec: raw.size / seconds, seconds, skipped };
        // JSON has no NaN: non-finite values are written as strings so every line stays parseable.
        const num = (x: number) => (Number.isFinite(x) ? x : String(x));
        const line = { step: event.step, epoch: event.epoch, dataset: dataset.name, loss: num(loss), lr, grad_norm: num(gradNorm), pairs_per_s: event.pairsPerSec, time: now / 1000, ...(skipped ? { skipped: true } : {}) };
        await appendText(metricsPath, JSON.stringify(line) + '\n');
        yield event;
        badInARow = skipped ? badInARow + 1 : 0;
        if (badInARow > config.train.maxBadSteps) {
          const last = (await latestCheckpoint(opts.output)).latest;
          throw userError(
            where,
            'train.maxBadSteps',
            `the loss or gradient was NaN/Inf for ${badInARow} steps in a row (steps ${state.step - badInARow + 1}–${state.step}, updates skipped); ` +
              `the last batch was ${describeRows(dataset.path, raw.rows)}. Lower train.lr or check those rows; ` +
              (last ? `the last checkpoint, ${last.path}, holds weights from before the first bad step` : 'no checkpoint was written'),
          );
        }
        if (config.train.evalEvery > 0 && state.step % config.train.evalEvery === 0 && state.step < totalSteps) {
          const metrics = await evaluate();
          if (metrics) {
            await appendText(metricsPath, JSON.stringify({ step: state.step, eval: metrics }) + '\n');
            const primary = primaryMetric(metrics);
            if (primary) lastEval = { step: state.step, ...primary };
            yield { type: 'eval', step: state.step, metrics };
          }
        }
        if (config.train.checkpointEvery > 0 && state.step % config.train.checkpointEvery === 0 && state.step < totalSteps) {
          const path = join(opts.output, `checkpoint-${state.step}`);
          await save(path);
          yield { type: 'checkpoint', step: state.step, path };
        }
        if (state.step >= stopAt) break;
        if (opts.signal?.aborted) {
          const path = join(opts.output, `checkpoint-${state.step}`);
          if (!existsSync(path)) await save(path);
          yield { type: 'interrupted', step: state.step, path };
          return;
        }
        last = Date.now();
      }
      if (state.step < stopAt) state = { ...state, epoch: state.epoch + 1, batchInEpoch: 0 };
    }
    if (state.step < totalSteps) {
      // Stopped early on request: leave a resumable checkpoint.
      const path = join(opts.output, `checkpoint-${state.step}`);
      await save(path);
      yield { type: 'checkpoint', step: state.step, path };
      return;
    }
    const metrics = await evaluate();
    if (metrics) await appendText(metricsPath, JSON.stringify({ step: state.step, eval: metrics }) + '\n');
    const finalPath = join(opts.output, 'final');
    await save(finalPath, metrics);
    yield { type: 'end', step: state.step, path: finalPath, seconds: (Date.now() - started) / 1000, metrics };
  } finally {
    optimizer.dispose();
    encoder.dispose();
  }
}

/** Run to completion; returns the last event (the final model's path and eval metrics). */
export async function train(opts: TrainOptions): Promise<Extract<TrainEvent, { type: 'end' | 'checkpoint' }> | undefined> {
  let last: Extract<TrainEvent, { type: 'end' | 'checkpoint' }> | undefined;
  for await (const event of trainIter(opts)) {
    if (event.type === 'end' || event.type === 'checkpoint') last = event;
  }
  return last;
}
