/**
 * GradCache gives the loss and gradients of the plain full-batch loss (max abs difference ≤ 1e-5 on
 * cpu), for InfoNCE with a hard negative, AnglE, CoSENT and the triplet loss, with mini-batches that
 * do not divide the batch; and the encoder only ever sees one mini-batch of rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SentenceEncoder, toInputs } from '../../src/model/encoder.js';
import { DEFAULT_MODEL_CONFIG } from '../../src/model/config.js';
import { trainableParams } from '../../src/model/params.js';
import { validateLossConfig } from '../../src/losses/registry.js';
import { batchLoss } from '../../src/train/step.js';
import type { TensorBatch } from '../../src/train/batch.js';
import { gradCache } from '../../src/train/gradcache.js';
import { Rng } from '../../src/util/rng.js';
import { useBackend, assertClose } from '../helpers/backend.js';

await useBackend('cpu');

const B = 7;
const config = {
  ...DEFAULT_MODEL_CONFIG,
  vocabSize: 40,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 2,
  intermediateSize: 24,
  maxPositions: 16,
  hiddenDropout: 0,
  attentionDropout: 0,
};

function randomColumn(rng: Rng, seq: number) {
  const ids = new Int32Array(B * seq);
  const mask = new Int32Array(B * seq);
  for (let b = 0; b < B; b++) {
    const len = 2 + rng.int(seq - 1); // padded rows of varied length
    for (let s = 0; s < len; s++) {
      ids[b * seq + s] = 1 + rng.int(39);
      mask[b * seq + s] = 1;
    }
  }
  return toInputs({ inputIds: ids, attentionMask: mask, tokenTypeIds: new Int32Array(B * seq), batchSize: B, seqLen: seq });
}

function batchOf(roles: string[], withScores: boolean): TensorBatch {
  const rng = new Rng(11);
  const columns = Object.fromEntries(roles.map((r, i) => [r, randomColumn(rng, 6 + i)]));
  const scores = withScores ? tf.tensor1d(Array.from({ length: B }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.5))) : undefined;
  return { columns, scores, size: B };
}

const cases: [string, Record<string, unknown>, string[], boolean][] = [
  ['infonce with a hard negative', { name: 'infonce' }, ['anchor', 'positive', 'negative'], false],
  ['symmetric infonce', { name: 'infonce', symmetric: true }, ['anchor', 'positive'], false],
  ['AnglE on labelled pairs (in-batch and angle terms)', { name: 'angle' }, ['text1', 'text2'], true],
  ['CoSENT', { name: 'cosent', scale: 5 }, ['text1', 'text2'], true],
  ['AnglE on (query, positive, negative)', { name: 'angle' }, ['anchor', 'positive', 'negative'], false],
  ['triplet', { name: 'triplet' }, ['anchor', 'positive', 'negative'], false],
];

for (const [what, lossRaw, roles, withScores] of cases) {
  test(`GradCache equals the full-batch loss and gradients: ${what}`, () => {
    const encoder = SentenceEncoder.init(config, 3);
    const loss = validateLossConfig(lossRaw, 'test');
    const batch = batchOf(roles, withScores);
    const vars = Object.values(trainableParams(encoder.params));
    const plain = tf.variableGrads(() => batchLoss(encoder, batch, loss), vars);
    for (const miniBatchSize of [1, 3]) {
      const cached = gradCache(encoder, batch, { loss, miniBatchSize });
      assertClose(cached.value.dataSync(), plain.value.dataSync(), 1e-6, `${what}: loss (mini-batch ${miniBatchSize})`);
      assert.deepEqual(Object.keys(cached.grads).sort(), Object.keys(plain.grads).sort());
      for (const name of Object.keys(plain.grads)) {
        assertClose(cached.grads[name].dataSync(), plain.grads[name].dataSync(), 1e-5, `${what}: grad ${name} (mini-batch ${miniBatchSize})`);
      }
      tf.dispose([cached.value, cached.grads]);
    }
    tf.dispose([plain.value, plain.grads, batch.scores]);
    for (const c of Object.values(batch.columns)) tf.dispose([c.inputIds, c.attentionMask, c.tokenTypeIds!]);
    encoder.dispose();
  });
}

test('GradCache only ever runs the encoder on one mini-batch of rows (activation memory is one mini-batch)', () => {
  const encoder = SentenceEncoder.init(config, 3);
  const loss = validateLossConfig({ name: 'infonce' }, 'test');
  const batch = batchOf(['anchor', 'positive'], false);
  const seen: number[] = [];
  const embed = encoder.embed.bind(encoder);
  encoder.embed = (inputs, opts) => {
    seen.push(inputs.inputIds.shape[0]);
    return embed(inputs, opts);
  };
  const r = gradCache(encoder, batch, { loss, miniBatchSize: 3 });
  // 2 roles × ⌈7/3⌉ chunks, once without and once with gradients; rows 3, 3, 1
  assert.deepEqual(seen, [3, 3, 1, 3, 3, 1, 3, 3, 1, 3, 3, 1]);
  tf.dispose([r.value, r.grads]);
  for (const c of Object.values(batch.columns)) tf.dispose([c.inputIds, c.attentionMask, c.tokenTypeIds!]);
  encoder.dispose();
});
