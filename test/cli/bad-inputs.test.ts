/**
 * Bad inputs across the commands, table-driven: each exits 2 with one line naming the file or flag, no
 * stack trace, and creates nothing. (A start on issue 10's table; test/cli/cli.test.ts has more.)
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = await mkdtemp(join(tmpdir(), 'contrastive-bad-'));
after(() => rm(root, { recursive: true, force: true }));
const at = (name: string) => join(root, name);
await writeFile(at('ok.jsonl'), '{"anchor":"a","positive":"b"}\n');
await writeFile(at('bad.jsonl'), 'not json\n');
await writeFile(at('empty.jsonl'), '');
await writeFile(at('latin1.jsonl'), Buffer.from('{"anchor":"caf\xe9","positive":"b"}\n', 'latin1'));
await writeFile(at('broken.json'), '{');
await writeFile(at('array.json'), '[1]');
await writeFile(at('truncated.arrow'), readFileSync('data/eval.arrow').subarray(0, 100));
await writeFile(at('pipeline.json'), JSON.stringify({ stages: [{ name: 'a', train: at('missing-recipe.json') }] }));
const M = 'test/fixtures/lm-cocktail/models/a';

const cases: Array<[string[], RegExp, string?]> = [
  [['prepare', '-i', at('bad.jsonl'), '-o', at('o1.arrow')], /bad\.jsonl: line 1: invalid JSON/, 'o1.arrow'],
  [['prepare', '-i', at('empty.jsonl'), '-o', at('o2.arrow')], /empty\.jsonl: empty dataset/, 'o2.arrow'],
  [['prepare', '-i', at('nope.jsonl'), '-o', at('o3.arrow')], /nope\.jsonl: input file not found/, 'o3.arrow'],
  [['prepare', '-i', at('latin1.jsonl'), '-o', at('o4.arrow')], /latin1\.jsonl: line 1: invalid UTF-8 \(byte 0xe9\)/, 'o4.arrow'],
  [['prepare', '-i', at('ok.jsonl'), '-o', '/proc/o.arrow'], /\/proc\/o\.arrow: cannot write/],
  [['prepare', '-i', at('ok.jsonl'), '-o', root], /output is a directory/],
  [['train', '--config', at('broken.json')], /broken\.json: not valid JSON/],
  [['train', '--config', at('array.json')], /array\.json: a config must be a JSON object/],
  [['eval', '--model', M, '--data', at('truncated.arrow')], /truncated\.arrow: not a readable Arrow IPC file/],
  [['eval', '--model', at('no-model'), '--data', 'data/eval.arrow'], /no-model: model folder not found/],
  [['encode', '--model', M, '--input', at('nope.jsonl'), '-o', at('e1.arrow')], /nope\.jsonl: file not found/, 'e1.arrow'],
  [['encode', '--model', M, '--input', at('truncated.arrow'), '-o', at('e2.arrow')], /truncated\.arrow: not a readable Arrow IPC file/, 'e2.arrow'],
  [['encode', '--model', M, '--input', at('ok.jsonl'), '-o', at('e3.arrow'), '--batch-size', '0'], /--batch-size: must be a positive integer, got 0/, 'e3.arrow'],
  [['export', '--model', root, '--no-verify'], /config\.json: file not found/, 'onnx'],
  [['export', '--model', M, '--opset', '99'], /--opset: unsupported ONNX opset 99; valid: 14–17/],
  [['merge', '--models', M, root, '-o', at('m1')], /config\.json: file not found/, 'm1'],
  [['merge', '--models', M, M, '--weights', '1', '-o', at('m2')], /--weights: 1 weights for 2 models/, 'm2'],
  [['merge', '--models', M, M, '--example-data', at('bad.jsonl'), '-o', at('m3')], /bad\.jsonl: line 1: invalid JSON/, 'm3'],
  [['merge', '--models', M, M, '--example-data', at('ok.jsonl'), '-o', at('m4')], /ok\.jsonl: line 1: query: must be a non-empty string/, 'm4'],
  [['pipeline', '--config', at('pipeline.json'), '--output', at('p')], /missing-recipe\.json: cannot read recipe \(ENOENT\)/, 'p'],
  [['pipeline', '--config', at('broken.json')], /broken\.json: not valid JSON/],
  [['bench', '--hidden', '0'], /--hidden: must be a whole number ≥ 1, got 0/],
  [['bench', '--hidden', '10', '--heads', '4'], /--heads: 4 does not divide --hidden 10/],
  [['bench', '--merge', '-1'], /--merge: must be a whole number ≥ 0, got -1/],
];

for (const [args, pattern, created] of cases) {
  test(`contrastive ${args.join(' ').replaceAll(root, '<tmp>')}`, () => {
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CONTRASTIVE_DEBUG: '' } });
    assert.equal(r.status, 2, `exit ${r.status} (signal ${r.signal}):\n${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('contrastive:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
    if (created) assert.ok(!existsSync(at(created)) && !existsSync(join(root, created)), `${created} was created`);
  });
}
