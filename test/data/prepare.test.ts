import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepare } from '../../src/data/prepare.js';
import { countRows } from '../../src/data/arrow-reader.js';
import { UserError } from '../../src/util/errors.js';
import { readAll, tempDir } from './helpers.js';

const RU = 'Графовые нейронные сети: объём, йод и ёж';

test('prepare: jsonl round trip keeps strings exactly (UTF-8, Russian, quotes, newlines)', async () => {
  const t = await tempDir();
  try {
    const rows = [
      { anchor: 'plain', positive: 'text' },
      { anchor: RU, positive: 'Он сказал "да",\nа потом\tушёл 🙂' },
      { anchor: '  spaced  ', positive: 'x' },
    ];
    const input = await t.file('in.jsonl', rows.map((r) => JSON.stringify(r)).join('\n') + '\n\n');
    const output = await t.file('out.arrow');
    const res = await prepare({ input, output });
    assert.deepEqual(res, { rows: 3, skipped: 0, columns: ['anchor', 'positive'], kind: 'pairs' });
    assert.deepEqual((await readAll(output)).records, rows);
    assert.equal(await countRows(output), 3);
    assert.deepEqual(await t.list(), ['in.jsonl', 'out.arrow']);
  } finally {
    await t.cleanup();
  }
});

test('prepare: csv with quoted commas, newlines and doubled quotes; column mapping', async () => {
  const t = await tempDir();
  try {
    const csv = [
      'id,title,abstract,neg_abstract',
      `1,"Graphs, trees","He said ""hi""\non two lines",other`,
      `2,"${RU}","тест, с запятой",отрицательный`,
    ].join('\r\n');
    const input = await t.file('in.csv', csv);
    const output = await t.file('out.arrow');
    const res = await prepare({ input, output, anchor: 'title', positive: 'abstract', negative: 'neg_abstract' });
    assert.deepEqual(res, { rows: 2, skipped: 0, columns: ['anchor', 'positive', 'negative'], kind: 'pairs' });
    assert.deepEqual((await readAll(output)).records, [
      { anchor: 'Graphs, trees', positive: 'He said "hi"\non two lines', negative: 'other' },
      { anchor: RU, positive: 'тест, с запятой', negative: 'отрицательный' },
    ]);
  } finally {
    await t.cleanup();
  }
});

test('prepare: tsv by extension; --format overrides the extension', async () => {
  const t = await tempDir();
  try {
    const input = await t.file('in.tsv', 'anchor\tpositive\nq1\tcomma, stays\n"quoted\ttab"\tp2\n');
    const output = await t.file('out.arrow');
    await prepare({ input, output });
    assert.deepEqual((await readAll(output)).records, [
      { anchor: 'q1', positive: 'comma, stays' },
      { anchor: 'quoted\ttab', positive: 'p2' },
    ]);
    const txt = await t.file('pairs.txt', 'anchor,positive\na,b\n');
    const out2 = await t.file('out2.arrow');
    await prepare({ input: txt, output: out2, format: 'csv' });
    assert.deepEqual((await readAll(out2)).records, [{ anchor: 'a', positive: 'b' }]);
  } finally {
    await t.cleanup();
  }
});

test('prepare: negative column is optional, picked up by name, and empty rows are skipped and counted', async () => {
  const t = await tempDir();
  try {
    const input = await t.file('in.jsonl', [
      { anchor: 'a1', positive: 'p1', negative: 'n1' },
      { anchor: '', positive: 'p2', negative: 'n2' },
      { anchor: 'a3', positive: '   ', negative: 'n3' },
      { anchor: 'a4', positive: 'p4', negative: '' },
      { anchor: 'a5', positive: 'p5', negative: null },
      { anchor: 42, positive: true, negative: 'n6', extra: { nested: 'ignored' } },
    ].map((r) => JSON.stringify(r)).join('\n'));
    const output = await t.file('out.arrow');
    const res = await prepare({ input, output });
    assert.deepEqual(res, { rows: 2, skipped: 4, columns: ['anchor', 'positive', 'negative'], kind: 'pairs' });
    assert.deepEqual((await readAll(output)).records, [
      { anchor: 'a1', positive: 'p1', negative: 'n1' },
      { anchor: '42', positive: 'true', negative: 'n6' },
    ]);
  } finally {
    await t.cleanup();
  }
});

test('prepare: streams in record batches of batchRows', async () => {
  const t = await tempDir();
  try {
    const n = 2500;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ anchor: `anchor ${i} тест`, positive: `positive ${i}` }));
    const input = await t.file('big.jsonl', lines.join('\n'));
    const output = await t.file('big.arrow');
    assert.equal((await prepare({ input, output, batchRows: 1000 })).rows, n);
    const { records, batchSizes } = await readAll(output);
    assert.deepEqual(batchSizes, [1000, 1000, 500]);
    assert.equal(records[2499].anchor, 'anchor 2499 тест');
    assert.equal(await countRows(output), n);
  } finally {
    await t.cleanup();
  }
});

/** Runs prepare expecting a UserError matching `re`, then checks that only the inputs remain in the dir. */
async function expectFailure(t: Awaited<ReturnType<typeof tempDir>>, opts: Parameters<typeof prepare>[0], re: RegExp): Promise<string> {
  const before = await t.list();
  let message = '';
  await assert.rejects(prepare(opts), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    message = e.message;
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
  assert.deepEqual(await t.list(), before, 'no output or temp file left behind');
  return message;
}

test('prepare errors: missing file, missing column (lists columns), bad JSON line, nested value', async () => {
  const t = await tempDir();
  try {
    const output = await t.file('out.arrow');
    await expectFailure(t, { input: await t.file('nope.jsonl'), output }, /nope\.jsonl: input file not found/);

    const csv = await t.file('in.csv', 'title,abstract\na,b\n');
    const msg = await expectFailure(t, { input: csv, output, anchor: 'title', positive: 'body' }, /in\.csv: body: no such column for the positive/);
    assert.match(msg, /"title", "abstract"/);
    await expectFailure(t, { input: csv, output }, /in\.csv: anchor: .*--anchor.*"title", "abstract"/);
    await expectFailure(t, { input: csv, output, anchor: 'title', positive: 'abstract', negative: 'neg' }, /in\.csv: neg: no such column for the negative/);

    const badJson = await t.file('bad.jsonl', '{"anchor":"a","positive":"b"}\n\n{"anchor": "a", oops}\n');
    await expectFailure(t, { input: badJson, output }, /bad\.jsonl: line 3: invalid JSON/);
    const notObj = await t.file('arr.jsonl', '["a","b"]\n');
    await expectFailure(t, { input: notObj, output }, /arr\.jsonl: line 1: expected a JSON object/);
    const nested = await t.file('nested.jsonl', '{"anchor":"a","positive":"b"}\n{"anchor":{"x":1},"positive":"b"}\n');
    await expectFailure(t, { input: nested, output }, /nested\.jsonl: anchor: line 2: nested value \(object\)/);
    const missingLater = await t.file('later.jsonl', '{"anchor":"a","positive":"b"}\n{"anchor":"a"}\n');
    await expectFailure(t, { input: missingLater, output }, /later\.jsonl: positive: line 2: field missing/);
    const ragged = await t.file('ragged.csv', 'anchor,positive\na,b\na,b,c\n');
    await expectFailure(t, { input: ragged, output }, /ragged\.csv: line 3: 3 fields but the header has 2/);
    const unclosed = await t.file('unclosed.csv', 'anchor,positive\na,"b\n');
    await expectFailure(t, { input: unclosed, output }, /unclosed\.csv: line 2: quoted field is never closed/);
    await expectFailure(t, { input: csv, output, format: 'xml' as never }, /format: unknown format "xml"; expected one of jsonl, csv, tsv/);
    await expectFailure(t, { input: await t.file('in.txt', 'x'), output }, /cannot tell the format/);
    await expectFailure(t, { input: csv, output: t.dir, anchor: 'title', positive: 'abstract' }, /output is a directory/);
  } finally {
    await t.cleanup();
  }
});

test('prepare errors: empty dataset (no rows, only a header, all rows empty) leaves nothing behind', async () => {
  const t = await tempDir();
  try {
    const output = await t.file('out.arrow');
    await expectFailure(t, { input: await t.file('empty.jsonl', '\n\n'), output }, /empty\.jsonl: empty dataset: no data rows/);
    await expectFailure(t, { input: await t.file('header.csv', 'anchor,positive\n'), output }, /header\.csv: empty dataset: no data rows/);
    await expectFailure(t, { input: await t.file('zero.csv', ''), output }, /zero\.csv: empty file: expected a header row/);
    await expectFailure(t, { input: await t.file('blank.tsv', 'anchor\tpositive\n\tp\na\t \n'), output }, /blank\.tsv: empty dataset: all 2 rows have an empty anchor\/positive/);
  } finally {
    await t.cleanup();
  }
});

test('prepare: an error after some batches were written removes the temp file and keeps an existing output', async () => {
  const t = await tempDir();
  try {
    const good = Array.from({ length: 50 }, (_, i) => JSON.stringify({ anchor: `a${i}`, positive: `p${i}` }));
    const input = await t.file('late.jsonl', [...good, '{broken'].join('\n'));
    const output = await t.file('out.arrow');
    await prepare({ input: await t.file('ok.jsonl', good.join('\n')), output });
    const before = await t.list();
    await expectFailure(t, { input, output, batchRows: 8 }, /late\.jsonl: line 51: invalid JSON/);
    assert.deepEqual(await t.list(), before);
    assert.equal(await countRows(output), 50, 'previous output untouched');
  } finally {
    await t.cleanup();
  }
});
