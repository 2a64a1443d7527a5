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
import { validateModelConfig } from '../model/config.js';
import { SentenceEncoder, toInputs, disposeInputs } from '../model/encoder.js';
import { trainableParams } from '../model/params.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { countRows } from '../data/arrow-reader.js';
import { pairBatches, type PairBatch } from '../data/loader.js';
import { AdamW } from './adamw.js';
import { linearWarmupDecay } from './schedule.js';
import { trainStep, type TensorPairBatch } from './step.js';
import { saveCheckpoint, listCheckpoints, loadCheckpoint, hasRun, type TrainerState } from './checkpoint.js';
import { evaluateRetrieval } from '../eval/evaluate.js';
import type { RetrievalMetrics } from '../eval/retrieval-metrics.js';
import { mixSeed } from '../util/rng.js';
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
}

export type TrainEvent =
  | { type: 'start'; totalSteps: number; startStep: number; numParams: number; examples: number; stepsPerEpoch: number; output: string; resumedFrom?: string }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; gradNorm: number; pairsPerSec: number; seconds: number }
  | { type: 'eval'; step: number; metrics: RetrievalMetrics }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'end'; step: number; path: string; seconds: number; metrics?: RetrievalMetrics };

function tensorBatch(b: PairBatch): TensorPairBatch {
  return { anchor: toInputs(b.anchor), positive: toInputs(b.positive), negative: b.negative && toInputs(b.negative) };
}

function disposeBatch(b: TensorPairBatch): void {
  disposeInputs(b.anchor);
  disposeInputs(b.positive);
  if (b.negative) disposeInputs(b.negative);
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
  const tokenizer = await TextTokenizer.load(config.tokenizer);
  const modelConfig = validateModelConfig(config.model, 'config', tokenizer.vocabSize);
  if (modelConfig.vocabSize < tokenizer.vocabSize) {
    throw userError('config', 'model.vocabSize', `${modelConfig.vocabSize} is smaller than the tokenizer's vocabulary (${tokenizer.vocabSize})`);
  }
  if (config.data.maxLength > modelConfig.maxPositions) {
    throw userError('config', 'data.maxLength', `${config.data.maxLength} exceeds model.maxPositions ${modelConfig.maxPositions}`);
  }
  const examples = await countRows(config.data.train);
  const { batchSize } = config.train;
  const stepsPerEpoch = Math.floor(examples / batchSize);
  if (stepsPerEpoch === 0) {
    throw userError(config.data.train, undefined, `has ${examples} rows, fewer than train.batchSize ${batchSize}`);
  }
  if (config.data.eval) await countRows(config.data.eval);
  const totalSteps = config.train.maxSteps > 0 ? config.train.maxSteps : Math.max(1, Math.round(config.train.epochs * stepsPerEpoch));
  const warmupSteps = Math.ceil(config.train.warmupRatio * totalSteps);

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
    await mkdir(opts.output, { recursive: true });
    await writeFile(join(opts.output, 'metrics.jsonl'), '');
    encoder = SentenceEncoder.init(modelConfig, config.seed);
    optimizer = new AdamW(trainableParams(encoder.params), adamOpts);
  }

  const metricsPath = join(opts.output, 'metrics.jsonl');
  const save = async (dir: string) =>
    saveCheckpoint({ dir, encoder, optimizer, tokenizerPath: config.tokenizer, config, state });
  const evaluate = async () =>
    config.data.eval
      ? evaluateRetrieval({ encoder, tokenizer, path: config.data.eval, maxLength: config.data.maxLength })
      : undefined;

  try {
    yield { type: 'start', totalSteps, startStep: state.step, numParams: encoder.numParams, examples, stepsPerEpoch, output: opts.output, resumedFrom };
    const stopAt = opts.stopAfter !== undefined ? Math.min(totalSteps, state.step + opts.stopAfter) : totalSteps;
    let last = Date.now();
    while (state.step < stopAt) {
      const batches = pairBatches({
        path: config.data.train,
        tokenizer,
        batchSize,
        maxLength: config.data.maxLength,
        seed: config.seed,
        epoch: state.epoch,
        shuffleBuffer: config.data.shuffleBuffer,
        skipBatches: state.batchInEpoch,
      });
      for await (const raw of batches) {
        const lr = linearWarmupDecay(state.step, { lr: config.train.lr, warmupSteps, totalSteps });
        const batch = tensorBatch(raw);
        const { loss, gradNorm } = trainStep(encoder, optimizer, batch, {
          lr,
          loss: config.loss,
          maxGradNorm: config.train.maxGradNorm,
          seed: mixSeed(config.seed, state.step, 0x5eed),
        });
        disposeBatch(batch);
        state = { ...state, step: state.step + 1, batchInEpoch: state.batchInEpoch + 1 };
        const now = Date.now();
        const seconds = (now - last) / 1000;
        last = now;
        const event = { type: 'step' as const, step: state.step, totalSteps, epoch: state.epoch, loss, lr, gradNorm, pairsPerSec: raw.size / seconds, seconds };
        await appendFile(metricsPath, JSON.stringify({ step: event.step, epoch: event.epoch, loss, lr, grad_norm: gradNorm, pairs_per_s: event.pairsPerSec, time: now / 1000 }) + '\n');
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
    await save(finalPath);
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
