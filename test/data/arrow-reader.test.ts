import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { Int32, tableFromArrays, tableToIPC, vectorFromArray, Table, Utf8 } from 'apache-arrow';
import { countRows, readPairBatches, readSchema } from '../../src/data/arrow-reader.js';
import { UserError } from '../../src/util/errors.js';
import { readAll, repoFile, tempDir } from './helpers.js';

test('arrow-reader: reads files written by other Arrow writers (file and stream format, nullable)', async () => {
  const t = await tempDir();
  try {
    const table = new Table({
      positive: vectorFromArray(['p1', null, 'p3'], new Utf8()),
      anchor: vectorFromArray(['a1', 'a2', 'a3'], new Utf8()),
      extra: vectorFromArray([1, 2, 3], new Int32()),
    });
    for (const format of ['file', 'stream'] as const) {
      const p = await t.file(`t.${format}.arrow`);
      await writeFile(p, tableToIPC(table, format));
      assert.deepEqual((await readAll(p)).records, [
        { anchor: 'a1', positive: 'p1' },
        { anchor: 'a2', positive: '' },
        { anchor: 'a3', positive: 'p3' },
      ]);
      assert.equal(await countRows(p), 3);
      assert.deepEqual((await readSchema(p)).negatives, []);
    }
  } finally {
    await t.cleanup();
  }
});

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'));
}

async function drain(path: string): Promise<void> {
  for await (const _ of readPairBatches({ path })) void _;
}

test('arrow-reader: schema errors name the file and column and list what exists', async () => {
  const t = await tempDir();
  try {
    const dict = await t.file('dict.arrow'); // tableFromArrays dictionary-encodes strings: accepted
    await writeFile(dict, tableToIPC(tableFromArrays({ anchor: ['a', 'a'], positive: ['b', 'c'] }), 'file'));
    assert.deepEqual((await readAll(dict)).records, [{ anchor: 'a', positive: 'b' }, { anchor: 'a', positive: 'c' }]);

    const noPos = await t.file('nopos.arrow');
    await writeFile(noPos, tableToIPC(tableFromArrays({ anchor: ['a'], text: ['b'] }), 'file'));
    await rejectsWith(drain(noPos), /nopos\.arrow: positive: required column missing; the file has: "anchor", "text"/);
    await rejectsWith(countRows(noPos), /nopos\.arrow: positive: required column missing/);

    const wrongType = await t.file('int.arrow');
    await writeFile(wrongType, tableToIPC(tableFromArrays({ anchor: ['a'], positive: new Int32Array([1]) }), 'file'));
    await rejectsWith(drain(wrongType), /int\.arrow: positive: expected a string \(Utf8\) column, found Int32/);

    const badNeg = await t.file('neg.arrow');
    await writeFile(badNeg, tableToIPC(tableFromArrays({ anchor: ['a'], positive: ['b'], negative: new Float32Array([1]) }), 'file'));
    await rejectsWith(drain(badNeg), /neg\.arrow: negative: expected a string/);

    await rejectsWith(drain(await t.file('missing.arrow')), /missing\.arrow: Arrow file not found/);
    await rejectsWith(drain(await t.file('junk.arrow', 'this is not arrow at all, just some text\n')), /junk\.arrow: not a readable Arrow IPC file/);
  } finally {
    await t.cleanup();
  }
});

test('arrow-reader: bundled data/train.arrow and eval.arrow have the expected sizes and columns', async () => {
  assert.equal(await countRows(repoFile('data/train.arrow')), 3000);
  assert.equal(await countRows(repoFile('data/eval.arrow')), 400);
  for await (const batch of readPairBatches({ path: repoFile('data/eval.arrow') })) {
    assert.ok(batch.length > 0 && batch.length <= 1024);
    for (const r of batch) assert.ok(r.anchor.length > 0 && r.positive.length > r.anchor.length && r.negative === undefined);
    break;
  }
});
