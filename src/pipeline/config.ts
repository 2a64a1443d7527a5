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
import { z } from 'zod';
import { validateTrainConfig, type TrainConfig } from '../train/config.js';
import { POOLINGS, validateModelFrom } from '../model/config.js';
import { flag, integer, mustBe, number, oneOf, section, text } from '../config/fields.js';
import { parseConfig } from '../config/parse.js';
import { readJsonConfig } from '../util/fs.js';
import { userError } from '../util/errors.js';

export const STAGE_KINDS = ['train', 'merge', 'export', 'eval'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const stageName = () => text().regex(NAME, { error: (iss) => `${JSON.stringify(iss.input)} is not a folder name (letters, digits, . _ -)` });
/** A list of at least `min` stage names (or paths). */
const names = (min: number) => {
  const error = mustBe(`a list of at least ${min} name${min > 1 ? 's' : ''}`);
  return z.array(z.string({ error }).min(1, { error }), { error }).min(min, { error });
};

/** `{"name", "train": <recipe or recipe path>, "from"?: "<stage>"}`; the recipe is validated as a recipe. */
const trainStageSchema = section({
  name: stageName(),
  train: z.union([text(), z.record(z.string(), z.unknown())], { error: mustBe('a recipe (an object) or the path of a recipe file') }),
  from: text().optional(),
});

/** LM-Cocktail merge of earlier stages' models (`mergeModels`' options, with stage names for the models). */
export const mergeSchema = section({
  models: names(2),
  weights: z.array(number(), { error: mustBe('a list of numbers') }).optional(),
  exampleData: text().optional(),
  maxExamples: integer({ min: 1 }).optional(),
  temperature: number({ gt: 0 }).optional(),
  batchSize: integer({ min: 1 }).optional(),
  negatives: integer({ min: 0 }).optional(),
  pooling: oneOf(POOLINGS, 'pooling').optional(),
  normalize: flag().optional(),
});
const mergeStageSchema = section({ name: stageName(), merge: mergeSchema });

/** ONNX export of an earlier stage's model into a self-contained folder. */
export const exportSchema = section({ model: text(), opset: integer().optional(), quantize: flag().optional() });
const exportStageSchema = section({ name: stageName(), export: exportSchema });

/** Metrics of earlier stages' models on data files. */
export const evalSchema = section({ models: names(1), data: names(1) });
const evalStageSchema = section({ name: stageName(), eval: evalSchema });

/** Each stage kind's schema (the README's stage table is tested against them). */
export const STAGE_SCHEMAS = { train: trainStageSchema, merge: mergeStageSchema, export: exportStageSchema, eval: evalStageSchema } as const;

export interface TrainStage {
  kind: 'train';
  name: string;
  /** An earlier model stage to fine-tune (its output folder becomes `model.from`). */
  from?: string;
  recipe: TrainConfig;
}
export type MergeStage = { kind: 'merge'; name: string } & z.output<typeof mergeSchema>;
export type ExportStage = { kind: 'export'; name: string } & z.output<typeof exportSchema>;
export type EvalStage = { kind: 'eval'; name: string } & z.output<typeof evalSchema>;
export type Stage = TrainStage | MergeStage | ExportStage | EvalStage;

const pipelineSchema = section({
  name: text().default('pipeline'),
  stages: z
    .array(z.unknown(), { error: mustBe('a non-empty list of stages') })
    .min(1, { error: mustBe('a non-empty list of stages') }),
});

export interface PipelineConfig {
  name: string;
  stages: Stage[];
}

/** Stages whose output is a model folder (what `from`, merge, export and eval can name). */
export function isModelStage(s: Stage): s is TrainStage | MergeStage {
  return s.kind === 'train' || s.kind === 'merge';
}

/** Stands in for an earlier stage's output while validating a recipe that fine-tunes it. */
const FROM_PLACEHOLDER = '<earlier stage>';

type Obj = Record<string, unknown>;

/** A stage's recipe: inline, or the path of a recipe file (errors then name that file). */
function readRecipe(raw: string | Obj, where: string, path: string): { raw: Obj; where: string } {
  if (typeof raw !== 'string') return { raw, where: `${where}: ${path}` };
  const file = readJsonConfig(raw, 'recipe');
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw userError(raw, undefined, 'a recipe must be a JSON object');
  return { raw: file as Obj, where: raw };
}

export function validatePipelineConfig(raw: unknown, where: string): PipelineConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw userError(where, undefined, 'a pipeline config must be a JSON object');
  const r = raw as Obj;
  if (r.stages === undefined && (r.data !== undefined || r.datasets !== undefined || r.model !== undefined)) {
    throw userError(where, undefined, `is a training recipe (it has no stages); run it with \`contrastive train --config ${where}\``);
  }
  const top = parseConfig(pipelineSchema, raw, where);
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
    const st = parseConfig(z.record(z.string(), z.unknown(), { error: mustBe('an object') }), entry, where, ['stages', i]);
    const kinds = STAGE_KINDS.filter((k) => st[k] !== undefined);
    if (kinds.length !== 1) throw userError(where, path, `needs exactly one of ${STAGE_KINDS.join(', ')}${kinds.length ? `, got ${kinds.join(' and ')}` : ''}`);
    const kind = kinds[0];
    const parsed = parseConfig(STAGE_SCHEMAS[kind], st, where, ['stages', i]);
    const { name } = parsed;
    if (byName.has(name)) throw userError(where, `${path}.name`, `duplicate stage name ${JSON.stringify(name)}`);
    const at = `${path}.${kind}`;
    let stage: Stage;
    if (kind === 'train') {
      const t = parsed as z.output<typeof trainStageSchema>;
      if (t.from !== undefined) earlier(t.from, `${path}.from`, true);
      const recipe = readRecipe(t.train, where, at);
      if (t.from !== undefined) {
        const model = recipe.raw.model === undefined ? {} : parseConfig(z.record(z.string(), z.unknown(), { error: mustBe('an object') }), recipe.raw.model, recipe.where, ['model']);
        if (model.from !== undefined) throw userError(recipe.where, 'model.from', `the stage's "from" (${t.from}) gives the model; remove model.from`);
        validateModelFrom({ ...model, from: FROM_PLACEHOLDER }, recipe.where);
        recipe.raw = { ...recipe.raw, model: { ...model, from: FROM_PLACEHOLDER } };
      }
      stage = { kind, name, from: t.from, recipe: validateTrainConfig(recipe.raw, recipe.where) };
    } else if (kind === 'merge') {
      const m = (parsed as z.output<typeof mergeStageSchema>).merge;
      m.models.forEach((ref, j) => earlier(ref, `${at}.models[${j}]`, true));
      const { models, weights, exampleData, maxExamples, temperature, batchSize, negatives, pooling, normalize } = m;
      // key order as pipeline.json has always recorded stage definitions (a rerun compares them as text)
      stage = { kind, name, models, weights, exampleData, maxExamples, temperature, batchSize, negatives, pooling, normalize };
    } else if (kind === 'export') {
      const e = (parsed as z.output<typeof exportStageSchema>).export;
      earlier(e.model, `${at}.model`, true);
      stage = { kind, name, model: e.model, opset: e.opset, quantize: e.quantize };
    } else {
      const e = (parsed as z.output<typeof evalStageSchema>).eval;
      e.models.forEach((ref, j) => earlier(ref, `${at}.models[${j}]`, true));
      stage = { kind, name, models: e.models, data: e.data };
    }
    stages.push(stage);
    byName.set(name, stage);
  });
  return { name: top.name, stages };
}

export function loadPipelineConfig(path: string): PipelineConfig {
  return validatePipelineConfig(readJsonConfig(path, 'pipeline config'), path);
}
