import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { ABSTRACT_WORDS, TITLE_WORDS, generatePapers, specificTermsMentioned, wordCount, type Paper } from '../../data/papers.js';
import { learnWordPieceVocab } from '../../data/fit-tokenizer.js';
import { buildCitationTriplets, buildScoredPairs, paperText, similarity } from '../../data/derived.js';
import { countSelectedRows, readColumnBatches, readSchema } from '../../src/data/arrow-reader.js';
import { readLabelledPairs } from '../../src/data/labelled.js';
import { repoFile } from './helpers.js';

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

test('generator: citation triplets — positive cited (same topic, shares method or object), half hard negatives', () => {
  const papers = generatePapers({ count: 700, seed: 3 });
  const byId = new Map(papers.map((p) => [p.id, p]));
  const tri = buildCitationTriplets(papers, { count: 200, seed: 9 });
  assert.deepEqual(buildCitationTriplets(papers, { count: 200, seed: 9 }), tri);
  assert.equal(new Set(tri.map((t) => t.anchor_id)).size, 200, 'one triplet per query paper');
  assert.deepEqual([tri.filter((t) => t.negative_kind === 'topic').length, tri.filter((t) => t.negative_kind === 'other').length], [100, 100]);
  const shares = (a: Paper, b: Paper) => a.method.en[0] === b.method.en[0] || a.object.en[0] === b.object.en[0];
  for (const t of tri) {
    const [a, p, n] = [t.anchor_id, t.positive_id, t.negative_id].map((id) => byId.get(id)!);
    assert.deepEqual([t.anchor, t.positive, t.negative], [a, p, n].map(paperText));
    assert.ok(a !== p && a.lang === p.lang && a.topic === p.topic && shares(a, p), `positive ${p.id} of ${a.id}`);
    assert.equal(n.lang, a.lang);
    if (t.negative_kind === 'topic') assert.ok(n.topic === a.topic && !shares(a, n), `hard negative ${n.id} of ${a.id}`);
    else assert.notEqual(n.topic, a.topic);
  }
  assert.equal(paperText({ title: 'Why?', abstract: 'Because.' }), 'Why? Because.');
  assert.equal(paperText({ title: 'A title', abstract: 'Text.' }), 'A title. Text.');
});

test('generator: scored title pairs — grade from shared terms plus bounded noise, titles name all three terms', () => {
  const papers = generatePapers({ count: 400, seed: 4 });
  const byId = new Map(papers.map((p) => [p.id, p]));
  const pairs = buildScoredPairs(papers, { count: 300, seed: 5 });
  assert.deepEqual(buildScoredPairs(papers, { count: 300, seed: 5 }), pairs);
  assert.equal(pairs.length, 300);
  const relations = new Set(pairs.map((p) => p.relation));
  for (const r of ['paraphrase', 'topic+method+object', 'topic+method', 'topic+object', 'topic', 'other-topic+method', 'other-topic']) assert.ok(relations.has(r), r);
  for (const p of pairs) {
    const [a, b] = [byId.get(p.id1)!, byId.get(p.id2)!];
    assert.equal(a.lang, b.lang);
    assert.ok(p.score >= 0 && p.score <= 5 && Math.abs(p.score - Math.min(5, Math.max(0, similarity(a, b)))) <= 0.3 + 0.005, `${p.relation} ${p.score}`);
    assert.equal(specificTermsMentioned(a, p.text1), 3, p.text1);
    assert.equal(specificTermsMentioned(b, p.text2), 3, p.text2);
    if (p.relation === 'paraphrase') assert.ok(a === b && p.text1 !== p.text2);
  }
  assert.deepEqual([similarity(papers[0], papers[0])], [5]);
});

test('generator: bundled triplets.arrow and sts-*.arrow have the documented schemas, sizes and score range', async () => {
  assert.deepEqual(await readSchema(repoFile('data/triplets.arrow')), { kind: 'pairs', columns: ['anchor', 'positive', 'negative'], negatives: ['negative'] });
  assert.equal(await countSelectedRows({ path: repoFile('data/triplets.arrow'), columns: ['anchor'] }), 1000);
  for (const [name, rows] of [['sts-train', 2000], ['sts-eval', 300]] as const) {
    assert.deepEqual(await readSchema(repoFile(`data/${name}.arrow`)), { kind: 'labelled', columns: ['text1', 'text2', 'score'], negatives: [] });
    const { scores } = await readLabelledPairs(repoFile(`data/${name}.arrow`));
    assert.equal(scores.length, rows);
    assert.ok(scores.every((s) => s >= 0 && s <= 5));
    assert.ok(scores.filter((s) => s >= 4).length > rows / 10 && scores.filter((s) => s <= 1).length > rows / 10, 'both ends of the scale');
  }
  // eval pairs come from eval papers: none of their titles is a train title or a train pair's text
  const train = await readLabelledPairs(repoFile('data/sts-train.arrow'));
  const trainTexts = new Set([...train.text1, ...train.text2]);
  for await (const b of readColumnBatches({ path: repoFile('data/train.arrow'), columns: ['anchor'] })) for (const t of b.texts[0]) trainTexts.add(t);
  const ev = await readLabelledPairs(repoFile('data/sts-eval.arrow'));
  assert.ok([...ev.text1, ...ev.text2].every((t) => !trainTexts.has(t)));
  const files = ['train.arrow', 'eval.arrow', 'tokenizer.json', 'sample.jsonl', 'triplets.arrow', 'sts-train.arrow', 'sts-eval.arrow'];
  const total = files.reduce((s, f) => s + statSync(repoFile(`data/${f}`)).size, 0);
  assert.ok(total < 6e6, `bundled data ${total} bytes`);
});
