import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLabelledPairs } from '../../src/data/labelled.js';
import { prepare } from '../../src/data/prepare.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

const expected = { text1: ['A cat sits.', 'Two, three'], text2: ['A cat is sitting.', 'Он сказал "да"'], scores: [4.6, 0.25] };

test('readLabelledPairs: STS csv/tsv with a header (sentence1/text1 names, any order) or without one', async () => {
  const t = await tempDir();
  try {
    const headerless = await t.file('dev.csv', 'A cat sits.,A cat is sitting.,4.6\r\n"Two, three","Он сказал ""да""",0.25\r\n');
    assert.deepEqual(await readLabelledPairs(headerless), expected);
    const headered = await t.file('h.csv', 'score,genre,sentence1,sentence2\n4.6,x,A cat sits.,A cat is sitting.\n0.25,y,"Two, three","Он сказал ""да"""\n');
    assert.deepEqual(await readLabelledPairs(headered), expected);
    const tsv = await t.file('h.tsv', 'Text1\tText2\tScore\nA cat sits.\tA cat is sitting.\t4.6\nTwo, three\tОн сказал "да"\t0.25\n');
    assert.deepEqual(await readLabelledPairs(tsv), expected);
    const sniffed = await t.file('dev.txt', 'A cat sits.\tA cat is sitting.\t4.6\nTwo, three\tОн сказал "да"\t0.25\n');
    assert.deepEqual(await readLabelledPairs(sniffed), expected);
  } finally {
    await t.cleanup();
  }
});

test('readLabelledPairs: a labelled Arrow file written by prepare (scores are float32)', async () => {
  const t = await tempDir();
  try {
    const input = await t.file('in.jsonl', expected.text1.map((s, i) => JSON.stringify({ a: s, b: expected.text2[i], s: expected.scores[i] })).join('\n'));
    const out = await t.file('sts.data'); // no telling extension: recognized by the Arrow magic
    await prepare({ input, output: out, format: 'jsonl', kind: 'labelled', text1: 'a', text2: 'b', score: 's' });
    assert.deepEqual(await readLabelledPairs(out), { ...expected, scores: expected.scores.map(Math.fround) });
  } finally {
    await t.cleanup();
  }
});

test('readLabelledPairs errors: non-numeric score names the line; unrecognised first row; pairs Arrow file', async () => {
  const t = await tempDir();
  const fails = (p: string, re: RegExp) => assert.rejects(readLabelledPairs(p), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
  try {
    await fails(await t.file('bad.csv', 'a,b,1\nc,d,five\n'), /bad\.csv: score: line 2: "five" is not a number/);
    await fails(await t.file('hdr.csv', 'sentence1,sentence2,score\na,b,\n'), /hdr\.csv: score: line 2: "" is not a number/);
    await fails(await t.file('two.csv', 'a,b\n'), /two\.csv: line 1: expected a header row naming sentence1, sentence2, score .* got 2 field\(s\)/);
    await fails(await t.file('ragged.csv', 'a,b,1\nc,d,2,3\n'), /ragged\.csv: line 2: 4 fields but expected 3/);
    await fails(await t.file('empty.csv', ''), /empty\.csv: no scored pairs/);
    await fails(await t.file('none.csv'), /none\.csv: file not found/);
    const pairs = await t.file('pairs.arrow');
    await prepare({ input: await t.file('p.csv', 'anchor,positive\na,b\n'), output: pairs });
    await fails(pairs, /pairs\.arrow: text1: no such column; the file has: "anchor" \(Utf8\), "positive" \(Utf8\)/);
  } finally {
    await t.cleanup();
  }
});
