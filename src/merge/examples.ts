/**
 * Example data for LM-Cocktail's automatic merge weights: (query, positive, negatives) rows, from
 * LM-Cocktail's JSONL ({"query": str, "pos": [str, ...], "neg": [str, ...]}) or from the toolkit's own
 * pairs Arrow files (anchor, positive, negative, negative_2, ...).
 */
import { readColumnBatches, readSchema } from '../data/arrow-reader.js';
import { formatOf } from '../data/formats.js';
import { readJsonl } from '../data/jsonl.js';
import { userError } from '../util/errors.js';

export interface Example {
  query: string;
  /** LM-Cocktail uses the first positive. */
  pos: string;
  neg: string[];
}

function strings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

async function readJsonlExamples(path: string, limit: number): Promise<Example[]> {
  const out: Example[] = [];
  for await (const { obj: row, line } of readJsonl(path)) {
    if (out.length >= limit) break;
    if (typeof row.query !== 'string' || row.query.length === 0) throw userError(path, `line ${line}: query`, 'must be a non-empty string');
    if (!strings(row.pos) || row.pos.length === 0) throw userError(path, `line ${line}: pos`, 'must be a non-empty list of strings');
    const neg = row.neg ?? [];
    if (!strings(neg)) throw userError(path, `line ${line}: neg`, 'must be a list of strings');
    out.push({ query: row.query, pos: row.pos[0], neg });
  }
  return out;
}

async function readArrowExamples(path: string, limit: number): Promise<Example[]> {
  const schema = await readSchema(path);
  if (schema.kind !== 'pairs') throw userError(path, undefined, 'example data must be a pairs file (anchor, positive, negative…), not a labelled one');
  const out: Example[] = [];
  for await (const batch of readColumnBatches({ path, columns: ['anchor', 'positive', ...schema.negatives] })) {
    for (let r = 0; r < batch.rows && out.length < limit; r++) {
      out.push({ query: batch.texts[0][r], pos: batch.texts[1][r], neg: batch.texts.slice(2).map((col) => col[r]) });
    }
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * The first `limit` examples (default all) of a JSONL (LM-Cocktail's format) or pairs Arrow file; the
 * rest of the file is not read. UserErrors name the file and line/column.
 */
export async function readExamples(path: string, limit = Infinity): Promise<Example[]> {
  const format = formatOf(path);
  let examples: Example[];
  if (format === 'jsonl') examples = await readJsonlExamples(path, limit);
  else if (format === 'arrow') examples = await readArrowExamples(path, limit);
  else throw userError(path, undefined, 'example data must be .jsonl (LM-Cocktail\'s {"query", "pos", "neg"} rows) or a pairs Arrow file (.arrow)');
  if (examples.length === 0) throw userError(path, undefined, 'no examples');
  return examples;
}
