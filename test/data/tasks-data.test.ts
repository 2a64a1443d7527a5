/** The SciMult task files made by data/tasks.ts: the bundled train/eval papers with their topic labels. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readPairBatches } from '../../src/data/arrow-reader.js';
import { generatePapers } from '../../data/papers.js';
import { labelText } from '../../data/derived.js';
import { repoFile } from './helpers.js';

async function rows(path: string): Promise<{ anchor: string; positive: string }[]> {
  const out: { anchor: string; positive: string }[] = [];
  for await (const b of readPairBatches({ path })) out.push(...b);
  return out;
}

test('classification files: every train / eval paper\'s title with its topic label, 44 labels, the papers of train.arrow', async () => {
  const papers = generatePapers({ count: 3400, seed: 20250101 }); // data/generate.ts's defaults
  const train = await rows(repoFile('data/classification.arrow'));
  const evalRows = await rows(repoFile('data/classification-eval.arrow'));
  assert.deepEqual(train, papers.slice(400).map((p) => ({ anchor: p.title, positive: labelText(p) })));
  assert.deepEqual(evalRows, papers.slice(0, 400).map((p) => ({ anchor: p.title, positive: labelText(p) })));
  assert.deepEqual((await rows(repoFile('data/train.arrow'))).map((r) => r.anchor), train.map((r) => r.anchor));
  assert.equal(new Set(train.map((r) => r.positive)).size, 44);
  assert.ok(train.some((r) => r.positive === 'обучение представлений графов'));
  const cites = await rows(repoFile('data/citation-eval.arrow'));
  assert.equal(cites.length, 200);
});
