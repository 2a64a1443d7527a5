/**
 * The tfjs encoder against PyTorch: test/fixtures/bert-tiny holds a random BERT written in Hugging Face
 * layout by make_fixture.py and the float64 torch outputs and gradients for a padded batch.
 * Checks loading (PyTorch [out, in] weights), forward, pooling, InfoNCE and backward, on cpu, wasm and native.
 */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadFolder } from '../helpers/folder.js';
import { bertForward } from '../../src/model/bert.js';
import { pool } from '../../src/model/pooling.js';
import { l2Normalize } from '../../src/math/similarity.js';
import { infoNCE } from '../../src/losses/infonce.js';
import { isDenseWeight } from '../../src/model/params.js';
import { BACKENDS, backendSkip, useBackend, flat, assertClose } from '../helpers/backend.js';

// tests run from the repository root (npm test)
const dir = 'test/fixtures/bert-tiny/';
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8'));

for (const backend of BACKENDS) {
  test(`BERT forward, pooling, InfoNCE and gradients match PyTorch (${backend})`, { skip: backendSkip(backend) }, async () => {
    await useBackend(backend);
    const { encoder } = await loadFolder(dir + 'model', { requireTokenizer: false });
    const c = encoder.config;
    const inputs = {
      inputIds: tf.tensor2d(expected.input_ids, undefined, 'int32'),
      attentionMask: tf.tensor2d(expected.attention_mask, undefined, 'int32'),
      tokenTypeIds: tf.tensor2d(expected.token_type_ids, undefined, 'int32'),
    };
    const hidden = tf.tidy(() => bertForward(c, encoder.params, inputs));
    assertClose(hidden.dataSync(), flat(expected.last_hidden_state), 2e-5, 'last_hidden_state', 1e-4);
    const mean = tf.tidy(() => pool(hidden, inputs.attentionMask, 'mean'));
    assertClose(mean.dataSync(), flat(expected.mean_pooled), 2e-5, 'mean pooling', 1e-4);
    const cls = tf.tidy(() => pool(hidden, inputs.attentionMask, 'cls'));
    assertClose(cls.dataSync(), flat(expected.cls_pooled), 2e-5, 'cls pooling', 1e-4);

    const names = Object.keys(expected.grads);
    const { value, grads } = tf.variableGrads(() => {
      const emb = l2Normalize(pool(bertForward(c, encoder.params, inputs), inputs.attentionMask, 'mean'));
      const [a, d] = tf.split(emb, 2, 0) as tf.Tensor2D[];
      return infoNCE({ anchor: a, positive: d }, { scale: 20 });
    }, names.map((n) => encoder.params[n]));
    assertClose([value.dataSync()[0]], [expected.infonce_scale20_loss], 1e-5, 'loss', 1e-5);
    for (const name of names) {
      // dense weights are held [in, out]; torch's gradient is [out, in]
      const raw = grads[encoder.params[name].name]; // keyed by variable name
      const g = isDenseWeight(name) ? tf.transpose(raw) : raw;
      assertClose(g.dataSync(), flat(expected.grads[name]), 1e-5, `grad ${name}`, 1e-3);
      if (g !== raw) g.dispose();
    }
    tf.dispose([hidden, mean, cls, value, grads, inputs.inputIds, inputs.attentionMask, inputs.tokenTypeIds]);
    encoder.dispose();
  });
}
