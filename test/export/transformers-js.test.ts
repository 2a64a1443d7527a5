/**
 * The exported folder in transformers.js (devDependency; runs onnxruntime-node under Node): its
 * feature-extraction pipeline loads onnx/model.onnx (dtype fp32) and onnx/model_quantized.onnx (q8,
 * its wasm default), tokenizes with tokenizer.json, and must give the tfjs encoder's embeddings.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '../../src/export/export.js';
import { maxAbsDiff } from '../../src/export/check.js';
import { cosineRows } from '../../src/math/similarity.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { toInputs, disposeInputs } from '../../src/model/encoder.js';
import { useBackend } from '../helpers/backend.js';
import { tinyModelFolder, SAMPLE_TOKENIZER } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const TEXTS = ['Protein folding', 'Equivariant structure network reveals backbone accuracy patterns in membrane proteins', 'a'];

test('transformers.js loads the export (fp32 and q8) and reproduces the tfjs embeddings', { skip: !existsSync(SAMPLE_TOKENIZER) && 'needs data/tokenizer.json' }, async () => {
  await useBackend('cpu');
  const { dir, encoder } = await tinyModelFolder({ pooling: 'mean', normalize: true, seed: 21 });
  dirs.push(dir);
  await exportOnnx({ model: dir, verify: false, threads: 1 });
  // transformers.js also needs tokenizer_config.json (with pad_token, to pad a batch); the model
  // folder writer does not write one yet, so the test supplies it.
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({
    tokenizer_class: 'BertTokenizer', model_max_length: encoder.config.maxPositions, do_lower_case: false,
    pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', mask_token: '[MASK]',
  }));

  const tokenizer = await TextTokenizer.load(join(dir, 'tokenizer.json'));
  const inputs = toInputs(tokenizer.encode(TEXTS, { maxLength: encoder.config.maxPositions }));
  const want = tf.tidy(() => encoder.embed(inputs)).dataSync() as Float32Array; // [3, H]
  disposeInputs(inputs);

  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir) + '/';
  const H = encoder.config.hiddenSize;
  const embed = async (dtype: 'fp32' | 'q8') => {
    const extractor = await pipeline('feature-extraction', basename(dir), { dtype, device: 'cpu' });
    const out = await extractor(TEXTS, { pooling: 'mean', normalize: true });
    assert.deepEqual(out.dims, [TEXTS.length, H]);
    const data = Float32Array.from(out.data as Float32Array);
    await extractor.dispose();
    return data;
  };
  const fp32 = await embed('fp32');
  const diff = maxAbsDiff(fp32, want);
  assert.ok(diff <= 1e-4, `transformers.js fp32 vs tfjs: max abs diff ${diff}`);
  const q8 = await embed('q8');
  cosineRows(q8, want, H).forEach((cos, r) => assert.ok(cos >= 0.99, `q8 row ${r}: cosine ${cos}`));
  console.log(`# transformers.js fp32 vs tfjs max abs diff ${diff.toExponential(2)}`);
  encoder.dispose();
});
