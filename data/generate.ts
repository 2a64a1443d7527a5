/**
 * Regenerates the bundled sample data (run from the repository root: `npm run make-data`):
 *   data/train.arrow, data/eval.arrow   title–abstract pairs (Arrow, written by the `prepare` library function)
 *   data/tokenizer.json                 WordPiece tokenizer fitted on the training texts
 *   data/sample.jsonl                   20 rows with title/abstract fields, for the `prepare` example
 * Everything is a pure function of --seed. Options: --out DIR (default ./data), --seed N, --train N, --eval N,
 * --vocab N (tokenizer size cap incl. specials), --rust-trainer (fit with the binding's Tokenizer.train; not reproducible).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepare } from '../src/data/prepare.js';
import { fitWordPiece } from './fit-tokenizer.js';
import { generatePapers, toTitleAbstract, type Paper } from './papers.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data' },
    seed: { type: 'string', default: '20250101' },
    train: { type: 'string', default: '3000' },
    eval: { type: 'string', default: '400' },
    vocab: { type: 'string', default: '6000' },
    'rust-trainer': { type: 'boolean', default: false },
  },
});
const out = resolve(values.out!);
const seed = Number(values.seed);
const nTrain = Number(values.train);
const nEval = Number(values.eval);
const vocabSize = Number(values.vocab);

async function writeJsonl(path: string, rows: object[]): Promise<void> {
  await writeFile(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
}

async function main(): Promise<void> {
  // The papers come out in random order; the first nEval are the eval split, so splits never share a paper.
  const papers = generatePapers({ count: nTrain + nEval, seed });
  const evalPapers = papers.slice(0, nEval);
  const trainPapers = papers.slice(nEval);

  const tmp = await mkdtemp(join(tmpdir(), 'contrastive-data-'));
  try {
    const splits: [string, Paper[]][] = [['train', trainPapers], ['eval', evalPapers]];
    for (const [name, ps] of splits) {
      const jsonl = join(tmp, `${name}.jsonl`);
      await writeJsonl(jsonl, ps.map(toTitleAbstract));
      const r = await prepare({ input: jsonl, output: join(out, `${name}.arrow`), anchor: 'title', positive: 'abstract' });
      console.log(`${name}: ${r.rows} pairs (${ps.filter((p) => p.lang === 'en').length} en, ${ps.filter((p) => p.lang === 'ru').length} ru) -> ${join(out, `${name}.arrow`)}`);
    }

    const sample = [...trainPapers.filter((p) => p.lang === 'en').slice(0, 10), ...trainPapers.filter((p) => p.lang === 'ru').slice(0, 10)];
    await writeJsonl(join(out, 'sample.jsonl'), sample.map(toTitleAbstract));

    const corpus = join(tmp, 'corpus.txt');
    await writeFile(corpus, trainPapers.flatMap((p) => [p.title, p.abstract]).join('\n') + '\n', 'utf8');
    const trainer = values['rust-trainer'] ? 'rust' : 'deterministic';
    const tok = fitWordPiece({ files: [corpus], vocabSize, output: join(out, 'tokenizer.json'), trainer });
    console.log(`tokenizer: ${tok.vocabSize} tokens (${trainer} WordPiece trainer) -> ${join(out, 'tokenizer.json')}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const total = ['train.arrow', 'eval.arrow', 'tokenizer.json', 'sample.jsonl'].reduce((s, f) => s + statSync(join(out, f)).size, 0);
  console.log(`total ${(total / 1e6).toFixed(2)} MB in ${out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
