/**
 * Folders written in Hugging Face layout by PyTorch (test/fixtures/hf-bert, hf-xlmr; see their
 * make_tokenizer.mjs + make_fixture.py) load with `readModelFolder` + `loadEncoder` and give the float64 torch
 * outputs: tokenization (pure-JS tokenizer vs the Rust tokenizer's ids), last hidden state, and the
 * sentence embedding of the head the folder implies (plain HF: mean, no Normalize; the legacy
 * sentence-transformers folder: CLS + Normalize).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertForward, positionIds } from '../../src/model/bert.js';
import { paramsFromHf } from '../../src/folder/weights.js';
import { openSafetensors, readSafetensors, writeSafetensors } from '../../src/folder/safetensors.js';
import { loadFolder } from '../helpers/folder.js';
import { disposeParams } from '../../src/model/params.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { toInputs, disposeInputs } from '../../src/model/encoder.js';
import { BACKENDS, backendSkip, useBackend, flat, assertClose } from '../helpers/backend.js';

const BERT = 'test/fixtures/hf-bert/';
const XLMR = 'test/fixtures/hf-xlmr/';
const bertIds = JSON.parse(readFileSync(BERT + 'ids.json', 'utf8'));
const bertExpected = JSON.parse(readFileSync(BERT + 'expected.json', 'utf8'));
const xlmrIds = JSON.parse(readFileSync(XLMR + 'ids.json', 'utf8'));
const xlmrExpected = JSON.parse(readFileSync(XLMR + 'expected.json', 'utf8'));

function maxAbs(a: ArrayLike<number>, b: number[]): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Load `dir`, check tokenization against the Rust ids, and return hidden states + embeddings of the texts. */
async function run(dir: string, ids: { texts: string[]; ids: number[][] }) {
  const { encoder, folder } = await loadFolder(dir);
  const info = { ...folder, pooling: folder.config.pooling, normalize: folder.config.normalize };
  const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
  for (let i = 0; i < ids.texts.length; i++) {
    assert.deepEqual(tokenizer.encodeOne(ids.texts[i], info.maxLength), ids.ids[i], `tokenization of ${JSON.stringify(ids.texts[i])}`);
  }
  const batch = tokenizer.encode(ids.texts, { maxLength: info.maxLength });
  const inputs = toInputs(batch);
  const [hidden, emb] = tf.tidy(() => [bertForward(encoder.config, encoder.params, inputs), encoder.embed(inputs)]);
  const out = { hidden: hidden.dataSync(), emb: emb.dataSync(), batch, info, config: encoder.config };
  tf.dispose([hidden, emb]);
  disposeInputs(inputs);
  encoder.dispose();
  return out;
}

for (const backend of BACKENDS) {
  for (const [folder, what] of [['bert-model', 'BertModel (unprefixed, pooler)'], ['bert-mlm', 'BertForMaskedLM (bert. prefix, MLM head, no pooler)']] as const) {
    test(`${what} folder from PyTorch: readModelFolder + loadEncoder give its mean-pooled embeddings (${backend})`, { skip: backendSkip(backend) }, async () => {
      await useBackend(backend);
      const r = await run(BERT + folder, bertIds);
      assert.equal(r.info.head, 'default');
      assert.equal(r.info.pooling, 'mean');
      assert.equal(r.info.normalize, false);
      assert.equal(r.info.modelType, 'bert');
      assert.equal(r.info.maxLength, bertExpected.max_seq_length); // tokenizer_config.json model_max_length
      assert.deepEqual(Array.from(r.batch.inputIds), flat(bertExpected.input_ids));
      assertClose(r.hidden, flat(bertExpected.last_hidden_state), 2e-5, 'last_hidden_state', 1e-4);
      assertClose(r.emb, flat(bertExpected.mean_pooled), 1e-4, 'mean pooled');
      console.log(`# ${folder} (${backend}): max abs diff embeddings ${maxAbs(r.emb, flat(bertExpected.mean_pooled)).toExponential(2)}`);
    });
  }

  test(`older sentence-transformers folder (0_Transformer/, CLS pooling, Normalize) gives normalized CLS embeddings (${backend})`, { skip: backendSkip(backend) }, async () => {
    await useBackend(backend);
    const r = await run(BERT + 'st-legacy', bertIds);
    assert.equal(r.info.head, 'sentence-transformers');
    assert.equal(r.info.pooling, 'cls');
    assert.equal(r.info.normalize, true);
    assert.equal(r.info.maxLength, bertExpected.max_seq_length); // 0_Transformer/sentence_bert_config.json
    assertClose(r.emb, flat(bertExpected.cls_normalized), 1e-4, 'normalized CLS');
  });

  test(`XLM-R folder from PyTorch (Unigram tokenizer, offset position ids): readModelFolder + loadEncoder give its embeddings (${backend})`, { skip: backendSkip(backend) }, async () => {
    await useBackend(backend);
    const r = await run(XLMR + 'model', xlmrIds);
    assert.equal(r.info.modelType, 'xlm-roberta');
    assert.equal(r.config.typeVocabSize, 1);
    assert.equal(r.config.layerNormEps, 1e-5);
    assert.equal(r.config.padTokenId, 1);
    assert.equal(r.info.maxLength, 40);
    assert.deepEqual(Array.from(r.batch.inputIds), flat(xlmrExpected.input_ids)); // right-padded with <pad> = 1
    const pos = tf.tidy(() => positionIds(tf.tensor2d(xlmrExpected.input_ids, undefined, 'int32'), 1));
    assert.deepEqual(Array.from(pos.dataSync()), flat(xlmrExpected.position_ids));
    pos.dispose();
    assertClose(r.hidden, flat(xlmrExpected.last_hidden_state), 2e-5, 'last_hidden_state', 1e-4);
    assertClose(r.emb, flat(xlmrExpected.mean_pooled), 1e-4, 'mean pooled');
    console.log(`# xlm-r (${backend}): max abs diff embeddings ${maxAbs(r.emb, flat(xlmrExpected.mean_pooled)).toExponential(2)}`);
  });
}

test('XLM-R tensors under `roberta.` (XLMRobertaForMaskedLM checkpoints) load to the same params', async () => {
  await useBackend('cpu');
  const { encoder } = await loadFolder(XLMR + 'model');
  const { tensors } = await readSafetensors(XLMR + 'model/model.safetensors');
  const prefixed = Object.fromEntries(Object.entries(tensors).map(([k, v]) => [`roberta.${k}`, v]));
  prefixed['lm_head.bias'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
  const dir = await mkdtemp(join(tmpdir(), 'contrastive-roberta-'));
  await writeSafetensors(join(dir, 'model.safetensors'), prefixed);
  const file = await openSafetensors(join(dir, 'model.safetensors'));
  const params = await paramsFromHf(encoder.config, file);
  await file.close();
  for (const [name, v] of Object.entries(encoder.params)) {
    assert.deepEqual(params[name].dataSync(), v.dataSync(), name);
  }
  disposeParams(params);
  encoder.dispose();
  await rm(dir, { recursive: true });
});

test('a gradient flows through XLM-R position embeddings of real tokens only', async () => {
  await useBackend('cpu');
  const { encoder } = await loadFolder(XLMR + 'model');
  const inputs = toInputs({ inputIds: Int32Array.from([0, 5, 2, 1]), attentionMask: Int32Array.from([1, 1, 1, 0]), tokenTypeIds: new Int32Array(4), batchSize: 1, seqLen: 4 });
  const table = encoder.params['embeddings.position_embeddings.weight'];
  const { grads, value } = tf.variableGrads(() => tf.sum(encoder.embed(inputs)) as tf.Scalar, [table]);
  const g = grads[table.name].arraySync() as number[][];
  const touched = g.map((row, i) => (row.some((x) => x !== 0) ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(touched, [2, 3, 4]); // real tokens sit at 2, 3, 4; the pad token's position 1 feeds only masked outputs
  tf.dispose([value, ...Object.values(grads)]);
  disposeInputs(inputs);
  encoder.dispose();
});
