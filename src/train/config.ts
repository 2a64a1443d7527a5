/**
 * A training recipe (configs/*.json): plain data, one zod schema per section (the README's Config
 * tables are generated from them by scripts/config-tables.ts), with errors that name the file and key
 * and list valid values. Relative paths are resolved against the current working directory (run the
 * CLI from the project root, as the README does).
 */
import { z } from 'zod';
import { userError } from '../util/errors.js';
import { readJsonConfig } from '../util/fs.js';
import { flag, integer, mustBe, number, oneOf, section, text } from '../config/fields.js';
import { parseConfig } from '../config/parse.js';
import { lossConfigSchema, LOSS_SPECS, type LossConfig } from '../losses/registry.js';

export type { LossConfig };

export const SAMPLINGS = ['proportional', 'round_robin'] as const;
export type Sampling = (typeof SAMPLINGS)[number];

const ROLE = /^(anchor|positive|negative(_[2-9]\d*)?|text1|text2|score)$/;
const ROLES = 'anchor, positive, negative, negative_2…, text1, text2, score';

/** role -> a string (an Arrow column, a prompt). */
function roleMap(meta: { default: string; description: string }) {
  return z
    .record(z.string().regex(ROLE, { error: `unknown role; valid: ${ROLES}` }), z.string({ error: mustBe('a string') }), { error: mustBe('an object') })
    .default({})
    .meta({ type: 'role → string', ...meta });
}

/** One training source: an Arrow file, the loss it trains with, and how its columns map to roles. */
export const datasetSchema = section({
  name: text().optional().meta({ default: '`dataset<i>`', description: 'shown in logs, metrics.jsonl and the model card' }),
  path: text().meta({ description: 'Arrow file (`pairs` or `labelled`)' }),
  loss: lossConfigSchema.prefault({}).meta({ type: 'object', default: '`{"name": "infonce"}`', description: 'the loss and its options (next table)' }),
  columns: roleMap({ default: 'identity', description: 'role → Arrow column, e.g. `{"anchor": "title", "positive": "abstract"}`' }),
  prompts: roleMap({ default: 'none', description: 'role → prefix, e.g. `{"anchor": "query: ", "positive": "passage: "}` (USER/E5 style); saved as the model\'s prompts' }),
  noDuplicates: flag().optional().meta({
    default: 'on for InfoNCE and AnglE',
    description: "no text twice in a batch (sentence-transformers' NoDuplicatesBatchSampler; texts compared before prompts)",
  }),
  task: text().optional().meta({
    description: "with `model.moe`: the task of this dataset; all its batches (query and document sides alike) run `model.moe.tasks[task]`'s expert. Required on every dataset of an MoE model, refused without one",
  }),
});

/** The `data` section: shared data settings (and the one-dataset shorthand `data.train`). */
export const dataSchema = section({
  train: text().optional().meta({ default: '—', description: 'shorthand for one dataset with the top-level `loss`: `datasets: [{name: "train", path: data.train, loss}]`' }),
  eval: text().optional().meta({ description: 'pairs file (retrieval) or labelled file / STS CSV (correlation) evaluated at the end and every `train.evalEvery` steps' }),
  evalTask: text().optional().meta({ description: 'with `model.moe`: the task (expert) `data.eval` is encoded with (required then)' }),
  maxLength: integer({ min: 2 }).default(128).meta({ description: 'tokens per text, special tokens included; longer texts are truncated' }),
  shuffleBuffer: integer({ min: 1 }).default(10000).meta({ description: "records in each dataset's seeded shuffle buffer" }),
  sampling: oneOf(SAMPLINGS, 'sampling').default('proportional').meta({
    description: "how datasets interleave, each batch from one dataset: `proportional` (all batches of all datasets, shuffled) or `round_robin` (until the smallest runs out), as sentence-transformers' samplers",
  }),
});

/** The `train` section: optimisation, checkpoints and the non-finite guard. */
export const optimSchema = section({
  batchSize: integer({ min: 2 }).default(32).meta({ description: "examples per step (each anchor's in-batch negatives are the other positives)" }),
  miniBatchSize: integer({ min: 0 }).default(0).meta({
    description: 'GradCache: embed the batch in chunks of this many rows, so memory is bounded by one chunk while the loss and gradients are those of the whole batch (0: off)',
  }),
  epochs: number({ min: 0 }).default(1).meta({ description: 'passes over the data (fractions allowed); ignored when `maxSteps` > 0' }),
  maxSteps: integer({ min: 0 }).default(0).meta({ description: 'when > 0, the run length in steps instead of `epochs`' }),
  lr: number({ min: 0 }).default(5e-5).meta({ description: 'peak learning rate' }),
  warmupRatio: number({ min: 0, max: 1 }).default(0.1).meta({ description: 'linear warmup over this fraction of steps, then linear decay to 0 (as HF)' }),
  weightDecay: number({ min: 0 }).default(0.01).meta({ description: 'AdamW decoupled decay; not on biases and LayerNorm' }),
  maxGradNorm: number({ min: 0 }).default(1.0).meta({ description: 'global-norm gradient clipping (0 turns it off)' }),
  checkpointEvery: integer({ min: 0 }).default(0).meta({ description: 'write `checkpoint-<step>/` every N steps (0: only the final model)' }),
  evalEvery: integer({ min: 0 }).default(0).meta({ description: 'evaluate on `data.eval` every N steps (0: only at the end)' }),
  maxBadSteps: integer({ min: 0 }).default(5).meta({
    description: 'steps in a row with a NaN/Inf loss or gradient (their updates are skipped) before the run stops with an error naming the rows',
  }),
  saveTotalLimit: integer({ min: 0 }).default(0).meta({
    description: 'keep only the last K `checkpoint-<step>/` folders, plus the one with the best eval metric (nDCG@10 or Spearman, when `train.evalEvery` evaluates at checkpoint steps); 0 keeps all',
  }),
}, {
  // what transformers' TrainingArguments / sentence-transformers call them
  learning_rate: 'lr', learningRate: 'lr', per_device_train_batch_size: 'batchSize', num_train_epochs: 'epochs', max_steps: 'maxSteps',
  warmup_ratio: 'warmupRatio', weight_decay: 'weightDecay', max_grad_norm: 'maxGradNorm', save_steps: 'checkpointEvery', eval_steps: 'evalEvery',
  save_total_limit: 'saveTotalLimit', mini_batch_size: 'miniBatchSize',
}).superRefine((t, ctx) => {
  if (t.maxSteps === 0 && t.epochs <= 0) ctx.addIssue({ code: 'custom', path: ['epochs'], message: 'set epochs > 0 or maxSteps > 0' });
  if (t.miniBatchSize > t.batchSize) {
    ctx.addIssue({
      code: 'custom',
      path: ['miniBatchSize'],
      message: `${t.miniBatchSize} is larger than train.batchSize ${t.batchSize}; valid: 1..${t.batchSize} (or 0 for no GradCache)`,
    });
  }
});

const hasFrom = (model: Record<string, unknown>) => typeof model.from === 'string';

/** A whole recipe, as written: `datasets: [...]`, or the one-dataset shorthand `data.train` + `loss`. */
export const recipeSchema = section({
  name: text().default('model').meta({ description: 'a label' }),
  seed: integer({ min: 0 }).default(42).meta({ description: 'model init, data order and dropout all derive from it' }),
  tokenizer: text().optional().meta({
    default: 'required',
    description: "a Hugging Face `tokenizer.json` (WordPiece, Unigram or byte-level BPE); with `model.from`, the folder's by default",
  }),
  /** Validated against the tokenizer in the trainer (model/config.ts), or `{ from: "<HF folder>", ... }`. */
  model: z.record(z.string(), z.unknown(), { error: mustBe('an object') }).default({}),
  datasets: z
    .array(datasetSchema, { error: mustBe('a non-empty list of datasets') })
    .min(1, { error: mustBe('a non-empty list of datasets') })
    .optional()
    .meta({ type: 'list', default: '—', description: 'list of training datasets, each `{name, path, loss, columns?, prompts?, noDuplicates?, task?}` (below)' }),
  loss: lossConfigSchema.optional().meta({ type: 'object', default: '`{"name": "infonce"}`', description: 'with `data.train`: the loss of the one dataset (next tables)' }),
  data: dataSchema.prefault({}),
  train: optimSchema.prefault({}),
}).superRefine((r, ctx) => {
  if (r.datasets !== undefined && (r.data.train !== undefined || r.loss !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['datasets'], message: 'give either datasets: [...] or data.train with loss, not both' });
  }
  if (r.datasets === undefined && r.data.train === undefined) {
    ctx.addIssue({ code: 'custom', path: ['data', 'train'], message: 'required: a non-empty string (or use datasets: [...])' });
  }
  const names = new Set<string>();
  r.datasets?.forEach((d, i) => {
    const name = d.name ?? `dataset${i}`;
    if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['datasets', i, 'name'], message: `duplicate dataset name ${JSON.stringify(name)}` });
    names.add(name);
  });
  if (r.tokenizer === undefined && !hasFrom(r.model)) {
    ctx.addIssue({ code: 'custom', path: ['tokenizer'], message: 'required: the path of a tokenizer.json (optional only with model.from)' });
  }
});

type RawDataset = z.output<typeof datasetSchema>;
/** A dataset with its defaults resolved: the name from its index, noDuplicates from its loss. */
export type DatasetConfig = Omit<RawDataset, 'name' | 'noDuplicates'> & { name: string; noDuplicates: boolean };
export type DataConfig = Omit<z.output<typeof dataSchema>, 'train'>;
export type OptimConfig = z.output<typeof optimSchema>;

export interface TrainConfig {
  name: string;
  seed: number;
  tokenizer?: string;
  model: Record<string, unknown>;
  datasets: DatasetConfig[];
  data: DataConfig;
  train: OptimConfig;
}

function resolveDataset(d: RawDataset, i: number): DatasetConfig {
  const { name, path, loss, columns, prompts, noDuplicates, task } = d;
  return {
    name: name ?? `dataset${i}`,
    path,
    loss,
    columns,
    prompts,
    noDuplicates: noDuplicates ?? LOSS_SPECS[loss.name].inBatchNegatives,
    ...(task === undefined ? {} : { task }),
  };
}

export function validateTrainConfig(raw: unknown, where: string): TrainConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw userError(where, undefined, 'a config must be a JSON object');
  if ((raw as Record<string, unknown>).stages !== undefined) throw userError(where, undefined, `is a pipeline (it has stages); run it with \`contrastive pipeline --config ${where}\``);
  const r = parseConfig(recipeSchema, raw, where);
  const datasets = r.datasets ?? [{ name: 'train', path: r.data.train!, loss: r.loss ?? lossConfigSchema.parse({}), columns: {}, prompts: {} }];
  const { train: _train, eval: evalPath, evalTask, ...data } = r.data;
  return {
    // key order as training_config.json has always been written (resume compares it as text)
    name: r.name,
    seed: r.seed,
    tokenizer: r.tokenizer,
    model: r.model,
    datasets: datasets.map(resolveDataset),
    data: { eval: evalPath, ...(evalTask === undefined ? {} : { evalTask }), ...data },
    train: r.train,
  };
}

/** Read and validate a recipe file; unreadable or non-JSON files are one-line errors naming the file. */
export function loadTrainConfig(path: string): TrainConfig {
  return validateTrainConfig(readJsonConfig(path, 'config'), path);
}
