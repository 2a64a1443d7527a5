/**
 * Example kinds derived from the synthetic papers (data/papers.ts), for the bundled recipes:
 *
 * - citation triplets as SPECTER / SciNCL train on: anchor = a query paper, positive = a paper it "cites",
 *   negative = a paper it does not cite; every text is the paper as "Title. Abstract";
 * - scored symmetric title pairs (STS style): two titles and a similarity in [0, 5] graded by what the papers share;
 *   every title names its paper's method, object and property, so the grade is visible in the text.
 *
 * Everything is a pure function of the papers and the seed. See data/README.md for the rules.
 */
import { Rng } from '../src/util/rng.js';
import { ALL_TOPICS, specificTermsMentioned, titleVariant, type Paper } from './papers.js';

/**
 * The text of a paper in triplets: "Title. Abstract" (no period added after a title ending in ?/!/.).
 * SPECTER/SciNCL join title and abstract with the tokenizer's [SEP]; plain text keeps the file usable with any
 * tokenizer (a literal "[SEP]" would be split into pieces by tokenizers that do not have that token).
 */
export function paperText(p: Pick<Paper, 'title' | 'abstract'>): string {
  return /[.?!]$/.test(p.title) ? `${p.title} ${p.abstract}` : `${p.title}. ${p.abstract}`;
}

/** A paper's classification label (data/tasks.ts): its topic's field, canonical name, in the paper's language. */
export function labelText(p: Pick<Paper, 'lang' | 'topic'>): string {
  const topic = ALL_TOPICS.find((t) => t.id === p.topic)!;
  return p.lang === 'en' ? topic.field.en[0] : topic.field.ru[0].nom;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

const methodOf = (p: Paper): string => p.method.en[0];
const objectOf = (p: Paper): string => p.object.en[0];
const propertyOf = (p: Paper): string => p.property.en[0];
const sharesMethodOrObject = (a: Paper, b: Paper): boolean => methodOf(a) === methodOf(b) || objectOf(a) === objectOf(b);

/** Papers by language and topic. */
function groups(papers: Paper[]): Map<string, Paper[]> {
  const out = new Map<string, Paper[]>();
  for (const p of papers) {
    const key = `${p.lang}/${p.topic}`;
    out.set(key, [...(out.get(key) ?? []), p]);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ citation triplets

export interface CitationTriplet {
  anchor: string;
  positive: string;
  negative: string;
  anchor_id: string;
  positive_id: string;
  negative_id: string;
  /** `topic`: a same-topic paper sharing neither method nor object (hard); `other`: a paper of another topic. */
  negative_kind: 'topic' | 'other';
}

/** How many papers each query paper cites at most (SPECTER samples up to 5 positives per query). */
export const CITES_PER_PAPER = 5;

/**
 * Citation triplets over `papers` (all of one split). Citations: every paper cites up to CITES_PER_PAPER
 * papers of its own language and topic that share its method or its object of study (chosen at random).
 * `count` distinct query papers (random order) each give one triplet: a random cited paper as the positive,
 * and as the negative, alternately, a same-topic paper sharing neither method nor object (never cited) or a
 * paper of another topic in the same language. Everything stays within one language: a citation across
 * languages would share no words in this synthetic corpus.
 */
export function buildCitationTriplets(papers: Paper[], opts: { count: number; seed: number }): CitationTriplet[] {
  const rng = new Rng(opts.seed);
  const byGroup = groups(papers);
  const byLang = new Map<string, Paper[]>();
  for (const p of papers) byLang.set(p.lang, [...(byLang.get(p.lang) ?? []), p]);
  const cites = new Map<string, Paper[]>();
  for (const p of papers) {
    const candidates = byGroup.get(`${p.lang}/${p.topic}`)!.filter((q) => q !== p && sharesMethodOrObject(p, q));
    cites.set(p.id, shuffle(rng, candidates).slice(0, CITES_PER_PAPER));
  }
  const out: CitationTriplet[] = [];
  for (const q of shuffle(rng, [...papers])) {
    if (out.length === opts.count) break;
    const cited = cites.get(q.id)!;
    const hard = byGroup.get(`${q.lang}/${q.topic}`)!.filter((p) => p !== q && !sharesMethodOrObject(p, q));
    if (cited.length === 0 || hard.length === 0) continue;
    const positive = pick(rng, cited);
    const kind = out.length % 2 === 0 ? 'topic' : 'other';
    const negative = kind === 'topic' ? pick(rng, hard) : pick(rng, byLang.get(q.lang)!.filter((p) => p.topic !== q.topic));
    out.push({
      anchor: paperText(q),
      positive: paperText(positive),
      negative: paperText(negative),
      anchor_id: q.id,
      positive_id: positive.id,
      negative_id: negative.id,
      negative_kind: kind,
    });
  }
  if (out.length < opts.count) throw new Error(`buildCitationTriplets: only ${out.length} of ${opts.count} triplets possible from ${papers.length} papers`);
  return out;
}

// --------------------------------------------------------------------------------------- scored title pairs

export interface ScoredPair {
  text1: string;
  text2: string;
  score: number;
  /** What the two papers share, e.g. `topic+method`; `paraphrase` = two titles of one paper. */
  relation: string;
  id1: string;
  id2: string;
}

/**
 * The gold similarity before noise: 5 for two titles of one paper; same topic 2 + 1.5 (same method)
 * + 1.2 (same object) + 0.5 (same property) — so topic+method+object 4.7, topic+method 3.5, topic+object 3.2,
 * topic only 2; different topics 0, or 0.8 when both use the same (cross-topic) method.
 */
export function similarity(a: Paper, b: Paper): number {
  if (a === b) return 5;
  const method = methodOf(a) === methodOf(b) ? 1 : 0;
  if (a.topic !== b.topic) return 0.8 * method;
  return 2 + 1.5 * method + 1.2 * (objectOf(a) === objectOf(b) ? 1 : 0) + 0.5 * (propertyOf(a) === propertyOf(b) ? 1 : 0);
}

export function relation(a: Paper, b: Paper): string {
  if (a === b) return 'paraphrase';
  const shared = [methodOf(a) === methodOf(b) && 'method', objectOf(a) === objectOf(b) && 'object', propertyOf(a) === propertyOf(b) && 'property'].filter(Boolean);
  if (a.topic !== b.topic) return shared.includes('method') ? 'other-topic+method' : 'other-topic';
  return ['topic', ...shared].join('+');
}

/** Share of the pairs drawn from each stratum (by what the papers share), so every score range is covered. */
const STRATA: { name: string; share: number; test: (a: Paper, b: Paper) => boolean }[] = [
  { name: 'paraphrase', share: 0.12, test: (a, b) => a === b },
  { name: 'topic+method+object', share: 0.12, test: (a, b) => a !== b && a.topic === b.topic && methodOf(a) === methodOf(b) && objectOf(a) === objectOf(b) },
  { name: 'topic+method', share: 0.14, test: (a, b) => a.topic === b.topic && methodOf(a) === methodOf(b) && objectOf(a) !== objectOf(b) },
  { name: 'topic+object', share: 0.14, test: (a, b) => a !== b && a.topic === b.topic && methodOf(a) !== methodOf(b) && objectOf(a) === objectOf(b) },
  { name: 'topic', share: 0.2, test: (a, b) => a.topic === b.topic && methodOf(a) !== methodOf(b) && objectOf(a) !== objectOf(b) },
  { name: 'other-topic+method', share: 0.1, test: (a, b) => a.topic !== b.topic && methodOf(a) === methodOf(b) },
  { name: 'other-topic', share: 0.18, test: (a, b) => a.topic !== b.topic && methodOf(a) !== methodOf(b) },
];

/**
 * Candidate pairs, each unordered pair once: same language and topic (with each paper paired with itself,
 * for paraphrases) and same language and method across topics (only cross-topic methods occur in several
 * topics). Pairs of unrelated papers are too many to list; they are drawn at random instead.
 */
function relatedPairs(papers: Paper[]): [Paper, Paper][] {
  const out: [Paper, Paper][] = [];
  for (const ps of groups(papers).values()) {
    for (let i = 0; i < ps.length; i++) for (let j = i; j < ps.length; j++) out.push([ps[i], ps[j]]);
  }
  const byMethod = new Map<string, Paper[]>();
  for (const p of papers) byMethod.set(`${p.lang}/${methodOf(p)}`, [...(byMethod.get(`${p.lang}/${methodOf(p)}`) ?? []), p]);
  for (const ps of byMethod.values()) {
    for (let i = 0; i < ps.length; i++) for (let j = i + 1; j < ps.length; j++) if (ps[i].topic !== ps[j].topic) out.push([ps[i], ps[j]]);
  }
  return out;
}

/**
 * `count` scored title pairs from `papers` (one split), both titles in the same language. Pairs are drawn per
 * stratum (STRATA: paraphrase, topic+method+object, …, other topic), each pair at most once; a stratum with too
 * few pairs passes its shortfall on to the next one. Each text is a title naming the paper's method, object and
 * property (its own title when it does, else one from another template); a paraphrase pairs two such titles
 * of one paper from different templates. Score = similarity + uniform noise in ±`noise` (default
 * 0.3), clipped to [0, 5] and rounded to 2 decimals; the two titles come in random order.
 */
export function buildScoredPairs(papers: Paper[], opts: { count: number; seed: number; noise?: number }): ScoredPair[] {
  const rng = new Rng(opts.seed);
  const noise = opts.noise ?? 0.3;
  const related = relatedPairs(papers);
  const byLang = [...new Set(papers.map((p) => p.lang))].map((lang) => papers.filter((p) => p.lang === lang));
  const taken = new Set<string>();
  const out: ScoredPair[] = [];
  // A title naming all three terms: the paper's own when it does, else one drawn from another template.
  const fullTitle = (p: Paper): string | undefined => (specificTermsMentioned(p, p.title) === 3 ? p.title : titleVariant(p, rng, { allTerms: true }));
  const add = (a: Paper, b: Paper): boolean => {
    taken.add(`${a.id}|${b.id}`).add(`${b.id}|${a.id}`);
    const t1 = fullTitle(a);
    const t2 = t1 === undefined ? undefined : a === b ? titleVariant(a, rng, { not: [t1], allTerms: true }) : fullTitle(b);
    if (t1 === undefined || t2 === undefined) return false;
    const flip = rng.next() < 0.5;
    const raw = similarity(a, b) + (rng.next() * 2 - 1) * noise;
    out.push({
      text1: flip ? t2 : t1,
      text2: flip ? t1 : t2,
      score: Math.round(Math.min(5, Math.max(0, raw)) * 100) / 100,
      relation: relation(a, b),
      id1: flip ? b.id : a.id,
      id2: flip ? a.id : b.id,
    });
    return true;
  };
  let shortfall = 0;
  for (const [k, s] of STRATA.entries()) {
    const want = k === STRATA.length - 1 ? opts.count - out.length : Math.round(s.share * opts.count) + shortfall;
    let got = 0;
    if (s.name === 'other-topic') {
      for (let tries = 0; got < want && tries < want * 1000; tries++) {
        const ps = pick(rng, byLang);
        const [a, b] = [pick(rng, ps), pick(rng, ps)];
        if (!s.test(a, b) || taken.has(`${a.id}|${b.id}`)) continue;
        if (add(a, b)) got++;
      }
    } else {
      const eligible = related.filter(([a, b]) => s.test(a, b));
      // walk a seeded (partial Fisher–Yates) shuffle until `want` pairs are added
      for (let i = 0; i < eligible.length && got < want; i++) {
        const j = i + rng.int(eligible.length - i);
        [eligible[i], eligible[j]] = [eligible[j], eligible[i]];
        if (add(...eligible[i])) got++;
      }
    }
    shortfall = want - got;
  }
  if (out.length < opts.count) throw new Error(`buildScoredPairs: only ${out.length} of ${opts.count} pairs possible from ${papers.length} papers`);
  return shuffle(rng, out);
}
