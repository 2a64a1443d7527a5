/** Sample texts for measuring an export: a `.jsonl` file (text-like fields) or a plain text file (one per line). */
import { readFile } from 'node:fs/promises';
import { userError } from '../util/errors.js';
import { formatOf } from '../data/formats.js';

/** Texts for export's checks when none are given and this file exists (the repo's bundled sample). */
export const DEFAULT_SAMPLE = 'data/sample.jsonl';

/** JSONL fields read as texts, in this order, when present and strings. */
export const TEXT_FIELDS = ['text', 'anchor', 'positive', 'query', 'title', 'abstract', 'document', 'sentence'] as const;

/** Up to `limit` non-empty texts; JSONL rows give every TEXT_FIELDS string they have. */
export async function readSampleTexts(path: string, limit = 64): Promise<string[]> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw userError(path, undefined, `cannot read sample texts (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const lines = raw.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const texts: string[] = [];
  const jsonl = formatOf(path) === 'jsonl';
  for (let i = 0; i < lines.length && texts.length < limit; i++) {
    if (!jsonl) {
      texts.push(lines[i].trim());
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(lines[i]);
    } catch (err) {
      throw userError(path, `line ${i + 1}`, `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof row !== 'object' || row === null) continue;
    for (const f of TEXT_FIELDS) {
      const v = (row as Record<string, unknown>)[f];
      if (typeof v === 'string' && v.trim().length > 0 && texts.length < limit) texts.push(v);
    }
  }
  if (texts.length === 0) throw userError(path, undefined, `no texts found (JSONL fields read: ${TEXT_FIELDS.join(', ')}; other files: one text per line)`);
  return texts;
}
