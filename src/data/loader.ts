import { userError } from '../util/errors.js';
import { mixSeed } from '../util/rng.js';
import { countSelectedRows, readColumnBatches, readSchema, type ColumnSelection } from './arrow-reader.js';
import { chunked, noDuplicateBatches } from './batching.js';
import { shuffled } from './shuffle.js';
import type { TextTokenizer, TokenBatch } from './tokenizer.js';

// ------------------------------------------------------------------------------------------ general loader

/** A training batch: one token batch per role, plus the gold scores of labelled data. */
export interface TextBatch {
  /** role -> tokens, e.g. { anchor, positive, negative, negative_2 } or { text1, text2 }, in the order of `columns` */
  columns: Record<string, TokenBatch>;
  /** labelled data: gold scores, one per row (present when `score` was given) */
  scores?: Float32Array;
  /** Rows in this batch (= batchSize except for short batches kept with dropLast: false). */
  size: number;
  /** The file rows (1-based) the batch holds, in batch order: what an error about the batch names. */
  rows?: number[];
}

/** The same batch before tokenization: raw texts per role (prefixes not applied). */
export interface RawTextBatch {
  columns: Record<string, string[]>;
  scores?: Float32Array;
  size: number;
  /** The file rows (1-based) the batch holds. */
  rows?: number[];
}

export interface TextBatchOptions {
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
  /** Drop short batches (default true: in-batch negatives want full batches). */
  dropLast?: boolean;
  /**
   * role -> Arrow column; only these roles are read and tokenized, in this order. Default: every text column of
   * the file's kind under its own name (pairs: anchor, positive, negative, negative_2, …; labelled: text1, text2).
   */
  columns?: Record<string, string>;
  /** role -> text prepended before tokenization, e.g. { anchor: 'query: ', positive: 'passage: ' } */
  prefixes?: Record<string, string>;
  /** Arrow column of the gold score (labelled data, e.g. 'score'); any integer/float type, read as float32. */
  score?: string;
  /**
   * No text twice in a batch, as sentence-transformers' NoDuplicatesBatchSampler: records whose texts (any role,
   * compared as stored in the file, before prefixes; the score is not compared) are already in the batch wait
   * for a later batch. Use with in-batch-negative losses on data where a text appears in several rows.
   */
  noDuplicates?: boolean;
}

/** The options that fix the batch order (everything but tokenization and skipping). */
export type BatchOrderOptions = Omit<TextBatchOptions, 'tokenizer' | 'maxLength' | 'skipBatches'>;

function checkInt(path: string, field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw userError(path, field, `must be an integer >= ${min}, got ${value}`);
}

/** Validates the options that need no I/O. */
function checkOrderOptions(opts: BatchOrderOptions): void {
  const { path } = opts;
  checkInt(path, 'batchSize', opts.batchSize, 1);
  checkInt(path, 'shuffleBuffer', opts.shuffleBuffer, 0);
  checkInt(path, 'epoch', opts.epoch, 0);
  if (opts.columns !== undefined) {
    const roles = Object.keys(opts.columns);
    if (roles.length === 0) throw userError(path, 'columns', 'names no role; give at least one, e.g. { anchor: "anchor", positive: "positive" }');
    for (const role of roles) {
      const col = opts.columns[role];
      if (typeof col !== 'string' || col.length === 0) throw userError(path, `columns.${role}`, `must name an Arrow column, got ${JSON.stringify(col)}`);
    }
  }
  for (const [role, prefix] of Object.entries(opts.prefixes ?? {})) {
    if (typeof prefix !== 'string') throw userError(path, `prefixes.${role}`, `must be a string, got ${JSON.stringify(prefix)}`);
    if (opts.columns !== undefined && !(role in opts.columns)) {
      throw userError(path, `prefixes.${role}`, `is not one of the roles read: ${Object.keys(opts.columns).join(', ')}`);
    }
  }
}

/** Roles and the Arrow columns they read (defaults from the file's kind). */
async function resolveSelection(opts: BatchOrderOptions): Promise<{ roles: string[]; sel: ColumnSelection }> {
  let columns = opts.columns;
  if (columns === undefined) {
    const info = await readSchema(opts.path);
    const names = info.kind === 'pairs' ? ['anchor', 'positive', ...info.negatives] : ['text1', 'text2'];
    columns = Object.fromEntries(names.map((n) => [n, n]));
    for (const role of Object.keys(opts.prefixes ?? {})) {
      if (!(role in columns)) throw userError(opts.path, `prefixes.${role}`, `is not one of the roles read: ${names.join(', ')}`);
    }
  }
  const roles = Object.keys(columns);
  return { roles, sel: { path: opts.path, columns: roles.map((r) => columns[r]), roles, score: opts.score } };
}

interface TextRecord {
  texts: string[];
  score?: number;
  /** 1-based row of the file. */
  row: number;
}

async function* textRecords(sel: ColumnSelection): AsyncGenerator<TextRecord> {
  let row = 0;
  for await (const b of readColumnBatches(sel)) {
    for (let i = 0; i < b.rows; i++) {
      const texts = b.texts.map((col) => col[i]);
      row++;
      yield b.scores ? { texts, score: b.scores[i], row } : { texts, row };
    }
  }
}

function toRaw(roles: string[], records: TextRecord[], withScores: boolean): RawTextBatch {
  const columns: Record<string, string[]> = {};
  roles.forEach((role, c) => {
    columns[role] = records.map((r) => r.texts[c]);
  });
  const out: RawTextBatch = { columns, size: records.length, rows: records.map((r) => r.row) };
  if (withScores) out.scores = Float32Array.from(records, (r) => r.score ?? 0);
  return out;
}

/**
 * Raw-text batches in the training order: the records of the file (only the selected columns), shuffled
 * with a seeded buffer (seed mixSeed(seed, epoch)), grouped into `batchSize` rows (or no-duplicates batches).
 * A pure function of (file, seed, epoch, shuffleBuffer, batchSize, dropLast, columns, score, noDuplicates).
 */
export async function* textRecordBatches(opts: BatchOrderOptions): AsyncGenerator<RawTextBatch> {
  checkOrderOptions(opts);
  const { roles, sel } = await resolveSelection(opts);
  const dropLast = opts.dropLast ?? true;
  const records = shuffled(textRecords(sel), { bufferSize: opts.shuffleBuffer, seed: mixSeed(opts.seed, opts.epoch) });
  const groups = opts.noDuplicates
    ? noDuplicateBatches(records, { batchSize: opts.batchSize, dropLast, keys: (r) => r.texts })
    : chunked(records, { batchSize: opts.batchSize, dropLast });
  for await (const group of groups) yield toRaw(roles, group, sel.score !== undefined);
}

/** Tokenizes a raw batch, each role with its prefix (prepended to the text; truncation drops the text's end). */
export function tokenizeTexts(raw: RawTextBatch, tokenizer: TextTokenizer, maxLength: number, prefixes: Record<string, string> = {}): TextBatch {
  const columns: Record<string, TokenBatch> = {};
  for (const [role, texts] of Object.entries(raw.columns)) {
    const prefix = prefixes[role] ?? '';
    columns[role] = tokenizer.encode(prefix ? texts.map((t) => prefix + t) : texts, { maxLength });
  }
  const batch: TextBatch = { columns, size: raw.size, rows: raw.rows };
  if (raw.scores) batch.scores = raw.scores;
  return batch;
}

/**
 * Training batches from an Arrow file of either kind: streamed record batch by record batch, shuffled with a
 * seeded buffer, grouped (`noDuplicates`: no text twice per batch) and tokenized per role (each role padded to
 * its own longest row). The order is a pure function of (file, seed, epoch, options); `skipBatches: k` yields
 * exactly what the un-skipped iterator yields from batch k on, without tokenizing the skipped ones.
 */
export async function* textBatches(opts: TextBatchOptions): AsyncGenerator<TextBatch> {
  const skip = opts.skipBatches ?? 0;
  checkInt(opts.path, 'skipBatches', skip, 0);
  checkOrderOptions(opts);
  opts.tokenizer.encodeOne('', opts.maxLength); // validates maxLength before any I/O
  let i = 0;
  for await (const raw of textRecordBatches(opts)) {
    if (i++ < skip) continue;
    yield tokenizeTexts(raw, opts.tokenizer, opts.maxLength, opts.prefixes);
  }
}

/**
 * Number of batches `textBatches` yields for epoch `epoch` (with skipBatches 0), without tokenizing: from the
 * row count alone for plain batching, by running the no-duplicates grouping on the texts otherwise.
 */
export async function countBatches(opts: BatchOrderOptions): Promise<number> {
  checkOrderOptions(opts);
  if (!opts.noDuplicates) {
    const { sel } = await resolveSelection(opts);
    const rows = await countSelectedRows(sel);
    return (opts.dropLast ?? true) ? Math.floor(rows / opts.batchSize) : Math.ceil(rows / opts.batchSize);
  }
  let n = 0;
  for await (const _ of textRecordBatches(opts)) n++;
  return n;
}
