/**
 * Texts to embed, read a chunk at a time from an Arrow IPC file (one record batch at a time) or a
 * JSONL file (one line at a time), each with its id: the `id` column/field when the input has one
 * (integers -> Int64, strings -> Utf8), else the 0-based row index.
 */
import { extname } from 'node:path';
import { extensionsOf, formatOf } from '../data/formats.js';
import { Type, type DataType, type Dictionary, type Schema } from 'apache-arrow';
import { openArrow } from '../data/arrow-reader.js';
import { readJsonl, jsonlText } from '../data/jsonl.js';
import { UserError, userError } from '../util/errors.js';

export const INPUT_KINDS = ['arrow', 'jsonl'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** 'int': ids are integers (written as Int64); 'string': Utf8; 'index': no id in the input, the row index. */
export type IdKind = 'int' | 'string' | 'index';

export interface TextChunk {
  texts: string[];
  /** bigint for 'int' and 'index' ids, string for 'string'. */
  ids: Array<bigint | string>;
}

export function inputKind(path: string): InputKind {
  const kind = formatOf(path);
  if (kind !== 'arrow' && kind !== 'jsonl') throw userError(path, undefined, `unknown input type ${JSON.stringify(extname(path) || '(no extension)')}; supported: ${extensionsOf(INPUT_KINDS).join(', ')} (Arrow IPC or JSON lines)`);
  return kind;
}

// ------------------------------------------------------------------------------------------------
// Arrow

function baseType(type: DataType | undefined): Type | undefined {
  return type?.typeId === Type.Dictionary ? (type as Dictionary).dictionary.typeId : type?.typeId;
}

const STRING_TYPES = new Set([Type.Utf8, Type.LargeUtf8]);
const INT_TYPES = new Set([Type.Int, Type.Int8, Type.Int16, Type.Int32, Type.Int64, Type.Uint8, Type.Uint16, Type.Uint32, Type.Uint64]);

function arrowIdKind(path: string, schema: Schema): IdKind {
  const field = schema.fields.find((f) => f.name === 'id');
  if (!field) return 'index';
  const t = baseType(field.type);
  if (t !== undefined && INT_TYPES.has(t)) return 'int';
  if (t !== undefined && STRING_TYPES.has(t)) return 'string';
  throw userError(path, 'id', `the id column must hold integers or strings, found ${String(field.type)}`);
}

function checkTextColumn(path: string, schema: Schema, column: string): void {
  const field = schema.fields.find((f) => f.name === column);
  if (!field) {
    throw userError(path, column, `text column missing; the file has: ${schema.fields.map((f) => JSON.stringify(f.name)).join(', ') || '(none)'} (choose one with --column)`);
  }
  const t = baseType(field.type);
  if (t === undefined || !STRING_TYPES.has(t)) throw userError(path, column, `expected a string (Utf8) column, found ${String(field.type)}`);
}

async function* arrowChunks(path: string, column: string, chunkRows: number, onIdKind: (k: IdKind) => void): AsyncGenerator<TextChunk> {
  const { fh, reader } = await openArrow(path);
  try {
    checkTextColumn(path, reader.schema, column);
    const idKind = arrowIdKind(path, reader.schema);
    onIdKind(idKind);
    let row = 0n;
    for await (const batch of reader) {
      const textCol = batch.getChild(column);
      const idCol = idKind === 'index' ? null : batch.getChild('id');
      // a record batch may hold millions of rows: decode its strings a chunk at a time
      for (let start = 0; start < batch.numRows; start += chunkRows) {
        const n = Math.min(chunkRows, batch.numRows - start);
        const texts = new Array<string>(n);
        const ids = new Array<bigint | string>(n);
        for (let j = 0; j < n; j++) {
          const i = start + j;
          texts[j] = (textCol?.get(i) as string | null) ?? '';
          if (idKind === 'index') {
            ids[j] = row;
          } else {
            const v = idCol?.get(i) as bigint | number | string | null;
            if (v === null || v === undefined) throw userError(path, 'id', `row ${row}: null id`);
            ids[j] = idKind === 'int' ? BigInt(v) : String(v);
          }
          row++;
        }
        yield { texts, ids };
      }
    }
  } finally {
    await fh.close();
  }
}

// ------------------------------------------------------------------------------------------------
// JSONL

async function* jsonlChunks(path: string, column: string, chunkRows: number, onIdKind: (k: IdKind) => void): AsyncGenerator<TextChunk> {
  let idKind: IdKind | undefined;
  let row = 0n;
  let chunk: TextChunk = { texts: [], ids: [] };
  try {
    for await (const { obj, line } of readJsonl(path)) {
      if (!(column in obj)) {
        throw userError(path, column, `line ${line}: text field missing; the line has: ${Object.keys(obj).map((k) => JSON.stringify(k)).join(', ') || '(none)'} (choose one with --column)`);
      }
      const text = jsonlText(obj[column], { file: path, field: column, line });
      const id = obj.id;
      if (idKind === undefined) {
        idKind = id === undefined ? 'index' : typeof id === 'string' ? 'string' : Number.isSafeInteger(id) ? 'int' : undefined;
        if (!idKind) throw userError(path, 'id', `line ${line}: id must be an integer or a string, got ${JSON.stringify(id)}`);
        onIdKind(idKind);
      }
      let value: bigint | string;
      if (idKind === 'index') {
        if (id !== undefined) throw userError(path, 'id', `line ${line}: has an id but the first line has none; give every line an id or none`);
        value = row;
      } else if (idKind === 'int') {
        if (!Number.isSafeInteger(id)) throw userError(path, 'id', `line ${line}: expected an integer id like the first line's, got ${JSON.stringify(id)}`);
        value = BigInt(id as number);
      } else {
        if (typeof id !== 'string') throw userError(path, 'id', `line ${line}: expected a string id like the first line's, got ${JSON.stringify(id)}`);
        value = id;
      }
      chunk.texts.push(text);
      chunk.ids.push(value);
      row++;
      if (chunk.texts.length >= chunkRows) {
        yield chunk;
        chunk = { texts: [], ids: [] };
      }
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw userError(path, undefined, 'input file not found');
    if (!(e instanceof UserError) && code) throw userError(path, undefined, `cannot read (${code})`);
    throw e;
  }
  if (idKind === undefined) onIdKind('index');
  if (chunk.texts.length) yield chunk;
}

// ------------------------------------------------------------------------------------------------

/**
 * Chunks of at most `chunkRows` texts and ids, in file order (an Arrow chunk never spans record batches).
 * `onIdKind` is called once, before the first chunk (also for an empty file).
 */
export function readTextChunks(opts: { path: string; column: string; chunkRows: number; onIdKind: (k: IdKind) => void }): AsyncGenerator<TextChunk> {
  return inputKind(opts.path) === 'arrow'
    ? arrowChunks(opts.path, opts.column, opts.chunkRows, opts.onIdKind)
    : jsonlChunks(opts.path, opts.column, opts.chunkRows, opts.onIdKind);
}

/** Rows of the input (Arrow: sum of record batch lengths; JSONL: non-blank lines). A streaming pass, no decoding of texts. */
export async function countInputRows(path: string): Promise<number> {
  if (inputKind(path) === 'arrow') {
    const { fh, reader } = await openArrow(path);
    try {
      let n = 0;
      for await (const batch of reader) n += batch.numRows;
      return n;
    } finally {
      await fh.close();
    }
  }
  let n = 0;
  for await (const _ of readJsonl(path)) n++;
  return n;
}
