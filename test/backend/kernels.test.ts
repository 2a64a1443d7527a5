import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BERT_KERNELS, missingKernels, registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { assertClose, on } from './helpers.js';
import { initParams, step } from './mini-bert.js';

test('stock wasm lacks exactly the kernels we add; none missing after registerWasmOverrides', () => {
  // Runs first in this file, before anything registers overrides in this process.
  assert.deepEqual(missingKernels('wasm'), ['UnsortedSegmentSum']); // the one kernel stock wasm lacks
  registerWasmOverrides();
  assert.deepEqual(missingKernels('wasm'), []);
  registerWasmOverrides(); // idempotent
  assert.deepEqual(missingKernels('wasm'), []);
});

test('BERT_KERNELS covers every kernel a BERT forward + backward + Adam step runs (profiled on cpu)', async () => {
  const kernelNames = await on('cpu', async () => {
    const p = initParams();
    const prof = await tf.profile(() => {
      step(p);
    });
    tf.dispose(Object.values(p));
    // tf.profile also lists custom-gradient ops (e.g. logSoftmax__op); keep real kernels only.
    const kernels = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
    return prof.kernelNames.filter((k) => kernels.has(k));
  });
  const unlisted = kernelNames.filter((k) => !BERT_KERNELS.includes(k));
  assert.deepEqual(unlisted, [], `kernels used but not in BERT_KERNELS: ${unlisted.join(', ')}`);
  registerWasmOverrides();
  assert.deepEqual(missingKernels('wasm', kernelNames), []);
});

test('Erf and its gradient on wasm match cpu', async () => {
  const xs = Array.from({ length: 41 }, (_, i) => -5 + i * 0.25).concat([1e-4, -3e-3, 0]);
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor1d(xs);
      const [y, g] = [tf.erf(x), tf.grad((t: tf.Tensor) => tf.erf(t).mul(x).sum())(x)];
      return [y.dataSync(), g.dataSync()];
    });
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  assertClose(got[0], ref[0], 1e-5, 'erf');
  assertClose(got[1], ref[1], 1e-5, 'erf gradient');
  // erf(1) = 0.8427007929..., d/dx erf(x) at 0 = 2/sqrt(pi)
  assertClose([got[0][24]], [0.8427007929], 1e-5, 'erf(1)');
});

test('mini BERT InfoNCE step on wasm (with overrides) matches cpu: loss, gradients, Adam update', async () => {
  const run = () => {
    const p = initParams();
    const r = step(p);
    tf.dispose(Object.values(p));
    return r;
  };
  const ref = await on('cpu', run);
  registerWasmOverrides();
  const got = await on('wasm', run);
  assertClose([got.loss], [ref.loss], 1e-4, 'loss');
  got.grads.forEach((g, i) => assertClose(g, ref.grads[i], 1e-4, `grad ${i}`));
  got.updated.forEach((u, i) => assertClose(u, ref.updated[i], 1e-4, `updated param ${i}`));
  // and the step leaks nothing on wasm
  const n0 = tf.memory().numTensors;
  run();
  assert.equal(tf.memory().numTensors, n0);
});
