/**
 * Several training datasets, each batch from one of them (sentence-transformers' multi-dataset
 * training): resolving each dataset's column roles against its Arrow file and loss, the order of
 * datasets in an epoch, and one stream of batches that can start at any step of the epoch.
 *
 * proportional: every dataset contributes all its batches per epoch, in a seeded random interleaving
 *   (ST's ProportionalBatchSampler, the default);
 * round_robin: d0, d1, …, d0, d1, … until the smallest dataset runs out (ST's RoundRobinBatchSampler).
 */
import type { DatasetConfig, Sampling } from './config.js';
import { LOSS_SPECS, negativeRoles, type DataKind } from '../losses/registry.js';
import { openArrow } from '../data/arrow-reader.js';
import { textBatches, countBatches, type TextBatch } from '../data/loader.js';
import type { TextTokenizer } from '../data/tokenizer.js';
import { Rng, mixSeed } from '../util/rng.js';
import { userError } from '../util/errors.js';

export interface ResolvedDataset extends DatasetConfig {
  kind: DataKind;
  /** role -> Arrow column, only the roles the loss reads. */
  read: Record<string, string>;
  /** Arrow column of the gold score (labelled data). */
  scoreColumn?: string;
  batchesPerEpoch: number;
}

export interface StreamOptions {
  batchSize: number;
  seed: number;
  shuffleBuffer: number;
}

/** Per-dataset seed, so two datasets never share a shuffle order. */
export function datasetSeed(seed: number, index: number): number {
  return mixSeed(seed, 0xda7a, index);
}

/** Column names of an Arrow file (from its schema; no record batch is read). */
async function arrowColumns(path: string): Promise<string[]> {
  const { fh, reader } = await openArrow(path);
  try {
    return reader.schema.fields.map((f) => f.name);
  } finally {
    await fh.close();
  }
}

/** Check a dataset's file against its loss and work out which columns play which role. */
export async function resolveDataset(d: DatasetConfig, index: number, opts: StreamOptions, where: string): Promise<ResolvedDataset> {
  const schema = { columns: await arrowColumns(d.path) };
  const col = (role: string) => d.columns[role] ?? role;
  const has = (role: string) => schema.columns.includes(col(role));
  const spec = LOSS_SPECS[d.loss.name];
  const kind: DataKind | undefined = spec.kinds.labelled && has('text1') && has('text2') ? 'labelled' : spec.kinds.pairs ? 'pairs' : undefined;
  const need = kind && spec.kinds[kind];
  const describe = () =>
    Object.entries(spec.kinds)
      .map(([k, v]) => `${v.required.join(', ')}${k === 'labelled' ? ', score' : ''}${v.negatives === 'any' ? '[, negative, negative_2…]' : v.negatives === 'one' && !v.required.includes('negative') ? '[, negative]' : ''}`)
      .join(' or ');
  const missing = need ? [...need.required, ...(kind === 'labelled' ? ['score'] : [])].filter((r) => !has(r)) : ['text1', 'text2', 'score'];
  if (!need || missing.length > 0) {
    throw userError(
      where,
      `datasets[${index}]`,
      `${d.path} lacks ${missing.map((r) => (col(r) === r ? r : `${r} (column ${col(r)})`)).join(', ')} for loss ${d.loss.name}, which needs ${describe()}; the file has ${schema.columns.join(', ')}`,
    );
  }
  const roles = [...need.required];
  if (need.negatives !== 'none') {
    const negatives = negativeRoles(schema.columns.filter((c) => c.startsWith('negative')).map((c) => c));
    for (const r of need.negatives === 'any' ? negatives : negatives.slice(0, 1)) if (!roles.includes(r)) roles.push(r);
  }
  const read = Object.fromEntries(roles.map((r) => [r, col(r)]));
  const scoreColumn = kind === 'labelled' ? col('score') : undefined;
  const batchesPerEpoch = await countBatches({
    path: d.path,
    batchSize: opts.batchSize,
    seed: datasetSeed(opts.seed, index),
    epoch: 0,
    shuffleBuffer: opts.shuffleBuffer,
    columns: read,
    score: scoreColumn,
    noDuplicates: d.noDuplicates,
    dropLast: true,
  });
  if (batchesPerEpoch === 0) {
    throw userError(d.path, undefined, `yields no full batch of train.batchSize ${opts.batchSize} (dataset ${d.name}); use a smaller batch`);
  }
  return { ...d, kind, read, scoreColumn, batchesPerEpoch };
}

/** The number of batches in an epoch, from each dataset's count. */
export function epochLength(counts: number[], sampling: Sampling): number {
  return sampling === 'round_robin' ? Math.min(...counts) * counts.length : counts.reduce((a, b) => a + b, 0);
}

/** Which dataset each batch of `epoch` comes from. */
export function epochOrder(counts: number[], sampling: Sampling, seed: number, epoch: number): number[] {
  if (sampling === 'round_robin') {
    const rounds = Math.min(...counts);
    return Array.from({ length: rounds * counts.length }, (_, i) => i % counts.length);
  }
  const order = counts.flatMap((n, d) => Array<number>(n).fill(d));
  const rng = new Rng(mixSeed(seed, 0x5a3, epoch));
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export interface EpochStreamOptions extends StreamOptions {
  datasets: ResolvedDataset[];
  sampling: Sampling;
  tokenizer: TextTokenizer;
  maxLength: number;
  epoch: number;
  /** Batches of this epoch already trained on (resume). */
  skipBatches: number;
}

/**
 * The batches of one epoch from position `skipBatches` on, each tagged with its dataset and its
 * position in the epoch's order (resume from `position + 1`).
 */
export async function* epochBatches(opts: EpochStreamOptions): AsyncGenerator<{ dataset: ResolvedDataset; batch: TextBatch; position: number }> {
  const order = epochOrder(opts.datasets.map((d) => d.batchesPerEpoch), opts.sampling, opts.seed, opts.epoch);
  const done = opts.datasets.map((_, d) => order.slice(0, opts.skipBatches).filter((x) => x === d).length);
  const streams = opts.datasets.map((d, i) =>
    textBatches({
      path: d.path,
      tokenizer: opts.tokenizer,
      batchSize: opts.batchSize,
      maxLength: opts.maxLength,
      seed: datasetSeed(opts.seed, i),
      epoch: opts.epoch,
      shuffleBuffer: opts.shuffleBuffer,
      skipBatches: done[i],
      dropLast: true,
      columns: d.read,
      prefixes: d.prompts,
      score: d.scoreColumn,
      noDuplicates: d.noDuplicates,
    }),
  );
  try {
    for (let position = opts.skipBatches; position < order.length; position++) {
      const d = order[position];
      const next = await streams[d].next();
      // With noDuplicates a later epoch can hold a batch less than epoch 0 counted: skip its turn.
      if (!next.done) yield { dataset: opts.datasets[d], batch: next.value, position };
    }
  } finally {
    await Promise.all(streams.map((s) => s.return(undefined)));
  }
}
