/**
 * `export --task T` on a task-routed (MoE) folder: the task's expert baked into a plain BERT folder
 * (config.json without moe, BertModel tensor names) plus ONNX, equal to the MoE model run with that task.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SentenceEncoder, toInputs, disposeInputs } from '../../src/model/encoder.js';
import { expertIndex } from '../../src/model/moe.js';
import { exportOnnx } from '../../src/export/export.js';
import { createSession, batchFeeds } from '../../src/onnx/session.js';
import { readSafetensors } from '../../src/folder/safetensors.js';
import { UserError } from '../../src/util/errors.js';
import { saveEncoder, loadFolder } from '../helpers/folder.js';
import { useBackend, assertClose } from '../helpers/backend.js';
import { tinyConfig, mixedBatch, SAMPLE_TOKENIZER } from './helpers.js';

await useBackend('cpu');

test('export --task writes a plain BERT folder + ONNX equal to the MoE model routed to that task', async () => {
  const config = await tinyConfig({ pooling: 'mean', normalize: true, numLayers: 3, moe: { layers: [1, 2], parts: ['attn', 'ffn'], experts: 3, tasks: { search: 0, citation: 1, classification: 2 } } });
  const moe = SentenceEncoder.init(config, 21);
  for (const [name, v] of Object.entries(moe.params)) {
    const e = expertIndex(name);
    if (e !== undefined) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.2, 'float32', 50 + e))));
  }
  const root = await mkdtemp(join(tmpdir(), 'contrastive-moe-export-'));
  const dir = join(root, 'moe');
  await mkdir(dir);
  await saveEncoder(dir, moe, SAMPLE_TOKENIZER, { maxLength: 32, prompts: { query: 'query: ' } });

  const reject = async (opts: Parameters<typeof exportOnnx>[0], re: RegExp) =>
    assert.rejects(() => exportOnnx(opts), (e: Error) => e instanceof UserError && re.test(e.message), re.source);
  await reject({ model: dir, output: join(root, 'x') }, /--task: required: the model routes by task; valid: search, citation, classification/);
  await reject({ model: dir, task: 'cites', output: join(root, 'x') }, /--task: unknown task "cites"/);
  await reject({ model: dir, task: 'citation' }, /--output: required with --task/);

  const out = join(root, 'citation');
  const result = await exportOnnx({ model: dir, task: 'citation', output: out, quantize: false });
  assert.ok(result.check && result.check.sentenceEmbedding < 1e-5, JSON.stringify(result.check));
  const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(cfg.moe, undefined);
  assert.deepEqual(cfg.architectures, ['BertModel']);
  const names = Object.keys((await readSafetensors(join(out, 'model.safetensors'))).tensors);
  assert.ok(names.includes('encoder.layer.1.attention.self.query.weight') && !names.some((n) => n.includes('moe_') || n.includes('_layers.')));
  assert.ok(existsSync(join(out, 'onnx', 'model.onnx')));
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'config_sentence_transformers.json'), 'utf8')).prompts, { query: 'query: ' });

  // the baked folder, read back, and its ONNX graph against the MoE model with task citation
  const batch = mixedBatch([9, 4, 12], config.vocabSize, 5);
  const inputs = toInputs(batch);
  const want = tf.tidy(() => moe.forTask('citation').embed(inputs)).dataSync();
  const other = tf.tidy(() => moe.forTask('search').embed(inputs)).dataSync();
  const { encoder: plain } = await loadFolder(out);
  assert.deepEqual(Array.from(tf.tidy(() => plain.embed(inputs)).dataSync()), Array.from(want), 'tfjs: bit for bit');
  const session = await createSession(join(out, 'onnx', 'model.onnx'));
  const onnx = (await session.run(batchFeeds(session, batch))).sentence_embedding.data as Float32Array;
  assertClose(onnx, want, 1e-5, 'onnx vs MoE routed to citation');
  assert.ok(Math.max(...Array.from(other, (v, i) => Math.abs(v - want[i]))) > 1e-3, 'experts differ, so the check means something');
  await session.release();
  disposeInputs(inputs);
  plain.dispose();
  moe.dispose();

  await reject({ model: out, task: 'citation', output: join(root, 'y') }, /--task: the model has no task experts/);
});
