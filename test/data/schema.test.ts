import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { Float64, Int32, Int64, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { readSchema } from '../../src/data/arrow-reader.js';
import { prepare } from '../../src/data/prepare.js';
import { UserError } from '../../src/util/errors.js';
import { tempDir } from './helpers.js';

const utf8 = (xs: string[]) => vectorFromArray(xs, new Utf8());

async function arrowFile(t: Awaited<ReturnType<typeof tempDir>>, name: string, table: Table): Promise<string> {
  const p = await t.file(name);
  await writeFile(p, tableToIPC(table, 'file'));
  return p;
}

test('readSchema: pairs with several negatives and labelled files written by prepare', async () => {
  const t = await tempDir();
  try {
    const pin = await t.file('p.jsonl', JSON.stringify({ q: 'a', d: 'b', n1: 'c', n2: 'd', n3: 'e' }) + '\n');
    const pairs = await t.file('p.arrow');
    await prepare({ input: pin, output: pairs, anchor: 'q', positive: 'd', negative: ['n1', 'n2', 'n3'] });
    assert.deepEqual(await readSchema(pairs), {
      kind: 'pairs',
      columns: ['anchor', 'positive', 'negative', 'negative_2', 'negative_3'],
      negatives: ['negative', 'negative_2', 'negative_3'],
    });
    const lin = await t.file('l.csv', 'text1,text2,score\na,b,4.5\n');
    const labelled = await t.file('l.arrow');
    await prepare({ input: lin, output: labelled, kind: 'labelled' });
    assert.deepEqual(await readSchema(labelled), { kind: 'labelled', columns: ['text1', 'text2', 'score'], negatives: [] });
  } finally {
    await t.cleanup();
  }
});

test('readSchema: other writers — any numeric score type, extra columns, negatives ordered by number', async () => {
  const t = await tempDir();
  try {
    for (const [type, values] of [[new Int32(), [1, 2]], [new Float64(), [0.5, 1]], [new Int64(), [1n, 2n]]] as const) {
      const p = await arrowFile(t, `s-${String(type)}.arrow`, new Table({ id: vectorFromArray([1, 2], new Int32()), text1: utf8(['a', 'b']), text2: utf8(['c', 'd']), score: vectorFromArray(values as never, type) }));
      assert.equal((await readSchema(p)).kind, 'labelled', String(type));
    }
    const p = await arrowFile(t, 'neg.arrow', new Table({ negative_2: utf8(['x']), anchor: utf8(['a']), negative: utf8(['y']), positive: utf8(['b']) }));
    assert.deepEqual(await readSchema(p), { kind: 'pairs', columns: ['negative_2', 'anchor', 'negative', 'positive'], negatives: ['negative', 'negative_2'] });
  } finally {
    await t.cleanup();
  }
});

test('readSchema: a file of neither kind is one UserError listing the columns and what each kind needs', async () => {
  const t = await tempDir();
  const fails = async (p: string, re: RegExp) =>
    assert.rejects(readSchema(p), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
  try {
    const other = await arrowFile(t, 'other.arrow', new Table({ question: utf8(['q']), n: vectorFromArray([1], new Int32()) }));
    await fails(other, /other\.arrow: neither a pairs nor a labelled file; it has "question" \(Utf8\), "n" \(Int32\)\. pairs need Utf8 anchor and positive .*\[here: no anchor, no positive\]; labelled need Utf8 text1, text2 and a numeric score \[here: no text1, no text2, no score\]/);
    const textScore = await arrowFile(t, 'ts.arrow', new Table({ text1: utf8(['a']), text2: utf8(['b']), score: utf8(['high']) }));
    await fails(textScore, /ts\.arrow: neither .*score is Utf8, not a number type/);
    const gap = await arrowFile(t, 'gap.arrow', new Table({ anchor: utf8(['a']), positive: utf8(['b']), negative: utf8(['c']), negative_3: utf8(['d']) }));
    await fails(gap, /gap\.arrow: negative_3: .*without gaps.*negative_2 is missing/);
    const intNeg = await arrowFile(t, 'intneg.arrow', new Table({ anchor: utf8(['a']), positive: utf8(['b']), negative: vectorFromArray([1], new Int32()) }));
    await fails(intNeg, /intneg\.arrow: negative: expected a string \(Utf8\) column, found Int32/);
    await fails(await t.file('missing.arrow'), /missing\.arrow: Arrow file not found/);
  } finally {
    await t.cleanup();
  }
});
