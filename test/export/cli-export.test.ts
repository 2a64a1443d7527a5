/** `contrastive export` as a yargs command: --help, what it prints, --json, and errors. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyModelFolder } from './helpers.js';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'export-cli-entry.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ENTRY, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): string {
  const r = run(args);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('export --help explains the options and shows an example', async () => {
  const help = ok(['export', '--help']);
  for (const s of ['--model', '--output', '--opset', '--no-quantize', '--sample', '--verify', 'model_quantized.onnx', 'last_hidden_state', 'Examples:', 'contrastive export --model']) {
    assert.ok(help.includes(s), `help mentions ${s}:\n${help}`);
  }
});

test('export prints what it wrote and the int8 agreement; --json gives the same as data', async () => {
  const { dir, encoder } = await tinyModelFolder({ pooling: 'mean', normalize: true, seed: 11 });
  encoder.dispose();
  dirs.push(dir);
  const text = ok(['export', '--model', dir, '--backend', 'cpu']);
  assert.match(text, new RegExp(`wrote ${join(dir, 'onnx', 'model.onnx')} \\(fp32, opset 17, `));
  assert.match(text, /mean pooling \+ L2 normalize/);
  assert.match(text, /vs TensorFlow\.js on 8 sentences .*max abs diff last_hidden_state \d\.\de-\d+/);
  assert.match(text, /wrote .*model_quantized\.onnx \(int8/);
  assert.match(text, /cosine mean 0\.99\d+, min 0\.99\d+/);
  const json = JSON.parse(ok(['export', '--model', dir, '--opset', '15', '--no-quantize', '--no-verify', '--json']));
  assert.equal(json.opset, 15);
  assert.equal(json.quantizedPath, undefined);
  assert.equal(json.bytes, (await stat(json.path)).size);
});

test('export with a bad opset or missing folder exits 2 with one line naming it', () => {
  const cases: [string[], RegExp][] = [
    [['export', '--model', 'no/such/folder'], /^contrastive: no\/such\/folder: model folder not found\n$/],
    [['export', '--model', 'test/fixtures/bert-tiny/model', '--opset', '18'], /^contrastive: --opset: unsupported ONNX opset 18; valid: 14–17/],
    [['export', '--model', 'test/fixtures/bert-tiny/model', '--sample', 'no/texts.jsonl'], /^contrastive: no\/texts\.jsonl: cannot read sample texts/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
