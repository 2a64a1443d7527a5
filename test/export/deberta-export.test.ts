/**
 * ONNX export of a DeBERTa (relative_attention false) folder: the graph (no token_type_ids input,
 * in_proj split per head, masked embeddings, XSoftmax rows) against transformers' float64 DebertaModel
 * outputs in test/fixtures/deberta, fp32 and int8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../src/export/export.js';
import { createSession } from '../../src/onnx/session.js';
import { useBackend, flat, assertClose } from '../helpers/backend.js';

await useBackend('cpu');
const fixture = 'test/fixtures/deberta/';
const expected = JSON.parse(readFileSync(fixture + 'expected.json', 'utf8'));

test('a DeBERTa folder exports to ONNX that matches transformers\' DebertaModel', async () => {
  const out = await mkdtemp(join(tmpdir(), 'contrastive-deberta-onnx-'));
  const result = await exportOnnx({ model: fixture + 'model', output: out });
  assert.ok(result.check && result.check.lastHiddenState < 1e-5, JSON.stringify(result.check));
  assert.ok(result.cosine && result.cosine.min > 0.99, JSON.stringify(result.cosine));
  const session = await createSession(join(out, 'onnx', 'model.onnx'));
  assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
  const dims = [expected.input_ids.length, expected.input_ids[0].length];
  const feed = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(flat(rows), (v) => BigInt(v)), dims);
  const r = await session.run({ input_ids: feed(expected.input_ids), attention_mask: feed(expected.attention_mask) });
  assertClose(r.last_hidden_state.data as Float32Array, flat(expected.last_hidden_state), 2e-5, 'onnx last_hidden_state', 1e-4);
  assertClose(r.sentence_embedding.data as Float32Array, flat(expected.mean_pooled), 2e-5, 'onnx mean pooling (the fixture folder has no Normalize)', 1e-4);
  await session.release();
});
