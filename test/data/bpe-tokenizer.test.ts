/**
 * Byte-level BPE tokenizer.json files (USER's base uses a RoBERTa-style one) tokenize as transformers'
 * fast tokenizer: test/fixtures/deberta/bpe/ and bpe-lower/ tokenizer.json and the ids RobertaTokenizerFast gave 309
 * EN/RU texts (edge cases included: Cyrillic, accents, emoji, CJK, runs of spaces, newlines, literal
 * special tokens), written by test/fixtures/deberta/make_fixture.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TextTokenizer } from '../../src/data/tokenizer.js';

const expected = JSON.parse(readFileSync('test/fixtures/deberta/bpe/expected_ids.json', 'utf8')) as { texts: string[]; ids: Record<string, number[][]> };

for (const name of ['bpe', 'bpe-lower']) {
  test(`${name}/tokenizer.json gives transformers' ids on ${expected.texts.length} EN/RU texts`, async () => {
    const tok = await TextTokenizer.load(`test/fixtures/deberta/${name}/tokenizer.json`);
    assert.equal(tok.padId, 1); // <pad>
    assert.equal(tok.numSpecialTokens, 2); // <s> … </s>
    const mismatched = expected.texts.filter((t, i) => JSON.stringify(tok.encodeOne(t, 1_000_000)) !== JSON.stringify(expected.ids[name][i]));
    assert.deepEqual(mismatched, []);
  });
}
