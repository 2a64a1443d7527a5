/**
 * The task-routed (MoE) encoder against float64 PyTorch: test/fixtures/bert-moe holds a random SciMult-style
 * MoE BERT (attention and FFN experts in layer 1 of 3, 2 experts) written by make_fixture.py, with its
 * outputs for each whole-batch route, for a per-row route, and the gradients of a dot-similarity InfoNCE
 * (scale 100) through the per-row route. Checks reading SciMult's expert names, both routes and backward.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadFolder } from '../helpers/folder.js';
import { bertForward } from '../../src/model/bert.js';
import { pool } from '../../src/model/pooling.js';
import { infoNCE } from '../../src/losses/infonce.js';
import { isDenseWeight } from '../../src/model/params.js';
import { useBackend, flat, assertClose } from '../helpers/backend.js';

const dir = 'test/fixtures/bert-moe/';
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8'));

test('MoE forward (each route and per row) and gradients match float64 PyTorch', async () => {
  await useBackend('cpu');
  const { encoder, folder } = await loadFolder(dir + 'model', { requireTokenizer: false });
  const c = encoder.config;
  assert.deepEqual(folder.config.moe, { layers: [1], parts: ['attn', 'ffn'], experts: 2, tasks: { search: 0, citation: 1 } });
  const inputIds = tf.tensor2d(expected.input_ids, undefined, 'int32');
  const attentionMask = tf.tensor2d(expected.attention_mask, undefined, 'int32');
  for (const e of [0, 1]) {
    const hidden = tf.tidy(() => bertForward(c, encoder.params, { inputIds, attentionMask, expert: e }));
    assertClose(hidden.dataSync(), flat(expected.last_hidden_state[String(e)]), 2e-5, `last_hidden_state expert ${e}`, 1e-4);
    hidden.dispose();
  }
  const route = tf.tensor1d(expected.route, 'int32');
  const rows = tf.tidy(() => bertForward(c, encoder.params, { inputIds, attentionMask, expert: route }));
  assertClose(rows.dataSync(), flat(expected.last_hidden_state_rows), 2e-5, 'last_hidden_state per-row route', 1e-4);

  const names = Object.keys(expected.grads);
  const { value, grads } = tf.variableGrads(() => {
    const emb = pool(bertForward(c, encoder.params, { inputIds, attentionMask, expert: route }), attentionMask, 'mean');
    const [a, d] = tf.split(emb, 2, 0) as tf.Tensor2D[];
    return infoNCE({ anchor: a, positive: d }, { scale: 100, similarity: 'dot' });
  }, names.map((n) => encoder.params[n]));
  assertClose([value.dataSync()[0]], [expected.infonce_dot_scale100_loss], 1e-4, 'loss', 1e-5);
  for (const name of names) {
    const raw = grads[encoder.params[name].name];
    const g = isDenseWeight(name) ? tf.transpose(raw) : raw;
    assertClose(g.dataSync(), flat(expected.grads[name]), 1e-4, `grad ${name}`, 1e-3);
    if (g !== raw) g.dispose();
  }
  tf.dispose([rows, value, grads, inputIds, attentionMask, route]);
  encoder.dispose();
});
