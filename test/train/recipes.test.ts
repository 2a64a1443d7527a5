/**
 * Every recipe in configs/ runs on the bundled data: the datasets resolve against their losses, and
 * two steps (with the model shrunk, so the suite stays fast) train, checkpoint and evaluate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTrainConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir } from '../helpers/tiny-run.js';

await useBackend('wasm');
const root = await tempDir();

for (const file of readdirSync('configs').filter((f) => f.endsWith('.json'))) {
  test(`configs/${file} trains on the bundled data`, async () => {
    const config = loadTrainConfig(`configs/${file}`);
    const small = {
      ...config,
      model: { ...config.model, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32 },
      data: { ...config.data, maxLength: 24 },
      train: { ...config.train, batchSize: 8, miniBatchSize: config.train.miniBatchSize ? 4 : 0, maxSteps: 3, checkpointEvery: 0 },
    };
    const end = await train({ config: small, output: join(root, file) });
    assert.equal(end?.type, 'end');
    const metrics = end!.type === 'end' ? end!.metrics : undefined;
    if (config.data.eval) assert.ok(metrics && Object.values(metrics).every((v) => Number.isFinite(v)), JSON.stringify(metrics));
  });
}
