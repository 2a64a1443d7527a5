import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../src/util/errors.js';
import {
  BACKEND_REQUESTS,
  cudaProblem,
  formatBackendInfo,
  initBackend,
  isInstalled,
  TFJS_NODE,
  TFJS_NODE_GPU,
  type BackendRequest,
} from '../../src/backend/select.js';
import { registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { NATIVE_DISABLE_ENV } from '../../src/backend/native-addon.js';
import { physicalCores, resolveThreads } from '../../src/backend/native-threads.js';
import { backendSkip } from '../helpers/backend.js';

const nodeMissing = !isInstalled(TFJS_NODE) && !isInstalled(TFJS_NODE_GPU);

test('auto falls back to wasm when the native addon is unavailable, and says why for each backend it skipped', { skip: !nodeMissing && 'tfjs-node(-gpu) installed on this machine' }, async () => {
  const saved = process.env[NATIVE_DISABLE_ENV];
  process.env[NATIVE_DISABLE_ENV] = '0'; // as where no C++ compiler built the addon
  try {
    const info = await initBackend('auto');
    assert.equal(info.requested, 'auto');
    assert.equal(info.name, 'wasm');
    assert.equal(info.device, 'cpu');
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(info.reason, /tfjs-node-gpu not installed/);
    assert.match(info.reason, /native unavailable: disabled by CONTRASTIVE_NATIVE=0/);
    assert.match(info.reason, /tfjs-node not installed/);
    assert.match(formatBackendInfo(info), /^backend: wasm \(cpu\) — tfjs-node-gpu not installed/);
    // the wasm fixes are in place
    assert.ok(tf.getKernel('UnsortedSegmentSum', 'wasm'));
  } finally {
    if (saved == null) delete process.env[NATIVE_DISABLE_ENV];
    else process.env[NATIVE_DISABLE_ENV] = saved;
  }
});

test('auto picks native where the addon was built, naming its SIMD path and threads', { skip: backendSkip('native') || (isInstalled(TFJS_NODE_GPU) && 'tfjs-node-gpu installed') }, async () => {
  const info = await initBackend('auto', { threads: 1 });
  assert.deepEqual([info.name, info.device, tf.getBackend()], ['native', 'cpu', 'native']);
  assert.match(info.reason, /tfjs-node-gpu not installed.*; using C\+\+ kernels \((avx512|avx2|scalar), 1 thread from --threads\)/);
});

test('--backend native without the addon is a UserError with the reason and how to build it', async () => {
  const saved = process.env[NATIVE_DISABLE_ENV];
  process.env[NATIVE_DISABLE_ENV] = '0';
  try {
    await assert.rejects(initBackend('native'), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /--backend native: native unavailable: disabled by CONTRASTIVE_NATIVE=0/);
      assert.match(e.message, /C\+\+17 compiler/);
      return true;
    });
  } finally {
    if (saved == null) delete process.env[NATIVE_DISABLE_ENV];
    else process.env[NATIVE_DISABLE_ENV] = saved;
  }
});

test('--threads and CONTRASTIVE_THREADS are validated; the default is the physical cores', () => {
  assert.deepEqual(resolveThreads(3, {}), { threads: 3, source: '--threads' });
  assert.deepEqual(resolveThreads(undefined, { CONTRASTIVE_THREADS: '2' }), { threads: 2, source: 'CONTRASTIVE_THREADS' });
  assert.throws(() => resolveThreads(undefined, { CONTRASTIVE_THREADS: 'many' }), /CONTRASTIVE_THREADS: expected a whole number of threads/);
  assert.throws(() => resolveThreads(-1, {}), UserError);
  assert.ok(resolveThreads(undefined, {}).threads >= 1);
  const cpuinfo = ['processor : 0\nphysical id : 0\ncore id : 0', 'processor : 1\nphysical id : 0\ncore id : 0', 'processor : 2\nphysical id : 0\ncore id : 1'].join('\n\n');
  assert.equal(physicalCores(cpuinfo), 2); // two hyper-threads of core 0 count once
});

test('unknown backend name is a UserError listing the valid values', async () => {
  await assert.rejects(initBackend('gpu' as BackendRequest), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /unknown backend "gpu"/);
    for (const v of BACKEND_REQUESTS) assert.ok(e.message.includes(v), `lists ${v}`);
    return true;
  });
});

test('--backend cuda without tfjs-node-gpu is a UserError with the reason and the install hint', { skip: isInstalled(TFJS_NODE_GPU) && 'tfjs-node-gpu installed' }, async () => {
  await assert.rejects(initBackend('cuda'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /tfjs-node-gpu not installed/);
    assert.match(e.message, /npm install @tensorflow\/tfjs-node-gpu/);
    assert.match(e.message, /CUDA 11\.x \+ cuDNN 8/);
    return true;
  });
});

test('--backend tensorflow without tfjs-node is a UserError with the install hint', { skip: !nodeMissing && 'tfjs-node(-gpu) installed' }, async () => {
  await assert.rejects(initBackend('tensorflow'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /tfjs-node not installed/);
    assert.match(e.message, /npm install @tensorflow\/tfjs-node/);
    return true;
  });
});

test('explicit wasm and cpu requests set that backend', async () => {
  const w = await initBackend('wasm');
  assert.deepEqual([w.name, w.device, tf.getBackend()], ['wasm', 'cpu', 'wasm']);
  const c = await initBackend('cpu');
  assert.deepEqual([c.name, c.device, tf.getBackend()], ['cpu', 'cpu', 'cpu']);
});

test('cudaProblem explains a missing GPU and CUDA 11 / cuDNN 8 libraries (CUDA 12 only runs on CPU)', () => {
  const ok = { gpu: '/dev/nvidia0', libs: { 'libcudart.so.11.0': '/usr/local/cuda-11.8/lib64/libcudart.so.11.0', 'libcudnn.so.8': '/usr/lib/libcudnn.so.8' } };
  assert.equal(cudaProblem(ok), null);
  const cuda12 = { gpu: '/dev/nvidia0', libs: { 'libcudart.so.11.0': null, 'libcudnn.so.8': null } };
  const why = cudaProblem(cuda12) ?? '';
  assert.match(why, /libcudart\.so\.11\.0 and libcudnn\.so\.8 not found/);
  assert.match(why, /silently runs on the CPU/);
  const noGpu = { gpu: null, libs: ok.libs };
  assert.match(cudaProblem(noGpu) ?? '', /no NVIDIA GPU/);
});

test('registerWasmOverrides is idempotent: a second call keeps the same kernel functions', () => {
  registerWasmOverrides();
  const first = ['BatchMatMul', '_FusedMatMul', 'UnsortedSegmentSum'].map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
  registerWasmOverrides();
  const second = ['BatchMatMul', '_FusedMatMul', 'UnsortedSegmentSum'].map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
  first.forEach((f, i) => assert.equal(second[i], f));
});
