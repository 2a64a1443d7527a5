import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { UserError } from '../../src/util/errors.js';
import { repoFile, tempDir } from './helpers.js';

const tokP = TextTokenizer.load(repoFile('data/tokenizer.json'));

test('tokenizer: bundled tokenizer has [PAD]=0 and the BERT special tokens', async () => {
  const tok = await tokP;
  assert.equal(tok.padId, 0);
  assert.deepEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((s) => tok.tokenToId(s)), [0, 1, 2, 3, 4]);
  assert.ok(tok.vocabSize >= 5000 && tok.vocabSize <= 6000, `vocab ${tok.vocabSize}`);
  assert.equal(tok.numSpecialTokens, 2);
});

test('tokenizer: [CLS] … [SEP] framing, lowercasing, padding to the longest, mask sums = lengths', async () => {
  const tok = await tokP;
  const texts = ['Graph neural networks', 'Protein folding stability of membrane proteins', 'x'];
  const b = tok.encode(texts, { maxLength: 64 });
  const lengths = texts.map((t) => tok.tokenize(t).length + 2);
  assert.equal(b.batchSize, 3);
  assert.equal(b.seqLen, Math.max(...lengths));
  assert.equal(b.inputIds.length, 3 * b.seqLen);
  for (let r = 0; r < 3; r++) {
    const row = Array.from(b.inputIds.subarray(r * b.seqLen, (r + 1) * b.seqLen));
    const mask = Array.from(b.attentionMask.subarray(r * b.seqLen, (r + 1) * b.seqLen));
    assert.equal(row[0], tok.tokenToId('[CLS]'));
    assert.equal(row[lengths[r] - 1], tok.tokenToId('[SEP]'));
    assert.deepEqual(row.slice(lengths[r]), new Array(b.seqLen - lengths[r]).fill(tok.padId));
    assert.equal(mask.reduce((s, x) => s + x, 0), lengths[r]);
    assert.deepEqual(mask, [...new Array(lengths[r]).fill(1), ...new Array(b.seqLen - lengths[r]).fill(0)]);
  }
  assert.ok(b.tokenTypeIds.every((x) => x === 0));
  assert.deepEqual(tok.tokenize('GRAPH Neural'), tok.tokenize('graph neural'));
  assert.equal(tok.decode(Array.from(b.inputIds.subarray(0, lengths[0]))), 'graph neural networks');
});

test('tokenizer: truncation to maxLength includes the special tokens and keeps [SEP] last', async () => {
  const tok = await tokP;
  const long = 'graph neural networks for protein folding and exoplanet atmospheres '.repeat(10);
  const full = tok.tokenize(long);
  assert.ok(full.length > 20);
  const b = tok.encode([long, 'short'], { maxLength: 8 });
  assert.equal(b.seqLen, 8);
  const row = Array.from(b.inputIds.subarray(0, 8));
  assert.equal(row[0], tok.tokenToId('[CLS]'));
  assert.equal(row[7], tok.tokenToId('[SEP]'));
  assert.deepEqual(row.slice(1, 7), full.slice(0, 6).map((t) => tok.tokenToId(t)));
  assert.equal(b.attentionMask.subarray(0, 8).reduce((s, x) => s + x, 0), 8);
  assert.throws(() => tok.encode(['a'], { maxLength: 2 }), (e: unknown) => e instanceof UserError && /maxLength: must be an integer of at least 3/.test(e.message));
  const tiny = tok.encode(['anything at all'], { maxLength: 3 });
  assert.equal(tiny.seqLen, 3);
});

test('tokenizer: ordinary Russian and English words give no [UNK]; й and ё survive normalization', async () => {
  const tok = await tokP;
  const unk = tok.tokenToId('[UNK]');
  const texts = [
    'Исследование свёрточных нейронных сетей для прогнозирования урожайности озимой пшеницы',
    'Её объём йогурта съеден; подъём ёлки — в январе. Щука, эхо, юла, ящерица, фьорд, цапля, шёпот, чайка, хор, жёлудь.',
    'The quick brown fox jumps over the lazy dog, 1234567890 (50%)!',
  ];
  for (const t of texts) {
    const ids = tok.encode([t], { maxLength: 512 }).inputIds;
    assert.ok(!ids.includes(unk!), `[UNK] in ${JSON.stringify(t)}: ${tok.tokenize(t).join(' ')}`);
  }
  const pieces = tok.tokenize('йод ёж').join(' ');
  assert.match(pieces, /й/);
  assert.match(pieces, /ё/);
});

test('tokenizer: load errors are UserErrors naming the file', async () => {
  const t = await tempDir();
  try {
    await assert.rejects(TextTokenizer.load(await t.file('none.json')), (e: unknown) => e instanceof UserError && /none\.json: tokenizer file not found/.test(e.message));
    await assert.rejects(TextTokenizer.load(await t.file('bad.json', '{nope')), (e: unknown) => e instanceof UserError && /bad\.json: tokenizer file is not valid JSON/.test(e.message));
    await assert.rejects(TextTokenizer.load(await t.file('obj.json', '{"a":1}')), (e: unknown) => e instanceof UserError && /obj\.json: not a usable Hugging Face tokenizer\.json/.test(e.message));
  } finally {
    await t.cleanup();
  }
});

test('tokenizer: the Rust `tokenizers` implementation reads the same file and gives the same ids', async () => {
  const tok = await tokP;
  const { Tokenizer } = await import('tokenizers');
  const rust = Tokenizer.fromFile(repoFile('data/tokenizer.json'));
  for (const text of ['Graph attention networks for citation graphs', 'Её объём: свёрточные сети и йод — 5%', 'Über naïve café']) {
    const enc = await rust.encode(text);
    assert.deepEqual(enc.getIds(), tok.encodeOne(text, 512), text);
  }
});
