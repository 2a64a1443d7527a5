import { createReadStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { ensureDir } from '../util/fs.js';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { extensionsOf, formatOf } from './formats.js';
import { userError } from '../util/errors.js';
import { TableFileWriter } from './arrow-writer.js';
import { parseDelimited } from './csv.js';
import { jsonlText, readJsonl } from './jsonl.js';
import { DATA_KINDS, isBlank, negativeColumn, parseScore, type DataKind } from './records.js';

export type InputFormat = 'jsonl' | 'csv' | 'tsv';
export const INPUT_FORMATS: readonly InputFormat[] = ['jsonl', 'csv', 'tsv'];

export interface PrepareOptions {
  input: string;
  output: string;
  /** Overrides detection from the extension (.jsonl/.ndjson → jsonl, .csv → csv, .tsv/.tab → tsv). */
  format?: InputFormat;
  /** What the output holds (default `pairs`): see `DataKind`. */
  kind?: DataKind;
  /** pairs: input column holding the anchor text (default `anchor`). */
  anchor?: string;
  /** pairs: input column holding the positive text (default `positive`). */
  positive?: string;
  /**
   * pairs: input column(s) holding hard negatives, written as `negative`, `negative_2`, … in this order.
   * Default: the input's own `negative`, `negative_2`, … columns (numbered without gaps) when it has them, else none.
   */
  negative?: string | string[];
  /** labelled: input column of the first text (default `text1`). */
  text1?: string;
  /** labelled: input column of the second text (default `text2`). */
  text2?: string;
  /** labelled: input column of the numeric gold score (default `score`), written as Float32. */
  score?: string;
  /** Rows per Arrow record batch (default 1024). */
  batchRows?: number;
}

export interface PrepareResult {
  /** Rows written. */
  rows: number;
  /** Input rows dropped because a text (or, for labelled data, the score) was empty/whitespace. */
  skipped: number;
  /** Output columns, in order: anchor, positive[, negative, negative_2, …] or text1, text2, score. */
  columns: string[];
  kind: DataKind;
}


/** Input format from `--format` or from the file extension; UserError listing the valid values otherwise. */
export function detectFormat(input: string, format?: string): InputFormat {
  if (format !== undefined) {
    if ((INPUT_FORMATS as readonly string[]).includes(format)) return format as InputFormat;
    throw userError(input, 'format', `unknown format ${JSON.stringify(format)}; expected one of ${INPUT_FORMATS.join(', ')}`);
  }
  const ext = extname(input).toLowerCase();
  const found = formatOf(input);
  if (found === undefined || found === 'arrow') {
    throw userError(input, undefined, `cannot tell the format from the extension ${JSON.stringify(ext || '(none)')}; use ${extensionsOf(INPUT_FORMATS).join(', ')} or pass --format ${INPUT_FORMATS.join('|')}`);
  }
  return found;
}

/** One output column and the input column it is taken from. */
interface OutputColumn {
  name: string;
  input: string;
  type: 'utf8' | 'float32';
  /** The flag that names its input column, for messages. */
  flag: string;
}

const PAIRS_FLAGS = ['anchor', 'positive', 'negative'] as const;
const LABELLED_FLAGS = ['text1', 'text2', 'score'] as const;

/** UserError for a bad kind or flags of the other kind (before any I/O). */
function checkKindOptions(opts: PrepareOptions): DataKind {
  const kind = opts.kind ?? 'pairs';
  if (!(DATA_KINDS as readonly string[]).includes(kind)) {
    throw userError(opts.input, 'kind', `unknown kind ${JSON.stringify(kind)}; expected one of ${DATA_KINDS.join(', ')}`);
  }
  const [own, other] = kind === 'pairs' ? [PAIRS_FLAGS, LABELLED_FLAGS] : [LABELLED_FLAGS, PAIRS_FLAGS];
  for (const flag of other) {
    if (opts[flag] !== undefined) {
      throw userError(opts.input, flag, `--${flag} is for --kind ${kind === 'pairs' ? 'labelled' : 'pairs'}; with --kind ${kind} name the input columns with ${own.map((f) => `--${f}`).join(', ')}`);
    }
  }
  return kind;
}

/** The output columns of `kind` mapped to input columns, checked against the input's columns (`available`). */
function resolveColumns(file: string, available: string[], kind: DataKind, opts: PrepareOptions): OutputColumn[] {
  const text = (name: string, input: string, flag = name): OutputColumn => ({ name, input, type: 'utf8', flag });
  let out: OutputColumn[];
  if (kind === 'labelled') {
    out = [text('text1', opts.text1 ?? 'text1'), text('text2', opts.text2 ?? 'text2'), { name: 'score', input: opts.score ?? 'score', type: 'float32', flag: 'score' }];
  } else {
    let negatives: string[];
    if (opts.negative === undefined) {
      negatives = [];
      while (available.includes(negativeColumn(negatives.length))) negatives.push(negativeColumn(negatives.length));
    } else {
      negatives = typeof opts.negative === 'string' ? [opts.negative] : [...opts.negative];
      const twice = negatives.find((n, i) => negatives.indexOf(n) !== i);
      if (twice !== undefined) throw userError(file, twice, 'listed twice in --negative; each hard-negative column once');
    }
    out = [text('anchor', opts.anchor ?? 'anchor'), text('positive', opts.positive ?? 'positive'), ...negatives.map((n, i) => text(negativeColumn(i), n, 'negative'))];
  }
  for (const col of out) {
    if (!available.includes(col.input)) {
      const hint = col.input === col.name ? ` (or name the ${col.name} column with --${col.flag})` : '';
      throw userError(file, col.input, `no such column for the ${col.name}${hint}; the input has: ${available.map((a) => JSON.stringify(a)).join(', ') || '(none)'}`);
    }
  }
  return out;
}

/** A row of the input after column mapping (raw strings, one per output column), before the emptiness check. */
interface MappedRow {
  values: string[];
  line: number;
  columns: OutputColumn[];
}

async function* jsonlRows(file: string, kind: DataKind, opts: PrepareOptions): AsyncGenerator<MappedRow, OutputColumn[] | undefined> {
  let map: OutputColumn[] | undefined;
  for await (const { obj, line } of readJsonl(file)) {
    map ??= resolveColumns(file, Object.keys(obj), kind, opts);
    const values = map.map(({ input: field }) => {
      if (!(field in obj)) {
        throw userError(file, field, `line ${line}: field missing; this line has: ${Object.keys(obj).map((k) => JSON.stringify(k)).join(', ')}`);
      }
      return jsonlText(obj[field], { file, field, line });
    });
    yield { values, line, columns: map };
  }
  return map;
}

async function* delimitedRows(file: string, delimiter: string, kind: DataKind, opts: PrepareOptions): AsyncGenerator<MappedRow, OutputColumn[] | undefined> {
  let header: string[] | undefined;
  let map: OutputColumn[] | undefined;
  let idx: number[] = [];
  const chunks = createReadStream(file, { encoding: 'utf8' });
  try {
    for await (const { fields, line } of parseDelimited(chunks, { delimiter, file })) {
      if (!header) {
        header = fields.map((f) => f.trim());
        map = resolveColumns(file, header, kind, opts);
        idx = map.map((c) => header!.indexOf(c.input));
        continue;
      }
      if (fields.length !== header.length) {
        throw userError(file, undefined, `line ${line}: ${fields.length} fields but the header has ${header.length} (quote fields that contain the delimiter or line breaks)`);
      }
      yield { values: idx.map((i) => fields[i]), line, columns: map! };
    }
  } finally {
    chunks.destroy();
  }
  if (!header) throw userError(file, undefined, 'empty file: expected a header row naming the columns');
  return map;
}

/**
 * The output row for a mapped input row: texts as they are, the score parsed; undefined when a text or the
 * score is empty (the row is skipped); a UserError naming the line for a score that is not a number.
 */
function outputRow(file: string, row: MappedRow): (string | number)[] | undefined {
  const map = row.columns;
  const out: (string | number)[] = [];
  for (let i = 0; i < map.length; i++) {
    const v = row.values[i];
    if (isBlank(v)) return undefined;
    if (map[i].type === 'utf8') {
      out.push(v);
      continue;
    }
    const score = parseScore(v);
    if (score === undefined) throw userError(file, map[i].input, `line ${row.line}: score ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)} is not a number`);
    out.push(score);
  }
  return out;
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
 * Converts a JSONL/CSV/TSV file to an Arrow IPC file of one of the two kinds, streaming: the input is read
 * incrementally and written in record batches of `batchRows` rows, so memory does not grow with the input.
 * - `pairs` (default): Utf8 `anchor`, `positive` and hard negatives `negative`, `negative_2`, … (`--negative a,b`);
 * - `labelled`: Utf8 `text1`, `text2` and Float32 `score` (a plain decimal number; anything else is an error
 *   naming the line).
 *
 * Rows with an empty or whitespace-only text (or an empty score) are skipped and counted in `skipped`. Output is
 * written to a temporary file next to `output` and renamed at the end; on any error the temporary file is
 * deleted and `output` is left untouched.
 */
export async function prepare(opts: PrepareOptions): Promise<PrepareResult> {
  const { input, output } = opts;
  const batchRows = opts.batchRows ?? 1024;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw userError(output, 'batchRows', `must be a positive integer, got ${batchRows}`);
  if (!output) throw userError(input, 'output', 'an output path is required');
  if (resolve(input) === resolve(output)) throw userError(output, undefined, 'output would overwrite the input');
  const format = detectFormat(input, opts.format);
  const kind = checkKindOptions(opts);
  await checkInput(input);
  if ((await stat(output).catch(() => undefined))?.isDirectory()) throw userError(output, undefined, 'output is a directory; give a file path such as train.arrow');

  const rows = format === 'jsonl' ? jsonlRows(input, kind, opts) : delimitedRows(input, format === 'csv' ? ',' : '\t', kind, opts);
  await ensureDir(dirname(resolve(output)));
  const tmp = join(dirname(resolve(output)), `.${basename(output)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let writer: TableFileWriter | undefined;
  let skipped = 0;
  try {
    let batch: (string | number)[][] = [];
    let map: OutputColumn[] | undefined;
    for (;;) {
      const next = await rows.next();
      if (next.done) {
        map = next.value;
        break;
      }
      const row = outputRow(input, next.value);
      if (row === undefined) {
        skipped++;
        continue;
      }
      writer ??= new TableFileWriter(tmp, next.value.columns.map(({ name, type }) => ({ name, type })));
      batch.push(row);
      if (batch.length >= batchRows) {
        writer.write(batch);
        batch = [];
      }
    }
    if (writer === undefined) {
      const names = (map ?? []).map((c) => c.name).join('/');
      const why = skipped > 0 ? `all ${skipped} rows have an empty ${names}` : 'no data rows';
      throw userError(input, undefined, `empty dataset: ${why}; nothing written`);
    }
    writer.write(batch);
    writer.close();
    await rename(tmp, output);
    return { rows: writer.rows, skipped, columns: writer.columns.map((c) => c.name), kind };
  } catch (e) {
    writer?.abort();
    await rows.return(undefined).catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}
