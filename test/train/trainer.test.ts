/** The training loop: no tensor leaks, exact resume, checkpoint contents, bad input before any output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { trainIter, train } from '../../src/train/trainer.js';
import { readSafetensors } from '../../src/folder/safetensors.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs, tinyConfig } from '../helpers/tiny-run.js';

await useBackend('cpu');
const root = await tempDir();
const pairs = await tinyPairs(root);

test('tf.memory().numTensors is constant across training steps', async () => {
  const counts: number[] = [];
  for await (const ev of trainIter({ config: tinyConfig(pairs), output: join(root, 'leaks') })) {
    if (ev.type === 'step') counts.push(tf.memory().numTensors);
  }
  assert.equal(counts.length, 6);
  assert.ok(counts.slice(1).every((n) => n === counts[1]), `tensor counts per step: ${counts.join(', ')}`);
});

test('a run stopped after 2 steps and resumed ends with exactly the weights of an uninterrupted run', async () => {
  // 6 steps at batch 4 over 24 pairs: the resume lands inside the first epoch and crosses into the second.
  const config = () => tinyConfig(pairs, { train: { batchSize: 4, maxSteps: 9 } });
  const straight = join(root, 'straight');
  await train({ config: config(), output: straight });

  const split = join(root, 'split');
  const first = await train({ config: config(), output: split, stopAfter: 2 });
  assert.equal(first?.type, 'checkpoint');
  assert.ok(existsSync(join(split, 'checkpoint-2', 'optimizer.safetensors')));
  const second = await train({ config: config(), output: split, resume: true, stopAfter: 5 });
  assert.equal(second?.path, join(split, 'checkpoint-7'));
  await train({ config: config(), output: split, resume: true });

  const a = await readSafetensors(join(straight, 'final', 'model.safetensors'));
  const b = await readSafetensors(join(split, 'final', 'model.safetensors'));
  for (const [name, t] of Object.entries(a.tensors)) {
    assert.deepEqual(b.tensors[name].data, t.data, `${name} differs after resume`);
  }
  // metrics.jsonl has each step once, in order
  const steps = readFileSync(join(split, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('the final folder holds HF config, safetensors with HF names, tokenizer, ST modules and trainer state', async () => {
  const out = join(root, 'folder');
  const end = await train({ config: tinyConfig(pairs, { train: { maxSteps: 2 } }), output: out });
  const dir = end!.path;
  const files = (await readdir(dir)).sort();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'modules.json', 'sentence_bert_config.json', '1_Pooling', '2_Normalize', 'trainer_state.json', 'optimizer.safetensors', 'training_config.json']) {
    assert.ok(files.includes(f), `${f} missing from ${files.join(', ')}`);
  }
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.model_type, 'bert');
  assert.equal(cfg.hidden_size, 16);
  const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
  assert.deepEqual(tensors['encoder.layer.0.intermediate.dense.weight'].shape, [32, 16]); // PyTorch [out, in]
  assert.ok('embeddings.word_embeddings.weight' in tensors && 'pooler.dense.weight' in tensors);
  assert.equal(JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')).step, 2);
  // no temp folders left behind
  assert.deepEqual((await readdir(out)).filter((n) => n.startsWith('.')), []);
});

test('bad input fails with a UserError naming the file or key, before anything is written', async () => {
  const cases: [string, ReturnType<typeof tinyConfig>, RegExp][] = [
    ['missing train file', tinyConfig(join(root, 'nope.arrow')), /nope\.arrow/],
    ['missing tokenizer', { ...tinyConfig(pairs), tokenizer: join(root, 'missing-tokenizer.json') }, /missing-tokenizer\.json/],
    ['batch larger than the data', tinyConfig(pairs, { train: { batchSize: 100 } }), /no full batch of train\.batchSize 100/],
    ['heads not dividing hidden', tinyConfig(pairs, { model: { numHeads: 3 } }), /model\.numHeads/],
    ['maxLength above positions', tinyConfig(pairs, { data: { maxLength: 64 } }), /data\.maxLength/],
  ];
  for (const [what, config, pattern] of cases) {
    const out = join(root, `bad-${what.replace(/\s+/g, '-')}`);
    await assert.rejects(train({ config, output: out }), (err: Error) => err instanceof UserError && pattern.test(err.message), what);
    assert.ok(!existsSync(out), `${what}: ${out} was created`);
  }
});

test('refuses to overwrite an existing run unless told, and --resume needs a checkpoint', async () => {
  const out = join(root, 'folder'); // written by the test above
  await assert.rejects(train({ config: tinyConfig(pairs), output: out }), /--resume to continue it or --overwrite/);
  await assert.rejects(train({ config: tinyConfig(pairs), output: join(root, 'empty'), resume: true }), /nothing to resume/);
});

test('model.from fine-tunes a saved folder with its own tokenizer; sizes cannot be overridden', async () => {
  const base = await train({ config: tinyConfig(pairs, { train: { maxSteps: 2 } }), output: join(root, 'base') });
  const { tokenizer: _unused, ...rest } = tinyConfig(pairs, { train: { maxSteps: 2 } });
  const tuned = await train({ config: { ...rest, model: { from: base!.path, pooling: 'cls' } }, output: join(root, 'tuned') });
  const cfg = JSON.parse(readFileSync(join(tuned!.path, 'config.json'), 'utf8'));
  assert.equal(cfg.hidden_size, 16);
  assert.equal(JSON.parse(readFileSync(join(tuned!.path, '1_Pooling', 'config.json'), 'utf8')).pooling_mode_cls_token, true);
  assert.match(readFileSync(join(tuned!.path, 'README.md'), 'utf8'), new RegExp(base!.path.replace(/[/.]/g, '\\$&')));
  await assert.rejects(
    train({ config: { ...rest, model: { from: base!.path, hiddenSize: 32 } }, output: join(root, 'bad-from') }),
    /model\.hiddenSize: cannot be set together with model\.from/,
  );
  assert.ok(!existsSync(join(root, 'bad-from')));
});
