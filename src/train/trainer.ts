/**
 * The training loop as an async generator of events: `trainIter` does the work and yields
 * start / step / eval / checkpoint / end; `train` drains it; the CLI only renders the events.
 *
 * Repeatability: the model init, data order (seed, epoch) and dropout masks (seed, step) are all
 * functions of the recipe's seed, so a run resumed from `checkpoint-N` continues exactly as the
 * uninterrupted run would have.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import { validateModelConfig, validateModelFrom, maxSequenceLength } from '../model/config.js';
import { SentenceEncoder } from '../model/encoder.js';
import { trainableParams } from '../model/params.js';
import * as tf from '@tensorflow/tfjs';
import { TextTokenizer } from '../data/tokenizer.js';
import { AdamW } from './adamw.js';
import { linearWarmupDecay } from './schedule.js';
import { trainStep } from './step.js';
import { tensorBatch, disposeBatch } from './batch.js';
import { resolveDataset, epochBatches, epochLength, type ResolvedDataset } from './datasets.js';
import { saveCheckpoint, listCheckpoints, loadCheckpoint, hasRun, type TrainerState } from './checkpoint.js';
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
    }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; dataset: string; loss: number; lr: number; gradNorm: number; pairsPerSec: number; seconds: number }
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

/** Drop metric lines past `step` (they belong to the part of a killed run that is being redone). */
async function truncateMetrics(path: string, step: number): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const kept = text.split('\n').filter((line) => line && (JSON.parse(line) as { step: number }).step <= step);
  await writeFile(path, kept.map((l) => l + '\n').join(''));
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
  if (opts.resume) {
    const latest = (await listCheckpoints(opts.output)).at(-1);
    if (!latest) throw userError(opts.output, undefined, 'nothing to resume: no checkpoint-<step>/ with trainer_state.json here');
    const ckpt = await loadCheckpoint(latest.path);
    if (JSON.stringify(ckpt.config) !== JSON.stringify(config)) {
      ckpt.encoder.dispose();
      throw userError(latest.path, 'training_config.json', 'differs from the recipe given; resume with the same config');
    }
    encoder = ckpt.encoder;
    optimizer = new AdamW(trainableParams(encoder.params), adamOpts);
    optimizer.loadState(ckpt.optimizerTensors, ckpt.optimizerStep, latest.path);
    state = ckpt.state;
    resumedFrom = latest.path;
    await truncateMetrics(join(opts.output, 'metrics.jsonl'), state.step);
  } else {
    if (!opts.overwrite && (await hasRun(opts.output))) {
      throw userError(opts.output, undefined, 'already holds a training run; pass --resume to continue it or --overwrite to start over');
    }
    encoder = folder ? await loadEncoder(folder, pretrained!.overrides) : SentenceEncoder.init(modelConfig!, config.seed);
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
    optimizer = new AdamW(trainableParams(encoder.params), adamOpts);
    await mkdir(opts.output, { recursive: true });
    await writeFile(join(opts.output, 'metrics.jsonl'), '');
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
  const save = async (dir: string, metrics?: EvalMetrics) =>
    saveCheckpoint({ dir, encoder, optimizer, tokenizerPath, config, state, prompts: stPrompts(prompts), card: card(metrics) });
  const evaluate = async () =>
    config.data.eval ? evaluateFile({ encoder, tokenizer, path: config.data.eval, maxLength: config.data.maxLength, prompts }) : undefined;

  try {
    yield {
      type: 'start',
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
        const batch = tensorBatch(raw);
        const { loss, gradNorm } = trainStep(encoder, optimizer, batch, {
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
        const event = { type: 'step' as const, step: state.step, totalSteps, epoch: state.epoch, dataset: dataset.name, loss, lr, gradNorm, pairsPerSec: raw.size / seconds, seconds };
        const line = { step: event.step, epoch: event.epoch, dataset: dataset.name, loss, lr, grad_norm: gradNorm, pairs_per_s: event.pairsPerSec, time: now / 1000 };
        await appendFile(metricsPath, JSON.stringify(line) + '\n');
        yield event;
        if (!Number.isFinite(loss)) throw new Error(`loss became ${loss} at step ${state.step}; lower train.lr or check the data`);
        if (config.train.evalEvery > 0 && state.step % config.train.evalEvery === 0 && state.step < totalSteps) {
          const metrics = await evaluate();
          if (metrics) {
            await appendFile(metricsPath, JSON.stringify({ step: state.step, eval: metrics }) + '\n');
            yield { type: 'eval', step: state.step, metrics };
          }
        }
        if (config.train.checkpointEvery > 0 && state.step % config.train.checkpointEvery === 0 && state.step < totalSteps) {
          const path = join(opts.output, `checkpoint-${state.step}`);
          await save(path);
          yield { type: 'checkpoint', step: state.step, path };
        }
        if (state.step >= stopAt) break;
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
    if (metrics) await appendFile(metricsPath, JSON.stringify({ step: state.step, eval: metrics }) + '\n');
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
