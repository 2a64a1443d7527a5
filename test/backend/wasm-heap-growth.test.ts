/**
 * The wasm kernel overrides stay correct when an allocation inside them grows the wasm heap (which
 * detaches every typed-array view made on the old HEAPU8 buffer). In a real run this happens in the
 * first step after a large allocation (constructing AdamW, loading a checkpoint, any 16 MB tensor):
 * GatherV2 then read its index count from a detached view (0), copied no rows, and returned
 * uninitialised heap: a wrong loss and gradient, and a resumed run that left the uninterrupted one.
 * Here the growth is forced (heap-growth.ts), so the tests do not depend on the heap's history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { ourWasmKernels, registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { asWasmBackend, assertHeapViewsLive, heapView } from '../../src/backend/wasm-internals.js';
import { train } from '../../src/train/trainer.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyConfig, tinyPairs } from '../helpers/tiny-run.js';
import { growHeap, withHeapGrowthInside } from './heap-growth.js';
import { assertClose, values } from './helpers.js';
import { initParams, step } from './mini-bert.js';

/** Every kernel this toolkit registers on wasm. */
await import('@tensorflow/tfjs-backend-wasm');
registerWasmOverrides();
const OURS = ourWasmKernels();

async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T | Promise<T>): Promise<T> {
  await useBackend(name);
  return f();
}

test('growHeap replaces (detaches) the heap buffer, and assertHeapViewsLive notices a stale view', async () => {
  await useBackend('wasm');
  const backend = asWasmBackend(tf.backend());
  const t = tf.tensor1d([1, 2, 3]);
  const view = heapView(backend, t);
  assertHeapViewsLive(backend, view);
  const before = backend.wasm.HEAPU8.length;
  growHeap(backend);
  assert.equal(view.length, 0, 'a view made before the growth is detached');
  assert.ok(backend.wasm.HEAPU8.length > before);
  assert.throws(() => assertHeapViewsLive(backend, view), /stale view/);
  assert.deepEqual(Array.from(heapView(backend, t)), [1, 2, 3]);
  t.dispose();
});

test('each wasm override equals cpu when the heap grows inside it', async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor(values(50 * 3 * 4, 1), [50, 3, 4]);
      const ids = tf.tensor2d([[4, 0, 49], [1, 1, 2]], [2, 3], 'int32');
      const seg = tf.tensor1d([3, 0, 3, 1, 9, 0, 2, 2, 1, 3], 'int32');
      const xs = tf.tensor(values(10 * 6, 2), [10, 6]);
      const a = tf.tensor(values(4 * 9 * 13, 3), [4, 13, 9]);
      const b = tf.tensor(values(4 * 13 * 11, 4), [4, 11, 13]);
      const w = tf.tensor(values(13 * 11, 5), [13, 11]);
      const bias = tf.tensor(values(11, 6), [11]);
      const outs = [
        tf.gather(x, ids), // GatherV2, axis 0
        tf.gather(x, tf.tensor1d([3, 0, 3], 'int32'), 2), // GatherV2, last axis
        tf.gather(x.slice([0, 0, 0], [2, 3, 4]), tf.tensor2d([[2, 1], [0, 0]], [2, 2], 'int32'), 1, 1), // batchDims 1
        tf.unsortedSegmentSum(xs, seg, 4), // UnsortedSegmentSum (id 9 dropped)
        tf.matMul(a, b, true, true), // BatchMatMul: transposes + per-entry XNNPACK views
        tf.matMul(a.reshape([9, 52]), tf.tensor(values(9 * 11, 7), [9, 11]), true, false), // BatchMatMul, 2-D transposed
        tf.fused.matMul({ a: a.transpose([0, 2, 1]).reshape([36, 13]), b: w, bias, activation: 'relu' }), // _FusedMatMul
        tf.fused.matMul({ a: a.reshape([52, 9]), b: w.slice([0, 0], [9, 11]).transpose(), bias, transposeB: true }), // _FusedMatMul, transposed
        x.clone().add(0), // Identity
        tf.cast(xs, 'float32').mul(2), // same-dtype Cast
      ];
      return outs.map((y) => ({ v: y.dataSync(), shape: y.shape }));
    });
  const ref = await onBackend('cpu', run);
  await useBackend('wasm');
  const { result: got, growths } = await withHeapGrowthInside(OURS, run, 10);
  assert.ok(growths >= 8, `the heap grew ${growths} times`);
  got.forEach((g, i) => {
    assert.deepEqual(g.shape, ref[i].shape, `case ${i} shape`);
    assertClose(g.v, ref[i].v, 1e-5, `case ${i}`);
  });
});

test('a training step on wasm equals cpu when the heap grows inside the kernels (first step after a large allocation)', async () => {
  const run = () => {
    const p = initParams();
    try {
      return step(p);
    } finally {
      tf.dispose(Object.values(p));
    }
  };
  const ref = await onBackend('cpu', run);
  await useBackend('wasm');
  const { result: got, growths } = await withHeapGrowthInside(OURS, run, 1);
  assert.ok(growths >= 4, `the heap grew ${growths} times`);
  assertClose([got.loss], [ref.loss], 1e-4, `loss (wasm ${got.loss}, cpu ${ref.loss})`);
  got.grads.forEach((g, i) => assertClose(g, ref.grads[i], 1e-4, `grad ${i}`));
  got.updated.forEach((u, i) => assertClose(u, ref.updated[i], 1e-4, `updated param ${i}`));
});

test('wasm, dropout on: a run stopped and resumed at every step ends bit-identical to an uninterrupted one', async () => {
  await useBackend('wasm');
  const root = await tempDir();
  const pairs = await tinyPairs(root);
  const steps = 4;
  const config = () => tinyConfig(pairs, { train: { batchSize: 4, maxSteps: steps }, model: { hiddenDropout: 0.1, attentionDropout: 0.1 } });

  const straight = join(root, 'straight');
  await train({ config: config(), output: straight });

  // Each resumed invocation is a fresh process in real use, whose first step comes right after the
  // checkpoint was loaded: force the heap to grow inside that step's first kernel calls.
  const split = join(root, 'split');
  await train({ config: config(), output: split, stopAfter: 1 });
  for (let s = 2; s <= steps; s++) {
    const { growths } = await withHeapGrowthInside(OURS, () => train({ config: config(), output: split, resume: true, stopAfter: 1 }), 1);
    assert.ok(growths > 0);
  }

  const losses = (dir: string) =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step?: number; loss?: number }).filter((l) => l.loss !== undefined).map((l) => [l.step, l.loss]);
  assert.deepEqual(losses(split), losses(straight), 'per-step losses');
  // byte for byte: same tensors, same order, same float bits
  const weights = (dir: string) => readFileSync(join(dir, 'final', 'model.safetensors'));
  assert.ok(weights(split).equals(weights(straight)), 'final model.safetensors differs after resume');
});
