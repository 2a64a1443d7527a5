/**
 * A pipeline (configs/user.json): named stages run in order, each writing one folder under the
 * pipeline's run folder. A stage is exactly one of
 *
 *   train   a training recipe (inline, or the path of a recipe file); with "from": "<stage>" it
 *           fine-tunes that stage's model (its `model` section may then only change the head/dropout)
 *   merge   LM-Cocktail merge of earlier stages' models: given "weights", or automatic ones from
 *           "exampleData" (+ "temperature", "maxExamples", "batchSize", "negatives"), "pooling"/"normalize"
 *   export  ONNX export of an earlier stage's model ("opset", "quantize") into a self-contained folder
 *   eval    metrics of earlier stages' models on data files (pairs → retrieval, labelled/STS → correlation)
 *
 * Plain data, validated up front with errors that name the file and the stage's key.
 */
import { validateTrainConfig, type TrainConfig } from '../train/config.js';
import { POOLINGS, validateModelFrom, type Pooling } from '../model/config.js';
import type { MergeOptions } from '../merge/merge.js';
import { readJsonConfig } from '../util/fs.js';
import { userError } from '../util/errors.js';

export const STAGE_KINDS = ['train', 'merge', 'export', 'eval'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

export interface TrainStage {
  kind: 'train';
  name: string;
  /** An earlier model stage to fine-tune (its output folder becomes `model.from`). */
  from?: string;
  recipe: TrainConfig;
}

/** A merge of earlier stages: `mergeModels`' options, with stage names for the models. */
export type MergeStage = { kind: 'merge'; name: string; models: string[] } & Pick<
  MergeOptions,
  'weights' | 'exampleData' | 'maxExamples' | 'temperature' | 'batchSize' | 'negatives' | 'pooling' | 'normalize'
>;

export interface ExportStage {
  kind: 'export';
  name: string;
  model: string;
  opset?: number;
  quantize?: boolean;
}

export interface EvalStage {
  kind: 'eval';
  name: string;
  models: string[];
  data: string[];
}

export type Stage = TrainStage | MergeStage | ExportStage | EvalStage;

export interface PipelineConfig {
  name: string;
  stages: Stage[];
}

/** Stages whose output is a model folder (what `from`, merge, export and eval can name). */
export function isModelStage(s: Stage): s is TrainStage | MergeStage {
  return s.kind === 'train' || s.kind === 'merge';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Stands in for an earlier stage's output while validating a recipe that fine-tunes it. */
const FROM_PLACEHOLDER = '<earlier stage>';

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw userError(where, path, 'must be an object');
  return v as Obj;
}

function keys(o: Obj, valid: string[], where: string, path: string): void {
  for (const k of Object.keys(o)) if (!valid.includes(k)) throw userError(where, `${path}.${k}`, `unknown key; valid keys: ${valid.join(', ')}`);
}

function str(o: Obj, k: string, where: string, path: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v === '') throw userError(where, `${path}.${k}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function optNumber(o: Obj, k: string, where: string, path: string, check: (v: number) => boolean, want: string): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw userError(where, `${path}.${k}`, `must be ${want}, got ${JSON.stringify(v)}`);
  return v;
}

function strings(o: Obj, k: string, where: string, path: string, min: number): string[] {
  const v = o[k];
  if (!Array.isArray(v) || v.length < min || !v.every((s) => typeof s === 'string' && s !== '')) {
    throw userError(where, `${path}.${k}`, `must be a list of at least ${min} name${min > 1 ? 's' : ''}, got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/** A stage's recipe: inline, or the path of a recipe file (errors then name that file). */
function readRecipe(raw: unknown, where: string, path: string): { raw: Obj; where: string } {
  if (typeof raw !== 'string') return { raw: obj(raw, where, path), where: `${where}: ${path}` };
  return { raw: obj(readJsonConfig(raw, 'recipe'), raw, 'recipe'), where: raw };
}

export function validatePipelineConfig(raw: unknown, where: string): PipelineConfig {
  const top = obj(raw, where, 'pipeline');
  if (top.stages === undefined && (top.data !== undefined || top.datasets !== undefined || top.model !== undefined)) {
    throw userError(where, undefined, `is a training recipe (it has no stages); run it with \`contrastive train --config ${where}\``);
  }
  keys(top, ['name', 'stages'], where, 'pipeline');
  const name = top.name === undefined ? 'pipeline' : str(top, 'name', where, 'pipeline');
  if (!Array.isArray(top.stages) || top.stages.length === 0) throw userError(where, 'stages', 'must be a non-empty list of stages');
  const stages: Stage[] = [];
  const byName = new Map<string, Stage>();
  /** An earlier stage, of a model kind when `model` is set. */
  const earlier = (ref: string, path: string, model: boolean): Stage => {
    const s = byName.get(ref);
    const models = stages.filter(isModelStage).map((x) => x.name);
    if (!s) throw userError(where, path, `${JSON.stringify(ref)} is not an earlier stage; earlier ${model ? 'model stages' : 'stages'}: ${(model ? models : [...byName.keys()]).join(', ') || '(none)'}`);
    if (model && !isModelStage(s)) throw userError(where, path, `${JSON.stringify(ref)} is a ${s.kind} stage, not a model; model stages: ${models.join(', ')}`);
    return s;
  };

  top.stages.forEach((entry, i) => {
    const path = `stages[${i}]`;
    const st = obj(entry, where, path);
    const kinds = STAGE_KINDS.filter((k) => st[k] !== undefined);
    if (kinds.length !== 1) throw userError(where, path, `needs exactly one of ${STAGE_KINDS.join(', ')}${kinds.length ? `, got ${kinds.join(' and ')}` : ''}`);
    const kind = kinds[0];
    keys(st, ['name', kind, ...(kind === 'train' ? ['from'] : [])], where, path);
    const stageName = str(st, 'name', where, path);
    if (!NAME.test(stageName)) throw userError(where, `${path}.name`, `${JSON.stringify(stageName)} is not a folder name (letters, digits, . _ -)`);
    if (byName.has(stageName)) throw userError(where, `${path}.name`, `duplicate stage name ${JSON.stringify(stageName)}`);
    const at = `${path}.${kind}`;
    let stage: Stage;
    if (kind === 'train') {
      const from = st.from === undefined ? undefined : str(st, 'from', where, path);
      if (from !== undefined) earlier(from, `${path}.from`, true);
      const recipe = readRecipe(st.train, where, at);
      if (from !== undefined) {
        const model = recipe.raw.model === undefined ? {} : obj(recipe.raw.model, recipe.where, 'model');
        if (model.from !== undefined) throw userError(recipe.where, 'model.from', `the stage's "from" (${from}) gives the model; remove model.from`);
        validateModelFrom({ ...model, from: FROM_PLACEHOLDER }, recipe.where);
        recipe.raw = { ...recipe.raw, model: { ...model, from: FROM_PLACEHOLDER } };
      }
      stage = { kind, name: stageName, from, recipe: validateTrainConfig(recipe.raw, recipe.where) };
    } else if (kind === 'merge') {
      const m = obj(st.merge, where, at);
      keys(m, ['models', 'weights', 'exampleData', 'maxExamples', 'temperature', 'batchSize', 'negatives', 'pooling', 'normalize'], where, at);
      const models = strings(m, 'models', where, at, 2);
      models.forEach((ref, j) => earlier(ref, `${at}.models[${j}]`, true));
      if (m.weights !== undefined && (!Array.isArray(m.weights) || !m.weights.every((w) => typeof w === 'number'))) throw userError(where, `${at}.weights`, 'must be a list of numbers');
      if (m.pooling !== undefined && !POOLINGS.includes(m.pooling as Pooling)) throw userError(where, `${at}.pooling`, `unknown pooling ${JSON.stringify(m.pooling)}; valid: ${POOLINGS.join(', ')}`);
      if (m.normalize !== undefined && typeof m.normalize !== 'boolean') throw userError(where, `${at}.normalize`, 'must be true or false');
      const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
      stage = {
        kind, name: stageName, models,
        weights: m.weights as number[] | undefined,
        exampleData: m.exampleData === undefined ? undefined : str(m, 'exampleData', where, at),
        maxExamples: optNumber(m, 'maxExamples', where, at, positiveInt, 'a positive integer'),
        temperature: optNumber(m, 'temperature', where, at, (v) => v > 0, 'a number > 0'),
        batchSize: optNumber(m, 'batchSize', where, at, positiveInt, 'a positive integer'),
        negatives: optNumber(m, 'negatives', where, at, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
        pooling: m.pooling as Pooling | undefined,
        normalize: m.normalize as boolean | undefined,
      };
    } else if (kind === 'export') {
      const e = obj(st.export, where, at);
      keys(e, ['model', 'opset', 'quantize'], where, at);
      const model = str(e, 'model', where, at);
      earlier(model, `${at}.model`, true);
      if (e.quantize !== undefined && typeof e.quantize !== 'boolean') throw userError(where, `${at}.quantize`, 'must be true or false');
      stage = { kind, name: stageName, model, opset: optNumber(e, 'opset', where, at, Number.isInteger, 'an integer'), quantize: e.quantize as boolean | undefined };
    } else {
      const e = obj(st.eval, where, at);
      keys(e, ['models', 'data'], where, at);
      const models = strings(e, 'models', where, at, 1);
      models.forEach((ref, j) => earlier(ref, `${at}.models[${j}]`, true));
      stage = { kind, name: stageName, models, data: strings(e, 'data', where, at, 1) };
    }
    stages.push(stage);
    byName.set(stageName, stage);
  });
  return { name, stages };
}

export function loadPipelineConfig(path: string): PipelineConfig {
  return validatePipelineConfig(readJsonConfig(path, 'pipeline config'), path);
}
