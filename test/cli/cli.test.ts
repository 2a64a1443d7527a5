/** The `contrastive` binary end to end: help, one-line errors with exit code 2, prepare → train → eval. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, BUNDLED_TOKENIZER } from '../helpers/tiny-run.js';

const BIN = 'dist/src/cli/main.js';

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CONTRASTIVE_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help explains every command', () => {
  const top = run(['--help']);
  assert.equal(top.code, 0);
  for (const cmd of ['prepare', 'train', 'eval', 'merge', 'pipeline', 'export', 'encode', 'bench']) assert.match(top.stdout, new RegExp(`contrastive ${cmd}`));
  const trainHelp = run(['train', '--help']).stdout;
  for (const flag of ['--config', '--output', '--resume', '--backend', '--max-steps']) assert.match(trainHelp, new RegExp(flag));
  assert.match(run(['eval', '--help']).stdout, /--json/);
  assert.match(run(['bench', '--help']).stdout, /--intermediate/);
  assert.match(run(['prepare', '--help']).stdout, /--anchor/);
});

test('user mistakes exit 2 with one line naming the file or field, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--config', 'configs/nope.json'], /configs\/nope\.json: cannot read config/],
    [['train', '--config', 'configs/tiny.json', '--backend', 'tpu'], /Invalid values[\s\S]*tpu[\s\S]*Choices/],
    [['eval', '--model', 'checkpoints/none', '--data', 'data/eval.arrow'], /checkpoints\/none: model folder not found/],
    [['eval', '--model', 'checkpoints/none', '--data', 'data/missing.arrow'], /data\/missing\.arrow/],
    [['frobnicate'], /Unknown argument: frobnicate/],
    [['train', '--config', 'configs/tiny.json', '--max-steps', '-3'], /--max-steps: must be a whole number ≥ 1, got -3/],
    [['train', '--config', 'configs/tiny.json', '--max-steps', 'abc'], /--max-steps: must be a whole number ≥ 1, got not a number/],
    [['train', '--config', 'configs/tiny.json', '--stop-after', '-1'], /--stop-after: must be a whole number ≥ 1, got -1/],
    [['eval', '--model', 'test/fixtures/lm-cocktail/models/a', '--data', 'data/eval.arrow', '--batch-size', '0'], /--batch-size: must be a whole number ≥ 1, got 0/],
    [['eval', '--model', 'test/fixtures/lm-cocktail/models/a', '--data', 'data/eval.arrow', '--max-length', '100000'], /--max-length: 100000 exceeds the \d+ tokens .*positions allow/],
    [['train', '--config', 'configs/user.json'], /configs\/user\.json: is a pipeline \(it has stages\); run it with `contrastive pipeline --config configs\/user\.json`/],
    [['merge', '--models', 'test/fixtures/lm-cocktail/models/a', '--output', '/tmp/x'], /--models: give two or more model folders to merge, got 1/],
    [['pipeline', '--config', 'configs/tiny.json'], /configs\/tiny\.json: is a training recipe \(it has no stages\); run it with `contrastive train --config configs\/tiny\.json`/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('contrastive:'));
    assert.equal(lines.length, 1, r.stderr);
  }
});

test('prepare → train → eval --json on a small file, and a bad config leaves no output behind', async () => {
  const dir = await tempDir();
  const rows = Array.from({ length: 40 }, (_, i) => `"title ${i % 5} number ${i}","abstract about topic ${i % 5}, item ${i}"`);
  writeFileSync(join(dir, 'pairs.csv'), 'title,abstract\n' + rows.join('\n') + '\n');
  const arrow = join(dir, 'pairs.arrow');
  const prep = run(['prepare', '--input', join(dir, 'pairs.csv'), '--output', arrow, '--anchor', 'title', '--positive', 'abstract']);
  assert.equal(prep.code, 0, prep.stderr);
  assert.match(prep.stdout + prep.stderr, /40 rows/);

  const config = {
    name: 'cli', seed: 1, tokenizer: BUNDLED_TOKENIZER,
    model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 32 },
    data: { train: arrow, eval: arrow, maxLength: 16 },
    train: { batchSize: 8, maxSteps: 3, lr: 1e-3 },
  };
  writeFileSync(join(dir, 'cli.json'), JSON.stringify(config));
  const out = join(dir, 'run');
  const tr = run(['train', '--config', join(dir, 'cli.json'), '--output', out, '--backend', 'wasm']);
  assert.equal(tr.code, 0, tr.stderr);
  assert.match(tr.stderr, /backend: wasm/);
  assert.match(tr.stderr, /model saved to/);
  assert.ok(existsSync(join(out, 'final', 'model.safetensors')));
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 4); // 3 steps + final eval

  const ev = run(['eval', '--model', join(out, 'final'), '--data', arrow, '--json', '--backend', 'cpu']);
  assert.equal(ev.code, 0, ev.stderr);
  const metrics = JSON.parse(ev.stdout);
  for (const k of ['recall@1', 'recall@10', 'mrr@10', 'ndcg@10']) assert.ok(metrics[k] >= 0 && metrics[k] <= 1, k);
  assert.equal(metrics.queries, 40);

  // STS-style CSV as distributed (no header): correlation instead of retrieval
  const sts = Array.from({ length: 12 }, (_, i) => `"title ${i % 3} number ${i}","abstract about topic ${i % 3}, item ${i}",${(i % 5) + 0.5}`);
  writeFileSync(join(dir, 'sts.csv'), sts.join('\n') + '\n');
  const st = run(['eval', '--model', join(out, 'final'), '--data', join(dir, 'sts.csv'), '--json', '--backend', 'cpu']);
  assert.equal(st.code, 0, st.stderr);
  const corr = JSON.parse(st.stdout);
  assert.equal(corr.pairs, 12);
  assert.ok(Math.abs(corr.spearman) <= 1 && Math.abs(corr.pearson) <= 1, st.stdout);

  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...config, loss: { name: 'hinge' } }));
  const bad = run(['train', '--config', join(dir, 'bad.json'), '--output', join(dir, 'bad-run')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /loss\.name: unknown loss "hinge"; valid: infonce/);
  assert.ok(!existsSync(join(dir, 'bad-run')));
});

test('outputs the file system refuses are one-line errors, never a hang: below /proc, below a regular file', () => {
  const file = join(process.cwd(), 'package.json');
  const A = 'test/fixtures/lm-cocktail/models/a';
  const cases: [string[], RegExp][] = [
    [['merge', '--models', A, A, '-o', '/proc/merged'], /\/proc: cannot write here/],
    [['merge', '--models', A, A, '-o', join(file, 'merged')], /package\.json: is a file, not a folder/],
    [['export', '--model', A, '--output', '/proc/x/y', '--no-verify'], /\/proc\/x: cannot create folder/],
    [['train', '--config', 'configs/tiny.json', '--output', join(file, 'run'), '--max-steps', '1', '--backend', 'cpu'], /package\.json\/run: cannot use this folder: a part of the path is a file/],
  ];
  for (const [args, pattern] of cases) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status} (signal ${r.signal})\n${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
