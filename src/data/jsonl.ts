import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { utf8Chunks } from './utf8.js';
import { userError } from '../util/errors.js';

/** One JSONL object and its 1-based line number. */
export interface JsonlRow {
  obj: Record<string, unknown>;
  line: number;
}

/**
 * Reads a JSON-lines file one line at a time (memory bounded by the longest line).
 * Blank lines are skipped; a line that is not valid JSON, or not a JSON object, is a UserError naming the line.
 */
export async function* readJsonl(file: string, opts: { replaceInvalidUtf8?: boolean } = {}): AsyncGenerator<JsonlRow> {
  const input = Readable.from(utf8Chunks(file, { replaceInvalid: opts.replaceInvalidUtf8 }));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (let text of lines) {
      line++;
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim().length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw userError(file, undefined, `line ${line}: invalid JSON (${(e as Error).message})`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw userError(file, undefined, `line ${line}: expected a JSON object like {"anchor": "...", "positive": "..."}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
      }
      yield { obj: value as Record<string, unknown>, line };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * Converts a JSONL value to text: strings as they are, numbers/booleans via String(), null/absent as ''.
 * Objects and arrays are an error naming the file, field and line.
 */
export function jsonlText(value: unknown, where: { file: string; field: string; line: number }): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw userError(where.file, where.field, `line ${where.line}: nested value (${Array.isArray(value) ? 'array' : typeof value}); expected a string`);
}
