/**
 * Synthetic scientific papers for the bundled sample (see data/README.md).
 *
 * A paper = topic + language + a few specific terms (method, baseline method, object, property, datasets,
 * context words). Its title and abstract are rendered from varied templates; the abstract re-uses the
 * title's terms (sometimes as a synonym or, in Russian, in another grammatical case) and adds topic
 * vocabulary and generic scientific filler. Papers of one topic share many words, so a retrieval model has
 * to learn which terms are specific.
 *
 * The structured `Paper` (not only its text) is kept so other example kinds are derived from the same papers
 * (data/derived.ts): citation triplets (anchor, cited paper of the same topic, negative) and scored
 * symmetric title pairs (similarity from shared topic/terms); `toTitleAbstract` gives the title–abstract pairs.
 */
import { Rng } from '../src/util/rng.js';
import { GENERIC_METHODS, TOPICS, type TermSpec, type TopicSpec } from './vocab.js';

export type Lang = 'en' | 'ru';

/** Russian noun phrase in the two cases the templates need. */
export interface RuForms {
  nom: string;
  gen: string;
}

/** A term with its variants; index 0 is canonical. */
export interface Term {
  en: string[];
  ru: RuForms[];
}

export interface Topic {
  id: string;
  field: Term;
  methods: Term[];
  objects: Term[];
  properties: Term[];
  datasets: string[];
  context: Term[];
}

export interface Paper {
  id: string;
  lang: Lang;
  topic: string;
  method: Term;
  baseline: Term;
  object: Term;
  property: Term;
  datasets: [string, string];
  context: Term[];
  title: string;
  abstract: string;
}

export function parseTerm([en, ru]: TermSpec): Term {
  const enForms = en.split(';').map((s) => s.trim()).filter(Boolean);
  const ruForms = ru.split(';').map((s) => {
    const [nom, gen] = s.split('|').map((x) => x.trim());
    if (!nom || !gen) throw new Error(`vocab: Russian term needs "nominative|genitive": ${JSON.stringify(s)}`);
    return { nom, gen };
  });
  return { en: enForms, ru: ruForms };
}

export function parseTopic(t: TopicSpec): Topic {
  return {
    id: t.id,
    field: parseTerm(t.field),
    methods: t.methods.map(parseTerm),
    objects: t.objects.map(parseTerm),
    properties: t.properties.map(parseTerm),
    datasets: [...t.datasets],
    context: t.context.map(parseTerm),
  };
}

export const ALL_TOPICS: Topic[] = TOPICS.map(parseTopic);
const GENERIC: Term[] = GENERIC_METHODS.map(parseTerm);

// ---------------------------------------------------------------------------------------------- helpers

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function pickDistinct<T>(rng: Rng, xs: readonly T[], n: number): T[] {
  const pool = [...xs];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(rng.int(pool.length), 1)[0]);
  return out;
}

const cap = (s: string): string => (s.length === 0 ? s : s[0].toUpperCase() + s.slice(1));
const an = (word: string): string => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);
export const wordCount = (s: string): number => s.split(/\s+/).filter(Boolean).length;

/** Canonical form in titles; in abstracts a synonym half of the time when there is one. */
function en(rng: Rng, t: Term, vary: boolean): string {
  return vary && t.en.length > 1 && rng.next() < 0.5 ? pick(rng, t.en.slice(1)) : t.en[0];
}

function ru(rng: Rng, t: Term, vary: boolean): RuForms {
  return vary && t.ru.length > 1 && rng.next() < 0.5 ? pick(rng, t.ru.slice(1)) : t.ru[0];
}

// ---------------------------------------------------------------------------------------------- templates

/** Everything a template may refer to; texts already chosen (canonical or variant) by the caller. */
interface Slots {
  rng: Rng;
  paper: Omit<Paper, 'title' | 'abstract' | 'id'>;
  field: Term;
}

const EN_ADJ = ['new', 'simple', 'scalable', 'interpretable', 'efficient', 'robust', 'unified', 'lightweight'];
const RU_ADJ = ['новый', 'простой', 'масштабируемый', 'интерпретируемый', 'эффективный', 'устойчивый', 'единый', 'лёгкий'];
const EN_RESULT = ['suggest', 'indicate', 'show'];

type Template = (s: Slots) => string;

const EN_TITLES: Template[] = [
  ({ paper: p }) => `${cap(p.method.en[0])} for ${p.object.en[0]}: improving ${p.property.en[0]}`,
  ({ paper: p }) => `Improving ${p.property.en[0]} of ${p.object.en[0]} with ${p.method.en[0]}`,
  ({ paper: p }) => `${cap(p.method.en[0])}-based analysis of ${p.object.en[0]} on ${p.datasets[0]}`,
  ({ paper: p }) => `Towards better ${p.property.en[0]} for ${p.object.en[0]} using ${p.method.en[0]}`,
  ({ paper: p }) => `On the ${p.property.en[0]} of ${p.object.en[0]}: evidence from ${p.datasets[0]}`,
  ({ rng, paper: p }) => `${cap(an(pick(rng, EN_ADJ)))} ${p.method.en[0]} approach to ${p.property.en[0]} in ${p.object.en[0]}`,
  ({ paper: p }) => `Learning ${p.object.en[0]} with ${p.method.en[0]}: a case study on ${p.datasets[0]}`,
  ({ paper: p }) => `${cap(p.property.en[0])} of ${p.object.en[0]} revisited with ${p.method.en[0]}`,
  ({ paper: p }) => `${cap(p.method.en[0])} reveals ${p.property.en[0]} patterns in ${p.object.en[0]}`,
  ({ paper: p }) => `How much does ${p.method.en[0]} help ${p.property.en[0]} of ${p.object.en[0]}?`,
];

const RU_TITLES: Template[] = [
  ({ paper: p }) => `${cap(p.method.ru[0].nom)} для ${p.object.ru[0].gen}: повышение ${p.property.ru[0].gen}`,
  ({ paper: p }) => `Повышение ${p.property.ru[0].gen} ${p.object.ru[0].gen} с помощью ${p.method.ru[0].gen}`,
  ({ paper: p }) => `Анализ ${p.object.ru[0].gen} на основе ${p.method.ru[0].gen} по данным ${p.datasets[0]}`,
  ({ paper: p }) => `${cap(p.property.ru[0].nom)} ${p.object.ru[0].gen}: результаты на данных ${p.datasets[0]}`,
  ({ rng, paper: p }) => `${cap(pick(rng, RU_ADJ))} подход на основе ${p.method.ru[0].gen} к оценке ${p.property.ru[0].gen} ${p.object.ru[0].gen}`,
  ({ paper: p }) => `Исследование ${p.object.ru[0].gen} с применением ${p.method.ru[0].gen}`,
  ({ paper: p }) => `Применение ${p.method.ru[0].gen} для изучения ${p.object.ru[0].gen} на примере ${p.datasets[0]}`,
  ({ paper: p }) => `Оценка ${p.property.ru[0].gen} ${p.object.ru[0].gen} с использованием ${p.method.ru[0].gen}`,
];

// Abstract sentence pools. Each template draws its own variants (synonyms / cases) of the paper's terms.
const EN_INTRO: Template[] = [
  ({ rng, paper: p, field }) => `In ${field.en[0]}, understanding ${en(rng, p.property, true)} for ${en(rng, p.object, true)} remains a central challenge.`,
  ({ rng, paper: p, field }) => `Reliable estimates of ${en(rng, p.property, true)} for ${en(rng, p.object, true)} are needed in many applications of ${field.en[0]}.`,
  ({ rng, paper: p }) => `Studies of ${en(rng, p.object, true)} often rely on ${en(rng, p.context[0], true)}, but ${en(rng, p.property, true)} has received less attention.`,
  ({ rng, paper: p }) => `Recent work on ${en(rng, p.object, true)} has emphasised ${en(rng, p.context[0], true)} and ${en(rng, p.context[1], true)}, while the role of ${en(rng, p.property, true)} is less understood.`,
];
const EN_METHOD: Template[] = [
  ({ rng, paper: p }) => `We propose ${an(pick(rng, EN_ADJ))} approach based on ${en(rng, p.method, true)} that explicitly models ${en(rng, p.context[0], true)} and ${en(rng, p.context[1], true)}.`,
  ({ rng, paper: p }) => `Here we apply ${en(rng, p.method, true)} to ${en(rng, p.object, true)} and study the effect of ${en(rng, p.context[1], true)} on ${en(rng, p.property, true)}.`,
  ({ rng, paper: p }) => `Our method combines ${en(rng, p.method, true)} with ${en(rng, p.context[0], true)} to obtain ${pick(rng, ['more reliable', 'sharper', 'better calibrated'])} estimates of ${en(rng, p.property, true)}.`,
  ({ rng, paper: p }) => `We introduce ${an(pick(rng, EN_ADJ))} pipeline that uses ${en(rng, p.method, true)} to capture ${en(rng, p.context[1], true)} in ${en(rng, p.object, true)}.`,
];
const EN_EXPERIMENT: Template[] = [
  ({ rng, paper: p }) => `Experiments on ${p.datasets[0]} and ${p.datasets[1]} show that the approach improves ${en(rng, p.property, true)} by ${2 + rng.int(28)}% compared with ${en(rng, p.baseline, true)}.`,
  ({ rng, paper: p }) => `On ${p.datasets[0]}, ${en(rng, p.method, true)} outperforms ${en(rng, p.baseline, true)} and reduces errors by ${2 + rng.int(40)}%.`,
  ({ rng, paper: p }) => `We evaluate the method on ${p.datasets[0]} and find consistent gains over ${en(rng, p.baseline, true)}, especially for ${en(rng, p.object, true)}.`,
  ({ rng, paper: p }) => `Using data from ${p.datasets[0]}, we show that ${en(rng, p.property, true)} can be estimated ${2 + rng.int(30)}% more accurately than with ${en(rng, p.baseline, true)}.`,
];
const EN_CLOSING: Template[] = [
  ({ rng, paper: p }) => `The results ${pick(rng, EN_RESULT)} an important role of ${en(rng, p.context[2], true)} in ${en(rng, p.property, true)}.`,
  ({ rng, paper: p }) => `We further analyse the effect of ${en(rng, p.context[2], true)} and ${en(rng, p.context[3], true)} on ${en(rng, p.object, true)}.`,
  ({ rng, paper: p, field }) => `These findings have implications for ${field.en[0]} and for future work on ${en(rng, p.context[2], true)}.`,
  ({ rng, paper: p }) => `We also discuss limitations related to ${en(rng, p.context[3], true)} and outline directions for future research.`,
  () => `Code and data are released to support reproducible research.`,
  ({ rng, paper: p }) => `Overall, the study provides a simple baseline for ${en(rng, p.object, true)}.`,
];

const RU_INTRO: Template[] = [
  ({ rng, paper: p, field }) => `В области ${field.ru[0].gen} оценка ${ru(rng, p.property, true).gen} для ${ru(rng, p.object, true).gen} остаётся важной нерешённой задачей.`,
  ({ rng, paper: p, field }) => `Надёжные оценки ${ru(rng, p.property, true).gen} для ${ru(rng, p.object, true).gen} необходимы во многих приложениях ${field.ru[0].gen}.`,
  ({ rng, paper: p }) => `Исследования ${ru(rng, p.object, true).gen} часто опираются на анализ ${ru(rng, p.context[0], true).gen}, однако вопросу ${ru(rng, p.property, true).gen} уделяется меньше внимания.`,
  ({ rng, paper: p }) => `В работах, посвящённых изучению ${ru(rng, p.object, true).gen}, основное внимание уделялось роли ${ru(rng, p.context[0], true).gen} и ${ru(rng, p.context[1], true).gen}, тогда как значение ${ru(rng, p.property, true).gen} изучено слабо.`,
];
const RU_METHOD: Template[] = [
  ({ rng, paper: p }) => `Мы предлагаем ${pick(rng, RU_ADJ)} подход на основе ${ru(rng, p.method, true).gen}, в котором явно учитывается роль ${ru(rng, p.context[0], true).gen} и ${ru(rng, p.context[1], true).gen}.`,
  ({ rng, paper: p }) => `В работе подход на основе ${ru(rng, p.method, true).gen} применяется для анализа ${ru(rng, p.object, true).gen}; исследуется зависимость ${ru(rng, p.property, true).gen} от ${ru(rng, p.context[1], true).gen}.`,
  ({ rng, paper: p }) => `Предложенный метод основан на использовании ${ru(rng, p.method, true).gen} и учёте ${ru(rng, p.context[0], true).gen}, что позволяет получать более точные оценки ${ru(rng, p.property, true).gen}.`,
  ({ rng, paper: p }) => `Мы разработали ${pick(rng, RU_ADJ)} конвейер обработки данных на основе ${ru(rng, p.method, true).gen} для описания ${ru(rng, p.context[1], true).gen} в задаче изучения ${ru(rng, p.object, true).gen}.`,
];
const RU_EXPERIMENT: Template[] = [
  ({ rng, paper: p }) => `Эксперименты на данных ${p.datasets[0]} и ${p.datasets[1]} показывают, что предложенный подход повышает точность оценки ${ru(rng, p.property, true).gen} на ${2 + rng.int(28)}% по сравнению с подходом на основе ${ru(rng, p.baseline, true).gen}.`,
  ({ rng, paper: p }) => `На данных ${p.datasets[0]} метод превосходит подход на основе ${ru(rng, p.baseline, true).gen} и снижает ошибку на ${2 + rng.int(40)}%.`,
  ({ rng, paper: p }) => `Метод протестирован на данных ${p.datasets[0]}; получено устойчивое улучшение по сравнению с применением ${ru(rng, p.baseline, true).gen}, особенно для ${ru(rng, p.object, true).gen}.`,
  ({ rng, paper: p }) => `С использованием данных ${p.datasets[0]} показано, что точность оценки ${ru(rng, p.property, true).gen} возрастает на ${2 + rng.int(30)}% по сравнению с подходом на основе ${ru(rng, p.baseline, true).gen}.`,
];
const RU_CLOSING: Template[] = [
  ({ rng, paper: p }) => `Результаты указывают на важную роль ${ru(rng, p.context[2], true).gen} для ${ru(rng, p.property, true).gen}.`,
  ({ rng, paper: p }) => `Дополнительно анализируется влияние ${ru(rng, p.context[2], true).gen} и ${ru(rng, p.context[3], true).gen} на свойства ${ru(rng, p.object, true).gen}.`,
  ({ rng, paper: p, field }) => `Полученные выводы важны для ${field.ru[0].gen} и для дальнейшего изучения ${ru(rng, p.context[2], true).gen}.`,
  ({ rng, paper: p }) => `Обсуждаются ограничения, связанные с учётом ${ru(rng, p.context[3], true).gen}, и направления дальнейших исследований.`,
  () => `Код и данные открыты для обеспечения воспроизводимости результатов.`,
  ({ rng, paper: p }) => `В целом работа предлагает простой базовый метод для ${ru(rng, p.object, true).gen}.`,
];

const POOLS = {
  en: { titles: EN_TITLES, intro: EN_INTRO, method: EN_METHOD, experiment: EN_EXPERIMENT, closing: EN_CLOSING },
  ru: { titles: RU_TITLES, intro: RU_INTRO, method: RU_METHOD, experiment: RU_EXPERIMENT, closing: RU_CLOSING },
} as const;

export const ABSTRACT_WORDS = { min: 35, max: 70 } as const;
export const TITLE_WORDS = { min: 6, max: 14 } as const;

/** How many of the paper's method, object and property occur in `text` (any variant, any case form). */
export function specificTermsMentioned(p: Pick<Paper, 'lang' | 'method' | 'object' | 'property'>, text: string): number {
  return [p.method, p.object, p.property].filter((t) => (p.lang === 'en' ? t.en : t.ru.flatMap((f) => [f.nom, f.gen])).some((f) => text.includes(f))).length;
}

/**
 * 2–4 sentences: [intro] method experiment [closing [closing]], re-drawn until it has 35–70 words and
 * mentions at least two of the paper's method/object/property (so it re-uses the title's specific terms).
 */
function renderAbstract(slots: Slots): string {
  const pool = POOLS[slots.paper.lang];
  const { rng } = slots;
  for (let attempt = 0; ; attempt++) {
    const parts: string[] = [];
    if (rng.next() < 0.75) parts.push(pick(rng, pool.intro)(slots));
    parts.push(pick(rng, pool.method)(slots), pick(rng, pool.experiment)(slots));
    const closings = pickDistinct(rng, pool.closing, 2);
    if (parts.length < 3 || rng.next() < 0.7) parts.push(closings[0](slots));
    if (parts.length < 4 && wordCount(parts.join(' ')) < ABSTRACT_WORDS.min) parts.push(closings[1](slots));
    const text = parts.join(' ');
    const n = wordCount(text);
    const ok = n >= ABSTRACT_WORDS.min && n <= ABSTRACT_WORDS.max && specificTermsMentioned(slots.paper, text) >= 2;
    if (ok || attempt >= 100) return text;
  }
}

// ---------------------------------------------------------------------------------------------- papers

export interface PaperOptions {
  count: number;
  seed: number;
  /** Probability that a paper's method comes from the cross-topic GENERIC_METHODS list. */
  genericMethodRate?: number;
  topics?: Topic[];
}

/**
 * Draws `count` papers, each a distinct (language, topic, method, object, property) combination, so that
 * no two papers are about exactly the same thing. Deterministic in `seed`.
 */
export function generatePapers(opts: PaperOptions): Paper[] {
  const rng = new Rng(opts.seed);
  const topics = opts.topics ?? ALL_TOPICS;
  const genericRate = opts.genericMethodRate ?? 0.2;
  const seen = new Set<string>();
  const papers: Paper[] = [];
  let guard = 0;
  while (papers.length < opts.count) {
    if (++guard > opts.count * 100) throw new Error(`generatePapers: cannot draw ${opts.count} distinct papers from the vocabulary`);
    const lang: Lang = rng.next() < 0.5 ? 'en' : 'ru';
    const topic = pick(rng, topics);
    const method = rng.next() < genericRate ? pick(rng, GENERIC) : pick(rng, topic.methods);
    const object = pick(rng, topic.objects);
    const property = pick(rng, topic.properties);
    const key = `${lang}/${topic.id}/${method.en[0]}/${object.en[0]}/${property.en[0]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const baseline = pick(rng, [...topic.methods, ...GENERIC].filter((m) => m !== method));
    const [d0, d1] = pickDistinct(rng, topic.datasets, 2);
    const paper = { lang, topic: topic.id, method, baseline, object, property, datasets: [d0, d1] as [string, string], context: pickDistinct(rng, topic.context, 4) };
    const slots: Slots = { rng, paper, field: topic.field };
    let title = pick(rng, POOLS[lang].titles)(slots);
    for (let i = 0; i < 20 && (wordCount(title) < TITLE_WORDS.min || wordCount(title) > TITLE_WORDS.max); i++) {
      title = pick(rng, POOLS[lang].titles)(slots);
    }
    const abstract = renderAbstract(slots);
    papers.push({ id: `${lang}-${topic.id}-${String(papers.length).padStart(5, '0')}`, ...paper, title, abstract });
  }
  return papers;
}

/**
 * A title for the paper from a randomly chosen title template (within the title length range) that differs
 * from every text in `not`; with `allTerms`, only a template that names the paper's method, object and
 * property (some templates leave one out). Undefined when no template qualifies.
 */
export function titleVariant(p: Paper, rng: Rng, opts: { not?: string[]; allTerms?: boolean; topics?: Topic[] } = {}): string | undefined {
  const topic = (opts.topics ?? ALL_TOPICS).find((t) => t.id === p.topic);
  if (!topic) throw new Error(`titleVariant: unknown topic ${p.topic}`);
  const slots: Slots = { rng, paper: p, field: topic.field };
  for (const template of pickDistinct(rng, POOLS[p.lang].titles, POOLS[p.lang].titles.length)) {
    const title = template(slots);
    const n = wordCount(title);
    if (n < TITLE_WORDS.min || n > TITLE_WORDS.max || opts.not?.includes(title)) continue;
    if (opts.allTerms && specificTermsMentioned(p, title) < 3) continue;
    return title;
  }
  return undefined;
}

/** A row of the title–abstract pair split (JSONL written by generate.ts, then `prepare --anchor title --positive abstract`). */
export interface TitleAbstractRow {
  id: string;
  lang: Lang;
  topic: string;
  title: string;
  abstract: string;
}

export function toTitleAbstract(p: Paper): TitleAbstractRow {
  return { id: p.id, lang: p.lang, topic: p.topic, title: p.title, abstract: p.abstract };
}
