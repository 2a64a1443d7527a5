import { userError } from '../util/errors.js';
import { mixSeed } from '../util/rng.js';
import { readPairBatches } from './arrow-reader.js';
import type { PairRecord } from './records.js';
import { shuffled } from './shuffle.js';
import type { TextTokenizer, TokenBatch } from './tokenizer.js';

export interface PairBatch {
  anchor: TokenBatch;
  positive: TokenBatch;
  /** Present when the file has a `negative` column. */
  negative?: TokenBatch;
  /** Rows in this batch (= batchSize except possibly the last one when dropLast is false). */
  size: number;
}

export interface PairBatchOptions {
  path: string;
  tokenizer: TextTokenizer;
  batchSize: number;
  maxLength: number;
  seed: number;
  epoch: number;
  /** Records held by the shuffle buffer; 0 or 1 = file order. */
  shuffleBuffer: number;
  /** Skip this many batches first, without tokenizing them (exact resume). */
  skipBatches?: number;
  /** Drop a final short batch (default true: in-batch negatives want full batches). */
  dropLast?: boolean;
}

function checkInt(path: string, field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw userError(path, field, `must be an integer >= ${min}, got ${value}`);
}

async function* records(path: string): AsyncGenerator<PairRecord> {
  for await (const batch of readPairBatches({ path })) yield* batch;
}

/**
 * Groups the (shuffled) records of an Arrow file into batches of raw text, in the training order: a pure
 * function of (file, seed, epoch, shuffleBuffer, batchSize, dropLast). The shuffle seed is mixSeed(seed, epoch).
 */
export async function* recordBatches(opts: Omit<PairBatchOptions, 'tokenizer' | 'maxLength' | 'skipBatches'>): AsyncGenerator<PairRecord[]> {
  const { path, batchSize, shuffleBuffer } = opts;
  checkInt(path, 'batchSize', batchSize, 1);
  checkInt(path, 'shuffleBuffer', shuffleBuffer, 0);
  checkInt(path, 'epoch', opts.epoch, 0);
  const dropLast = opts.dropLast ?? true;
  let batch: PairRecord[] = [];
  for await (const r of shuffled(records(path), { bufferSize: shuffleBuffer, seed: mixSeed(opts.seed, opts.epoch) })) {
    batch.push(r);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0 && !dropLast) yield batch;
}

/** Tokenizes one batch of records (anchor, positive and, when present, negative). */
export function tokenizePairs(batch: PairRecord[], tokenizer: TextTokenizer, maxLength: number): PairBatch {
  const out: PairBatch = {
    anchor: tokenizer.encode(batch.map((r) => r.anchor), { maxLength }),
    positive: tokenizer.encode(batch.map((r) => r.positive), { maxLength }),
    size: batch.length,
  };
  if (batch.length > 0 && batch[0].negative !== undefined) {
    out.negative = tokenizer.encode(batch.map((r) => r.negative ?? ''), { maxLength });
  }
  return out;
}

/**
 * Training batches from a prepared Arrow file: streamed batch by batch, shuffled with a seeded buffer,
 * grouped into `batchSize` rows and tokenized (each side padded to its own longest row).
 * `skipBatches: k` yields exactly what the un-skipped iterator yields from batch k on.
 */
export async function* pairBatches(opts: PairBatchOptions): AsyncGenerator<PairBatch> {
  const skip = opts.skipBatches ?? 0;
  checkInt(opts.path, 'skipBatches', skip, 0);
  opts.tokenizer.encodeOne('', opts.maxLength); // validates maxLength before any I/O
  let i = 0;
  for await (const batch of recordBatches(opts)) {
    if (i++ < skip) continue;
    yield tokenizePairs(batch, opts.tokenizer, opts.maxLength);
  }
}

/** Batches one epoch yields: floor(rows / batchSize) with dropLast (default), ceil otherwise. */
export function batchesPerEpoch(rows: number, batchSize: number, dropLast = true): number {
  return dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
}
