/**
 * Running a pipeline: `pipelineIter` yields a plan, then each stage's start, progress and end;
 * `runPipeline` drains it; the CLI only renders the events.
 *
 * Every stage writes one folder under the run folder (a train stage: its trainer run folder, whose
 * model is `final/`). `pipeline.json` records each completed stage with its definition. Starting a
 * pipeline again skips stages that are complete and unchanged, resumes an interrupted train stage from
 * its latest checkpoint (the trainer's exact `--resume`), and redoes an interrupted merge, export or
 * eval (their outputs appear atomically), so a pipeline killed at any point and started again ends
 * the same as one that was never interrupted.
 */
import { rm, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { trainIter, type TrainEvent } from '../train/trainer.js';
import { latestCheckpoint } from '../train/checkpoint.js';
import { mergeModels } from '../merge/merge.js';
import { exportOnnx } from '../export/export.js';
import { DEFAULT_SAMPLE, readSampleTexts } from '../export/texts.js';
import { loadEncoder, readModelFolder, savedPrompts } from '../folder/read.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { evaluateFile, checkEvalFile, type EvalMetrics } from '../eval/evaluate.js';
import { ensureDir, removeTempSiblings, tempSibling, writeFileAtomic } from '../util/fs.js';
import { readJsonFile } from '../folder/st-files.js';
import { userError } from '../util/errors.js';
import type { PipelineConfig, Stage, StageKind } from './config.js';

export interface PipelineOptions {
  config: PipelineConfig;
  /** The run folder: one subfolder per stage, and pipeline.json. */
  output: string;
  /** Delete the run folder first and run every stage. */
  overwrite?: boolean;
  /** Yield the plan and stop. */
  planOnly?: boolean;
  /** Stop cleanly when aborted: a train stage writes a resumable checkpoint; no later stage starts. */
  signal?: AbortSignal;
}

/** done: complete and unchanged, skipped; resume: an interrupted train stage continues from a checkpoint; run: from the start. */
export type StageStatus = 'done' | 'resume' | 'run';

export interface PlannedStage {
  name: string;
  kind: StageKind;
  status: StageStatus;
  /** What the stage does / where it resumes, in words. */
  detail: string;
  /** The stage's output folder. */
  path: string;
}

export type PipelineEvent =
  | { type: 'plan'; output: string; stages: PlannedStage[] }
  | { type: 'stage-start'; stage: PlannedStage }
  | { type: 'train'; stage: string; event: TrainEvent }
  | { type: 'merge-loss'; stage: string; model: string; loss: number }
  | { type: 'stage-end'; stage: PlannedStage; seconds: number; summary: Record<string, unknown> }
  | { type: 'interrupted'; stage: string }
  | { type: 'end'; output: string; seconds: number; ran: string[] };

const STATE_FILE = 'pipeline.json';

interface PipelineState {
  name: string;
  /** Completed stages: their definition when they ran. */
  stages: Record<string, { kind: StageKind; definition: string }>;
}

/** The folder a stage writes (a train stage: its trainer run folder). */
function stageDir(output: string, stage: Stage): string {
  return join(output, stage.name);
}

/** The model folder a model stage produces. */
function modelPath(output: string, stage: Stage): string {
  return stage.kind === 'train' ? join(stageDir(output, stage), 'final') : stageDir(output, stage);
}

/** What a stage's output must hold to count as complete. */
function completePath(output: string, stage: Stage): string {
  return stage.kind === 'eval' ? join(stageDir(output, stage), 'metrics.json') : modelPath(output, stage);
}

function describe(stage: Stage): string {
  switch (stage.kind) {
    case 'train': {
      const losses = [...new Set(stage.recipe.datasets.map((d) => d.loss.name))].join('+');
      return `${losses} on ${stage.recipe.datasets.map((d) => d.path).join(', ')}${stage.from ? `, from ${stage.from}` : ''}`;
    }
    case 'merge':
      return `LM-Cocktail of ${stage.models.join(' + ')} (${stage.weights ? `weights ${stage.weights.join(' ')}` : stage.exampleData ? `automatic weights on ${stage.exampleData}` : 'uniform weights'})`;
    case 'export':
      return `ONNX of ${stage.model}`;
    case 'eval':
      return `${stage.models.join(', ')} on ${stage.data.join(', ')}`;
  }
}

async function readState(output: string, name: string): Promise<PipelineState> {
  const path = join(output, STATE_FILE);
  const raw = (await readJsonFile(path, false)) as PipelineState | undefined;
  if (raw === undefined) return { name, stages: {} };
  if (typeof raw !== 'object' || raw === null || typeof raw.stages !== 'object' || raw.stages === null) {
    throw userError(path, undefined, 'is not a pipeline state file; delete it (the stages will run again) or pass --overwrite');
  }
  return raw;
}

async function plan(opts: PipelineOptions, state: PipelineState): Promise<PlannedStage[]> {
  const planned: PlannedStage[] = [];
  for (const stage of opts.config.stages) {
    const dir = stageDir(opts.output, stage);
    const recorded = state.stages[stage.name];
    const definition = JSON.stringify(stage);
    const base = { name: stage.name, kind: stage.kind, path: stage.kind === 'eval' ? join(dir, 'metrics.json') : modelPath(opts.output, stage) };
    if (recorded && recorded.definition !== definition) {
      throw userError(dir, undefined, `stage "${stage.name}" ran with another definition than the config's now; delete ${dir} (and the stages after it) or pass --overwrite to run the pipeline again`);
    }
    // A stage is done only when everything it reads is done too (an earlier stage that runs again invalidates it).
    const upstreamRuns = planned.some((p) => p.status !== 'done');
    if (recorded && !upstreamRuns && existsSync(completePath(opts.output, stage))) {
      planned.push({ ...base, status: 'done', detail: describe(stage) });
      continue;
    }
    if (stage.kind === 'train' && !upstreamRuns) {
      const { latest } = await latestCheckpoint(dir);
      if (latest) {
        planned.push({ ...base, status: 'resume', detail: `${describe(stage)}; resumes at step ${latest.step} (${latest.path})` });
        continue;
      }
    }
    planned.push({ ...base, status: 'run', detail: describe(stage) });
  }
  return planned;
}

/** Trains the stage; returns its summary, or undefined when the run was interrupted (a checkpoint was written). */
async function* runTrain(opts: PipelineOptions, stage: Extract<Stage, { kind: 'train' }>, status: StageStatus): AsyncGenerator<PipelineEvent, Record<string, unknown> | undefined> {
  const byName = new Map(opts.config.stages.map((s) => [s.name, s]));
  const from = stage.from !== undefined ? modelPath(opts.output, byName.get(stage.from)!) : undefined;
  const config = from !== undefined ? { ...stage.recipe, model: { ...stage.recipe.model, from } } : stage.recipe;
  const dir = stageDir(opts.output, stage);
  // From the start: nothing of an earlier attempt (checkpoints of other weights) may be resumed by mistake.
  if (status === 'run') await rm(dir, { recursive: true, force: true });
  await removeTempSiblings(dir);
  let summary: Record<string, unknown> = {};
  for await (const event of trainIter({ config, output: dir, resume: status === 'resume', overwrite: status !== 'resume', configPath: `${opts.output}: stage ${stage.name}`, signal: opts.signal })) {
    yield { type: 'train', stage: stage.name, event };
    if (event.type === 'end') summary = { steps: event.step, ...(event.metrics ? { metrics: event.metrics } : {}) };
    if (event.type === 'interrupted') return undefined;
  }
  return summary;
}

/** Metrics of each model on each data file, with the model's own prompts and max length. */
async function runEval(opts: PipelineOptions, stage: Extract<Stage, { kind: 'eval' }>): Promise<Record<string, Record<string, EvalMetrics>>> {
  const byName = new Map(opts.config.stages.map((s) => [s.name, s]));
  const results: Record<string, Record<string, EvalMetrics>> = {};
  for (const data of stage.data) await checkEvalFile(data);
  for (const name of stage.models) {
    const folder = await readModelFolder(modelPath(opts.output, byName.get(name)!));
    const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
    const encoder = await loadEncoder(folder);
    try {
      results[name] = {};
      for (const data of stage.data) results[name][data] = await evaluateFile({ encoder, tokenizer, path: data, maxLength: folder.maxLength, prompts: savedPrompts(folder) });
    } finally {
      encoder.dispose();
    }
  }
  return results;
}

export async function* pipelineIter(opts: PipelineOptions): AsyncGenerator<PipelineEvent> {
  const started = Date.now();
  const { config, output } = opts;
  if (opts.overwrite && !opts.planOnly) await rm(output, { recursive: true, force: true });
  const state = await readState(output, config.name);
  const stages = await plan(opts, state);
  yield { type: 'plan', output, stages };
  if (opts.planOnly) return;

  const byName = new Map(config.stages.map((s) => [s.name, s]));
  const ran: string[] = [];
  await removeTempSiblings(output);
  for (const planned of stages) {
    if (planned.status === 'done') continue;
    const stage = byName.get(planned.name)!;
    if (opts.signal?.aborted) {
      yield { type: 'interrupted', stage: stage.name };
      return;
    }
    const t0 = Date.now();
    yield { type: 'stage-start', stage: planned };
    let summary: Record<string, unknown> = {};
    const dir = stageDir(output, stage);
    if (stage.kind === 'train') {
      const trained = yield* runTrain(opts, stage, planned.status);
      if (trained === undefined) {
        yield { type: 'interrupted', stage: stage.name };
        return;
      }
      summary = trained;
    } else if (stage.kind === 'merge') {
      const losses: PipelineEvent[] = [];
      const result = await mergeModels({
        models: stage.models.map((m) => modelPath(output, byName.get(m)!)),
        output: dir,
        overwrite: true,
        weights: stage.weights,
        exampleData: stage.exampleData,
        maxExamples: stage.maxExamples,
        temperature: stage.temperature,
        batchSize: stage.batchSize,
        negatives: stage.negatives,
        pooling: stage.pooling,
        normalize: stage.normalize,
        onLoss: ({ model, loss }) => losses.push({ type: 'merge-loss', stage: stage.name, model, loss }),
      });
      yield* losses;
      summary = { weights: Object.fromEntries(stage.models.map((m, i) => [m, result.weights[i]])), ...(result.losses ? { losses: Object.fromEntries(stage.models.map((m, i) => [m, result.losses![i]])) } : {}) };
    } else if (stage.kind === 'export') {
      // exportOnnx writes into a folder in place; build it beside the stage folder and rename it in one step.
      await rm(dir, { recursive: true, force: true });
      const tmp = tempSibling(dir);
      try {
        const sample = existsSync(DEFAULT_SAMPLE) ? await readSampleTexts(DEFAULT_SAMPLE, 64) : undefined;
        const result = await exportOnnx({ model: modelPath(output, byName.get(stage.model)!), output: tmp, opset: stage.opset, quantize: stage.quantize, texts: sample });
        await rename(tmp, dir);
        summary = { opset: result.opset, bytes: result.bytes, ...(result.cosine ? { int8Cosine: result.cosine.mean } : {}), ...(result.check ? { maxAbsDiff: result.check.sentenceEmbedding } : {}) };
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
    } else {
      const results = await runEval(opts, stage);
      await writeJsonAtomic(join(dir, 'metrics.json'), results);
      summary = results;
    }
    state.stages[stage.name] = { kind: stage.kind, definition: JSON.stringify(stage) };
    await writeJsonAtomic(join(output, STATE_FILE), state);
    ran.push(stage.name);
    yield { type: 'stage-end', stage: planned, seconds: (Date.now() - t0) / 1000, summary };
  }
  yield { type: 'end', output, seconds: (Date.now() - started) / 1000, ran };
}

/** A JSON file written to a temp name and renamed over `path`. */
async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await ensureDir(dirname(path));
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Run a pipeline to its end; returns the last event. */
export async function runPipeline(opts: PipelineOptions): Promise<Extract<PipelineEvent, { type: 'end' }> | undefined> {
  let last: Extract<PipelineEvent, { type: 'end' }> | undefined;
  for await (const e of pipelineIter(opts)) if (e.type === 'end') last = e;
  return last;
}
