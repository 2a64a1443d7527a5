import { open, type FileHandle } from 'node:fs/promises';
import { RecordBatchReader, Type, type RecordBatch, type Schema } from 'apache-arrow';
import { ByteBuffer } from 'flatbuffers';
import { Message } from 'apache-arrow/fb/message';
import { MessageHeader } from 'apache-arrow/fb/message-header';
import './arrow-guard.js';
import { UserError, userError } from '../util/errors.js';
import type { PairRecord } from './records.js';
import { classifySchema, describeColumns, isNumericField, isStringField, typeName, type SchemaInfo } from './schema.js';

const REQUIRED = ['anchor', 'positive'] as const;

/** Throws a UserError naming the file and column unless anchor/positive are strings (negative optional). */
export function validatePairSchema(path: string, schema: Schema): { hasNegative: boolean } {
  const names = schema.fields.map((f) => f.name);
  for (const col of REQUIRED) {
    if (!names.includes(col)) {
      throw userError(path, col, `required column missing; the file has: ${names.map((n) => JSON.stringify(n)).join(', ') || '(none)'} (run \`contrastive prepare\` with --anchor/--positive to map columns)`);
    }
    if (!isStringField(schema, col)) throw userError(path, col, `expected a string (Utf8) column, found ${typeName(schema, col)}`);
  }
  const hasNegative = names.includes('negative');
  if (hasNegative && !isStringField(schema, 'negative')) {
    throw userError(path, 'negative', `expected a string (Utf8) column, found ${typeName(schema, 'negative')}`);
  }
  return { hasNegative };
}

/** How many record batches a file says it has, when it is the IPC *file* format (undefined for streams). */
function declaredBatches(reader: RecordBatchReader): number | undefined {
  return reader.isFile() ? (reader as unknown as { numRecordBatches: number }).numRecordBatches : undefined;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks what apache-arrow takes on trust in one record batch: every column holds `numRows` values;
 * validity bitmaps cover them; Utf8 offsets start ≥ 0, never decrease and stay inside the data buffer;
 * the text is UTF-8. Damage would otherwise read as other texts, empty strings or garbage.
 */
function checkBatch(path: string, index: number, batch: RecordBatch): void {
  const where = `record batch ${index}`;
  for (const field of batch.schema.fields) {
    const col = batch.getChild(field.name);
    if (!col || col.length !== batch.numRows) throw userError(path, where, `column ${JSON.stringify(field.name)} holds ${col?.length ?? 0} values for ${batch.numRows} rows; the file is damaged`);
    for (const d of col.data) {
      if (d.nullCount > 0 && (!d.nullBitmap || d.nullBitmap.length * 8 < d.offset + d.length)) {
        throw userError(path, where, `column ${JSON.stringify(field.name)}: the validity bitmap is shorter than the column; the file is damaged`);
      }
      if (d.typeId !== Type.Utf8 && d.typeId !== Type.LargeUtf8) continue;
      const offsets = d.valueOffsets as Int32Array | BigInt64Array;
      const values = d.values as Uint8Array;
      if (!offsets || offsets.length < d.offset + d.length + 1) throw userError(path, where, `column ${JSON.stringify(field.name)}: the offsets buffer is too short; the file is damaged`);
      let prev = Number(offsets[d.offset]);
      if (prev < 0) throw userError(path, where, `column ${JSON.stringify(field.name)}: a negative text offset; the file is damaged`);
      for (let i = d.offset + 1; i <= d.offset + d.length; i++) {
        const o = Number(offsets[i]);
        if (o < prev || o > values.length) throw userError(path, where, `column ${JSON.stringify(field.name)}, row ${i - d.offset}: text offsets ${prev}..${o} are not inside the ${values.length}-byte data buffer; the file is damaged`);
        prev = o;
      }
      try {
        utf8Strict.decode(values.subarray(Number(offsets[d.offset]), prev));
      } catch {
        throw userError(path, where, `column ${JSON.stringify(field.name)}: the text is not valid UTF-8; the file is damaged`);
      }
    }
  }
}

/**
 * The footer's block for record batch `index` of an IPC *file* must lie inside the file and point at a
 * record-batch message: apache-arrow's file reader skips a schema message found there and reads the same
 * block again, forever (a damaged footer hung the reader). One small read of the message's header.
 */
async function checkBlock(path: string, fh: FileHandle, reader: RecordBatchReader, index: number): Promise<void> {
  try {
    await checkBlockUnsafe(path, fh, reader, index);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw userError(path, `record batch ${index}`, `the footer's entry for it cannot be read (${(e as Error).message}); the file is damaged`);
  }
}

async function checkBlockUnsafe(path: string, fh: FileHandle, reader: RecordBatchReader, index: number): Promise<void> {
  const block = (reader as unknown as { footer: { getRecordBatch(i: number): { offset: number | bigint; metaDataLength: number; bodyLength: number | bigint } | null } }).footer.getRecordBatch(index);
  const where = `record batch ${index}`;
  const size = (await fh.stat()).size;
  const offset = Number(block?.offset);
  const metaLength = Number(block?.metaDataLength);
  const bodyLength = Number(block?.bodyLength);
  if (!block || !(offset >= 0 && metaLength >= 8 && bodyLength >= 0 && offset + metaLength + bodyLength <= size)) {
    throw userError(path, where, `the footer places it outside the ${size}-byte file; the file is damaged`);
  }
  const meta = Buffer.alloc(metaLength);
  await fh.read(meta, 0, metaLength, offset);
  const skip = meta.readInt32LE(0) === -1 ? 8 : 4; // continuation marker + length, or (pre-1.0) the length alone
  const length = meta.readInt32LE(skip - 4);
  if (!(length > 0 && skip + length <= metaLength)) throw userError(path, where, `its message header says ${length} bytes, the footer ${metaLength - skip}; the file is damaged`);
  let header: MessageHeader;
  try {
    header = Message.getRootAsMessage(new ByteBuffer(meta.subarray(skip, skip + length))).headerType();
  } catch (e) {
    throw userError(path, where, `its message header cannot be read (${(e as Error).message}); the file is damaged`);
  }
  if (header !== MessageHeader.RecordBatch) throw userError(path, where, `the footer points at a ${MessageHeader[header] ?? `type-${header}`} message, not a record batch; the file is damaged`);
}

/**
 * The record batches of an open reader, each checked (`checkBatch`); errors apache-arrow throws while
 * reading a batch (a truncated stream, a bad message) become UserErrors naming the file and the batch,
 * and a file is read for no more batches than its footer declares, each block checked first (`checkBlock`).
 */
async function* checkedBatches(path: string, fh: FileHandle, reader: RecordBatchReader): AsyncGenerator<RecordBatch> {
  let declared: number | undefined;
  try {
    declared = declaredBatches(reader);
  } catch (e) {
    throw userError(path, undefined, `the footer cannot be read (${(e as Error).message}); the file is damaged`);
  }
  const it = (reader as unknown as AsyncIterable<RecordBatch>)[Symbol.asyncIterator]();
  for (let index = 0; declared === undefined || index < declared; index++) {
    if (declared !== undefined) await checkBlock(path, fh, reader, index);
    let next: IteratorResult<RecordBatch>;
    try {
      next = await it.next();
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw userError(path, `record batch ${index}`, `cannot be read (${(e as Error).message}); the file is truncated or damaged`);
    }
    if (next.done) return;
    try {
      checkBatch(path, index, next.value);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw userError(path, `record batch ${index}`, `cannot be read (${(e as Error).message}); the file is damaged`);
    }
    yield next.value;
  }
}

/**
 * Opens an Arrow IPC file (file or stream format) for batch-by-batch reading through a file handle;
 * the batches it yields are checked as they are read (see `checkedBatches`).
 */
export async function openArrow(path: string): Promise<{ fh: FileHandle; reader: AsyncIterable<RecordBatch> & { schema: Schema } }> {
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
    const schema = reader.schema;
    return { fh, reader: { schema, [Symbol.asyncIterator]: () => checkedBatches(path, fh, reader as unknown as RecordBatchReader) } };
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
  const { fh, reader } = await openArrow(path);
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

/** Number of rows in a prepared Arrow file: streams the batches and sums their lengths (no text decoding). */
export async function countRows(path: string): Promise<number> {
  const { fh, reader } = await openArrow(path);
  try {
    validatePairSchema(path, reader.schema);
    let n = 0;
    for await (const batch of reader) n += batch.numRows;
    return n;
  } finally {
    await fh.close();
  }
}

/**
 * The kind (`pairs` or `labelled`), columns and hard-negative columns of a prepared Arrow file, from its
 * schema alone (no record batch is read). UserError, listing the columns found and what each kind needs,
 * for a file that is neither.
 */
export async function readSchema(path: string): Promise<SchemaInfo> {
  const { fh, reader } = await openArrow(path);
  try {
    return classifySchema(path, reader.schema);
  } finally {
    await fh.close();
  }
}

/** Which columns of an Arrow file to read: text columns (strings) and optionally one numeric score column. */
export interface ColumnSelection {
  path: string;
  /** String columns, read in this order. */
  columns: string[];
  /** What each column is used for (same order), named in error messages, e.g. role `anchor` → column `query`. */
  roles?: string[];
  /** A numeric column (any integer or float type) read as the score. */
  score?: string;
}

/** One Arrow record batch of the selected columns. */
export interface ColumnBatch {
  /** texts[c][r]: text of selected column c in row r; null reads as ''. */
  texts: string[][];
  /** One score per row, when a score column was selected. */
  scores?: Float32Array;
  rows: number;
}

/** UserError naming the file and column unless every selected column exists with the right type. */
export function checkColumns(schema: Schema, sel: ColumnSelection): void {
  const names = schema.fields.map((f) => f.name);
  const wanted = (i: number): string => (sel.roles && sel.roles[i] !== sel.columns[i] ? ` (wanted for ${JSON.stringify(sel.roles[i])})` : '');
  sel.columns.forEach((col, i) => {
    if (!names.includes(col)) throw userError(sel.path, col, `no such column${wanted(i)}; the file has: ${describeColumns(schema)}`);
    if (!isStringField(schema, col)) throw userError(sel.path, col, `expected a string (Utf8) column${wanted(i)}, found ${typeName(schema, col)}`);
  });
  if (sel.score !== undefined) {
    if (!names.includes(sel.score)) throw userError(sel.path, sel.score, `no such score column; the file has: ${describeColumns(schema)}`);
    if (!isNumericField(schema, sel.score)) throw userError(sel.path, sel.score, `expected a numeric score column (integer or float), found ${typeName(schema, sel.score)}`);
  }
}

/**
 * Yields the selected columns of an Arrow file one record batch at a time (validated first with
 * `checkColumns`). Scores of any integer/float type become float32; a null score is a UserError naming the row.
 */
export async function* readColumnBatches(sel: ColumnSelection): AsyncGenerator<ColumnBatch> {
  const { fh, reader } = await openArrow(sel.path);
  try {
    checkColumns(reader.schema, sel);
    let row = 0;
    for await (const batch of reader) {
      const texts = sel.columns.map((c) => columnStrings(batch, c));
      let scores: Float32Array | undefined;
      if (sel.score !== undefined) {
        const col = batch.getChild(sel.score);
        scores = new Float32Array(batch.numRows);
        for (let i = 0; i < batch.numRows; i++) {
          const v = col?.get(i) as number | bigint | null | undefined;
          if (v === null || v === undefined) throw userError(sel.path, sel.score, `row ${row + i + 1}: score is null`);
          scores[i] = Number(v);
          if (!Number.isFinite(scores[i])) throw userError(sel.path, sel.score, `row ${row + i + 1}: score is ${scores[i]}; scores must be finite numbers`);
        }
      }
      row += batch.numRows;
      yield { texts, scores, rows: batch.numRows };
    }
  } finally {
    await fh.close();
  }
}

/** Rows of an Arrow file after `checkColumns` on the selection; sums batch lengths without decoding text. */
export async function countSelectedRows(sel: ColumnSelection): Promise<number> {
  const { fh, reader } = await openArrow(sel.path);
  try {
    checkColumns(reader.schema, sel);
    let n = 0;
    for await (const batch of reader) n += batch.numRows;
    return n;
  } finally {
    await fh.close();
  }
}
