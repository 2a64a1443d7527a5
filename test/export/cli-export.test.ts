/** `contrastive export` as a yargs command: --help, what it prints, --json, and errors. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyModelFolder } from './helpers.js';

/** The real binary (dist/src/cli/main.js). */
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command in a child process (async, so independent runs overlap). */
function run(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [ENTRY, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await run(args);
  assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('export --help explains the options and shows an example', async () => {
  const help = await ok(['export', '--help']);
  for (const s of ['--model', '--output', '--opset', '--no-quantize', '--sample', '--verify', 'model_quantized.onnx', 'last_hidden_state', 'Examples:', 'contrastive export --model']) {
    assert.ok(help.includes(s), `help mentions ${s}:\n${help}`);
  }
});

test('export prints what it wrote and the int8 agreement; --json gives the same as data', async () => {
  const { dir, encoder } = await tinyModelFolder({ pooling: 'mean', normalize: true, seed: 11 });
  encoder.dispose();
  dirs.push(dir);
  const text = await ok(['export', '--model', dir, '--backend', 'cpu']);
  assert.match(text, new RegExp(`wrote ${join(dir, 'onnx', 'model.onnx')} \\(fp32, opset 17, `));
  assert.match(text, /mean pooling \+ L2 normalize/);
  assert.match(text, /vs TensorFlow\.js on 4 sentences .*max abs diff last_hidden_state \d\.\de-\d+/);
  assert.match(text, /wrote .*model_quantized\.onnx \(int8/);
  assert.match(text, /cosine mean 0\.99\d+, min 0\.99\d+/);
  const json = JSON.parse(await ok(['export', '--model', dir, '--opset', '15', '--no-quantize', '--no-verify', '--json']));
  assert.equal(json.opset, 15);
  assert.equal(json.quantizedPath, undefined);
  assert.equal(json.bytes, (await stat(json.path)).size);
});

test('export with a bad opset or missing folder exits 2 with one line naming it', async () => {
  const cases: [string[], RegExp][] = [
    [['export', '--model', 'no/such/folder'], /^contrastive: no\/such\/folder: model folder not found\n$/],
    [['export', '--model', 'test/fixtures/bert-tiny/model', '--opset', '18'], /^contrastive: --opset: unsupported ONNX opset 18; valid: 14–17/],
    [['export', '--model', 'test/fixtures/bert-tiny/model', '--sample', 'no/texts.jsonl'], /^contrastive: no\/texts\.jsonl: cannot read sample texts/],
  ];
  const runs = await Promise.all(cases.map(([args]) => run(args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = runs[i];
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});
