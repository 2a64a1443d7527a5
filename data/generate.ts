/**
 * Regenerates the bundled sample data (run from the repository root: `npm run make-data`):
 *   data/train.arrow, data/eval.arrow   title–abstract pairs (Arrow, written by the `prepare` library function)
 *   data/tokenizer.json                 WordPiece tokenizer fitted on the training texts
 *   data/sample.jsonl                   20 rows with title/abstract fields, for the `prepare` example
 *   data/triplets.arrow                 citation triplets (anchor, positive, negative) from train papers
 *   data/sts-train.arrow, sts-eval.arrow  scored title pairs (text1, text2, score in [0, 5]), train / eval papers
 * Everything is a pure function of --seed. Options: --out DIR (default ./data), --seed N, --train N, --eval N,
 * --vocab N (tokenizer size cap incl. specials), --triplets N, --sts-train N, --sts-eval N,
 * --rust-trainer (fit with the binding's Tokenizer.train; not reproducible).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepare } from '../src/data/prepare.js';
import { mixSeed } from '../src/util/rng.js';
import { buildCitationTriplets, buildScoredPairs } from './derived.js';
import { fitWordPiece } from './fit-tokenizer.js';
import { generatePapers, toTitleAbstract, type Paper } from './papers.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data' },
    seed: { type: 'string', default: '20250101' },
    train: { type: 'string', default: '3000' },
    eval: { type: 'string', default: '400' },
    vocab: { type: 'string', default: '6000' },
    triplets: { type: 'string', default: '1000' },
    'sts-train': { type: 'string', default: '2000' },
    'sts-eval': { type: 'string', default: '300' },
    'rust-trainer': { type: 'boolean', default: false },
  },
});
const out = resolve(values.out!);
const seed = Number(values.seed);
const nTrain = Number(values.train);
const nEval = Number(values.eval);
const vocabSize = Number(values.vocab);
const nTriplets = Number(values.triplets);
const nStsTrain = Number(values['sts-train']);
const nStsEval = Number(values['sts-eval']);

/** Files written, in this order (the size summary lists them all). */
export const FILES = ['train.arrow', 'eval.arrow', 'tokenizer.json', 'sample.jsonl', 'triplets.arrow', 'sts-train.arrow', 'sts-eval.arrow'];

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

    // Derived kinds, each from its own seed stream so the files above do not depend on them.
    const triplets = buildCitationTriplets(trainPapers, { count: nTriplets, seed: mixSeed(seed, 1) });
    await writeJsonl(join(tmp, 'triplets.jsonl'), triplets);
    const t = await prepare({ input: join(tmp, 'triplets.jsonl'), output: join(out, 'triplets.arrow') });
    console.log(`triplets: ${t.rows} (${t.columns.join(', ')}) from train papers -> ${join(out, 'triplets.arrow')}`);
    const stsSplits: [string, typeof trainPapers, number, number][] = [['sts-train', trainPapers, nStsTrain, 2], ['sts-eval', evalPapers, nStsEval, 3]];
    for (const [name, ps, count, stream] of stsSplits) {
      const pairs = buildScoredPairs(ps, { count, seed: mixSeed(seed, stream) });
      await writeJsonl(join(tmp, `${name}.jsonl`), pairs);
      const r = await prepare({ input: join(tmp, `${name}.jsonl`), output: join(out, `${name}.arrow`), kind: 'labelled' });
      console.log(`${name}: ${r.rows} scored title pairs (${r.columns.join(', ')}) -> ${join(out, `${name}.arrow`)}`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const total = FILES.reduce((s, f) => s + statSync(join(out, f)).size, 0);
  console.log(`total ${(total / 1e6).toFixed(2)} MB in ${out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
