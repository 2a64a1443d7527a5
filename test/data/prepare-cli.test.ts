import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { negativeList, prepareCommand } from '../../src/cli/prepare.js';
import { readLabelledPairs } from '../../src/data/labelled.js';
import { readSchema } from '../../src/data/arrow-reader.js';
import { readAll, repoFile, tempDir } from './helpers.js';

function cli(): ReturnType<typeof yargs> {
  return yargs().scriptName('contrastive').command(prepareCommand).strict().exitProcess(false).fail((msg, err) => {
    throw err ?? new Error(msg);
  });
}

test('cli prepare: maps columns from flags and prints a one-line summary', async () => {
  const t = await tempDir();
  const logs: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void logs.push(a.join(' '));
  try {
    const output = await t.file('sample.arrow');
    await cli().parseAsync(['prepare', '--input', repoFile('data/sample.jsonl'), '--output', output, '--anchor', 'title', '--positive', 'abstract']);
    console.log = orig;
    assert.equal(logs.length, 1);
    assert.match(logs[0], /wrote 20 rows \(anchor, positive\), skipped 0 .* to .*sample\.arrow$/);
    const { records } = await readAll(output);
    assert.equal(records.length, 20);
    assert.ok(records.some((r) => /[а-яё]/.test(r.anchor)));
  } finally {
    console.log = orig;
    await t.cleanup();
  }
});

test('cli prepare: --help documents every flag with an example', async () => {
  let help = '';
  await cli().parseAsync(['prepare', '--help'], {}, (_err, _argv, output) => {
    help = output;
  });
  for (const flag of ['--input', '--output', '--format', '--kind', '--anchor', '--positive', '--negative', '--text1', '--text2', '--score', '--batch-rows']) assert.ok(help.includes(flag), flag);
  assert.match(help.replace(/\s+/g, ' '), /prepare -i data\/sample\.jsonl -o sample\.arrow --anchor title --positive abstract/);
});

test('cli prepare: --kind labelled with --text1/--text2/--score, and --negative as a comma-separated list', async () => {
  const t = await tempDir();
  const logs: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void logs.push(a.join(' '));
  try {
    const sts = await t.file('sts.csv', 'sentence1,sentence2,similarity\na,b,4.5\nc,d,1\n');
    const out = await t.file('sts.arrow');
    await cli().parseAsync(['prepare', '-i', sts, '-o', out, '--kind', 'labelled', '--text1', 'sentence1', '--text2', 'sentence2', '--score', 'similarity']);
    const tri = await t.file('tri.csv', 'q,p,n1,n2\na,b,c,d\n');
    const out2 = await t.file('tri.arrow');
    await cli().parseAsync(['prepare', '-i', tri, '-o', out2, '--anchor', 'q', '--positive', 'p', '--negative', 'n1, n2']);
    console.log = orig;
    assert.match(logs[0], /wrote 2 rows \(text1, text2, score\), skipped 0 .* to .*sts\.arrow$/);
    assert.deepEqual(await readLabelledPairs(out), { text1: ['a', 'c'], text2: ['b', 'd'], scores: [4.5, 1] });
    assert.match(logs[1], /wrote 1 rows \(anchor, positive, negative, negative_2\)/);
    assert.deepEqual((await readSchema(out2)).negatives, ['negative', 'negative_2']);
  } finally {
    console.log = orig;
    await t.cleanup();
  }
});

test('cli prepare: negativeList splits commas and repeated flags; an empty value means no negatives', () => {
  assert.equal(negativeList(undefined), undefined);
  assert.deepEqual(negativeList('a, b,,c'), ['a', 'b', 'c']);
  assert.deepEqual(negativeList(['a,b', 'c']), ['a', 'b', 'c']);
  assert.deepEqual(negativeList(''), []);
});
