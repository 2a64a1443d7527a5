import { userError } from '../util/errors.js';

/** One parsed CSV/TSV record and the 1-based line of the input on which it starts. */
export interface DelimitedRow {
  fields: string[];
  line: number;
}

const QUOTE = '"';

/**
 * Streaming RFC-4180 parser over text chunks (any chunking, e.g. an fs read stream with utf8 encoding).
 * - fields may be quoted with `"`; inside quotes the delimiter, CR/LF and doubled quotes (`""` = `"`) are literal;
 * - a quote in the middle of an unquoted field is kept literally (lenient, like most readers);
 * - records end at LF, CRLF or a lone CR; completely empty lines are skipped; a leading BOM is dropped;
 * - text after a closing quote (other than a delimiter or line end) and an unterminated quote are errors
 *   naming the file and line.
 * Memory is bounded by the longest record, not by the input size.
 */
export async function* parseDelimited(
  chunks: AsyncIterable<string | Buffer>,
  opts: { delimiter: string; file: string },
): AsyncGenerator<DelimitedRow> {
  const { delimiter, file } = opts;
  if (delimiter.length !== 1 || delimiter === QUOTE || delimiter === '\n' || delimiter === '\r') {
    throw new Error(`parseDelimited: bad delimiter ${JSON.stringify(delimiter)}`);
  }
  // state: 0 = at start of field, 1 = in unquoted field, 2 = in quoted field, 3 = just saw a quote inside a quoted field
  let state = 0;
  let field = '';
  let fields: string[] = [];
  let line = 1; // current line of the input
  let recordLine = 1; // line on which the current record started
  let quoteLine = 1; // line on which the current quoted field opened
  let lastWasCR = false;
  let first = true;
  let recordHasContent = false; // false for a record that is just an empty line

  const endField = (): void => {
    fields.push(field);
    field = '';
  };

  for await (const raw of chunks) {
    let chunk = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    const out: DelimitedRow[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (lastWasCR) {
        lastWasCR = false;
        if (c === '\n') continue; // second half of CRLF, record already ended at the CR
      }
      if (state === 2) {
        if (c === QUOTE) state = 3;
        else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (state === 3) {
        if (c === QUOTE) {
          field += QUOTE; // doubled quote
          state = 2;
          continue;
        }
        if (c !== delimiter && c !== '\n' && c !== '\r') {
          throw userError(file, undefined, `line ${line}: unexpected ${JSON.stringify(c)} after the closing quote of a quoted field (quotes inside a quoted field must be doubled: "")`);
        }
        state = 1; // fall through to the unquoted handling of delimiter / line end
      }
      if (c === delimiter) {
        endField();
        recordHasContent = true;
        state = 0;
      } else if (c === '\n' || c === '\r') {
        if (recordHasContent || field.length > 0 || fields.length > 0 || state !== 0) {
          endField();
          out.push({ fields, line: recordLine });
        }
        fields = [];
        field = '';
        state = 0;
        recordHasContent = false;
        line++;
        recordLine = line;
        lastWasCR = c === '\r';
      } else if (state === 0 && c === QUOTE) {
        state = 2;
        quoteLine = line;
        recordHasContent = true;
      } else {
        field += c;
        state = 1;
        recordHasContent = true;
      }
    }
    yield* out;
  }
  if (state === 2) {
    throw userError(file, undefined, `line ${quoteLine}: quoted field is never closed (missing ")`);
  }
  if (recordHasContent || field.length > 0 || fields.length > 0) {
    endField();
    yield { fields, line: recordLine };
  }
}
