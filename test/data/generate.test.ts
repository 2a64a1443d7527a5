import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABSTRACT_WORDS, TITLE_WORDS, generatePapers, specificTermsMentioned, wordCount } from '../../data/papers.js';
import { learnWordPieceVocab } from '../../data/fit-tokenizer.js';

test('generator: seeded, bilingual, distinct papers within the title/abstract length ranges', () => {
  const a = generatePapers({ count: 300, seed: 11 });
  assert.deepEqual(generatePapers({ count: 300, seed: 11 }), a);
  assert.notDeepEqual(generatePapers({ count: 300, seed: 12 }).map((p) => p.title), a.map((p) => p.title));
  const ru = a.filter((p) => p.lang === 'ru').length;
  assert.ok(ru > 100 && ru < 200, `ru ${ru}`);
  assert.equal(new Set(a.map((p) => p.id)).size, 300);
  assert.equal(new Set(a.map((p) => `${p.lang}/${p.topic}/${p.method.en[0]}/${p.object.en[0]}/${p.property.en[0]}`)).size, 300);
  for (const p of a) {
    const tw = wordCount(p.title);
    const aw = wordCount(p.abstract);
    assert.ok(tw >= TITLE_WORDS.min && tw <= TITLE_WORDS.max, `title ${tw}: ${p.title}`);
    assert.ok(aw >= ABSTRACT_WORDS.min && aw <= ABSTRACT_WORDS.max, `abstract ${aw}: ${p.abstract}`);
    assert.ok(p.lang === 'en' ? !/[а-яё]/i.test(p.title) : /[а-яё]/i.test(p.title), p.title);
    // the abstract re-uses at least two of the paper's method/object/property (some variant, any case form)
    assert.ok(specificTermsMentioned(p, p.abstract) >= 2, `${p.id}: ${p.abstract}`);
  }
});

test('generator: WordPiece vocabulary learning is deterministic and merges the most frequent pair first', () => {
  const counts = new Map([['abab', 5], ['ab', 3], ['ba', 1]]);
  const v = learnWordPieceVocab(counts, 100);
  assert.deepEqual(v.slice(0, 4), ['a', 'b', '##a', '##b']);
  // pair counts: (a,##b)=5*2+3=13 is the most frequent, so "ab" is the first merge
  assert.equal(v[4], 'ab');
  assert.deepEqual(learnWordPieceVocab(new Map([...counts].reverse()), 100), v);
  assert.ok(v.includes('abab') && v.includes('ba'));
  assert.deepEqual(learnWordPieceVocab(counts, 5), ['a', 'b', '##a', '##b', 'ab']);
});
