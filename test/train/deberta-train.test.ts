/**
 * DeBERTa from scratch and fine-tuning a DeBERTa (relative_attention false) folder: `model.from` trains it, the saved folder is a
 * transformers DebertaModel folder (config.json, RobertaTokenizer files) that reads back to the same
 * embeddings, and the padding_idx row of the word table moves only by weight decay (it gets no gradient).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { train } from '../../src/train/trainer.js';
import { validateTrainConfig } from '../../src/train/config.js';
import { readSafetensors, type NamedTensor } from '../../src/folder/safetensors.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { SentenceEncoder, toInputs, disposeInputs } from '../../src/model/encoder.js';
import { validateModelConfig } from '../../src/model/config.js';
import { loadFolder, saveEncoder } from '../helpers/folder.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs } from '../helpers/tiny-run.js';

await useBackend('cpu');
const root = await tempDir();
const pairs = await tinyPairs(root);
const from = 'test/fixtures/deberta/model';

test('model.from a DeBERTa folder fine-tunes and saves a DebertaModel folder that reads back the same', async () => {
  const config = validateTrainConfig(
    {
      seed: 5,
      model: { from, pooling: 'mean', normalize: true },
      data: { train: pairs, maxLength: 24, shuffleBuffer: 8 },
      loss: { name: 'infonce', scale: 20 },
      train: { batchSize: 4, maxSteps: 3, lr: 1e-3, warmupRatio: 0, weightDecay: 0.01 },
    },
    'deberta.json',
  );
  const end = await train({ config, output: join(root, 'run') });
  const final = join(root, 'run', 'final');
  assert.equal(end?.path, final);

  const cfg = JSON.parse(readFileSync(join(final, 'config.json'), 'utf8'));
  assert.equal(cfg.model_type, 'deberta');
  assert.deepEqual(cfg.architectures, ['DebertaModel']);
  assert.equal(cfg.relative_attention, false);
  assert.equal(cfg.type_vocab_size, 0);
  const tokCfg = JSON.parse(readFileSync(join(final, 'tokenizer_config.json'), 'utf8'));
  assert.equal(tokCfg.tokenizer_class, 'RobertaTokenizer');
  assert.equal(tokCfg.add_prefix_space, false);
  assert.equal(tokCfg.trim_offsets, true);

  const before = await readSafetensors(join(from, 'model.safetensors'));
  const after = await readSafetensors(join(final, 'model.safetensors'));
  assert.deepEqual(Object.keys(after.tensors).sort(), Object.keys(before.tensors).sort());
  const H = cfg.hidden_size;
  const row0 = (t: NamedTensor) => Array.from(t.data as Float32Array).slice(0, H);
  const w0 = row0(before.tensors['embeddings.word_embeddings.weight']);
  const w1 = row0(after.tensors['embeddings.word_embeddings.weight']);
  // three AdamW steps with no gradient: decay only, p · Π(1 − lr_t · wd) with lr 1e-3 then linear decay (1, 2/3, 1/3)
  const factor = [1, 2 / 3, 1 / 3].reduce((f, k) => f * (1 - 1e-3 * k * 0.01), 1);
  w0.forEach((v, i) => assert.ok(Math.abs(w1[i] - v * factor) < 1e-7, `row 0[${i}]: ${w1[i]} vs ${v * factor}`));
  const row1 = (t: NamedTensor) => Array.from(t.data as Float32Array).slice(H * 5, H * 6); // a token the data uses
  assert.notDeepEqual(row1(after.tensors['embeddings.word_embeddings.weight']), row1(before.tensors['embeddings.word_embeddings.weight']));

  // the saved folder reads back to the encoder that was saved (same embeddings as the run's own eval would give)
  const { encoder } = await loadFolder(final);
  assert.equal(encoder.config.normalize, true);
  const tok = await TextTokenizer.load(join(final, 'tokenizer.json'));
  const inputs = toInputs(tok.encode(['Graph neural networks', 'Белки и мир'], { maxLength: 24 }));
  const emb = tf.tidy(() => encoder.embed(inputs)).arraySync() as number[][];
  emb.forEach((row) => assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5));
  disposeInputs(inputs);
  encoder.dispose();
});

test('modelType deberta from scratch: DebertaConfig defaults, and a saved folder reads back bit for bit', async () => {
  const tokPath = 'test/fixtures/deberta/bpe/tokenizer.json';
  const tok = await TextTokenizer.load(tokPath);
  const c = validateModelConfig({ modelType: 'deberta', hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 32 }, 'r.json', tok.vocabSize);
  assert.equal(c.typeVocabSize, 0);
  assert.equal(c.layerNormEps, 1e-7);
  assert.throws(() => validateModelConfig({ modelType: 'deberta', moe: { layers: 'mod2', experts: 3 } }, 'r.json', 100), /model\.moe: task experts are implemented for BERT layers/);
  const enc = SentenceEncoder.init(c, 3);
  const dir = join(root, 'scratch');
  await mkdir(dir);
  await saveEncoder(dir, enc, tokPath, { maxLength: 32 });
  const { encoder: back } = await loadFolder(dir);
  const inputs = toInputs(tok.encode(['Белки', 'graph neural networks for molecules'], { maxLength: 32 }));
  assert.deepEqual(tf.tidy(() => back.embed(inputs)).arraySync(), tf.tidy(() => enc.embed(inputs)).arraySync());
  disposeInputs(inputs);
  enc.dispose();
  back.dispose();
});
