/**
 * contrastive merge against independent expectations: the real LM_Cocktail 0.0.4 (weights, example
 * losses and its float32 merged tensors, test/fixtures/lm-cocktail, made by its make_fixture.py), a
 * float64 weighted sum computed here from the files, bytes written by the reference safetensors
 * serializer (weights (1, 0) must reproduce them), and hand-computed softmax weights.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeModels } from '../../src/merge/merge.js';
import { checkWeights, exampleLoss, softmaxWeights } from '../../src/merge/weights.js';
import { readExamples } from '../../src/merge/examples.js';
import { readModelFolder, loadEncoder } from '../../src/folder/read.js';
import { readSafetensors } from '../../src/folder/safetensors.js';
import { exportOnnx } from '../../src/export/export.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend, assertClose } from '../helpers/backend.js';

const FIX = 'test/fixtures/lm-cocktail/';
const [A, B, C] = ['a', 'b', 'c'].map((m) => `${FIX}models/${m}`);
const EXAMPLES = `${FIX}examples.jsonl`;
const expected = JSON.parse(readFileSync(`${FIX}expected.json`, 'utf8'));

await useBackend('cpu');

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'contrastive-merge-'));
  dirs.push(d);
  return d;
}

async function rejectsUser(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('weights (1, 0) reproduce model A bit for bit (the bytes the reference safetensors serializer wrote)', async () => {
  const out = join(await tempDir(), 'merged');
  const result = await mergeModels({ models: [A, B], output: out, weights: [1, 0] });
  assert.deepEqual(result.weights, [1, 0]);
  assert.deepEqual(await readFile(join(out, 'model.safetensors')), await readFile(join(A, 'model.safetensors')));
});

test('weights (0.3, 0.7): every tensor is the float64 weighted sum of the two files, rounded once to float32', async () => {
  const out = join(await tempDir(), 'merged');
  await mergeModels({ models: [A, C], output: out, weights: [0.3, 0.7] });
  const [a, c] = await Promise.all([A, C].map(async (m) => (await readSafetensors(join(m, 'model.safetensors'))).tensors));
  const merged = (await readSafetensors(join(out, 'model.safetensors'))).tensors;
  for (const name of Object.keys(a)) {
    const [x, y] = [a[name].data as Float32Array, c[name].data as Float32Array];
    assert.deepEqual(merged[name].data, Float32Array.from(x, (v, i) => 0.3 * v + 0.7 * y[i]), name);
  }
});

test('weights (0.3, 0.5, 0.2): a float64 weighted sum of the files; LM_Cocktail float32 sums agree to rounding', async () => {
  const out = join(await tempDir(), 'merged');
  const w = [0.3, 0.5, 0.2];
  await mergeModels({ models: [A, B, C], output: out, weights: w });
  const inputs = await Promise.all([A, B, C].map((m) => readSafetensors(join(m, 'model.safetensors'))));
  const merged = (await readSafetensors(join(out, 'model.safetensors'))).tensors;
  const lmCocktail = (await readSafetensors(`${FIX}merged/fixed/model.safetensors`)).tensors;
  assert.deepEqual(Object.keys(merged).sort(), Object.keys(inputs[0].tensors).sort());
  for (const name of Object.keys(merged)) {
    const xs = inputs.map((f) => f.tensors[name].data as Float32Array);
    const want = Float32Array.from(xs[0], (_, i) => w[0] * xs[0][i] + w[1] * xs[1][i] + w[2] * xs[2][i]); // float64 sum, rounded once
    assert.deepEqual(merged[name].data, want, name);
    assertClose(merged[name].data as Float32Array, lmCocktail[name].data as Float32Array, 1e-6, `${name} vs LM_Cocktail`, 1e-6);
  }
});

test('automatic weights equal the real LM_Cocktail on a CLS model (losses, weights; batch size 4; temperature 1)', async () => {
  const out = join(await tempDir(), 'merged');
  const seen: number[] = [];
  const result = await mergeModels({ models: [A, B, C], output: out, exampleData: EXAMPLES, onLoss: ({ loss }) => seen.push(loss) });
  assert.equal(result.mode, 'automatic');
  assertClose(result.losses!, expected.losses, 1e-5, 'example losses');
  assertClose(result.weights, expected.weights, 1e-6, 'weights');
  assert.deepEqual(seen, result.losses);
  // favours the model with the lower example loss
  assert.ok(result.weights[0] > result.weights[1] && result.weights[1] > result.weights[2]);
  // LM_Cocktail's merge with those weights
  const merged = (await readSafetensors(join(out, 'model.safetensors'))).tensors;
  const lmCocktail = (await readSafetensors(`${FIX}merged/auto/model.safetensors`)).tensors;
  for (const name of Object.keys(merged)) assertClose(merged[name].data as Float32Array, lmCocktail[name].data as Float32Array, 1e-6, name, 1e-5);

  const b4 = await mergeModels({ models: [A, B, C], output: join(await tempDir(), 'm'), exampleData: EXAMPLES, batchSize: 4 });
  assertClose(b4.losses!, expected.batch_size_4.losses, 1e-5, 'batch size 4 losses');
  assertClose(b4.weights, expected.batch_size_4.weights, 1e-6, 'batch size 4 weights');
  assertClose(softmaxWeights(result.losses!, 1), expected.temperature_1.weights, 1e-6, 'temperature 1');
});

test('softmaxWeights is softmax(−loss/T); checkWeights wants one finite weight per model summing to 1 ± 1e-3, on both sides', () => {
  const losses = [0.5, 1.5, 4];
  const e = losses.map((l) => Math.exp(-l / 2));
  assertClose(softmaxWeights(losses, 2), e.map((x) => x / (e[0] + e[1] + e[2])), 1e-15, 'softmax');
  assertClose(softmaxWeights([1000, 1001], 1), [1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1))], 1e-15, 'no overflow');
  assert.deepEqual(checkWeights([0.3, 0.7005], 2), [0.3, 0.7005]);
  assert.throws(() => checkWeights([0.5, 0.4], 2), /weights sum to 0\.9, not 1 \(within 0\.001\)/); // LM_Cocktail's one-sided assert lets this through
  assert.throws(() => checkWeights([0.7, 0.7], 2), /sum to 1\.4/);
  assert.throws(() => checkWeights([1], 2), /1 weights for 2 models/);
  assert.throws(() => checkWeights([NaN, 1], 2), /weight 1 is NaN/);
  assert.throws(() => softmaxWeights([1], 0), /--temperature: must be a number > 0/);
});

test('the example loss uses the model\'s own pooling and saved prompts (LM-Cocktail would use CLS, no prompt)', async () => {
  // Given: model a as a mean-pooled folder with query/passage prompts
  const dir = await tempDir();
  await cp(A, dir, { recursive: true });
  const pool = JSON.parse(await readFile(join(dir, '1_Pooling/config.json'), 'utf8'));
  await writeFile(join(dir, '1_Pooling/config.json'), JSON.stringify({ ...pool, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true }));
  const st = JSON.parse(await readFile(join(dir, 'config_sentence_transformers.json'), 'utf8'));
  await writeFile(join(dir, 'config_sentence_transformers.json'), JSON.stringify({ ...st, prompts: { query: 'query: ', passage: 'passage: ' } }));
  // When: merged with automatic weights against the CLS original
  const result = await mergeModels({ models: [dir, A], output: join(await tempDir(), 'm'), exampleData: EXAMPLES, pooling: 'mean' });
  // Then: its loss is the InfoNCE of mean-pooled, prompted texts (computed here from the encoder's embeddings)
  const folder = await readModelFolder(dir);
  assert.equal(folder.config.pooling, 'mean');
  const encoder = await loadEncoder(folder);
  const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
  const examples = await readExamples(EXAMPLES);
  const opts = { batchSize: 2, negatives: 7, maxLength: folder.maxLength, scale: 20 };
  const withPrompts = exampleLoss(encoder, tokenizer, examples, { ...opts, queryPrompt: 'query: ', documentPrompt: 'passage: ' });
  const without = exampleLoss(encoder, tokenizer, examples, opts);
  encoder.dispose();
  assert.ok(Math.abs(withPrompts - without) > 1e-3, 'the prompts change the loss');
  assertClose([result.losses![0]], [withPrompts], 1e-6, 'mean + prompts');
  assertClose([result.losses![1]], [expected.losses[0]], 1e-5, 'CLS original');
});

test('the output is a complete sentence-transformers folder: first model\'s tokenizer and prompts, card with sources and weights; export works on it', async () => {
  const out = join(await tempDir(), 'merged');
  await mergeModels({ models: [A, B, C], output: out, exampleData: EXAMPLES });
  const folder = await readModelFolder(out);
  assert.deepEqual([folder.config.pooling, folder.config.normalize, folder.head], ['cls', true, 'sentence-transformers']);
  assert.equal(await readFile(folder.tokenizerPath, 'utf8'), await readFile(join(A, 'tokenizer.json'), 'utf8'));
  const card = await readFile(join(out, 'README.md'), 'utf8');
  assert.match(card, /## Merge/);
  for (const m of ['a', 'b', 'c']) assert.match(card, new RegExp(`models/${m} \\| 0\\.\\d+ \\| \\d\\.\\d+ \\|`));
  const res = await exportOnnx({ model: out, quantize: false });
  assert.ok(res.check && res.check.sentenceEmbedding < 1e-5, JSON.stringify(res.check));
});

test('refused, naming the first mismatch, with nothing written: architecture, tensors, tokenizer, head, output', async () => {
  const root = await tempDir();
  const variant = async (name: string, edit: (dir: string) => Promise<void>) => {
    const dir = join(root, name);
    await cp(B, dir, { recursive: true });
    await edit(dir);
    return dir;
  };
  const editJson = async (path: string, change: (j: Record<string, unknown>) => void) => {
    const j = JSON.parse(await readFile(path, 'utf8'));
    change(j);
    await writeFile(path, JSON.stringify(j));
  };
  const out = join(root, 'out');
  const wider = await variant('eps', (d) => editJson(join(d, 'config.json'), (j) => (j.layer_norm_eps = 1e-5)));
  await rejectsUser(mergeModels({ models: [A, wider], output: out }), /eps: config\.json: layerNormEps: is 0\.00001 but .*models\/a has 1e-12/);
  const tok = await variant('tok', (d) => editJson(join(d, 'tokenizer.json'), (j) => {
    const vocab = (j.model as { vocab: Record<string, number> }).vocab;
    [vocab.a, vocab.b] = [vocab.b, vocab.a];
  }));
  await rejectsUser(mergeModels({ models: [A, tok], output: out }), /tok\/tokenizer\.json: vocabulary: token "a" is id \d+ here but id \d+ in/);
  const cls = await variant('mean', (d) => editJson(join(d, '1_Pooling/config.json'), (j) => {
    j.pooling_mode_cls_token = false;
    j.pooling_mode_mean_tokens = true;
  }));
  await rejectsUser(mergeModels({ models: [A, cls], output: out }), /mean: pooling: is mean but .*models\/a has cls; say which the merged model uses with --pooling mean\|cls/);
  const noNorm = await variant('nonorm', (d) => editJson(join(d, 'modules.json'), (j) => (j as unknown as unknown[]).splice(2)));
  await rejectsUser(mergeModels({ models: [A, noNorm], output: out }), /nonorm: normalize: is false but .* has true/);
  const { tensors } = await readSafetensors(join(B, 'model.safetensors'));
  const fewer = await variant('fewer', async (d) => {
    const { writeSafetensors } = await import('../../src/folder/safetensors.js');
    delete tensors['pooler.dense.bias'];
    await writeSafetensors(join(d, 'model.safetensors'), tensors);
  });
  await rejectsUser(mergeModels({ models: [A, fewer], output: out }), /fewer: model\.safetensors: pooler\.dense\.bias: missing/);
  await rejectsUser(mergeModels({ models: [A, B], output: out, weights: [0.5, 0.4] }), /--weights: weights sum to 0\.9/);
  await rejectsUser(mergeModels({ models: [A], output: out }), /give two or more model folders/);
  await rejectsUser(mergeModels({ models: [A, B], output: A }), /is one of the models being merged/);
  await rejectsUser(mergeModels({ models: [A, B], output: out, weights: [1, 0], exampleData: EXAMPLES }), /either --weights or --example-data/);
  assert.ok(!existsSync(out), 'nothing written');
  // told which head to use, the same models merge
  const told = await mergeModels({ models: [A, cls], output: out, pooling: 'mean' });
  assert.equal((await readModelFolder(out)).config.pooling, 'mean');
  assert.equal(told.pooling, 'mean');
  await rejectsUser(mergeModels({ models: [A, B], output: out }), /already exists and is not empty; pass --overwrite/);
});

test('contrastive merge prints each model\'s loss and weight; a bad flag is one line, exit 2', async () => {
  const out = join(await tempDir(), 'merged');
  const run = (args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'merge', ...args], { encoding: 'utf8' });
  const r = run(['--models', A, B, C, '--example-data', EXAMPLES, '--backend', 'cpu', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  for (let m = 0; m < 3; m++) {
    assert.match(r.stdout, new RegExp(`weight ${expected.weights[m].toFixed(6)}  loss ${expected.losses[m].toFixed(4)}  .*models/${'abc'[m]}`));
  }
  const bad = run(['--models', A, B, '--weights', '0.2', '0.2', '-o', join(out, 'x')]);
  assert.equal(bad.status, 2);
  assert.deepEqual(bad.stderr.trim().split('\n'), ['contrastive: --weights: weights sum to 0.4, not 1 (within 0.001); e.g. 0.5 0.5']);
});
