/**
 * encodeFile / `contrastive encode`: the onnx and tfjs engines agree with each other and with
 * embedTexts (the toolkit's reference embedding path), across batch and window boundaries; the
 * Arrow output has `id` (Int64 or Utf8) + `embedding` (FixedSizeList<Float32>[H]) in input order;
 * failures leave no output and no temp file behind.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir, rename } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { tableFromIPC, tableToIPC, tableFromArrays, Type, type FixedSizeList } from 'apache-arrow';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from '../../src/model/config.js';
import { SentenceEncoder } from '../../src/model/encoder.js';
import { saveEncoder } from '../helpers/folder.js';
import { exportOnnx } from '../../src/export/export.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { embedTexts } from '../../src/eval/embed.js';
import { encodeFile } from '../../src/encode/encode-file.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { useBackend } from '../helpers/backend.js';

/** The real binary (dist/src/cli/main.js). */
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const TOKENIZER = 'test/fixtures/hf-bert/tokenizer.json';
const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'quick', 'brown', 'fox', 'protein', 'folding', 'structure', 'learning', 'Sentence', 'embeddings', 'dog', '✓'];
const H = 24;
const MAX_LENGTH = 20;

let root: string;
let model: string;
let encoder: SentenceEncoder;
/** 41 texts of 0..12 words (some empty): a ragged last batch; with batch size 2 the window (2 × 16 rows) splits them in two. */
const texts: string[] = [];

before(async () => {
  await useBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'contrastive-encode-'));
  const rng = new Rng(99);
  for (let i = 0; i < 41; i++) texts.push(Array.from({ length: rng.int(13) }, () => WORDS[rng.int(WORDS.length)]).join(' '));
  const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, vocabSize: 80, hiddenSize: H, numLayers: 2, numHeads: 4, intermediateSize: 48, maxPositions: 32, initializerRange: 0.2, pooling: 'mean', normalize: true };
  encoder = SentenceEncoder.init(config, 5);
  for (const [name, v] of Object.entries(encoder.params)) {
    if (name.endsWith('.bias') || name.includes('LayerNorm')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, name.endsWith('LayerNorm.weight') ? 1 : 0, 0.3, 'float32', rng.seed())));
  }
  model = join(root, 'model');
  await mkdir(model);
  await saveEncoder(model, encoder, TOKENIZER, { maxLength: MAX_LENGTH, prompts: { query: 'query: ' } });
  await exportOnnx({ model, verify: false, quantize: false, threads: 1 });
});

after(async () => {
  encoder?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function reference(input: string[]): Promise<Float32Array> {
  const tokenizer = await TextTokenizer.load(TOKENIZER);
  return embedTexts(encoder, tokenizer, input, { maxLength: MAX_LENGTH, batchSize: 7 });
}

function readOutput(path: string) {
  const table = tableFromIPC(readFileSync(path));
  const idField = table.schema.fields.find((f) => f.name === 'id')!;
  const embField = table.schema.fields.find((f) => f.name === 'embedding')!;
  assert.equal(embField.type.typeId, Type.FixedSizeList);
  const list = embField.type as FixedSizeList;
  assert.equal(list.listSize, H);
  assert.equal(list.children[0].type.typeId, Type.Float);
  const emb = new Float32Array(table.numRows * H);
  const col = table.getChild('embedding')!;
  for (let i = 0; i < table.numRows; i++) emb.set(col.get(i)!.toArray() as Float32Array, i * H);
  const ids = Array.from({ length: table.numRows }, (_, i) => table.getChild('id')!.get(i) as bigint | string);
  return { table, idType: idField.type.typeId, ids, emb, metadata: table.schema.metadata };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function noLeftovers(dir: string): void {
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'temp files left behind');
}

test('JSONL with string ids: onnx and tfjs engines agree and match embedTexts', async () => {
  const input = join(root, 'texts.jsonl');
  await writeFile(input, texts.map((t, i) => JSON.stringify({ id: `doc-${i}`, anchor: t, other: 1 })).join('\n') + '\n');
  const want = await reference(texts);
  const outs: Record<string, Float32Array> = {};
  for (const engine of ['onnx', 'tfjs'] as const) {
    const output = join(root, `emb-${engine}.arrow`);
    const progress: number[] = [];
    const r = await encodeFile({ model, input, output, engine, batchSize: 4, threads: 1, onProgress: (d) => progress.push(d) });
    assert.deepEqual([r.rows, r.dim, r.engine, r.idKind, r.maxLength], [41, H, engine, 'string', MAX_LENGTH]);
    assert.equal(progress.at(-1), 41);
    const o = readOutput(output);
    assert.equal(o.idType, Type.Utf8);
    assert.deepEqual(o.ids, texts.map((_, i) => `doc-${i}`));
    assert.equal(o.metadata.get('contrastive.engine'), engine);
    assert.equal(o.metadata.get('contrastive.pooling'), 'mean');
    const diff = maxAbsDiff(o.emb, want);
    assert.ok(diff <= 1e-4, `${engine} vs embedTexts: max abs diff ${diff}`);
    console.log(`# ${engine} vs embedTexts: max abs diff ${diff.toExponential(2)}`);
    outs[engine] = o.emb;
  }
  const between = maxAbsDiff(outs.onnx, outs.tfjs);
  assert.ok(between <= 1e-4, `onnx vs tfjs: ${between}`);
  console.log(`# onnx vs tfjs: max abs diff ${between.toExponential(2)}`);
  noLeftovers(root);
});

test('Arrow input: integer id column -> Int64 ids, another text column, windows across record batches', async () => {
  const input = join(root, 'texts.arrow');
  const ids = BigInt64Array.from(texts.map((_, i) => BigInt(1000 + 3 * i)));
  await writeFile(input, tableToIPC(tableFromArrays({ id: ids, positive: texts }), 'file'));
  const output = join(root, 'emb-arrow.arrow');
  const r = await encodeFile({ model, input, output, column: 'positive', batchSize: 2, threads: 1 }); // window 32 rows: 2 windows
  assert.equal(r.engine, 'onnx'); // default when onnx/model.onnx exists
  const o = readOutput(output);
  assert.equal(o.idType, Type.Int);
  assert.deepEqual(o.ids, Array.from(ids));
  assert.ok(maxAbsDiff(o.emb, await reference(texts)) <= 1e-4);
});

test('no id column: row index ids; default engine is tfjs without onnx/model.onnx; prompt-name prepends the prompt', async () => {
  const input = join(root, 'noid.jsonl');
  await writeFile(input, texts.slice(0, 9).map((t) => JSON.stringify({ anchor: t })).join('\n'));
  const output = join(root, 'emb-noid.arrow');
  await rename(join(model, 'onnx'), join(root, 'onnx-aside'));
  try {
    const r = await encodeFile({ model, input, output, promptName: 'query', batchSize: 4 });
    assert.equal(r.engine, 'tfjs');
    const o = readOutput(output);
    assert.equal(o.idType, Type.Int);
    assert.deepEqual(o.ids, [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    assert.equal(o.metadata.get('contrastive.prompt'), 'query: ');
    assert.ok(maxAbsDiff(o.emb, await reference(texts.slice(0, 9).map((t) => 'query: ' + t))) <= 1e-5);
    await assert.rejects(encodeFile({ model, input, output, engine: 'onnx' }), /onnx\/model\.onnx: not found; write it with `contrastive export/);
  } finally {
    await rename(join(root, 'onnx-aside'), join(model, 'onnx'));
  }
});

test('errors are UserErrors naming file and field, and leave no output or temp file', async () => {
  const isUser = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message);
  const output = join(root, 'out', 'never.arrow');
  // the bad id comes after two windows (2 × 16 batches of 2) have been written to the temp file
  const mixed = join(root, 'mixed.jsonl');
  await writeFile(mixed, [...Array.from({ length: 70 }, (_, i) => JSON.stringify({ id: i, anchor: `t ${i}` })), JSON.stringify({ id: 'x', anchor: 'b' })].join('\n'));
  let written = 0;
  await assert.rejects(encodeFile({ model, input: mixed, output, batchSize: 2, onProgress: (d) => (written = d) }), isUser(/mixed\.jsonl: id: line 71: expected an integer id like the first line's/));
  assert.equal(written, 64);
  const bad = join(root, 'bad.jsonl');
  await writeFile(bad, [JSON.stringify({ anchor: 'a' }), '{"anchor": '].join('\n'));
  await assert.rejects(encodeFile({ model, input: bad, output }), isUser(/bad\.jsonl: line 2: invalid JSON/));
  const nocol = join(root, 'nocol.jsonl');
  await writeFile(nocol, JSON.stringify({ text: 'a' }));
  await assert.rejects(encodeFile({ model, input: nocol, output }), isUser(/nocol\.jsonl: anchor: line 1: text field missing; the line has: "text"/));
  await assert.rejects(encodeFile({ model, input: join(root, 'x.csv'), output }), isUser(/unknown input type "\.csv"; supported: \.arrow/));
  await assert.rejects(encodeFile({ model, input: join(root, 'texts.jsonl'), output, promptName: 'doc' }), isUser(/prompts: no prompt named "doc"; the model has: "query"/));
  await assert.rejects(encodeFile({ model, input: join(root, 'texts.jsonl'), output, maxLength: 64 }), isUser(/--max-length: must be an integer of at most 32/));
  await assert.rejects(encodeFile({ model: join(root, 'nope'), input: join(root, 'texts.jsonl'), output }), isUser(/nope: model folder not found/));
  assert.ok(!existsSync(output));
  if (existsSync(join(root, 'out'))) noLeftovers(join(root, 'out'));
});

interface Run { code: number | null; stdout: string; stderr: string }
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

test('contrastive encode: --json summary, progress on stderr, one-line errors with exit 2', async () => {
  const output = join(root, 'cli.arrow');
  // independent child processes, run side by side
  const [r, tfjs, bad, help] = await Promise.all([
    run(['encode', '--model', model, '--input', join(root, 'texts.jsonl'), '--output', output, '--batch-size', '8', '--threads', '1', '--json']),
    run(['encode', '--model', model, '-i', join(root, 'texts.jsonl'), '-o', join(root, 'cli-tfjs.arrow'), '--engine', 'tfjs', '--backend', 'cpu']),
    run(['encode', '--model', join(root, 'nope'), '-i', join(root, 'texts.jsonl'), '-o', output]),
    run(['encode', '--help']),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual([summary.rows, summary.dim, summary.engine, summary.idKind], [41, H, 'onnx', 'string']);
  assert.match(r.stderr, /encoding 41 texts with onnx \(dim 24, max 20 tokens\)/);
  assert.match(r.stderr, /41\/41 texts/);
  assert.ok(maxAbsDiff(readOutput(output).emb, await reference(texts)) <= 1e-4);

  assert.equal(tfjs.code, 0, tfjs.stderr);
  assert.match(tfjs.stderr, /backend: cpu/);

  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /^contrastive: .*nope: model folder not found/);
  assert.match(help.stdout, /--engine/);
  assert.match(help.stdout, /FixedSizeList<Float32>/);
});
