/**
 * SciMult-style task data from the bundled papers (run from the repository root: `npm run make-task-data`),
 * for configs/scimult-tiny.json:
 *   data/classification.arrow       train papers: anchor = the paper's title, positive = its topic's field
 *                                   name in the paper's language ("graph representation learning",
 *                                   "обучение представлений графов"): classification as contrastive learning
 *                                   (SciMult), 22 topics × 2 languages = 44 label texts
 *   data/classification-eval.arrow  the same for the eval papers; retrieval over the 44 labels, so
 *                                   recall@1 is the classification accuracy
 *   data/citation-eval.arrow        citation pairs among the eval papers (anchor = query paper, positive =
 *                                   a paper it cites, "Title. Abstract"), as data/triplets.arrow is among train papers
 * The papers are regenerated with data/generate.ts's defaults (seed 20250101, 3000 train + 400 eval: the
 * same papers as data/train.arrow and data/eval.arrow). Everything is a pure function of --seed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepare } from '../src/data/prepare.js';
import { mixSeed } from '../src/util/rng.js';
import { buildCitationTriplets, labelText } from './derived.js';
import { generatePapers } from './papers.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'data' },
    seed: { type: 'string', default: '20250101' },
    train: { type: 'string', default: '3000' },
    eval: { type: 'string', default: '400' },
    'citation-eval': { type: 'string', default: '200' },
  },
});
const out = resolve(values.out!);
const seed = Number(values.seed);
const nTrain = Number(values.train);
const nEval = Number(values.eval);

async function writeArrow(rows: object[], path: string, tmp: string): Promise<number> {
  const jsonl = join(tmp, 'rows.jsonl');
  await writeFile(jsonl, rows.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
  const r = await prepare({ input: jsonl, output: path, anchor: 'anchor', positive: 'positive' });
  return r.rows;
}

async function main(): Promise<void> {
  const papers = generatePapers({ count: nTrain + nEval, seed }); // as data/generate.ts: the first nEval are eval
  const evalPapers = papers.slice(0, nEval);
  const trainPapers = papers.slice(nEval);
  const tmp = await mkdtemp(join(tmpdir(), 'contrastive-tasks-'));
  try {
    for (const [name, ps] of [['classification', trainPapers], ['classification-eval', evalPapers]] as const) {
      const n = await writeArrow(ps.map((p) => ({ anchor: p.title, positive: labelText(p) })), join(out, `${name}.arrow`), tmp);
      console.log(`${name}: ${n} (title, label) pairs, ${new Set(ps.map(labelText)).size} labels -> ${join(out, `${name}.arrow`)}`);
    }
    // its own seed stream (data/generate.ts uses mixSeed(seed, 1..3))
    const cites = buildCitationTriplets(evalPapers, { count: Number(values['citation-eval']), seed: mixSeed(seed, 4) });
    const n = await writeArrow(cites.map((t) => ({ anchor: t.anchor, positive: t.positive })), join(out, 'citation-eval.arrow'), tmp);
    console.log(`citation-eval: ${n} (paper, cited paper) pairs from eval papers -> ${join(out, 'citation-eval.arrow')}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
