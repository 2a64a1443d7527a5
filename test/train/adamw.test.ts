/** AdamW and clipping against torch.optim.AdamW / clip_grad_norm_ (values from PyTorch 1.13, script in the comment). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamW, clipByGlobalNorm } from '../../src/train/adamw.js';
import { linearWarmupDecay } from '../../src/train/schedule.js';
import { useBackend, assertClose } from '../helpers/backend.js';

await useBackend('cpu');

test('three AdamW steps with changing lr equal torch.optim.AdamW (decay on the weight, none on the bias)', () => {
  // torch: AdamW([{params:[p], weight_decay:0.1}, {params:[b], weight_decay:0}], betas=(0.9,0.999), eps=1e-8)
  const p = tf.variable(tf.tensor2d([[0.5, -1.0], [2.0, 0.1]]));
  const b = tf.variable(tf.tensor1d([0.3, -0.2]));
  const opt = new AdamW({ 'layer.dense.weight': p, 'layer.dense.bias': b }, { weightDecay: 0.1 });
  const grads: [number[][], number[]][] = [
    [[[0.1, -0.2], [0.3, 0.4]], [1.0, -0.5]],
    [[[-0.3, 0.2], [0.0, 1.5]], [0.2, 0.1]],
    [[[0.05, 0.05], [-0.1, 0.2]], [-1.0, 2.0]],
  ];
  const lrs = [0.01, 0.005, 0.02];
  grads.forEach(([gp, gb], i) => {
    const g = { [p.name]: tf.tensor2d(gp), [b.name]: tf.tensor1d(gb) };
    opt.apply(g, lrs[i]);
    tf.dispose(Object.values(g));
  });
  assertClose(p.dataSync(), [0.49629271030426025, -0.9898180365562439, 1.9739056825637817, 0.06992176175117493], 1e-6, 'weight');
  assertClose(b.dataSync(), [0.28607431054115295, -0.19787585735321045], 1e-6, 'bias');
  assert.equal(opt.step, 3);
  opt.dispose();
  tf.dispose([p, b]);
});

test('optimizer state round-trips through stateTensors/loadState', async () => {
  const p = tf.variable(tf.tensor1d([1, 2]));
  const opt = new AdamW({ 'w.weight': p });
  opt.apply({ [p.name]: tf.tensor1d([0.5, -0.5]) }, 0.1);
  const saved = await opt.stateTensors();
  const q = tf.variable(tf.tensor1d([1, 2]));
  const opt2 = new AdamW({ 'w.weight': q });
  opt2.loadState(saved, opt.step, 'test');
  assert.deepEqual(await opt2.stateTensors(), saved);
  assert.equal(opt2.step, 1);
  opt.dispose();
  opt2.dispose();
  tf.dispose([p, q]);
});

test('global-norm clipping follows clip_grad_norm_ (coef = max/(norm+1e-6), capped at 1)', () => {
  const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) }; // global norm 5
  const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
  assertClose([norm.dataSync()[0]], [5], 1e-6, 'norm');
  const coef = 1 / (5 + 1e-6);
  assertClose(clipped.a.dataSync(), [3 * coef, 0], 1e-7, 'a');
  assertClose(clipped.b.dataSync(), [0, 4 * coef], 1e-7, 'b');
  const { grads: kept } = clipByGlobalNorm(grads, 10);
  assertClose(kept.a.dataSync(), [3, 0], 0, 'unclipped when under the max');
});

test('linear warmup then decay matches transformers.get_linear_schedule_with_warmup', () => {
  const lr = (step: number) => linearWarmupDecay(step, { lr: 1, warmupSteps: 2, totalSteps: 10 });
  assert.deepEqual([0, 1, 2, 6, 10, 11].map(lr), [0, 0.5, 1, 0.5, 0, 0]);
});
