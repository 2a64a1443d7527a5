/**
 * A folder written by writeModelFolder + exportOnnx, as is (no files added by the test), loads offline
 * in transformers.js (devDependency) as a feature-extraction pipeline: its tokenizer (tokenizer.json +
 * our tokenizer_config.json) gives the toolkit's ids, and with the pooling/normalization the model
 * card states it gives the toolkit's embeddings.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, basename, dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from '../../src/model/config.js';
import { SentenceEncoder, toInputs, disposeInputs } from '../../src/model/encoder.js';
import { saveEncoder } from '../helpers/folder.js';
import { exportOnnx } from '../../src/export/export.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { Rng } from '../../src/util/rng.js';
import { useBackend } from '../helpers/backend.js';

const TOKENIZER = 'test/fixtures/hf-bert/tokenizer.json'; // lowercasing WordPiece: transformers.js must rebuild the normalizer too
const TEXTS = ['The quick cat learns sentence embeddings.', 'Protein STRUCTURE', 'a', 'Dogs jump over the lazy mat ✓'];

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function randomEncoder(over: Partial<ModelConfig>, seed: number): SentenceEncoder {
  const config: ModelConfig = {
    ...DEFAULT_MODEL_CONFIG, vocabSize: 80, hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64,
    maxPositions: 32, initializerRange: 0.2, ...over,
  };
  const encoder = SentenceEncoder.init(config, seed);
  const rng = new Rng(seed + 1);
  for (const [name, v] of Object.entries(encoder.params)) {
    if (name.endsWith('.bias') || name.includes('LayerNorm')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, name.endsWith('LayerNorm.weight') ? 1 : 0, 0.3, 'float32', rng.seed())));
  }
  return encoder;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const head of [{ pooling: 'mean', normalize: true }, { pooling: 'cls', normalize: false }] as const) {
  test(`transformers.js feature-extraction on the saved + exported folder = toolkit embeddings (${head.pooling}, normalize ${head.normalize})`, async () => {
    await useBackend('cpu');
    const encoder = randomEncoder(head, head.pooling === 'mean' ? 31 : 37);
    const parent = await mkdtemp(join(tmpdir(), 'contrastive-tjs-'));
    dirs.push(parent);
    const dir = join(parent, `model-${head.pooling}`);
    await mkdir(dir);
    const maxLength = 24;
    await saveEncoder(dir, encoder, TOKENIZER, { maxLength });
    await exportOnnx({ model: dir, verify: false, quantize: false, threads: 1 });
    // the card states the pooling transformers.js must be given
    const card = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.ok(card.includes(`{ pooling: '${head.pooling}', normalize: ${head.normalize} }`));

    const tokenizer = await TextTokenizer.load(join(dir, 'tokenizer.json'));
    const batch = tokenizer.encode(TEXTS, { maxLength });
    const inputs = toInputs(batch);
    const wantT = tf.tidy(() => encoder.embed(inputs));
    const want = wantT.dataSync() as Float32Array;
    wantT.dispose();
    disposeInputs(inputs);

    const { pipeline, env, AutoTokenizer } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = dirname(dir) + '/';
    const tjsTok = await AutoTokenizer.from_pretrained(basename(dir));
    const enc = tjsTok(TEXTS, { padding: true, truncation: true });
    assert.deepEqual(Array.from(enc.input_ids.data as BigInt64Array, Number), Array.from(batch.inputIds), 'transformers.js token ids');
    const extractor = await pipeline('feature-extraction', basename(dir), { dtype: 'fp32', device: 'cpu' });
    const out = await extractor(TEXTS, { pooling: head.pooling, normalize: head.normalize });
    assert.deepEqual(out.dims, [TEXTS.length, encoder.config.hiddenSize]);
    const diff = maxAbsDiff(out.data as Float32Array, want);
    await extractor.dispose();
    assert.ok(diff <= 1e-4, `transformers.js vs toolkit: max abs diff ${diff}`);
    console.log(`# transformers.js (${head.pooling}, normalize ${head.normalize}) vs toolkit: max abs diff ${diff.toExponential(2)}`);
    encoder.dispose();
  });
}
