import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { userError } from '../util/errors.js';
import { PairFileWriter } from './arrow-writer.js';
import { parseDelimited } from './csv.js';
import { jsonlText, readJsonl } from './jsonl.js';
import { isBlank, type PairRecord } from './records.js';

export type InputFormat = 'jsonl' | 'csv' | 'tsv';
export const INPUT_FORMATS: readonly InputFormat[] = ['jsonl', 'csv', 'tsv'];

export interface PrepareOptions {
  input: string;
  output: string;
  /** Overrides detection from the extension (.jsonl/.ndjson → jsonl, .csv → csv, .tsv/.tab → tsv). */
  format?: InputFormat;
  /** Input column holding the anchor text (default `anchor`). */
  anchor?: string;
  /** Input column holding the positive text (default `positive`). */
  positive?: string;
  /** Input column holding a hard negative; default: `negative` when the input has such a column, else none. */
  negative?: string;
  /** Rows per Arrow record batch (default 1024). */
  batchRows?: number;
}

export interface PrepareResult {
  /** Rows written. */
  rows: number;
  /** Input rows dropped because their anchor, positive or (when used) negative was empty/whitespace. */
  skipped: number;
  /** Output columns, in order: anchor, positive[, negative]. */
  columns: string[];
}

const EXTENSIONS: Record<string, InputFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.tsv': 'tsv', '.tab': 'tsv' };

/** Input format from `--format` or from the file extension; UserError listing the valid values otherwise. */
export function detectFormat(input: string, format?: string): InputFormat {
  if (format !== undefined) {
    if ((INPUT_FORMATS as readonly string[]).includes(format)) return format as InputFormat;
    throw userError(input, 'format', `unknown format ${JSON.stringify(format)}; expected one of ${INPUT_FORMATS.join(', ')}`);
  }
  const ext = extname(input).toLowerCase();
  const found = EXTENSIONS[ext];
  if (!found) {
    throw userError(input, undefined, `cannot tell the format from the extension ${JSON.stringify(ext || '(none)')}; use ${Object.keys(EXTENSIONS).join(', ')} or pass --format ${INPUT_FORMATS.join('|')}`);
  }
  return found;
}

interface ColumnMap {
  anchor: string;
  positive: string;
  /** Input column of the negative, when one is used. */
  negative?: string;
}

/** Checks that the mapped columns exist among `available`; picks up a `negative` column when none was named. */
function resolveColumns(file: string, available: string[], opts: PrepareOptions): ColumnMap {
  const want: [string, string][] = [['anchor', opts.anchor ?? 'anchor'], ['positive', opts.positive ?? 'positive']];
  if (opts.negative !== undefined) want.push(['negative', opts.negative]);
  for (const [role, name] of want) {
    if (!available.includes(name)) {
      const flag = name === role ? ` (or name the ${role} column with --${role})` : '';
      throw userError(file, name, `no such column for the ${role}${flag}; the input has: ${available.map((a) => JSON.stringify(a)).join(', ') || '(none)'}`);
    }
  }
  const negative = opts.negative ?? (available.includes('negative') ? 'negative' : undefined);
  return { anchor: want[0][1], positive: want[1][1], negative };
}

/** A row of the input after column mapping, before the emptiness check. */
interface MappedRow {
  record: PairRecord;
  line: number;
}

async function* jsonlRows(file: string, opts: PrepareOptions): AsyncGenerator<MappedRow, ColumnMap | undefined> {
  let map: ColumnMap | undefined;
  for await (const { obj, line } of readJsonl(file)) {
    map ??= resolveColumns(file, Object.keys(obj), opts);
    const text = (field: string): string => {
      if (!(field in obj)) {
        throw userError(file, field, `line ${line}: field missing; this line has: ${Object.keys(obj).map((k) => JSON.stringify(k)).join(', ')}`);
      }
      return jsonlText(obj[field], { file, field, line });
    };
    const record: PairRecord = { anchor: text(map.anchor), positive: text(map.positive) };
    if (map.negative !== undefined) record.negative = text(map.negative);
    yield { record, line };
  }
  return map;
}

async function* delimitedRows(file: string, delimiter: string, opts: PrepareOptions): AsyncGenerator<MappedRow, ColumnMap | undefined> {
  let header: string[] | undefined;
  let map: ColumnMap | undefined;
  let idx: number[] = [];
  const chunks = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const { fields, line } of parseDelimited(chunks, { delimiter, file })) {
      if (!header) {
        header = fields.map((f) => f.trim());
        map = resolveColumns(file, header, opts);
        idx = [map.anchor, map.positive, ...(map.negative !== undefined ? [map.negative] : [])].map((c) => header!.indexOf(c));
        continue;
      }
      if (fields.length !== header.length) {
        throw userError(file, undefined, `line ${line}: ${fields.length} fields but the header has ${header.length} (quote fields that contain the delimiter or line breaks)`);
      }
      const record: PairRecord = { anchor: fields[idx[0]], positive: fields[idx[1]] };
      if (idx.length > 2) record.negative = fields[idx[2]];
      yield { record, line };
    }
  } finally {
    chunks.destroy();
  }
  if (!header) throw userError(file, undefined, 'empty file: expected a header row naming the columns');
  return map;
}

async function checkInput(input: string): Promise<void> {
  let s;
  try {
    s = await stat(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw userError(input, undefined, code === 'ENOENT' ? 'input file not found' : `cannot read input file (${code ?? (e as Error).message})`);
  }
  if (!s.isFile()) throw userError(input, undefined, 'input is not a regular file');
}

/**
 * Converts a JSONL/CSV/TSV file of text pairs (or triplets) to an Arrow IPC file with Utf8 columns
 * `anchor`, `positive` and optional `negative`, streaming: the input is read incrementally and written in
 * record batches of `batchRows` rows, so memory does not grow with the input.
 *
 * Rows whose anchor or positive (or negative, when a negative column is used) is empty or whitespace-only are
 * skipped and counted in `skipped`. Output is written to a temporary file next to `output` and renamed at the
 * end; on any error the temporary file is deleted and `output` is left untouched.
 */
export async function prepare(opts: PrepareOptions): Promise<PrepareResult> {
  const { input, output } = opts;
  const batchRows = opts.batchRows ?? 1024;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw userError(output, 'batchRows', `must be a positive integer, got ${batchRows}`);
  if (!output) throw userError(input, 'output', 'an output path is required');
  if (resolve(input) === resolve(output)) throw userError(output, undefined, 'output would overwrite the input');
  const format = detectFormat(input, opts.format);
  await checkInput(input);
  if ((await stat(output).catch(() => undefined))?.isDirectory()) throw userError(output, undefined, 'output is a directory; give a file path such as train.arrow');

  const rows = format === 'jsonl' ? jsonlRows(input, opts) : delimitedRows(input, format === 'csv' ? ',' : '\t', opts);
  await mkdir(dirname(resolve(output)), { recursive: true });
  const tmp = join(dirname(resolve(output)), `.${basename(output)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let writer: PairFileWriter | undefined;
  let skipped = 0;
  try {
    let batch: PairRecord[] = [];
    let map: ColumnMap | undefined;
    for (;;) {
      const next = await rows.next();
      if (next.done) {
        map = next.value;
        break;
      }
      const { record } = next.value;
      if (isBlank(record.anchor) || isBlank(record.positive) || (record.negative !== undefined && isBlank(record.negative))) {
        skipped++;
        continue;
      }
      writer ??= new PairFileWriter(tmp, record.negative !== undefined);
      batch.push(record);
      if (batch.length >= batchRows) {
        writer.write(batch);
        batch = [];
      }
    }
    if (writer === undefined) {
      const why = skipped > 0 ? `all ${skipped} rows have an empty anchor/positive${map?.negative !== undefined ? '/negative' : ''}` : 'no data rows';
      throw userError(input, undefined, `empty dataset: ${why}; nothing written`);
    }
    writer.write(batch);
    writer.close();
    await rename(tmp, output);
    const columns = writer.hasNegative ? ['anchor', 'positive', 'negative'] : ['anchor', 'positive'];
    return { rows: writer.rows, skipped, columns };
  } catch (e) {
    writer?.abort();
    await rows.return(undefined).catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
