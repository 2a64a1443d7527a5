import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countBatches, textBatches, textRecordBatches, type TextBatch, type TextBatchOptions } from '../../src/data/loader.js';
import { prepare } from '../../src/data/prepare.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { UserError } from '../../src/util/errors.js';
import { repoFile, tempDir } from './helpers.js';

const N = 50;
const tokP = TextTokenizer.load(repoFile('data/tokenizer.json'));

/** A 50-row prepared file (record batches of 7 rows, so shuffling crosses batch boundaries). */
async function fixture(withNegative = false): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const t = await tempDir();
  const rows = Array.from({ length: N }, (_, i) => ({
    anchor: `query ${i} graph neural networks`,
    positive: `document ${i} about protein folding ${'and stability '.repeat(i % 5)}`,
    ...(withNegative ? { negative: `unrelated ${i}` } : {}),
  }));
  const input = await t.file('in.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
  const path = await t.file('pairs.arrow');
  await prepare({ input, output: path, batchRows: 7 });
  return { path, cleanup: t.cleanup };
}

async function all(opts: TextBatchOptions): Promise<TextBatch[]> {
  const out: TextBatch[] = [];
  for await (const b of textBatches(opts)) out.push(b);
  return out;
}

async function texts(opts: Omit<TextBatchOptions, 'tokenizer' | 'maxLength'>, role = 'anchor'): Promise<string[][]> {
  const out: string[][] = [];
  for await (const b of textRecordBatches(opts)) out.push(b.columns[role]);
  return out;
}
const anchors = (opts: Omit<TextBatchOptions, 'tokenizer' | 'maxLength'>) => texts(opts);

const base = { batchSize: 8, maxLength: 16, seed: 7, epoch: 0, shuffleBuffer: 20 };

test('loader: skipBatches k yields exactly the tail of the full iteration', async () => {
  const f = await fixture();
  try {
    const tokenizer = await tokP;
    const full = await all({ path: f.path, tokenizer, ...base });
    assert.equal(full.length, 6);
    for (const k of [0, 1, 3, 6, 9]) {
      assert.deepEqual(await all({ path: f.path, tokenizer, ...base, skipBatches: k }), full.slice(k), `skip ${k}`);
    }
  } finally {
    await f.cleanup();
  }
});

test('loader: same seed+epoch gives the same batches; another epoch or seed another order', async () => {
  const f = await fixture();
  try {
    const a = await anchors({ path: f.path, ...base });
    assert.deepEqual(await anchors({ path: f.path, ...base }), a);
    const e1 = await anchors({ path: f.path, ...base, epoch: 1 });
    const s2 = await anchors({ path: f.path, ...base, seed: 8 });
    assert.notDeepEqual(e1, a);
    assert.notDeepEqual(s2, a);
    const fileOrder = await anchors({ path: f.path, ...base, shuffleBuffer: 1 });
    assert.deepEqual(fileOrder.flat(), Array.from({ length: 48 }, (_, i) => `query ${i} graph neural networks`));
    assert.notDeepEqual(a.flat(), fileOrder.flat());
  } finally {
    await f.cleanup();
  }
});

test('loader: dropLast (default true) drops the short final batch; false keeps it; every row once per epoch', async () => {
  const f = await fixture();
  try {
    const tokenizer = await tokP;
    const dropped = await all({ path: f.path, tokenizer, ...base });
    assert.deepEqual(dropped.map((b) => b.size), [8, 8, 8, 8, 8, 8]);
    assert.equal(dropped.length, await countBatches({ path: f.path, ...base }));
    const kept = await all({ path: f.path, tokenizer, ...base, dropLast: false });
    assert.deepEqual(kept.map((b) => b.size), [8, 8, 8, 8, 8, 8, 2]);
    assert.equal(kept.length, await countBatches({ path: f.path, ...base, dropLast: false }));
    assert.deepEqual(kept.slice(0, 6), dropped);
    const seen = (await anchors({ path: f.path, ...base, dropLast: false })).flat().map((s) => Number(s.split(' ')[1]));
    assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
  } finally {
    await f.cleanup();
  }
});

test('loader: token batches line up with the text batches; negatives are tokenized when present', async () => {
  const f = await fixture(true);
  try {
    const tokenizer = await tokP;
    const positives = await texts({ path: f.path, ...base }, 'positive');
    const batches = await all({ path: f.path, tokenizer, ...base });
    assert.equal(batches.length, positives.length);
    batches.forEach((b, i) => {
      const { anchor, positive, negative } = b.columns;
      assert.deepEqual(positive, tokenizer.encode(positives[i], { maxLength: 16 }));
      assert.equal(anchor.batchSize, 8);
      assert.ok(anchor.seqLen <= 16 && positive.seqLen <= 16);
      assert.ok(negative && negative.batchSize === 8);
    });
  } finally {
    await f.cleanup();
  }
});

test('loader: bad options are UserErrors naming the field', async () => {
  const f = await fixture();
  try {
    const tokenizer = await tokP;
    await assert.rejects(all({ path: f.path, tokenizer, ...base, batchSize: 0 }), (e: unknown) => e instanceof UserError && /batchSize: must be an integer >= 1/.test(e.message));
    await assert.rejects(all({ path: f.path, tokenizer, ...base, skipBatches: -1 }), (e: unknown) => e instanceof UserError && /skipBatches/.test(e.message));
    await assert.rejects(all({ path: f.path, tokenizer, ...base, maxLength: 1 }), (e: unknown) => e instanceof UserError && /maxLength/.test(e.message));
  } finally {
    await f.cleanup();
  }
});
