/**
 * Evaluation of an encoder on a file:
 * - a `pairs` Arrow file: anchor→positive retrieval, as sentence-transformers'
 *   InformationRetrievalEvaluator (distinct anchors are the queries, distinct positives the corpus, a
 *   query's relevant documents are all positives it is paired with);
 * - a `labelled` Arrow file or an STS CSV/TSV (`sentence1,sentence2,score`): Spearman and Pearson
 *   correlation of cosine similarity with the gold score, as its EmbeddingSimilarityEvaluator.
 */
import type { SentenceEncoder } from '../model/encoder.js';
import type { TextTokenizer } from '../data/tokenizer.js';
import { readPairBatches, readSchema } from '../data/arrow-reader.js';
import { readLabelledPairs } from '../data/labelled.js';
import { formatOf } from '../data/formats.js';
import { pearson, spearman } from './correlation.js';
import { retrievalMetrics, type RetrievalMetrics } from './retrieval-metrics.js';
import { embedTexts, cosineScores } from './embed.js';
import { cosineRows } from '../math/similarity.js';
import { userError } from '../util/errors.js';

export interface RetrievalSet {
  queries: string[];
  corpus: string[];
  relevant: number[][];
}

export async function loadRetrievalSet(path: string): Promise<RetrievalSet> {
  const queryIndex = new Map<string, number>();
  const docIndex = new Map<string, number>();
  const relevant: Set<number>[] = [];
  for await (const batch of readPairBatches({ path })) {
    for (const { anchor, positive } of batch) {
      let q = queryIndex.get(anchor);
      if (q === undefined) {
        q = queryIndex.size;
        queryIndex.set(anchor, q);
        relevant.push(new Set());
      }
      let d = docIndex.get(positive);
      if (d === undefined) {
        d = docIndex.size;
        docIndex.set(positive, d);
      }
      relevant[q].add(d);
    }
  }
  if (queryIndex.size === 0) throw userError(path, undefined, 'no rows to evaluate on');
  return { queries: [...queryIndex.keys()], corpus: [...docIndex.keys()], relevant: relevant.map((s) => [...s]) };
}

/** Prefixes the model was trained with (e.g. USER's `query: ` / `passage: `). */
export interface EvalPrompts {
  query?: string;
  document?: string;
}

export interface EvaluateOptions {
  encoder: SentenceEncoder;
  tokenizer: TextTokenizer;
  path: string;
  maxLength: number;
  batchSize?: number;
  prompts?: EvalPrompts;
}

export interface StsMetrics {
  spearman: number;
  pearson: number;
  pairs: number;
}

export type EvalMetrics = (RetrievalMetrics | StsMetrics) & Record<string, number>;

const prefix = (p: string | undefined) => (texts: string[]) => (p ? texts.map((t) => p + t) : texts);

export async function evaluateRetrieval(opts: EvaluateOptions): Promise<RetrievalMetrics> {
  const set = await loadRetrievalSet(opts.path);
  const embed = (texts: string[]) =>
    embedTexts(opts.encoder, opts.tokenizer, texts, { maxLength: opts.maxLength, batchSize: opts.batchSize });
  const q = await embed(prefix(opts.prompts?.query)(set.queries));
  const d = await embed(prefix(opts.prompts?.document)(set.corpus));
  const scores = await cosineScores(q, d, opts.encoder.config.hiddenSize);
  return retrievalMetrics({ scores, numQueries: set.queries.length, numDocs: set.corpus.length, relevant: set.relevant });
}

/** Cosine of each (text1, text2) pair against the gold scores. Pairs share the query prompt (symmetric data). */
export async function evaluateSts(opts: EvaluateOptions): Promise<StsMetrics> {
  const { text1, text2, scores } = await readLabelledPairs(opts.path);
  const add = prefix(opts.prompts?.query);
  const H = opts.encoder.config.hiddenSize;
  const embed = (texts: string[]) => embedTexts(opts.encoder, opts.tokenizer, add(texts), { maxLength: opts.maxLength, batchSize: opts.batchSize });
  const a = await embed(text1);
  const b = await embed(text2);
  const cos = cosineRows(a, b, H);
  return { spearman: spearman(cos, scores), pearson: pearson(cos, scores), pairs: scores.length };
}

/** What `evaluateFile` will do with `path`: STS for CSV/TSV and labelled Arrow files, retrieval for pairs. */
export async function checkEvalFile(path: string): Promise<'retrieval' | 'sts'> {
  const format = formatOf(path);
  if (format === 'csv' || format === 'tsv') return 'sts';
  const schema = await readSchema(path);
  return schema.kind === 'labelled' ? 'sts' : 'retrieval';
}

export async function evaluateFile(opts: EvaluateOptions): Promise<EvalMetrics> {
  const mode = await checkEvalFile(opts.path);
  return (mode === 'sts' ? await evaluateSts(opts) : await evaluateRetrieval(opts)) as EvalMetrics;
}
