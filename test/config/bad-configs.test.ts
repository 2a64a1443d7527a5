/**
 * Bad configs of every kind, table-driven: each is one UserError line naming the file and the field
 * path, saying what was expected and what came, listing valid values for closed sets, and suggesting
 * the nearest valid key for a misspelled one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateTrainConfig, loadTrainConfig } from '../../src/train/config.js';
import { validateModelConfig, validateModelFrom, fromHfConfig } from '../../src/model/config.js';
import { validateMoe } from '../../src/model/moe.js';
import { validatePipelineConfig } from '../../src/pipeline/config.js';
import { parsePooling, parseSentenceBertConfig, parseStConfig, parseTokenizerConfig } from '../../src/folder/st-files.js';
import { editDistance, nearestKey } from '../../src/config/nearest.js';
import { UserError } from '../../src/util/errors.js';

const F = 'configs/x.json';

/** Runs `fn`, which must throw one UserError line equal to `F: <expected>` (a string) or matching `expected`. */
function refuses(fn: () => unknown, expected: string | RegExp, label: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `${label}: not a UserError: ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `${label}: more than one line: ${e.message}`);
    if (typeof expected === 'string') assert.equal(e.message, `${F}: ${expected}`, label);
    else assert.match(e.message, expected, label);
    return true;
  }, label);
}

const base = { tokenizer: 't.json', data: { train: 'x.arrow' } };
const recipeCases: Array<[string, unknown, string]> = [
  // wrong type
  ['string for a number', { ...base, train: { lr: 'abc' } }, 'train.lr: must be a number ≥ 0, got "abc"'],
  ['fraction for an integer', { ...base, train: { batchSize: 8.5 } }, 'train.batchSize: must be an integer ≥ 2, got 8.5'],
  ['number for a string', { ...base, name: 3 }, 'name: must be a non-empty string, got 3'],
  ['string for a boolean', { tokenizer: 't', datasets: [{ path: 'a', noDuplicates: 'yes' }] }, 'datasets[0].noDuplicates: must be true or false, got "yes"'],
  ['list for a section', { ...base, train: [] }, 'train: must be an object, got []'],
  ['empty datasets', { tokenizer: 't', datasets: [] }, 'datasets: must be a non-empty list of datasets, got []'],
  ['number for a column', { tokenizer: 't', datasets: [{ path: 'a', columns: { anchor: 3 } }] }, 'datasets[0].columns.anchor: must be a string, got 3'],
  // out of range
  ['batch of 1', { ...base, train: { batchSize: 1 } }, 'train.batchSize: must be an integer ≥ 2, got 1'],
  ['warmup over 1', { ...base, train: { warmupRatio: 1.5 } }, 'train.warmupRatio: must be a number in [0, 1], got 1.5'],
  ['negative seed', { ...base, seed: -1 }, 'seed: must be an integer ≥ 0, got -1'],
  ['zero scale', { ...base, loss: { scale: 0 } }, 'loss.scale: must be a number > 0, got 0'],
  ['maxLength 1', { ...base, data: { train: 'x', maxLength: 1 } }, 'data.maxLength: must be an integer ≥ 2, got 1'],
  // unknown keys, with the nearest valid key
  ['misspelled top key', { ...base, tokenzier: 'x' }, 'tokenzier: unknown key; valid keys: name, seed, tokenizer, model, datasets, loss, data, train; did you mean `tokenizer`?'],
  ['snake_case key', { ...base, train: { batch_size: 8 } }, 'train.batch_size: unknown key; valid keys: batchSize, miniBatchSize, epochs, maxSteps, lr, warmupRatio, weightDecay, maxGradNorm, checkpointEvery, evalEvery, maxBadSteps, saveTotalLimit; did you mean `batchSize`?'],
  ['misspelled loss option', { ...base, loss: { name: 'infonce', scael: 5 } }, 'loss.scael: unknown key; valid keys: name, scale, symmetric, similarity; did you mean `scale`?'],
  ['another tool\'s name', { ...base, train: { learning_rate: 1e-4 } }, 'train.learning_rate: unknown key; valid keys: batchSize, miniBatchSize, epochs, maxSteps, lr, warmupRatio, weightDecay, maxGradNorm, checkpointEvery, evalEvery, maxBadSteps, saveTotalLimit; did you mean `lr`?'],
  ['nothing near', { ...base, bogus: 1 }, 'bogus: unknown key; valid keys: name, seed, tokenizer, model, datasets, loss, data, train'],
  ['nested dataset key', { tokenizer: 't', datasets: [{ path: 'a' }, { path: 'b', promts: {} }] }, 'datasets[1].promts: unknown key; valid keys: name, path, loss, columns, prompts, noDuplicates, task; did you mean `prompts`?'],
  // enums list their values
  ['bad sampling', { ...base, data: { train: 'x', sampling: 'random' } }, 'data.sampling: unknown sampling "random"; valid: proportional, round_robin'],
  ['bad loss', { tokenizer: 't', datasets: [{ path: 'a', loss: { name: 'hinge' } }] }, 'datasets[0].loss.name: unknown loss "hinge"; valid: infonce, angle, cosent, triplet'],
  ['bad similarity', { ...base, loss: { name: 'cosent', similarity: 'dot' } }, 'loss.similarity: "dot" is not valid; valid: cosine, angle'],
  ['bad role', { tokenizer: 't', datasets: [{ path: 'a', prompts: { query: 'q: ' } }] }, 'datasets[0].prompts.query: unknown role; valid: anchor, positive, negative, negative_2…, text1, text2, score'],
  // cross-field refinements
  ['mini batch over batch', { ...base, train: { batchSize: 8, miniBatchSize: 16 } }, 'train.miniBatchSize: 16 is larger than train.batchSize 8; valid: 1..8 (or 0 for no GradCache)'],
  ['no length', { ...base, train: { epochs: 0 } }, 'train.epochs: set epochs > 0 or maxSteps > 0'],
  ['both forms', { ...base, datasets: [{ path: 'a' }] }, 'datasets: give either datasets: [...] or data.train with loss, not both'],
  ['no data', { tokenizer: 't' }, 'data.train: required: a non-empty string (or use datasets: [...])'],
  ['no tokenizer', { data: { train: 'x' } }, 'tokenizer: required: the path of a tokenizer.json (optional only with model.from)'],
  ['duplicate names', { tokenizer: 't', datasets: [{ name: 'a', path: 'a' }, { name: 'a', path: 'b' }] }, 'datasets[1].name: duplicate dataset name "a"'],
];

for (const [label, raw, expected] of recipeCases) {
  test(`recipe: ${label}`, () => refuses(() => validateTrainConfig(raw, F), expected, label));
}

const modelCases: Array<[string, unknown, string]> = [
  ['string size', { hiddenSize: '128' }, 'model.hiddenSize: must be a positive integer, got "128"'],
  ['zero layers', { numLayers: 0 }, 'model.numLayers: must be a positive integer, got 0'],
  ['dropout 1', { hiddenDropout: 1 }, 'model.hiddenDropout: must be a number in [0, 1), got 1'],
  ['bad pooling', { pooling: 'max' }, 'model.pooling: unknown pooling "max"; valid: mean, cls'],
  ['bad model type', { modelType: 'gpt2' }, 'model.modelType: unknown model type "gpt2"; valid: bert, xlm-roberta, deberta'],
  ['misspelled key', { numHead: 4 }, 'model.numHead: unknown key; valid keys: modelType, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions, vocabSize, typeVocabSize, layerNormEps, hiddenDropout, attentionDropout, initializerRange, padTokenId, pooling, normalize, moe; did you mean `numHeads`?'],
  ['heads not dividing', { hiddenSize: 10, numHeads: 4 }, 'model.numHeads: hiddenSize 10 is not divisible by numHeads 4'],
  ['pad past vocab', { padTokenId: 100 }, 'model.padTokenId: must be < vocabSize 100'],
  ['no token types for bert', { typeVocabSize: 0 }, 'model.typeVocabSize: must be at least 1 (0, no token types, is for modelType deberta)'],
  ['moe on deberta', { modelType: 'deberta', moe: { layers: 'mod2', experts: 3 } }, 'model.moe: task experts are implemented for BERT layers; valid with modelType bert or xlm-roberta'],
  ['moe nested', { numLayers: 4, moe: { layers: 'mod2', experts: 2, tasks: { a: 2 } } }, 'model.moe.tasks.a: must be an expert index 0..1, got 2'],
  ['moe nested key', { moe: { layers: 'mod2', expert: 3 } }, 'model.moe.expert: unknown key; valid keys: layers, parts, experts, tasks; did you mean `experts`?'],
  ['not an object', 5, 'model: must be an object, got 5'],
];
for (const [label, raw, expected] of modelCases) {
  test(`model section: ${label}`, () => refuses(() => validateModelConfig(raw, F, 100), expected, label));
}

test('model.from: sizes are refused with why, other keys with the nearest settable one', () => {
  refuses(() => validateModelFrom({ from: 'm', hiddenSize: 8 }, F), 'model.hiddenSize: cannot be set together with model.from (it comes from m/config.json); settable: pooling, normalize, hiddenDropout, attentionDropout, moe', 'size');
  refuses(() => validateModelFrom({ from: 'm', normalise: true }, F), 'model.normalise: unknown key; settable with model.from: pooling, normalize, hiddenDropout, attentionDropout, moe; did you mean `normalize`?', 'typo');
  refuses(() => validateModelFrom({ from: 'm', attentionDropout: -0.1 }, F), 'model.attentionDropout: must be a number in [0, 1), got -0.1', 'range');
  refuses(() => validateModelFrom({ from: '' }, F), 'model.from: must be the path of a Hugging Face / sentence-transformers model folder', 'empty');
  refuses(() => validateMoe({ layers: 'every2', experts: 2 }, 4, F), /^configs\/x\.json: model\.moe\.layers: "every2" is not valid; valid: modN .* \(numLayers 4\)$/, 'moe rule');
});

const pipelineCases: Array<[string, unknown, string]> = [
  ['misspelled merge key', { stages: [{ name: 'a', train: base }, { name: 'm', merge: { models: ['a', 'a'], temprature: 5 } }] }, 'stages[1].merge.temprature: unknown key; valid keys: models, weights, exampleData, maxExamples, temperature, batchSize, negatives, pooling, normalize; did you mean `temperature`?'],
  ['zero temperature', { stages: [{ name: 'a', train: base }, { name: 'm', merge: { models: ['a', 'a'], temperature: 0 } }] }, 'stages[1].merge.temperature: must be a number > 0, got 0'],
  ['bad weight', { stages: [{ name: 'a', train: base }, { name: 'm', merge: { models: ['a', 'a'], weights: [0.5, '0.5'] } }] }, 'stages[1].merge.weights[1]: must be a number, got "0.5"'],
  ['bad pooling', { stages: [{ name: 'a', train: base }, { name: 'm', merge: { models: ['a', 'a'], pooling: 'max' } }] }, 'stages[1].merge.pooling: unknown pooling "max"; valid: mean, cls'],
  ['fractional opset', { stages: [{ name: 'a', train: base }, { name: 'x', export: { model: 'a', opset: 16.5 } }] }, 'stages[1].export.opset: must be an integer, got 16.5'],
  ['stage key typo', { stages: [{ name: 'a', train: base, form: 'b' }] }, 'stages[0].form: unknown key; valid keys: name, train, from; did you mean `from`?'],
  ['top key typo', { stage: [] }, 'stage: unknown key; valid keys: name, stages; did you mean `stages`?'],
  ['recipe inside', { stages: [{ name: 'a', train: { ...base, train: { lr: 'fast' } } }] }, 'stages[0].train: train.lr: must be a number ≥ 0, got "fast"'],
  ['eval data not a list', { stages: [{ name: 'a', train: base }, { name: 'e', eval: { models: ['a'], data: 'd.arrow' } }] }, 'stages[1].eval.data: must be a list of at least 1 name, got "d.arrow"'],
];
for (const [label, raw, expected] of pipelineCases) {
  test(`pipeline: ${label}`, () => refuses(() => validatePipelineConfig(raw, F), expected, label));
}

test('model folder files: config.json, sentence_bert_config.json, tokenizer_config.json, 1_Pooling/config.json and config_sentence_transformers.json are checked with the same machinery', () => {
  const sizes = { vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 };
  refuses(() => fromHfConfig({ ...sizes, hidden_size: '8' }, F), 'hidden_size: must be a positive integer, got "8"', 'string size');
  refuses(() => fromHfConfig({ ...sizes, num_attention_heads: 3 }, F), 'num_attention_heads: 3 does not divide hidden_size 8', 'heads');
  refuses(() => fromHfConfig({ ...sizes, hidden_dropout_prob: 2 }, F), 'hidden_dropout_prob: must be a number in [0, 1], got 2', 'dropout');
  refuses(() => fromHfConfig({ ...sizes, pad_token_id: -1 }, F), 'pad_token_id: must be an integer ≥ 0, got -1', 'pad');
  refuses(() => fromHfConfig({ ...sizes, hidden_act: 'relu' }, F), 'hidden_act: unsupported activation "relu"; supported: gelu', 'activation');
  refuses(() => fromHfConfig({ ...sizes, is_decoder: true }, F), /^configs\/x\.json: is_decoder: decoder \/ cross-attention configurations are not supported/, 'decoder');
  refuses(() => fromHfConfig({ vocab_size: 10 }, F), 'hidden_size: required: a positive integer', 'missing');
  const deberta = { ...sizes, model_type: 'deberta' };
  refuses(() => fromHfConfig({ ...deberta, relative_attention: 'no' }, F), 'relative_attention: must be true or false, got "no"', 'deberta type');
  refuses(() => fromHfConfig({ ...deberta, pos_att_type: 'c2p|p2c' }, F), 'pos_att_type: "c2p|p2c" is not supported (it belongs to relative attention and changes the attention scale); supported: null', 'deberta pos_att_type');
  refuses(() => fromHfConfig({ ...deberta, embedding_size: 4 }, F), 'embedding_size: 4 (a projected embedding) is not supported; supported: equal to hidden_size', 'deberta embedding');
  assert.equal(fromHfConfig({ ...deberta, relative_attention: false, pos_att_type: null, embedding_size: 8 }, F).typeVocabSize, 0);
  // transformers writes null for "the class default"; unknown keys are transformers' business
  assert.equal(fromHfConfig({ ...sizes, pad_token_id: null, architectures: ['BertModel'], some_future_key: 1 }, F).padTokenId, 0);
  refuses(() => parseSentenceBertConfig({ max_seq_length: '128' }, F), 'max_seq_length: must be an integer ≥ 2, got "128"', 'sbert string');
  refuses(() => parseSentenceBertConfig({ max_seq_length: 1 }, F), 'max_seq_length: must be an integer ≥ 2, got 1', 'sbert small');
  refuses(() => parseSentenceBertConfig([], F), 'must be a JSON object, got []', 'sbert list');
  assert.equal(parseSentenceBertConfig({ max_seq_length: null, do_lower_case: false }, F), undefined);
  assert.equal(parseSentenceBertConfig({ max_seq_length: 256 }, F), 256);
  refuses(() => parseTokenizerConfig({ model_max_length: 'long' }, F), 'model_max_length: must be a number ≥ 1, got "long"', 'tokenizer_config');
  assert.equal(parseTokenizerConfig({ model_max_length: 1e30 }, F), 1e30); // transformers' "no limit"
  refuses(() => parsePooling({ word_embedding_dimension: '8', pooling_mode_mean_tokens: true }, F, 8), 'word_embedding_dimension: must be a positive integer, got "8"', 'pooling dim');
  refuses(() => parsePooling({ pooling_mode_mean_tokens: true, include_prompt: 'no' }, F, 8), 'include_prompt: must be true or false, got "no"', 'include_prompt');
  assert.equal(parsePooling({ word_embedding_dimension: 8, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }, F, 8), 'cls');
  refuses(() => parseStConfig({ prompts: { query: 3 } }, F), 'prompts.query: must be a string, got 3', 'prompt');
  refuses(() => parseStConfig({ prompts: ['query: '] }, F), 'prompts: must be an object of prompt name → prefix, got ["query: "]', 'prompts list');
  assert.deepEqual(parseStConfig({ prompts: { query: 'q: ' }, default_prompt_name: null, similarity_fn_name: 'cosine' }, F), { prompts: { query: 'q: ' }, defaultPromptName: null });
});

test('a recipe file: errors name the file given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'contrastive-bad-config-'));
  const path = join(dir, 'recipe.json');
  writeFileSync(path, JSON.stringify({ ...base, train: { learningrate: 1e-4 } }));
  assert.throws(() => loadTrainConfig(path), (e: unknown) => e instanceof UserError && e.message.startsWith(`${path}: train.learningrate: unknown key;`));
});

test('nearest key: edit distance, case-blind, only when plausible', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(nearestKey('batchsize', ['batchSize', 'miniBatchSize']), 'batchSize');
  assert.equal(nearestKey('temprature', ['temperature', 'models']), 'temperature');
  assert.equal(nearestKey('bogus', ['name', 'seed', 'tokenizer']), undefined);
  assert.equal(nearestKey('lr', ['lr', 'seed']), 'lr');
});
