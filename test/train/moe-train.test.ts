/**
 * Training a task-routed (MoE) model: each dataset's batches reach only its task's expert and the shared
 * weights, resume is exact, experts start from a dense `model.from` folder, and task keys are checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { train, trainIter } from '../../src/train/trainer.js';
import { validateTrainConfig, type TrainConfig } from '../../src/train/config.js';
import { readSafetensors } from '../../src/folder/safetensors.js';
import { expertIndex } from '../../src/model/moe.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs, BUNDLED_TOKENIZER } from '../helpers/tiny-run.js';

await useBackend('cpu');
const root = await tempDir();
const pairs = await tinyPairs(root);
const MODEL = { hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 32 };
const MOE = { layers: 'mod2', parts: ['attn', 'ffn'], experts: 3 }; // layer 1; SciMult's 3-task map

function moeConfig(tasks: string[], extra: { train?: object; model?: object } = {}): TrainConfig {
  return validateTrainConfig(
    {
      name: 'moe-test',
      seed: 11,
      tokenizer: BUNDLED_TOKENIZER,
      model: extra.model ?? { ...MODEL, moe: MOE },
      datasets: tasks.map((task) => ({ name: task, path: pairs, task, loss: { name: 'infonce', scale: 100, similarity: 'dot' } })),
      data: { maxLength: 16, shuffleBuffer: 8 },
      train: { batchSize: 4, maxSteps: 4, lr: 1e-3, warmupRatio: 0, ...extra.train },
    },
    'moe-test.json',
  );
}

/** Tensors of the run's final model that differ from step 0's (the same seed's init, saved by a 0-step-equivalent run). */
async function changed(output: string, initial: string): Promise<Set<string>> {
  const a = await readSafetensors(join(initial, 'model.safetensors'));
  const b = await readSafetensors(join(output, 'model.safetensors'));
  const out = new Set<string>();
  for (const [name, t] of Object.entries(a.tensors)) if (Buffer.compare(Buffer.from(t.data.buffer), Buffer.from(b.tensors[name].data.buffer)) !== 0) out.add(name);
  return out;
}

test('a two-task run updates the two tasks\' experts and the shared weights, never the third expert', async () => {
  // lr 0 for one step: the init, saved in the same layout
  await train({ config: moeConfig(['search'], { train: { maxSteps: 1, lr: 0 } }), output: join(root, 'init') });
  const counts: number[] = [];
  const tasksSeen = new Set<string>();
  for await (const ev of trainIter({ config: moeConfig(['search', 'citation'], { train: { maxSteps: 6 } }), output: join(root, 'two') })) {
    if (ev.type === 'step') {
      counts.push(tf.memory().numTensors);
      tasksSeen.add(ev.dataset);
    }
  }
  assert.deepEqual([...tasksSeen].sort(), ['citation', 'search']);
  assert.ok(counts.slice(1).every((n) => n === counts[1]), `tensor counts per step: ${counts.join(', ')}`);
  const diff = await changed(join(root, 'two', 'final'), join(root, 'init', 'final'));
  const experts = [...diff].map(expertIndex);
  assert.ok(experts.includes(0) && experts.includes(1), 'search (0) and citation (1) experts trained');
  assert.ok(!experts.includes(2), `classification expert untouched, changed: ${[...diff].filter((n) => expertIndex(n) === 2)}`);
  for (const shared of ['embeddings.word_embeddings.weight', 'encoder.layer.0.attention.self.query.weight', 'encoder.layer.1.attention.output.LayerNorm.weight']) {
    assert.ok(diff.has(shared), `${shared} trained`);
  }
  const cfg = JSON.parse(readFileSync(join(root, 'two', 'final', 'config.json'), 'utf8'));
  assert.deepEqual(cfg.moe, { layers: [1], parts: ['attn', 'ffn'], experts: 3, tasks: { search: 0, citation: 1, classification: 2 } });

  // one task only: one expert moves
  await train({ config: moeConfig(['citation'], { train: { maxSteps: 2 } }), output: join(root, 'one') });
  const one = [...(await changed(join(root, 'one', 'final'), join(root, 'init', 'final')))].map(expertIndex);
  assert.ok(one.includes(1) && !one.includes(0) && !one.includes(2));
});

test('an MoE run stopped and resumed ends with exactly the weights of an uninterrupted run (GradCache on)', async () => {
  const config = () => moeConfig(['search', 'citation'], { train: { maxSteps: 7, miniBatchSize: 2 } });
  await train({ config: config(), output: join(root, 'straight') });
  await train({ config: config(), output: join(root, 'split'), stopAfter: 3 });
  await train({ config: config(), output: join(root, 'split'), resume: true });
  const a = await readSafetensors(join(root, 'straight', 'final', 'model.safetensors'));
  const b = await readSafetensors(join(root, 'split', 'final', 'model.safetensors'));
  for (const [name, t] of Object.entries(a.tensors)) assert.deepEqual(b.tensors[name].data, t.data, `${name} differs after resume`);
});

test('model.from a dense folder with model.moe: every expert starts as the dense weights', async () => {
  const denseRun = join(root, 'dense');
  await train({
    config: validateTrainConfig({ seed: 3, tokenizer: BUNDLED_TOKENIZER, model: MODEL, data: { train: pairs, maxLength: 16, shuffleBuffer: 8 }, train: { batchSize: 4, maxSteps: 1 } }, 'd.json'),
    output: denseRun,
  });
  const from = join(denseRun, 'final');
  await train({ config: moeConfig(['search'], { model: { from, moe: MOE }, train: { maxSteps: 1, lr: 0 } }), output: join(root, 'from') });
  const dense = await readSafetensors(join(from, 'model.safetensors'));
  const moe = await readSafetensors(join(root, 'from', 'final', 'model.safetensors'));
  for (const e of [0, 1, 2]) {
    assert.deepEqual(moe.tensors[`encoder.layer.1.attention.self.moe_key.${e}.weight`].data, dense.tensors['encoder.layer.1.attention.self.key.weight'].data);
    assert.deepEqual(moe.tensors[`encoder.layer.1.output_layers.${e}.LayerNorm.bias`].data, dense.tensors['encoder.layer.1.output.LayerNorm.bias'].data);
  }
  assert.deepEqual(moe.tensors['encoder.layer.0.attention.self.key.weight'].data, dense.tensors['encoder.layer.0.attention.self.key.weight'].data);
});

test('task keys: each dataset needs a known task with an MoE model, and none without one', async () => {
  const reject = async (config: TrainConfig, re: RegExp) =>
    assert.rejects(() => train({ config, output: join(root, 'never'), configPath: 'moe-test.json' }), (e: Error) => e instanceof UserError && re.test(e.message));
  await reject(moeConfig(['summaries']), /moe-test\.json: datasets\[0\]\.task: unknown task "summaries"; the model's tasks: search, citation, classification/);
  const noTask = moeConfig(['search']);
  delete noTask.datasets[0].task;
  await reject(noTask, /datasets\[0\]\.task: missing: the model routes by task; valid: search, citation, classification/);
  const dense = moeConfig(['search']);
  dense.model = MODEL;
  await reject(dense, /datasets\[0\]\.task: the model has no task experts/);
  await reject(moeConfig(['search'], { model: { from: join(root, 'two', 'final'), moe: MOE } }), /model\.moe: .* already has task experts/);
});
