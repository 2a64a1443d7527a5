/**
 * DeBERTa v1 without relative attention against transformers' real DebertaModel: test/fixtures/deberta
 * holds a random DebertaModel saved with save_pretrained (relative_attention false, no token types, eps
 * 1e-7, pad_token_id 0 = <s>) and its float64 outputs and InfoNCE gradients on a padded batch, made by
 * make_fixture.py, on cpu (composite attention) and native (fused attention). Also: configs the forward pass does not implement are refused by name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadFolder } from '../helpers/folder.js';
import { pool } from '../../src/model/pooling.js';
import { l2Normalize } from '../../src/math/similarity.js';
import { infoNCE } from '../../src/losses/infonce.js';
import { isDenseWeight } from '../../src/model/params.js';
import { fromHfConfig } from '../../src/model/config.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend, backendSkip, flat, assertClose } from '../helpers/backend.js';

const dir = 'test/fixtures/deberta/';
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8'));

for (const backend of ['cpu', 'native'] as const) test(`DeBERTa (relative_attention false) forward, pooling and gradients match transformers' DebertaModel in float64 (${backend})`, { skip: backendSkip(backend) }, async () => {
  await useBackend(backend); // native: through the fused attention kernels
  const { encoder, folder } = await loadFolder(dir + 'model');
  assert.equal(folder.modelType, 'deberta');
  assert.equal(encoder.config.typeVocabSize, 0);
  assert.equal(encoder.config.layerNormEps, 1e-7);
  assert.ok(!('pooler.dense.weight' in encoder.params) && !('embeddings.token_type_embeddings.weight' in encoder.params));
  const inputIds = tf.tensor2d(expected.input_ids, undefined, 'int32');
  const attentionMask = tf.tensor2d(expected.attention_mask, undefined, 'int32');
  const inputs = { inputIds, attentionMask };
  const hidden = tf.tidy(() => encoder.tokens(inputs));
  // every position, padding included (XSoftmax's all-zero rows for padded queries)
  assertClose(hidden.dataSync(), flat(expected.last_hidden_state), 2e-5, 'last_hidden_state', 1e-4);
  const mean = tf.tidy(() => pool(hidden, attentionMask, 'mean'));
  assertClose(mean.dataSync(), flat(expected.mean_pooled), 2e-5, 'mean pooling', 1e-4);

  const names = Object.keys(expected.grads);
  const { value, grads } = tf.variableGrads(() => {
    const emb = l2Normalize(pool(encoder.tokens(inputs), attentionMask, 'mean'));
    const [a, d] = tf.split(emb, 2, 0) as tf.Tensor2D[];
    return infoNCE({ anchor: a, positive: d }, { scale: 20 });
  }, names.map((n) => encoder.params[n]));
  assertClose([value.dataSync()[0]], [expected.infonce_scale20_loss], 1e-5, 'loss', 1e-5);
  for (const name of names) {
    const raw = grads[encoder.params[name].name];
    if (name === 'embeddings.word_embeddings.weight') {
      // rows of the batch's ids; row 0 (<s>, the padding_idx) gets no gradient although every text starts with it
      const rows = raw.arraySync() as number[][];
      for (const [id, row] of Object.entries(expected.grads[name] as Record<string, number[]>)) assertClose(rows[Number(id)], row, 1e-5, `word grad row ${id}`, 1e-3);
      assert.ok(rows[0].every((v) => v === 0), 'row 0 (padding_idx) gets no gradient');
      continue;
    }
    const g = isDenseWeight(name) ? tf.transpose(raw) : raw;
    assertClose(g.dataSync(), flat(expected.grads[name]), 1e-5, `grad ${name}`, 1e-3);
    if (g !== raw) g.dispose();
  }
  tf.dispose([hidden, mean, value, grads, inputIds, attentionMask]);
  encoder.dispose();
});

test('DeBERTa forms the forward pass does not implement are refused, naming the key', () => {
  const base = JSON.parse(readFileSync(dir + 'model/config.json', 'utf8'));
  const refuse = (over: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => fromHfConfig({ ...base, ...over }, 'm/config.json'), (e: Error) => e instanceof UserError && re.test(e.message), re.source);
  refuse({ relative_attention: true }, /m\/config\.json: relative_attention: true \(DeBERTa's disentangled relative attention\) is not supported yet; full disentangled attention is a later step/);
  refuse({ model_type: 'deberta-v2' }, /model_type: unsupported model_type "deberta-v2" \(DeBERTa v2\/v3 need disentangled relative attention, a later step\); supported: bert, xlm-roberta, deberta/);
  refuse({ pos_att_type: ['c2p', 'p2c'] }, /pos_att_type: \["c2p","p2c"\] is not supported/);
  refuse({ position_biased_input: false }, /position_biased_input: false/);
  refuse({ embedding_size: 16 }, /embedding_size: 16/);
  assert.equal(fromHfConfig(base, 'm').modelType, 'deberta');
});
