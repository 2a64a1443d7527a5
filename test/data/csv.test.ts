import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDelimited, type DelimitedRow } from '../../src/data/csv.js';
import { UserError } from '../../src/util/errors.js';

async function parse(chunks: string[], delimiter = ','): Promise<DelimitedRow[]> {
  const rows: DelimitedRow[] = [];
  async function* src(): AsyncGenerator<string> {
    yield* chunks;
  }
  for await (const r of parseDelimited(src(), { delimiter, file: 'x.csv' })) rows.push(r);
  return rows;
}

test('csv: RFC-4180 quoting: delimiter, newlines and doubled quotes inside quotes', async () => {
  const text = 'a,b\r\n"x, y","he said ""hi"""\r\n"multi\nline",plain\n';
  const rows = await parse([text]);
  assert.deepEqual(rows, [
    { fields: ['a', 'b'], line: 1 },
    { fields: ['x, y', 'he said "hi"'], line: 2 },
    { fields: ['multi\nline', 'plain'], line: 3 },
  ]);
});

test('csv: same result for every chunking (quotes and CRLF split across chunks)', async () => {
  const text = '\ufeffa,b\r\n"q""x",2\r\n\r\n"",\n"l1\r\nl2",z';
  const whole = await parse([text]);
  assert.deepEqual(whole, [
    { fields: ['a', 'b'], line: 1 },
    { fields: ['q"x', '2'], line: 2 },
    { fields: ['', ''], line: 4 },
    { fields: ['l1\r\nl2', 'z'], line: 5 },
  ]);
  for (let cut = 1; cut < text.length; cut++) {
    assert.deepEqual(await parse([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
  }
  assert.deepEqual(await parse([...text]), whole, 'one char per chunk');
});

test('csv: tsv delimiter, empty fields and no trailing newline', async () => {
  assert.deepEqual(await parse(['a\tb\tc\n1\t\t3'], '\t'), [
    { fields: ['a', 'b', 'c'], line: 1 },
    { fields: ['1', '', '3'], line: 2 },
  ]);
});

test('csv: unterminated quote and text after a closing quote are UserErrors naming file and line', async () => {
  await assert.rejects(parse(['a,b\n1,"open\nstill open']), (e: unknown) => e instanceof UserError && /x\.csv: line 2: quoted field is never closed/.test(e.message));
  await assert.rejects(parse(['a,b\n1,2\n"x"y,3\n']), (e: unknown) => e instanceof UserError && /x\.csv: line 3: unexpected "y" after the closing quote/.test(e.message));
});
