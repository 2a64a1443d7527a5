/** The native backend's one-kernel AdamW update against torch.optim.AdamW's values and the composite ops on cpu. */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AdamW } from '../../src/train/adamw.js';
import { assertClose, backendSkip, useBackend } from '../helpers/backend.js';
import { values } from '../backend/helpers.js';

const skip = backendSkip('native');

function threeSteps(): { p: Float32Array; b: Float32Array; big: Float32Array } {
  // the same steps as adamw.test.ts (torch values below), plus a parameter big enough to be split over threads
  const p = tf.variable(tf.tensor2d([[0.5, -1.0], [2.0, 0.1]]));
  const b = tf.variable(tf.tensor1d([0.3, -0.2]));
  const big = tf.variable(tf.tensor1d(values(100_000, 1)));
  const opt = new AdamW({ 'layer.dense.weight': p, 'layer.dense.bias': b, 'big.weight': big }, { weightDecay: 0.1 });
  const grads: [number[][], number[]][] = [
    [[[0.1, -0.2], [0.3, 0.4]], [1.0, -0.5]],
    [[[-0.3, 0.2], [0.0, 1.5]], [0.2, 0.1]],
    [[[0.05, 0.05], [-0.1, 0.2]], [-1.0, 2.0]],
  ];
  const lrs = [0.01, 0.005, 0.02];
  grads.forEach(([gp, gb], i) => {
    const g = { [p.name]: tf.tensor2d(gp), [b.name]: tf.tensor1d(gb), [big.name]: tf.tensor1d(values(100_000, 10 + i)) };
    opt.apply(g, lrs[i]);
    tf.dispose(Object.values(g));
  });
  const out = { p: p.dataSync().slice() as Float32Array, b: b.dataSync().slice() as Float32Array, big: big.dataSync().slice() as Float32Array };
  opt.dispose();
  tf.dispose([p, b, big]);
  return out;
}

test('native AdamW (one kernel per parameter) equals torch.optim.AdamW and the composite ops on cpu', { skip }, async () => {
  await useBackend('cpu');
  let before = tf.memory().numTensors;
  const cpu = threeSteps();
  const leftCpu = tf.memory().numTensors - before; // the tensors tf.variable was built from
  await useBackend('native');
  before = tf.memory().numTensors;
  const got = threeSteps();
  assertClose([tf.memory().numTensors - before], [leftCpu], 0, 'tensors left behind: the same as the composite update');
  assertClose(got.p, [0.49629271030426025, -0.9898180365562439, 1.9739056825637817, 0.06992176175117493], 1e-6, 'weight vs torch');
  assertClose(got.b, [0.28607431054115295, -0.19787585735321045], 1e-6, 'bias vs torch');
  assertClose(got.big, cpu.big, 0, 'big parameter vs composite ops on cpu', 1e-6);
});
