/**
 * The folders committed for check_st_load.py (Python sentence-transformers / transformers check, run on
 * a machine that has them) still load in the toolkit to the embeddings and ids their expected.json
 * promises, so a Python-side pass there means the same thing as here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadFolder } from '../helpers/folder.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { toInputs, disposeInputs } from '../../src/model/encoder.js';
import { useBackend, flat, assertClose } from '../helpers/backend.js';

const DIR = 'test/fixtures/st-check/';

for (const name of ['bert-mean-norm', 'xlmr-cls']) {
  test(`st-check/${name} loads to its recorded embeddings and token ids`, async () => {
    await useBackend('cpu');
    const exp = JSON.parse(readFileSync(`${DIR}${name}.expected.json`, 'utf8'));
    const { encoder, folder } = await loadFolder(DIR + name);
    const { tokenizerPath } = folder;
    const info = { ...folder, pooling: folder.config.pooling, normalize: folder.config.normalize };
    assert.deepEqual([info.modelType, info.pooling, info.normalize, info.maxLength], [exp.model_type, exp.pooling, exp.normalize, exp.max_seq_length]);
    assert.deepEqual(info.prompts, exp.prompts);
    const tokenizer = await TextTokenizer.load(tokenizerPath);
    for (const c of exp.cases) {
      const texts = (c.texts as string[]).map((t) => (c.prompt_name ? exp.prompts[c.prompt_name] : '') + t);
      assert.deepEqual(texts.map((t) => tokenizer.encodeOne(t, info.maxLength)), c.input_ids);
      const inputs = toInputs(tokenizer.encode(texts, { maxLength: info.maxLength }));
      const emb = tf.tidy(() => encoder.embed(inputs));
      assertClose(emb.dataSync(), flat(c.embeddings), 1e-6, `${name} [${c.prompt_name}]`);
      emb.dispose();
      disposeInputs(inputs);
    }
    encoder.dispose();
  });
}
