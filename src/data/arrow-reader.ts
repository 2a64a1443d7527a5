import { open, type FileHandle } from 'node:fs/promises';
import { RecordBatchReader, Type, type Dictionary, type RecordBatch, type Schema } from 'apache-arrow';
import { UserError, userError } from '../util/errors.js';
import type { PairRecord } from './records.js';

const REQUIRED = ['anchor', 'positive'] as const;

function typeName(schema: Schema, name: string): string {
  return String(schema.fields.find((f) => f.name === name)?.type ?? 'missing');
}

/** Throws a UserError naming the file and column unless anchor/positive are strings (negative optional). */
export function validatePairSchema(path: string, schema: Schema): { hasNegative: boolean } {
  const names = schema.fields.map((f) => f.name);
  // plain or dictionary-encoded strings (pandas/pyarrow categoricals)
  const isString = (name: string): boolean => {
    const type = schema.fields.find((f) => f.name === name)?.type;
    const t = type?.typeId === Type.Dictionary ? (type as Dictionary).dictionary.typeId : type?.typeId;
    return t === Type.Utf8 || t === Type.LargeUtf8;
  };
  for (const col of REQUIRED) {
    if (!names.includes(col)) {
      throw userError(path, col, `required column missing; the file has: ${names.map((n) => JSON.stringify(n)).join(', ') || '(none)'} (run \`contrastive prepare\` with --anchor/--positive to map columns)`);
    }
    if (!isString(col)) throw userError(path, col, `expected a string (Utf8) column, found ${typeName(schema, col)}`);
  }
  const hasNegative = names.includes('negative');
  if (hasNegative && !isString('negative')) {
    throw userError(path, 'negative', `expected a string (Utf8) column, found ${typeName(schema, 'negative')}`);
  }
  return { hasNegative };
}

/** Opens an Arrow IPC file (file or stream format) for batch-by-batch reading through a file handle. */
async function openReader(path: string): Promise<{ fh: FileHandle; reader: AsyncIterable<RecordBatch> & { schema: Schema } }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw userError(path, undefined, code === 'ENOENT' ? 'Arrow file not found (create it with `contrastive prepare`)' : `cannot open Arrow file (${code ?? (e as Error).message})`);
  }
  try {
    // With a FileHandle, apache-arrow reads the IPC *file* format by random access (footer, then one
    // batch at a time) and the *stream* format sequentially; neither loads the whole file.
    const reader = await RecordBatchReader.from(fh);
    await reader.open();
    if (!reader.schema) throw new Error('no schema');
    return { fh, reader: reader as unknown as AsyncIterable<RecordBatch> & { schema: Schema } };
  } catch (e) {
    await fh.close();
    if (e instanceof UserError) throw e;
    throw userError(path, undefined, `not a readable Arrow IPC file (${(e as Error).message})`);
  }
}

function columnStrings(batch: RecordBatch, name: string): string[] {
  const col = batch.getChild(name);
  const out = new Array<string>(batch.numRows);
  for (let i = 0; i < batch.numRows; i++) out[i] = (col?.get(i) as string | null) ?? '';
  return out;
}

/**
 * Yields the records of a prepared Arrow file, one array per Arrow record batch, reading one batch at a time.
 * The schema is validated first (anchor/positive Utf8 required, negative optional); nulls read as ''.
 */
export async function* readPairBatches(opts: { path: string }): AsyncGenerator<PairRecord[]> {
  const { path } = opts;
  const { fh, reader } = await openReader(path);
  try {
    const { hasNegative } = validatePairSchema(path, reader.schema);
    for await (const batch of reader) {
      const anchor = columnStrings(batch, 'anchor');
      const positive = columnStrings(batch, 'positive');
      const negative = hasNegative ? columnStrings(batch, 'negative') : undefined;
      const records = new Array<PairRecord>(batch.numRows);
      for (let i = 0; i < batch.numRows; i++) {
        records[i] = negative ? { anchor: anchor[i], positive: positive[i], negative: negative[i] } : { anchor: anchor[i], positive: positive[i] };
      }
      yield records;
    }
  } finally {
    await fh.close();
  }
}

/** Whether the file has a `negative` column (validates the schema; reads no record batches). */
export async function hasNegativeColumn(path: string): Promise<boolean> {
  const { fh, reader } = await openReader(path);
  try {
    return validatePairSchema(path, reader.schema).hasNegative;
  } finally {
    await fh.close();
  }
}

/** Number of rows in a prepared Arrow file: streams the batches and sums their lengths (no text decoding). */
export async function countRows(path: string): Promise<number> {
  const { fh, reader } = await openReader(path);
  try {
    validatePairSchema(path, reader.schema);
    let n = 0;
    for await (const batch of reader) n += batch.numRows;
    return n;
  } finally {
    await fh.close();
  }
}
