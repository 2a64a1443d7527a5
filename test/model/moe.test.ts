/**
 * SciMult's task-routed experts (src/model/moe.ts): layer rules, config errors, identical experts
 * equal to the dense model bit for bit, per-row routing equal to one-expert routing row by row, and a
 * baked expert equal to the MoE model routed to it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { validateModelConfig, type ModelConfig } from '../../src/model/config.js';
import { SentenceEncoder } from '../../src/model/encoder.js';
import { bakeExpert, denseName, expertIndex, layersOfRule, validateMoe, type MoeConfig } from '../../src/model/moe.js';
import { paramSpecs } from '../../src/model/params.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend } from '../helpers/backend.js';

await useBackend('cpu');

const base = { vocabSize: 40, hiddenSize: 16, numLayers: 3, numHeads: 2, intermediateSize: 24, maxPositions: 16, normalize: false };
const dense: ModelConfig = validateModelConfig(base, 'test');
const moeOf = (parts: string[]): ModelConfig => validateModelConfig({ ...base, moe: { layers: 'mod2', parts, experts: 3 } }, 'test');

function batch(): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D } {
  return {
    inputIds: tf.tensor2d([[2, 7, 9, 3, 0], [2, 11, 3, 0, 0], [2, 5, 6, 8, 3]], undefined, 'int32'),
    attentionMask: tf.tensor2d([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], undefined, 'int32'),
  };
}

/** Move each expert's tensors away from the others (so routing mistakes show). */
function perturbExperts(enc: SentenceEncoder): void {
  for (const [name, v] of Object.entries(enc.params)) {
    const e = expertIndex(name);
    if (e === undefined) continue;
    v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 100 + e))));
  }
}

test('layer rules pick SciMult\'s layers: modN is (i+1) % N == 0, ge/le bound the index', () => {
  assert.deepEqual(layersOfRule('mod3', 12), [2, 5, 8, 11]);
  assert.deepEqual(layersOfRule('mod2', 4), [1, 3]);
  assert.deepEqual(layersOfRule('mod12', 12), [11]);
  assert.deepEqual(layersOfRule('ge6mod3', 12), [8, 11]);
  assert.deepEqual(layersOfRule('le7mod3', 12), [2, 5]);
  assert.equal(layersOfRule('every3', 12), undefined);
});

test('moe config errors name the key and list valid values', () => {
  const bad = (moe: unknown, re: RegExp) => assert.throws(() => validateMoe(moe, 4, 'r.json'), (e: Error) => e instanceof UserError && re.test(e.message), JSON.stringify(moe));
  bad({ layers: 'mod3', experts: 0 }, /r\.json: model\.moe\.experts: must be a positive integer, got 0/);
  bad({ layers: 'odd', experts: 2, tasks: { a: 0 } }, /model\.moe\.layers: "odd" is not valid; valid: modN/);
  bad({ layers: [7], experts: 2, tasks: { a: 0 } }, /model\.moe\.layers/);
  bad({ layers: 'mod5', experts: 2, tasks: { a: 0 } }, /picks none of the 4 layers/);
  bad({ layers: 'mod2', parts: ['fwd'], experts: 2, tasks: { a: 0 } }, /model\.moe\.parts\[0\]: "fwd" is not valid; valid: attn, ffn/);
  bad({ layers: 'mod2', experts: 2 }, /model\.moe\.tasks: must map task names/);
  bad({ layers: 'mod2', experts: 2, tasks: { a: 2 } }, /model\.moe\.tasks\.a: must be an expert index 0\.\.1/);
  bad({ layers: 'mod2', experts: 2, gate: true }, /model\.moe\.gate: unknown key/);
  assert.deepEqual(validateMoe({ layers: 'mod2', experts: 3 }, 4, 'r').tasks, { search: 0, citation: 1, classification: 2 });
});

test('expert tensors carry SciMult names and map back to the dense tensor they start from', () => {
  const names = paramSpecs(moeOf(['attn', 'ffn'])).map((s) => s.name);
  for (const n of [
    'encoder.layer.1.attention.self.moe_query.2.weight',
    'encoder.layer.1.attention.self.moe_value.0.bias',
    'encoder.layer.1.attention.output.moe_dense.1.weight',
    'encoder.layer.1.attention.output.LayerNorm.weight',
    'encoder.layer.1.interm_layers.2.dense.weight',
    'encoder.layer.1.output_layers.0.dense.bias',
    'encoder.layer.1.output_layers.1.LayerNorm.weight',
    'encoder.layer.0.attention.self.query.weight',
  ]) assert.ok(names.includes(n), n);
  assert.ok(!names.includes('encoder.layer.1.attention.self.query.weight'));
  assert.equal(denseName('encoder.layer.1.output_layers.1.LayerNorm.weight'), 'encoder.layer.1.output.LayerNorm.weight');
  assert.equal(denseName('encoder.layer.1.attention.output.moe_dense.1.bias'), 'encoder.layer.1.attention.output.dense.bias');
});

for (const parts of [['attn'], ['attn', 'ffn']]) {
  test(`identical experts (${parts.join('+')}) give the dense model's embeddings bit for bit, whatever the route`, () => {
    const d = SentenceEncoder.init(dense, 5);
    const m = SentenceEncoder.init(moeOf(parts), 5); // experts start as copies of the same dense init
    const inputs = batch();
    const want = tf.tidy(() => d.embed(inputs)).dataSync();
    for (const expert of [0, 1, 2, tf.tensor1d([2, 0, 1], 'int32')]) {
      const got = tf.tidy(() => m.embed({ ...inputs, expert })).dataSync();
      assert.deepEqual(Array.from(got), Array.from(want), `route ${expert}`);
      if (typeof expert === 'object') expert.dispose();
    }
    tf.dispose([inputs.inputIds, inputs.attentionMask]);
    d.dispose();
    m.dispose();
  });

  test(`a per-row route (${parts.join('+')}) equals each row run through its own expert, and a baked expert equals the routed model`, () => {
    const m = SentenceEncoder.init(moeOf(parts), 6);
    perturbExperts(m);
    const inputs = batch();
    const rows = [2, 0, 1];
    const before = tf.memory().numTensors;
    const perRow = tf.tidy(() => m.embed({ ...inputs, expert: tf.tensor1d(rows, 'int32') })).arraySync() as number[][];
    assert.equal(tf.memory().numTensors, before + 1, 'only the output survives');
    const moe = m.config.moe as MoeConfig;
    for (let e = 0; e < 3; e++) {
      const one = tf.tidy(() => m.embed({ ...inputs, expert: e })).arraySync() as number[][];
      rows.forEach((re, r) => {
        if (re === e) assert.deepEqual(perRow[r], one[r], `row ${r} expert ${e}`);
      });
      if (e > 0) assert.notDeepEqual(one, tf.tidy(() => m.embed({ ...inputs, expert: 0 })).arraySync(), 'experts differ');
      const baked = new SentenceEncoder({ ...m.config, moe: undefined }, bakeExpert(m.params, e));
      assert.deepEqual(Object.keys(baked.params), paramSpecs(dense).map((s) => s.name), 'a plain BertModel, in HF order');
      assert.deepEqual(tf.tidy(() => baked.embed(inputs)).arraySync(), one, `baked expert ${e}`);
    }
    assert.ok(moe.layers.length === 1);
    tf.dispose([inputs.inputIds, inputs.attentionMask]);
    m.dispose();
  });
}

test('an MoE model without a route, or with an unknown task, is refused', () => {
  const m = SentenceEncoder.init(moeOf(['attn']), 1);
  const inputs = batch();
  assert.throws(() => tf.tidy(() => m.embed(inputs)), /3 task experts: route it with a task \(search, citation, classification\)/);
  assert.throws(() => m.forTask('summaries'), /--task: unknown task "summaries"; the model's tasks: search, citation, classification/);
  const d = SentenceEncoder.init(dense, 1);
  assert.throws(() => d.forTask('search'), /no task experts/);
  const routed = m.forTask('citation');
  assert.equal(routed.expert, 1);
  assert.deepEqual(tf.tidy(() => routed.embed(inputs)).arraySync(), tf.tidy(() => m.embed({ ...inputs, expert: 1 })).arraySync());
  tf.dispose([inputs.inputIds, inputs.attentionMask]);
  m.dispose();
  d.dispose();
});
