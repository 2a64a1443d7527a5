import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { prepareCommand } from '../../src/cli/prepare.js';
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
  for (const flag of ['--input', '--output', '--format', '--anchor', '--positive', '--negative', '--batch-rows']) assert.ok(help.includes(flag), flag);
  assert.match(help.replace(/\s+/g, ' '), /prepare -i data\/sample\.jsonl -o sample\.arrow --anchor title --positive abstract/);
});
