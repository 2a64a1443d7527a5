/**
 * Training on the native backend: no tensor leaks per step, bitwise repeatable for a fixed thread
 * count, and a run stopped and resumed at every step (dropout on) ends with exactly the weights of
 * an uninterrupted one. Skipped, with the reason, where the addon was not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { trainIter, train } from '../../src/train/trainer.js';
import { readSafetensors } from '../../src/folder/safetensors.js';
import { backendSkip, useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs, tinyConfig } from '../helpers/tiny-run.js';

const skip = backendSkip('native');
const root = await tempDir();
const pairs = await tinyPairs(root);
// dropout on, so resume exactness covers the dropout masks' random state too
const config = () => tinyConfig(pairs, { train: { batchSize: 4, maxSteps: 5 }, model: { hiddenDropout: 0.1, attentionDropout: 0.1 } });

async function weights(dir: string): Promise<Record<string, ArrayLike<number>>> {
  const r = await readSafetensors(join(dir, 'final', 'model.safetensors'));
  return Object.fromEntries(Object.entries(r.tensors).map(([k, t]) => [k, t.data as ArrayLike<number>]));
}

test('native: tf.memory().numTensors is constant across training steps', { skip }, async () => {
  await useBackend('native');
  const counts: number[] = [];
  for await (const ev of trainIter({ config: config(), output: join(root, 'leaks') })) {
    if (ev.type === 'step') counts.push(tf.memory().numTensors);
  }
  assert.equal(counts.length, 5);
  assert.ok(counts.slice(1).every((n) => n === counts[1]), `tensor counts per step: ${counts.join(', ')}`);
});

test('native: two runs with the same thread count give bitwise identical weights; resuming after every step too', { skip }, async () => {
  await useBackend('native');
  const a = join(root, 'a');
  const b = join(root, 'b');
  await train({ config: config(), output: a });
  await train({ config: config(), output: b });
  const wa = await weights(a);
  const wb = await weights(b);
  for (const [name, v] of Object.entries(wa)) assert.deepEqual(wb[name], v, `${name} differs between two identical runs`);

  const split = join(root, 'split');
  await train({ config: config(), output: split, stopAfter: 1 });
  for (let i = 0; i < 4; i++) await train({ config: config(), output: split, resume: true, stopAfter: 1 });
  await train({ config: config(), output: split, resume: true });
  const ws = await weights(split);
  for (const [name, v] of Object.entries(wa)) assert.deepEqual(ws[name], v, `${name} differs after resuming at every step`);
});
