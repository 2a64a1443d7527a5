/**
 * `train` end to end on webgpu: the trainer, its checkpoints (weights and optimizer state read back
 * asynchronously), resume and the retrieval eval, against the same run on the cpu backend. Runs on a
 * software adapter where there is one (Dawn's GL backend on Mesa llvmpipe), else skips saying why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { prepareWebgpu, webgpuErrors } from '../../src/backend/webgpu.js';
import { registerCpuOverrides } from '../../src/backend/cpu-overrides.js';
import { train } from '../../src/train/trainer.js';
import { openSafetensors } from '../../src/folder/safetensors.js';
import { assertClose } from '../helpers/backend.js';
import { tempDir, tinyConfig, tinyPairs } from '../helpers/tiny-run.js';

process.env.CONTRASTIVE_WEBGPU_SOFTWARE ??= '1';
const prepared = await prepareWebgpu();
const skip = prepared.ok ? false : prepared.why;

async function weights(dir: string): Promise<Float32Array[]> {
  const file = await openSafetensors(join(dir, 'final', 'model.safetensors'));
  const out: Float32Array[] = [];
  for (const { name } of file.specs) out.push((await file.read(name)).data as Float32Array);
  await file.close();
  return out;
}

test('train on webgpu (stopped at step 2, resumed, then evaluated) matches the same run on cpu: per-step losses, eval metrics, final weights', { skip }, async () => {
  const root = await tempDir();
  const pairs = await tinyPairs(root);
  const config = () => tinyConfig(pairs, { train: { batchSize: 6, maxSteps: 4, checkpointEvery: 2 }, data: { eval: pairs }, model: { hiddenDropout: 0, attentionDropout: 0 } });
  const run = async (backend: 'cpu' | 'webgpu') => {
    if (backend === 'cpu') registerCpuOverrides();
    await tf.setBackend(backend);
    const out = join(root, backend);
    await train({ config: config(), output: out, stopAfter: 2 });
    const end = await train({ config: config(), output: out, resume: true });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const losses = lines.filter((l) => l.loss !== undefined).map((l) => l.loss);
    return { losses, metrics: end && 'metrics' in end ? (end.metrics as Record<string, number>) : undefined, w: await weights(out) };
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  assert.equal(gpu.losses.length, 4);
  assertClose(gpu.losses, cpu.losses, 1e-4, 'per-step losses', 1e-4);
  assert.ok(cpu.metrics, 'the cpu run evaluated');
  assert.deepEqual(Object.keys(gpu.metrics ?? {}), Object.keys(cpu.metrics));
  assertClose(Object.values(gpu.metrics!), Object.values(cpu.metrics), 1e-4, 'eval metrics');
  assert.equal(gpu.w.length, cpu.w.length);
  gpu.w.forEach((w, i) => assertClose(w, cpu.w[i], 1e-4, `final weight tensor ${i}`, 1e-3));
  assert.equal(webgpuErrors().count, 0, `WebGPU validation errors: ${webgpuErrors().first}`);
});
