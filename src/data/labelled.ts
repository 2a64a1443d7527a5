import { utf8Chunks } from './utf8.js';
import { open } from 'node:fs/promises';
import { formatOf } from './formats.js';
import { userError } from '../util/errors.js';
import { readColumnBatches } from './arrow-reader.js';
import { parseDelimited } from './csv.js';
import { parseScore } from './records.js';

/** Scored text pairs for evaluation (e.g. STS): row i is (text1[i], text2[i]) with gold score scores[i]. */
export interface LabelledPairs {
  text1: string[];
  text2: string[];
  scores: number[];
}


/** Arrow IPC by extension or by its first bytes ("ARROW1" file magic, or the 0xFFFFFFFF stream continuation). */
async function isArrow(path: string): Promise<boolean> {
  if (formatOf(path) === 'arrow') return true;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw userError(path, undefined, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? (e as Error).message})`);
  }
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    return (bytesRead === 6 && head.toString('latin1') === 'ARROW1') || (bytesRead >= 4 && head.readUInt32LE(0) === 0xffffffff);
  } finally {
    await fh.close();
  }
}

async function readArrowPairs(path: string): Promise<LabelledPairs> {
  const out: LabelledPairs = { text1: [], text2: [], scores: [] };
  for await (const b of readColumnBatches({ path, columns: ['text1', 'text2'], score: 'score' })) {
    out.text1.push(...b.texts[0]);
    out.text2.push(...b.texts[1]);
    for (const s of b.scores!) out.scores.push(s);
  }
  return out;
}

const HEADERS = [['sentence1', 'sentence2', 'score'], ['text1', 'text2', 'score']];

/** `.tsv`/`.tab` → tab, `.csv` → comma; otherwise a tab if the first line has tabs but no commas. */
async function sniffDelimiter(path: string): Promise<string> {
  const format = formatOf(path);
  if (format === 'tsv') return '\t';
  if (format === 'csv') return ',';
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const first = buf.subarray(0, bytesRead).toString('utf8').split(/\r?\n|\r/)[0];
    return first.includes('\t') && !first.includes(',') ? '\t' : ',';
  } finally {
    await fh.close();
  }
}

async function readDelimitedPairs(path: string): Promise<LabelledPairs> {
  const delimiter = await sniffDelimiter(path);
  const out: LabelledPairs = { text1: [], text2: [], scores: [] };
  let idx: number[] | undefined; // positions of text1, text2, score
  let width = 3;
  const chunks = utf8Chunks(path);
  try {
    for await (const { fields, line } of parseDelimited(chunks, { delimiter, file: path })) {
      if (idx === undefined) {
        const names = fields.map((f) => f.trim().toLowerCase());
        const header = HEADERS.find((h) => h.every((n) => names.includes(n)));
        if (header) {
          idx = header.map((n) => names.indexOf(n));
          width = fields.length;
          continue;
        }
        if (fields.length !== 3 || parseScore(fields[2]) === undefined) {
          throw userError(path, undefined, `line ${line}: expected a header row naming sentence1, sentence2, score (or text1, text2, score), or a first data row of 3 fields whose third is a number; got ${fields.length} field(s): ${fields.map((f) => JSON.stringify(f.length > 30 ? f.slice(0, 30) + '…' : f)).join(', ')}`);
        }
        idx = [0, 1, 2];
      }
      if (fields.length !== width) {
        throw userError(path, undefined, `line ${line}: ${fields.length} fields but expected ${width} (quote fields that contain the delimiter or line breaks)`);
      }
      const score = parseScore(fields[idx[2]]);
      if (score === undefined) throw userError(path, 'score', `line ${line}: ${JSON.stringify(fields[idx[2]])} is not a number`);
      out.text1.push(fields[idx[0]]);
      out.text2.push(fields[idx[1]]);
      out.scores.push(score);
    }
  } finally {
    await chunks.return(undefined);
  }
  return out;
}

/**
 * Scored pairs for evaluation, all in memory: from a `labelled` Arrow file (text1, text2, numeric score), or
 * from an STS-style CSV/TSV — with a header row naming `sentence1,sentence2,score` or `text1,text2,score`
 * (any order, case-insensitive, other columns ignored), or without one (exactly 3 columns, the third a number,
 * as the stsb_multi_mt files). A score that is not a plain number is a UserError naming the line.
 */
export async function readLabelledPairs(path: string): Promise<LabelledPairs> {
  const pairs = (await isArrow(path)) ? await readArrowPairs(path) : await readDelimitedPairs(path);
  if (pairs.scores.length === 0) throw userError(path, undefined, 'no scored pairs in the file');
  return pairs;
}
