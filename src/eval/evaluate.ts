/**
 * Anchor→positive retrieval on an Arrow pairs file, as sentence-transformers'
 * InformationRetrievalEvaluator: distinct anchors are the queries, distinct positives the corpus,
 * and a query's relevant documents are all positives it is paired with.
 */
import type { SentenceEncoder } from '../model/encoder.js';
import type { TextTokenizer } from '../data/tokenizer.js';
import { readPairBatches } from '../data/arrow-reader.js';
import { retrievalMetrics, type RetrievalMetrics } from './retrieval-metrics.js';
import { embedTexts, cosineScores } from './embed.js';
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

export interface EvaluateOptions {
  encoder: SentenceEncoder;
  tokenizer: TextTokenizer;
  path: string;
  maxLength: number;
  batchSize?: number;
}

export async function evaluateRetrieval(opts: EvaluateOptions): Promise<RetrievalMetrics> {
  const set = await loadRetrievalSet(opts.path);
  const embed = (texts: string[]) =>
    embedTexts(opts.encoder, opts.tokenizer, texts, { maxLength: opts.maxLength, batchSize: opts.batchSize });
  const q = embed(set.queries);
  const d = embed(set.corpus);
  const scores = cosineScores(q, d, opts.encoder.config.hiddenSize);
  return retrievalMetrics({ scores, numQueries: set.queries.length, numDocs: set.corpus.length, relevant: set.relevant });
}
