import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { Int64, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { countBatches, textBatches, textRecordBatches, type BatchOrderOptions, type RawTextBatch, type TextBatch, type TextBatchOptions } from '../../src/data/loader.js';
import { prepare } from '../../src/data/prepare.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { UserError } from '../../src/util/errors.js';
import { repoFile, tempDir } from './helpers.js';

const N = 40;
const tokP = TextTokenizer.load(repoFile('data/tokenizer.json'));
const base = { batchSize: 6, maxLength: 24, seed: 3, epoch: 0, shuffleBuffer: 16 };

type Dir = Awaited<ReturnType<typeof tempDir>>;

/** N triplets with two negatives; the row number is in every text (record batches of 7 rows). */
async function triplets(t: Dir): Promise<string> {
  const rows = Array.from({ length: N }, (_, i) => ({ q: `query ${i} about graphs`, d: `document ${i} on protein folding`, n1: `wrong ${i} one`, n2: `wrong ${i} two` }));
  const input = await t.file('tri.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
  const path = await t.file('tri.arrow');
  await prepare({ input, output: path, anchor: 'q', positive: 'd', negative: ['n1', 'n2'], batchRows: 7 });
  return path;
}

/** N scored pairs; score of row i is i / 8 (exact in float32). */
async function labelled(t: Dir): Promise<string> {
  const lines = ['text1,text2,score', ...Array.from({ length: N }, (_, i) => `first ${i},second ${i},${i / 8}`)];
  const path = await t.file('sts.arrow');
  await prepare({ input: await t.file('sts.csv', lines.join('\n')), output: path, kind: 'labelled', batchRows: 7 });
  return path;
}

/** Data where texts repeat a lot: anchors from 5 values, positives from 9, so plain batches have duplicates. */
async function duplicated(t: Dir): Promise<string> {
  const rows = Array.from({ length: 60 }, (_, i) => ({ anchor: `topic ${i % 5}`, positive: `paper ${(i * 7) % 9}`, id: i }));
  const path = await t.file('dup.arrow');
  await prepare({ input: await t.file('dup.jsonl', rows.map((r) => JSON.stringify(r)).join('\n')), output: path, batchRows: 11 });
  return path;
}

async function all(opts: TextBatchOptions): Promise<TextBatch[]> {
  const out: TextBatch[] = [];
  for await (const b of textBatches(opts)) out.push(b);
  return out;
}

async function raws(opts: BatchOrderOptions): Promise<RawTextBatch[]> {
  const out: RawTextBatch[] = [];
  for await (const b of textRecordBatches(opts)) out.push(b);
  return out;
}

const rowOf = (text: string): number => Number(/\d+/.exec(text)![0]);

test('textBatches: default columns of a pairs file are anchor, positive and every negative, rows aligned', async () => {
  const t = await tempDir();
  try {
    const tokenizer = await tokP;
    const path = await triplets(t);
    const r = await raws({ path, ...base });
    assert.equal(r.length, Math.floor(N / 6));
    for (const b of r) {
      assert.deepEqual(Object.keys(b.columns), ['anchor', 'positive', 'negative', 'negative_2']);
      b.columns.anchor.forEach((a, i) => {
        const row = rowOf(a);
        assert.deepEqual([b.columns.positive[i], b.columns.negative[i], b.columns.negative_2[i]], [`document ${row} on protein folding`, `wrong ${row} one`, `wrong ${row} two`]);
      });
    }
    const tok = await all({ path, tokenizer, ...base });
    tok.forEach((b, k) => {
      for (const role of Object.keys(r[k].columns)) assert.deepEqual(b.columns[role], tokenizer.encode(r[k].columns[role], { maxLength: 24 }), role);
      assert.equal(b.scores, undefined);
    });
  } finally {
    await t.cleanup();
  }
});

test('textBatches: role → column mapping reads only the mapped columns; prefixes start the token sequence', async () => {
  const t = await tempDir();
  try {
    const tokenizer = await tokP;
    const path = await triplets(t);
    const opts = { path, tokenizer, ...base, columns: { query: 'anchor', doc: 'negative_2' }, prefixes: { query: 'query: ' } };
    const batches = await all(opts);
    const r = await raws(opts);
    assert.equal(batches.length, r.length);
    const prefixTokens = tokenizer.tokenize('query: ');
    assert.equal(prefixTokens.at(-1), ':');
    const prefixText = tokenizer.decode(tokenizer.encodeOne('query: ', 24)); // "query :"
    batches.forEach((b, k) => {
      assert.deepEqual(Object.keys(b.columns), ['query', 'doc']);
      assert.deepEqual(r[k].columns.doc.map(rowOf), r[k].columns.query.map(rowOf));
      const { inputIds, seqLen, batchSize } = b.columns.query;
      for (let i = 0; i < batchSize; i++) {
        const tokens = Array.from(inputIds.subarray(i * seqLen, i * seqLen + 1 + prefixTokens.length), (id) => tokenizer.idToToken(id));
        assert.deepEqual(tokens, ['[CLS]', ...prefixTokens], 'prefixed role starts with the prefix');
        const ids = Array.from(b.columns.query.inputIds.subarray(i * seqLen, (i + 1) * seqLen)).filter((_, j) => b.columns.query.attentionMask[i * seqLen + j] === 1);
        assert.ok(tokenizer.decode(ids).startsWith(`${prefixText} query`), tokenizer.decode(ids));
        const doc = b.columns.doc;
        assert.equal(doc.inputIds[i * doc.seqLen + 1], tokenizer.encodeOne('wrong', 24)[1], 'role without a prefix is untouched');
      }
      assert.deepEqual(b.columns.query, tokenizer.encode(r[k].columns.query.map((q) => 'query: ' + q), { maxLength: 24 }));
    });
  } finally {
    await t.cleanup();
  }
});

test('textBatches: labelled data carries each row\'s score in order with its texts', async () => {
  const t = await tempDir();
  try {
    const tokenizer = await tokP;
    const path = await labelled(t);
    const opts = { path, tokenizer, ...base, columns: { text1: 'text1', text2: 'text2' }, score: 'score', dropLast: false };
    const r = await raws(opts);
    const seen: number[] = [];
    for (const b of r) {
      assert.ok(b.scores instanceof Float32Array && b.scores.length === b.size);
      b.columns.text1.forEach((s, i) => {
        assert.equal(b.scores![i], rowOf(s) / 8, s);
        assert.equal(rowOf(b.columns.text2[i]), rowOf(s));
        seen.push(rowOf(s));
      });
    }
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i));
    assert.notDeepEqual(r.flatMap((b) => b.columns.text1.map(rowOf)), Array.from({ length: N }, (_, i) => i), 'shuffled');
    const tok = await all(opts);
    tok.forEach((b, k) => assert.deepEqual(b.scores, r[k].scores));
    assert.deepEqual(tok.map((b) => b.size), [6, 6, 6, 6, 6, 6, 4]);
    // default columns of a labelled file: text1, text2 (the score only when asked for)
    const plain = await raws({ path, ...base });
    assert.deepEqual(Object.keys(plain[0].columns), ['text1', 'text2']);
    assert.equal(plain[0].scores, undefined);
    // an Int64 score column from another writer reads as numbers too
    const int = await t.file('int.arrow');
    await writeFile(int, tableToIPC(new Table({ text1: vectorFromArray(['a', 'b'], new Utf8()), text2: vectorFromArray(['c', 'd'], new Utf8()), score: vectorFromArray([3n, 5n], new Int64()) }), 'file'));
    assert.deepEqual([...(await raws({ path: int, ...base, batchSize: 2, shuffleBuffer: 0, score: 'score' }))[0].scores!], [3, 5]);
  } finally {
    await t.cleanup();
  }
});

test('textBatches: skipBatches k yields exactly the tail; the order is a pure function of the options', async () => {
  const t = await tempDir();
  try {
    const tokenizer = await tokP;
    const variants: Partial<TextBatchOptions>[] = [
      { path: await labelled(t), score: 'score', columns: { text1: 'text1', text2: 'text2' }, dropLast: false },
      { path: await duplicated(t), noDuplicates: true, batchSize: 4, prefixes: { anchor: 'query: ' } },
    ];
    for (const v of variants) {
      const opts = { tokenizer, ...base, ...v } as TextBatchOptions;
      const full = await all(opts);
      assert.ok(full.length >= 5);
      assert.deepEqual(await all(opts), full, 'same options, same batches');
      assert.notDeepEqual(await all({ ...opts, epoch: 1 }), full, 'another epoch, another order');
      for (const k of [0, 1, 4, full.length, full.length + 2]) {
        assert.deepEqual(await all({ ...opts, skipBatches: k }), full.slice(k), `skip ${k}`);
      }
    }
  } finally {
    await t.cleanup();
  }
});

test('textBatches noDuplicates: no text twice in a batch, each record at most once, deterministic', async () => {
  const t = await tempDir();
  try {
    const path = await duplicated(t);
    const plain = await raws({ path, ...base, batchSize: 4 });
    const hasDup = (b: RawTextBatch) => {
      const texts = [...b.columns.anchor, ...b.columns.positive];
      return new Set(texts).size < texts.length;
    };
    assert.ok(plain.some(hasDup), 'plain batching does repeat texts on this data');
    for (const dropLast of [true, false]) {
      const opts = { path, ...base, batchSize: 4, noDuplicates: true, dropLast };
      const nd = await raws(opts);
      assert.deepEqual(await raws(opts), nd);
      assert.ok(!nd.some(hasDup), 'no text twice within a batch');
      if (dropLast) assert.ok(nd.every((b) => b.size === 4));
      const pairs = nd.flatMap((b) => b.columns.anchor.map((a, i) => `${a}|${b.columns.positive[i]}`));
      const counts = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const key = `topic ${i % 5}|paper ${(i * 7) % 9}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const p of pairs) {
        assert.ok((counts.get(p) ?? 0) > 0, `record ${p} used more often than it occurs`);
        counts.set(p, counts.get(p)! - 1);
      }
      if (!dropLast) assert.equal(pairs.length, 60, 'every record used once');
    }
  } finally {
    await t.cleanup();
  }
});

test('countBatches equals the number of batches textBatches yields', async () => {
  const t = await tempDir();
  try {
    const tokenizer = await tokP;
    const tri = await triplets(t);
    const dup = await duplicated(t);
    const cases: Partial<TextBatchOptions>[] = [
      { path: tri },
      { path: tri, dropLast: false, batchSize: 7 },
      { path: tri, columns: { a: 'anchor' }, batchSize: 40 },
      { path: dup, noDuplicates: true, batchSize: 4 },
      { path: dup, noDuplicates: true }, // 5 distinct anchors: no batch of 6 ever fills
      { path: dup, noDuplicates: true, dropLast: false, epoch: 2, batchSize: 5 },
      { path: dup, noDuplicates: true, batchSize: 5, shuffleBuffer: 0 },
    ];
    for (const c of cases) {
      const opts = { tokenizer, ...base, ...c } as TextBatchOptions;
      const { tokenizer: _t, maxLength: _m, ...order } = opts;
      assert.equal(await countBatches(order), (await all(opts)).length, JSON.stringify(c));
    }
  } finally {
    await t.cleanup();
  }
});

test('textBatches: bad options and columns are one-line UserErrors naming the field', async () => {
  const t = await tempDir();
  try {
    const tokenizer = await tokP;
    const path = await triplets(t);
    const rejects = (opts: Partial<TextBatchOptions>, re: RegExp) =>
      assert.rejects(all({ path, tokenizer, ...base, ...opts } as TextBatchOptions), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
    await rejects({ columns: { anchor: 'query' } }, /tri\.arrow: query: no such column \(wanted for "anchor"\); the file has: "anchor" \(Utf8\), "positive" \(Utf8\), "negative" \(Utf8\), "negative_2" \(Utf8\)/);
    await rejects({ columns: {} }, /columns: names no role/);
    await rejects({ columns: { anchor: 'anchor' }, prefixes: { positive: 'p: ' } }, /prefixes\.positive: is not one of the roles read: anchor/);
    await rejects({ prefixes: { query: 'q: ' } }, /prefixes\.query: is not one of the roles read: anchor, positive, negative, negative_2/);
    await rejects({ score: 'score' }, /tri\.arrow: score: no such score column/);
    await rejects({ score: 'anchor' }, /anchor: expected a numeric score column \(integer or float\), found Utf8/);
    await rejects({ batchSize: 0 }, /batchSize: must be an integer >= 1/);
    await rejects({ skipBatches: 1.5 }, /skipBatches/);
    await rejects({ maxLength: 2 }, /maxLength/);
  } finally {
    await t.cleanup();
  }
});
