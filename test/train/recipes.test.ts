/**
 * Every recipe in configs/ runs on the bundled data: the datasets resolve against their losses, and
 * a few steps (with the model shrunk, so the suite stays fast) train, checkpoint and evaluate.
 * Pipelines (configs with stages) run every stage with their train stages shrunk the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTrainConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { validatePipelineConfig } from '../../src/pipeline/config.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir } from '../helpers/tiny-run.js';

await useBackend('wasm');
const root = await tempDir();

const SMALL_MODEL = { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32 };
const isPipeline = (file: string) => 'stages' in JSON.parse(readFileSync(`configs/${file}`, 'utf8'));

for (const file of readdirSync('configs').filter((f) => f.endsWith('.json') && isPipeline(f))) {
  test(`configs/${file} (a pipeline) runs every stage on the bundled data`, async () => {
    const raw = JSON.parse(readFileSync(`configs/${file}`, 'utf8')) as { stages: Array<Record<string, Record<string, Record<string, unknown>>>> };
    for (const stage of raw.stages) {
      const recipe = stage.train;
      if (!recipe) continue;
      if (!stage.from) recipe.model = { ...recipe.model, ...SMALL_MODEL };
      recipe.data = { ...recipe.data, maxLength: 24 };
      recipe.train = { ...recipe.train, batchSize: 8, maxSteps: 3, checkpointEvery: 0 };
    }
    const end = await runPipeline({ config: validatePipelineConfig(raw, `configs/${file}`), output: join(root, file) });
    assert.deepEqual(end?.ran, raw.stages.map((s) => s.name));
  });
}

for (const file of readdirSync('configs').filter((f) => f.endsWith('.json') && !isPipeline(f))) {
  test(`configs/${file} trains on the bundled data`, async () => {
    const config = loadTrainConfig(`configs/${file}`);
    const small = {
      ...config,
      // an MoE recipe keeps its layers (its expert rule picks among them)
      model: { ...config.model, ...SMALL_MODEL, ...(config.model.moe ? { numLayers: config.model.numLayers } : {}) },
      data: { ...config.data, maxLength: 24 },
      train: { ...config.train, batchSize: 8, miniBatchSize: config.train.miniBatchSize ? 4 : 0, maxSteps: 3, checkpointEvery: 0 },
    };
    const end = await train({ config: small, output: join(root, file) });
    assert.equal(end?.type, 'end');
    const metrics = end!.type === 'end' ? end!.metrics : undefined;
    if (config.data.eval) assert.ok(metrics && Object.values(metrics).every((v) => Number.isFinite(v)), JSON.stringify(metrics));
  });
}
