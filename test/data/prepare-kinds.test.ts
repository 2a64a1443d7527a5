import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import { readColumnBatches, readSchema } from '../../src/data/arrow-reader.js';
import { prepare, type PrepareOptions } from '../../src/data/prepare.js';
import { UserError } from '../../src/util/errors.js';
import { readAll, tempDir } from './helpers.js';

async function labelledRows(path: string): Promise<{ text1: string; text2: string; score: number }[]> {
  const out: { text1: string; text2: string; score: number }[] = [];
  for await (const b of readColumnBatches({ path, columns: ['text1', 'text2'], score: 'score' })) {
    for (let i = 0; i < b.rows; i++) out.push({ text1: b.texts[0][i], text2: b.texts[1][i], score: b.scores![i] });
  }
  return out;
}

async function fails(t: Awaited<ReturnType<typeof tempDir>>, opts: PrepareOptions, re: RegExp): Promise<void> {
  const before = await t.list();
  await assert.rejects(prepare(opts), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
  assert.deepEqual(await t.list(), before, 'nothing left behind');
}

test('prepare --kind labelled: csv with mapped columns, Float32 scores, empty texts/scores skipped', async () => {
  const t = await tempDir();
  try {
    const csv = [
      'id,s1,s2,label',
      '1,"A man, a plan","Он сказал ""да""",4.75',
      '2,b,c,0',
      '3,,c,3', // empty text: skipped
      '4,d,e,', // empty score: skipped
      '5,f,g, -1.5e0 ',
    ].join('\r\n');
    const input = await t.file('sts.csv', csv);
    const output = await t.file('sts.arrow');
    const res = await prepare({ input, output, kind: 'labelled', text1: 's1', text2: 's2', score: 'label' });
    assert.deepEqual(res, { rows: 3, skipped: 2, columns: ['text1', 'text2', 'score'], kind: 'labelled' });
    assert.deepEqual(await labelledRows(output), [
      { text1: 'A man, a plan', text2: 'Он сказал "да"', score: Math.fround(4.75) },
      { text1: 'b', text2: 'c', score: 0 },
      { text1: 'f', text2: 'g', score: -1.5 },
    ]);
    assert.equal((await readSchema(output)).kind, 'labelled');
    assert.deepEqual(tableFromIPC(await readFile(output)).schema.fields.map((f) => `${f.name}:${String(f.type)}`), ['text1:Utf8', 'text2:Utf8', 'score:Float32']);
  } finally {
    await t.cleanup();
  }
});

test('prepare --kind labelled: jsonl with default column names; numbers or numeric strings as scores', async () => {
  const t = await tempDir();
  try {
    const rows = [
      { text1: 'a', text2: 'b', score: 3.2 },
      { text1: 'c', text2: 'd', score: '2' },
      { text1: 'e', text2: 'f', score: null }, // empty: skipped
    ];
    const input = await t.file('in.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    const output = await t.file('out.arrow');
    assert.deepEqual(await prepare({ input, output, kind: 'labelled' }), { rows: 2, skipped: 1, columns: ['text1', 'text2', 'score'], kind: 'labelled' });
    assert.deepEqual(await labelledRows(output), [{ text1: 'a', text2: 'b', score: Math.fround(3.2) }, { text1: 'c', text2: 'd', score: 2 }]);
  } finally {
    await t.cleanup();
  }
});

test('prepare --kind labelled errors: non-numeric score names the line, missing score column, flags of the other kind', async () => {
  const t = await tempDir();
  try {
    const output = await t.file('out.arrow');
    const csv = await t.file('in.csv', 'text1,text2,label\na,b,1\nc,d,high\n');
    await fails(t, { input: csv, output, kind: 'labelled', score: 'label' }, /in\.csv: label: line 3: score "high" is not a number/);
    await fails(t, { input: csv, output, kind: 'labelled' }, /in\.csv: score: no such column for the score \(or name the score column with --score\); the input has: "text1", "text2", "label"/);
    const jsonl = await t.file('in.jsonl', '{"text1":"a","text2":"b","score":"NaN"}\n');
    await fails(t, { input: jsonl, output, kind: 'labelled' }, /in\.jsonl: score: line 1: score "NaN" is not a number/);
    const bool = await t.file('bool.jsonl', '{"text1":"a","text2":"b","score":true}\n');
    await fails(t, { input: bool, output, kind: 'labelled' }, /bool\.jsonl: score: line 1: score "true" is not a number/);
    await fails(t, { input: csv, output, kind: 'labelled', anchor: 'text1' }, /anchor: --anchor is for --kind pairs; with --kind labelled name the input columns with --text1, --text2, --score/);
    await fails(t, { input: csv, output, score: 'label' }, /score: --score is for --kind labelled/);
    await fails(t, { input: csv, output, kind: 'triplets' as never }, /kind: unknown kind "triplets"; expected one of pairs, labelled/);
    await fails(t, { input: await t.file('blank.csv', 'text1,text2,score\n ,b,1\n'), output, kind: 'labelled' }, /empty dataset: all 1 rows have an empty text1\/text2\/score/);
  } finally {
    await t.cleanup();
  }
});

test('prepare pairs: several hard negatives from a list, or picked up as negative, negative_2, … by name', async () => {
  const t = await tempDir();
  try {
    const rows = [
      { q: 'a1', d: 'p1', h1: 'x1', h2: 'y1', h3: 'z1' },
      { q: 'a2', d: 'p2', h1: 'x2', h2: ' ', h3: 'z2' }, // blank second negative: skipped
      { q: 'a3', d: 'p3', h1: 'x3', h2: 'y3', h3: 'z3' },
    ];
    const input = await t.file('in.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    const output = await t.file('out.arrow');
    const res = await prepare({ input, output, anchor: 'q', positive: 'd', negative: ['h2', 'h1', 'h3'] });
    assert.deepEqual(res, { rows: 2, skipped: 1, columns: ['anchor', 'positive', 'negative', 'negative_2', 'negative_3'], kind: 'pairs' });
    const got: string[][] = [];
    for await (const b of readColumnBatches({ path: output, columns: ['anchor', 'negative', 'negative_2', 'negative_3'] })) {
      for (let i = 0; i < b.rows; i++) got.push(b.texts.map((c) => c[i]));
    }
    assert.deepEqual(got, [['a1', 'y1', 'x1', 'z1'], ['a3', 'y3', 'x3', 'z3']]);

    const named = await t.file('named.csv', 'anchor,positive,negative,negative_2,negative_4\na,b,c,d,e\n');
    const out2 = await t.file('out2.arrow');
    assert.deepEqual((await prepare({ input: named, output: out2 })).columns, ['anchor', 'positive', 'negative', 'negative_2']);
    assert.deepEqual((await readSchema(out2)).negatives, ['negative', 'negative_2']);
    const out3 = await t.file('out3.arrow');
    assert.deepEqual((await prepare({ input: named, output: out3, negative: [] })).columns, ['anchor', 'positive']);
    assert.deepEqual((await readAll(out3)).records, [{ anchor: 'a', positive: 'b' }]);

    await fails(t, { input, output: await t.file('x.arrow'), anchor: 'q', positive: 'd', negative: ['h1', 'h9'] }, /in\.jsonl: h9: no such column for the negative_2; the input has: "q", "d", "h1", "h2", "h3"/);
    await fails(t, { input, output: await t.file('x.arrow'), anchor: 'q', positive: 'd', negative: ['h1', 'h1'] }, /in\.jsonl: h1: listed twice/);
  } finally {
    await t.cleanup();
  }
});
