/**
 * Readers do not trust their input: a damaged model folder, tokenizer or labelled file is a one-line
 * UserError naming the file and the field, before it can train or evaluate on garbage.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEncoder, readModelFolder } from '../../src/folder/read.js';
import { readSafetensors, writeSafetensors } from '../../src/folder/safetensors.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { TableFileWriter } from '../../src/data/arrow-writer.js';
import { readLabelledPairs } from '../../src/data/labelled.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend } from '../helpers/backend.js';

await useBackend('cpu');
const root = await mkdtemp(join(tmpdir(), 'contrastive-damaged-'));
after(() => rm(root, { recursive: true, force: true }));
const SOURCE = 'test/fixtures/hf-bert/bert-model';

const userErr = (pattern: RegExp) => (e: unknown) => e instanceof UserError && pattern.test(e.message);

async function copy(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(SOURCE, dir, { recursive: true });
  return dir;
}

async function editJson(path: string, change: (j: Record<string, unknown>) => void): Promise<void> {
  const j = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  change(j);
  await writeFile(path, JSON.stringify(j));
}

test('config.json: heads that do not divide the hidden size, or fractional sizes, are refused', async () => {
  const dir = await copy('heads');
  await editJson(join(dir, 'config.json'), (j) => (j.num_attention_heads = 3));
  await assert.rejects(readModelFolder(dir), userErr(/config\.json: num_attention_heads: 3 does not divide hidden_size \d+/));
  await editJson(join(dir, 'config.json'), (j) => Object.assign(j, { num_attention_heads: 2, num_hidden_layers: 1.5 }));
  await assert.rejects(readModelFolder(dir), userErr(/config\.json: num_hidden_layers: must be a positive integer, got 1\.5/));
});

test('sentence_bert_config.json: a non-numeric max_seq_length is refused', async () => {
  const dir = await copy('sbert');
  await writeFile(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 'long', do_lower_case: false }));
  await assert.rejects(readModelFolder(dir), userErr(/sentence_bert_config\.json: max_seq_length: must be an integer ≥ 2, got "long"/));
});

test('model.safetensors holding NaN or Inf is refused at load, naming the tensor', async () => {
  const dir = await copy('nan');
  const { tensors, metadata } = await readSafetensors(join(dir, 'model.safetensors'));
  const name = 'encoder.layer.0.attention.self.key.weight';
  (tensors[name].data as Float32Array)[5] = NaN;
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, metadata);
  await assert.rejects(loadEncoder(await readModelFolder(dir)), userErr(new RegExp(`model\\.safetensors: ${name.replace(/\./g, '\\.')}: holds NaN at index 5: the weights are broken`)));
});

test('tokenizer.json with a stray huge id is refused instead of sizing an embedding table by it', async () => {
  const path = join(root, 'tokenizer.json');
  const tok = JSON.parse(await readFile(join(SOURCE, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  tok.model.vocab.zzz = 1_000_000_000;
  await writeFile(path, JSON.stringify(tok));
  await assert.rejects(TextTokenizer.load(path), userErr(/tokenizer\.json: model\.vocab: has an id of 1000000000 among only \d+ tokens; ids must be dense/));
});

test('a labelled file with a NaN score is refused, naming the row', async () => {
  const path = join(root, 'sts.arrow');
  const w = new TableFileWriter(path, [{ name: 'text1', type: 'utf8' }, { name: 'text2', type: 'utf8' }, { name: 'score', type: 'float32' }]);
  w.write([['a', 'b', 1], ['c', 'd', NaN]]);
  w.close();
  await assert.rejects(readLabelledPairs(path), userErr(/sts\.arrow: score: row 2: score is NaN; scores must be finite numbers/));
});
