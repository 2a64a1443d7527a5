/** Model config: modelType in recipes and in HF config.json, both directions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateModelConfig, toHfConfig, fromHfConfig, maxSequenceLength, DEFAULT_MODEL_CONFIG, type BertConfig } from '../../src/model/config.js';

test('toHfConfig / fromHfConfig round-trip every field, for bert and xlm-roberta', () => {
  for (const modelType of ['bert', 'xlm-roberta'] as const) {
    const { pooling: _p, normalize: _n, ...base } = DEFAULT_MODEL_CONFIG;
    const c: BertConfig = { ...base, modelType, vocabSize: 99, padTokenId: modelType === 'xlm-roberta' ? 1 : 0, layerNormEps: 1e-5, typeVocabSize: 1 };
    const hf = toHfConfig(c);
    assert.equal(hf.model_type, modelType);
    assert.deepEqual(hf.architectures, [modelType === 'bert' ? 'BertModel' : 'XLMRobertaModel']);
    assert.deepEqual(fromHfConfig(JSON.parse(JSON.stringify(hf)), 'config.json'), c);
  }
});

test('HF class defaults fill keys config.json omits; a missing model_type reads as bert', () => {
  const sizes = { vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 };
  const x = fromHfConfig({ ...sizes, model_type: 'xlm-roberta' }, 'c');
  assert.deepEqual([x.modelType, x.padTokenId, x.typeVocabSize, x.layerNormEps, x.maxPositions], ['xlm-roberta', 1, 2, 1e-12, 512]);
  assert.equal(maxSequenceLength(x), 510);
  const b = fromHfConfig(sizes, 'c');
  assert.deepEqual([b.modelType, b.padTokenId, maxSequenceLength(b)], ['bert', 0, 512]);
  assert.throws(() => fromHfConfig({ ...sizes, model_type: 'deberta-v2' }, 'c'), /c: model_type: unsupported model_type "deberta-v2" \(DeBERTa v2\/v3 need disentangled relative attention, a later step\); supported: bert, xlm-roberta, deberta/);
  assert.throws(() => fromHfConfig({ ...sizes, model_type: 'gpt2' }, 'c'), /c: model_type: unsupported model_type "gpt2"; supported: bert, xlm-roberta, deberta/);
  assert.throws(() => fromHfConfig({ ...sizes, hidden_act: 'relu' }, 'c'), /hidden_act: unsupported activation "relu"; supported: gelu/);
});

test('recipes may set modelType; xlm-roberta defaults padTokenId to 1', () => {
  assert.equal(validateModelConfig({}, 'r', 50).modelType, 'bert');
  const x = validateModelConfig({ modelType: 'xlm-roberta' }, 'r', 50);
  assert.deepEqual([x.modelType, x.padTokenId], ['xlm-roberta', 1]);
  assert.equal(validateModelConfig({ modelType: 'xlm-roberta', padTokenId: 3 }, 'r', 50).padTokenId, 3);
  assert.throws(() => validateModelConfig({ modelType: 'gpt2' }, 'r', 50), /r: model\.modelType: unknown model type "gpt2"; valid: bert, xlm-roberta/);
});
