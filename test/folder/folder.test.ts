/**
 * writeModelFolder writes a complete sentence-transformers folder (the files transformers,
 * sentence-transformers and transformers.js read, with values derived from the encoder and the
 * tokenizer), and readModelFolder + loadEncoder read it back bit for bit. Error cases name the
 * file and field and list what is supported.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile, rename, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MODEL_CONFIG, validateModelFrom, type ModelConfig } from '../../src/model/config.js';
import { SentenceEncoder, toInputs, disposeInputs } from '../../src/model/encoder.js';
import { loadEncoder, readModelFolder } from '../../src/folder/read.js';
import { saveEncoder as saveModelFolder } from '../helpers/folder.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { UserError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { useBackend } from '../helpers/backend.js';
import { savedStPrompts, tokenizerFacts, type TokenizerJson } from '../../src/folder/st-files.js';

const BERT_TOKENIZER = 'test/fixtures/hf-bert/tokenizer.json';
const XLMR_TOKENIZER = 'test/fixtures/hf-xlmr/tokenizer.json';
const TEXTS = ['The quick cat learns sentence embeddings.', 'protein structure', 'mat', 'кошка на ковре'];

/** A folder's encoder, with the folder's facts in one record (head, prompts, maxLength). */
async function loadPretrained(dir: string) {
  const folder = await readModelFolder(dir);
  const encoder = await loadEncoder(folder);
  return { encoder, info: { ...folder, pooling: folder.config.pooling, normalize: folder.config.normalize }, tokenizerPath: folder.tokenizerPath };
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'contrastive-folder-'));
  dirs.push(d);
  return d;
}

/** A random encoder with random biases / LayerNorm too (init's 0/1 would hide swapped tensors). */
function randomEncoder(over: Partial<ModelConfig>, seed: number): SentenceEncoder {
  const config: ModelConfig = {
    ...DEFAULT_MODEL_CONFIG, vocabSize: 100, hiddenSize: 16, numLayers: 2, numHeads: 4, intermediateSize: 32,
    maxPositions: 24, initializerRange: 0.3, ...over,
  };
  const encoder = SentenceEncoder.init(config, seed);
  const rng = new Rng(seed + 1);
  for (const [name, v] of Object.entries(encoder.params)) {
    if (name.endsWith('.bias') || name.includes('LayerNorm')) tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', rng.seed())));
  }
  return encoder;
}

async function embed(encoder: SentenceEncoder, tokenizerPath: string, maxLength: number): Promise<Float32Array> {
  const tokenizer = await TextTokenizer.load(tokenizerPath);
  const inputs = toInputs(tokenizer.encode(TEXTS, { maxLength }));
  const out = tf.tidy(() => encoder.embed(inputs));
  const data = out.dataSync() as Float32Array;
  out.dispose();
  disposeInputs(inputs);
  return data;
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test('saveModelFolder writes a sentence-transformers folder (BERT, mean + Normalize, prompts, card)', async () => {
  await useBackend('cpu');
  const encoder = randomEncoder({ pooling: 'mean', normalize: true }, 3);
  const dir = await tempDir();
  const prompts = { query: 'query: ', passage: 'passage: ' };
  await saveModelFolder(dir, encoder, BERT_TOKENIZER, {
    maxLength: 16, prompts,
    card: {
      baseModel: 'org/tiny-bert', datasets: [{ name: 'papers', path: 'data/train.arrow', rows: 3000, loss: 'InfoNCE (scale 20)' }],
      loss: { name: 'infonce', scale: 20 }, hyperparameters: { lr: 5e-5, batchSize: 32 }, evalMetrics: { 'recall@1': 0.8125 },
      evalDataset: 'data/eval.arrow', trainingSeconds: 125, steps: 90,
    },
  });
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'modules.json',
    'config_sentence_transformers.json', 'sentence_bert_config.json', '1_Pooling/config.json', 'README.md']) {
    assert.ok(existsSync(join(dir, f)), f);
  }
  assert.ok(existsSync(join(dir, '2_Normalize')));
  assert.equal(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), readFileSync(BERT_TOKENIZER, 'utf8'));
  const cfg = json(join(dir, 'config.json'));
  assert.equal(cfg.model_type, 'bert');
  assert.deepEqual(cfg.architectures, ['BertModel']);
  const tc = json(join(dir, 'tokenizer_config.json'));
  assert.equal(tc.tokenizer_class, 'BertTokenizer');
  assert.equal(tc.do_lower_case, true); // the fixture's BertNormalizer lowercases
  assert.equal(tc.strip_accents, false); // ... and keeps accents: BertTokenizerFast must not rebuild it
  assert.equal(tc.model_max_length, 16);
  assert.equal(tc.pad_token, '[PAD]');
  assert.equal(tc.cls_token, '[CLS]');
  assert.equal(tc.clean_up_tokenization_spaces, true);
  assert.deepEqual(tc.added_tokens_decoder['0'], { content: '[PAD]', lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });
  assert.deepEqual(json(join(dir, 'special_tokens_map.json')), { cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' });
  const st = json(join(dir, 'config_sentence_transformers.json'));
  assert.equal(st.model_type, 'SentenceTransformer');
  // + `document`: sentence-transformers 6's encode_document would otherwise take its own empty `document` prompt
  assert.deepEqual(st.prompts, { ...prompts, document: 'passage: ' });
  assert.equal(st.default_prompt_name, null);
  assert.equal(st.similarity_fn_name, 'cosine');
  assert.equal(typeof st.__version__.sentence_transformers, 'string');
  assert.deepEqual(json(join(dir, 'sentence_bert_config.json')), { max_seq_length: 16, do_lower_case: false });
  const pool = json(join(dir, '1_Pooling/config.json'));
  assert.equal(pool.word_embedding_dimension, 16);
  assert.equal(pool.pooling_mode_mean_tokens, true);
  assert.equal(pool.pooling_mode_cls_token, false);
  assert.deepEqual(json(join(dir, 'modules.json')).map((m: { path: string }) => m.path), ['', '1_Pooling', '2_Normalize']);
  const card = readFileSync(join(dir, 'README.md'), 'utf8');
  assert.match(card, /^---\nlibrary_name: sentence-transformers/);
  assert.match(card, /base_model: "org\/tiny-bert"/);
  assert.match(card, /\{ pooling: 'mean', normalize: true \}/); // transformers.js needs to be told
  assert.match(card, /prompt_name="query"/);
  assert.match(card, /\| papers \| data\/train\.arrow \| 3000 \| InfoNCE \(scale 20\) \|/);
  assert.match(card, /\| recall@1 \| 0\.8125 \|/);
  assert.match(card, /\| Training time \| 2 min 5 s \|/);
  assert.match(card, /\(2\): Normalize\(\)/);
  encoder.dispose();
});

test('write -> read + loadEncoder: every param bitwise, identical embeddings, head and prompts restored', async () => {
  await useBackend('cpu');
  for (const [over, tokenizerPath] of [
    [{ pooling: 'mean', normalize: true }, BERT_TOKENIZER],
    [{ pooling: 'cls', normalize: false }, BERT_TOKENIZER],
    [{ modelType: 'xlm-roberta', padTokenId: 1, typeVocabSize: 1, layerNormEps: 1e-5, vocabSize: 95, maxPositions: 42, pooling: 'mean', normalize: true }, XLMR_TOKENIZER],
  ] as Array<[Partial<ModelConfig>, string]>) {
    const encoder = randomEncoder(over, 11);
    const dir = await tempDir();
    await saveModelFolder(dir, encoder, tokenizerPath, { maxLength: 40, prompts: { query: 'query: ' } });
    const loaded = await loadPretrained(dir);
    assert.deepEqual(loaded.encoder.config, encoder.config);
    assert.deepEqual(Object.keys(loaded.encoder.params).sort(), Object.keys(encoder.params).sort());
    for (const [name, v] of Object.entries(encoder.params)) {
      assert.deepEqual(loaded.encoder.params[name].dataSync(), v.dataSync(), `${over.modelType ?? 'bert'} ${name}`);
    }
    const maxLength = Math.min(40, over.modelType === 'xlm-roberta' ? 40 : 24);
    assert.equal(loaded.info.maxLength, maxLength); // capped at the positions the model has
    assert.equal(loaded.info.head, 'sentence-transformers');
    assert.deepEqual(loaded.info.prompts, { query: 'query: ' });
    const want = await embed(encoder, tokenizerPath, maxLength);
    const got = await embed(loaded.encoder, loaded.tokenizerPath, loaded.info.maxLength);
    assert.deepEqual(got, want);
    if (over.modelType === 'xlm-roberta') {
      const tc = json(join(dir, 'tokenizer_config.json'));
      // its NFKC normalizer is not what transformers 5's XLMRobertaTokenizer rebuilds: the generic class runs tokenizer.json as is
      assert.equal(tc.tokenizer_class, 'PreTrainedTokenizerFast');
      assert.equal(tc.do_lower_case, false);
      assert.equal(tc.bos_token, '<s>');
      assert.equal(tc.pad_token, '<pad>');
      assert.deepEqual(json(join(dir, 'config.json')).architectures, ['XLMRobertaModel']);
      assert.equal(json(join(dir, 'config.json')).model_type, 'xlm-roberta');
    }
    const noTokenizer = await readModelFolder(dir, { requireTokenizer: false });
    assert.equal(noTokenizer.maxLength, maxLength);
    loaded.encoder.dispose();
    encoder.dispose();
  }
});

test('writeModelFolder keeps working with only { maxLength } (no prompts, no card)', async () => {
  await useBackend('cpu');
  const encoder = randomEncoder({ pooling: 'cls', normalize: false }, 5);
  const dir = await tempDir();
  await saveModelFolder(dir, encoder, BERT_TOKENIZER, { maxLength: 12 });
  assert.deepEqual(json(join(dir, 'config_sentence_transformers.json')).prompts, {});
  assert.deepEqual(json(join(dir, 'modules.json')).map((m: { type: string }) => m.type.split('.').pop()), ['Transformer', 'Pooling']);
  assert.ok(!existsSync(join(dir, '2_Normalize')));
  assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /\{ pooling: 'cls', normalize: false \}/);
  encoder.dispose();
});

async function expectUserError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('readModelFolder / loadEncoder errors name the file/field and list what is supported', async () => {
  await useBackend('cpu');
  const encoder = randomEncoder({}, 7);
  const dir = await tempDir();
  await saveModelFolder(dir, encoder, BERT_TOKENIZER, { maxLength: 16 });
  encoder.dispose();
  const cfgPath = join(dir, 'config.json');
  const cfg = json(cfgPath);

  await writeFile(cfgPath, JSON.stringify({ ...cfg, model_type: 'deberta-v2' }));
  await expectUserError(loadPretrained(dir), /config\.json: model_type: unsupported model_type "deberta-v2" \(DeBERTa v2\/v3 need disentangled relative attention, a later step\); supported: bert, xlm-roberta, deberta/);
  await writeFile(cfgPath, JSON.stringify({ ...cfg, position_embedding_type: 'relative_key' }));
  await expectUserError(loadPretrained(dir), /position_embedding_type: unsupported "relative_key"; supported: absolute/);
  await writeFile(cfgPath, JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
  await expectUserError(loadPretrained(dir), /model\.safetensors: encoder\.layer\.2\.attention\.self\.query\.weight: tensor missing from the checkpoint; the checkpoint has \d+ tensors/);
  await writeFile(cfgPath, JSON.stringify({ ...cfg, vocab_size: 50 }));
  await expectUserError(loadPretrained(dir), /tokenizer\.json: the tokenizer has ids up to 79 but config\.json vocab_size is 50/);
  await writeFile(cfgPath, JSON.stringify(cfg));

  const modules = json(join(dir, 'modules.json'));
  await writeFile(join(dir, 'modules.json'), JSON.stringify([...modules, { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' }]));
  await expectUserError(loadPretrained(dir), /modules\.json: module "2": unsupported module "sentence_transformers\.models\.Dense" \(2_Dense\); supported: Transformer -> Pooling -> Normalize/);
  await writeFile(join(dir, 'modules.json'), JSON.stringify(modules));
  const poolPath = join(dir, '1_Pooling', 'config.json');
  const pool = json(poolPath);
  await writeFile(poolPath, JSON.stringify({ ...pool, pooling_mode_mean_tokens: false, pooling_mode_max_tokens: true }));
  await expectUserError(loadPretrained(dir), /1_Pooling\/config\.json: pooling_mode: unsupported pooling pooling_mode_max_tokens; supported: pooling_mode_mean_tokens \(mean\) or pooling_mode_cls_token \(cls\)/);
  await writeFile(poolPath, JSON.stringify(pool));

  await rename(join(dir, 'tokenizer.json'), join(dir, 'tokenizer.bak'));
  await writeFile(join(dir, 'vocab.txt'), '[PAD]\n');
  await expectUserError(loadPretrained(dir), /tokenizer\.json: tokenizer\.json not found \(the folder has only the slow tokenizer's vocab\.txt\)/);
  await rename(join(dir, 'tokenizer.bak'), join(dir, 'tokenizer.json'));

  await rename(join(dir, 'model.safetensors'), join(dir, 'pytorch_model.bin'));
  await expectUserError(loadPretrained(dir), /model\.safetensors: only pytorch_model\.bin \(a PyTorch pickle\) is present; it is not supported/);
  await expectUserError(loadPretrained(join(dir, 'nope')), /nope: model folder not found/);
});

test('a plain HF folder (no modules.json) gets mean pooling without Normalize; XLM-R pad mismatch is refused', async () => {
  await useBackend('cpu');
  const dir = await tempDir();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) await copyFile(join('test/fixtures/hf-xlmr/model', f), join(dir, f));
  const { encoder, info } = await loadPretrained(dir);
  assert.deepEqual([info.head, info.pooling, info.normalize, info.maxLength], ['default', 'mean', false, 40]); // 42 positions - (pad 1 + 1)
  encoder.dispose();
  const cfg = json(join(dir, 'config.json'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, pad_token_id: 0 }));
  await expectUserError(loadPretrained(dir), /tokenizer\.json: pad: pads with id 1 but config\.json pad_token_id is 0/);
});

test('model.from with head/dropout overrides loads them; size keys are refused', async () => {
  await useBackend('cpu');
  const from = 'test/fixtures/hf-bert/bert-model';
  const recipe = validateModelFrom({ from, pooling: 'cls', normalize: true, hiddenDropout: 0 }, 'configs/x.json');
  const folder = await readModelFolder(recipe.from);
  const encoder = await loadEncoder(folder, recipe.overrides);
  assert.deepEqual([encoder.config.pooling, encoder.config.normalize, encoder.config.hiddenDropout, encoder.config.attentionDropout], ['cls', true, 0, 0.1]);
  assert.deepEqual([folder.config.pooling, folder.config.normalize], ['mean', false]); // the folder itself is a plain HF model
  assert.equal(folder.tokenizerPath, join(from, 'tokenizer.json'));
  encoder.dispose();
  const refused = (model: Record<string, unknown>, pattern: RegExp) => assert.throws(() => validateModelFrom(model, 'configs/x.json'), (err: unknown) => err instanceof UserError && pattern.test(err.message));
  refused({ from, hiddenSize: 32 }, /configs\/x\.json: model\.hiddenSize: cannot be set together with model\.from \(it comes from .*config\.json\); settable: pooling, normalize, hiddenDropout, attentionDropout/);
  refused({ from, pooling: 'max' }, /model\.pooling: unknown pooling "max"; valid: mean, cls/);
  refused({ from: 3 }, /model\.from: must be the path/);
});

test('tokenizer_class names BertTokenizer / XLMRobertaTokenizer only for the pipeline transformers 5 rebuilds them with', () => {
  const unigram = { type: 'Unigram', vocab: [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['\u2581a', -1]] as [string, number][] };
  const meta = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  const xlmr = (normalizer: unknown, pre_tokenizer: unknown) => tokenizerFacts({ model: unigram, normalizer, pre_tokenizer } as TokenizerJson).tokenizerClass;
  assert.equal(xlmr(null, { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, meta] }), 'XLMRobertaTokenizer');
  const precompiled = { type: 'Precompiled', precompiled_charsmap: 'AA==' };
  assert.equal(xlmr(precompiled, meta), 'XLMRobertaTokenizer'); // xlm-roberta-base's own tokenizer.json
  assert.equal(xlmr({ type: 'Sequence', normalizers: [precompiled, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] }, meta), 'XLMRobertaTokenizer');
  assert.equal(xlmr(null, meta), 'PreTrainedTokenizerFast'); // "a\nb": Metaspace alone keeps the newline, the rebuild splits on it
  assert.equal(xlmr({ type: 'NFKC' }, meta), 'PreTrainedTokenizerFast'); // the rebuild would drop NFKC
  const wordpiece = { type: 'WordPiece', vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4 } };
  const bertNorm = { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true };
  const bert = (normalizer: unknown, pre_tokenizer: unknown) => tokenizerFacts({ model: wordpiece, normalizer, pre_tokenizer } as TokenizerJson).tokenizerClass;
  assert.equal(bert(bertNorm, { type: 'BertPreTokenizer' }), 'BertTokenizer');
  assert.equal(bert(bertNorm, { type: 'Whitespace' }), 'PreTrainedTokenizerFast');
  assert.equal(bert({ type: 'Sequence', normalizers: [{ type: 'NFD' }, bertNorm] }, { type: 'BertPreTokenizer' }), 'PreTrainedTokenizerFast');
});

test('saved prompts gain `document` = the passage prompt, which sentence-transformers 6 encode_document reads first', () => {
  assert.deepEqual(savedStPrompts({ query: 'query: ', passage: 'passage: ' }), { query: 'query: ', passage: 'passage: ', document: 'passage: ' });
  assert.deepEqual(savedStPrompts({ query: 'q: ', document: 'd: ', passage: 'p: ' }), { query: 'q: ', document: 'd: ', passage: 'p: ' });
  assert.deepEqual(savedStPrompts({ query: 'query: ' }), { query: 'query: ' });
  assert.deepEqual(savedStPrompts({}), {});
});
