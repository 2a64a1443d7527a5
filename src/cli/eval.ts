/**
 * `contrastive eval`: retrieval metrics on an Arrow pairs file, or Spearman/Pearson on labelled pairs
 * (a labelled Arrow file or an STS CSV/TSV), for a model folder.
 */
import type { CommandModule } from 'yargs';
import { loadEncoder, readModelFolder, savedPrompts } from '../folder/read.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { resolveTask } from '../model/moe.js';
import { evaluateFile, checkEvalFile } from '../eval/evaluate.js';
import { withBackend, setupBackend, fmt, intFlag, type BackendArgs } from './common.js';
import { maxSequenceLength } from '../model/config.js';
import { userError } from '../util/errors.js';

interface EvalArgs extends BackendArgs {
  model: string;
  data: string;
  json: boolean;
  'max-length'?: number;
  'batch-size': number;
  'query-prompt'?: string;
  'document-prompt'?: string;
  task?: string;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a model: retrieval (Recall@1/10, MRR@10, nDCG@10) on pairs, or Spearman/Pearson on scored pairs',
  builder: (y) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'Model folder written by `contrastive train` (e.g. checkpoints/tiny/final)' })
      .option('data', {
        type: 'string',
        demandOption: true,
        describe:
          'Arrow pairs file (anchor = query, positive = its relevant document) → retrieval; labelled Arrow file (text1, text2, score) or STS CSV/TSV (sentence1,sentence2,score, header optional) → correlation',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the metrics as one JSON object on stdout' })
      .option('max-length', { type: 'number', describe: "Tokens per text [default: the model's max_seq_length]" })
      .option('batch-size', { type: 'number', default: 64, describe: 'Texts embedded per forward pass' })
      .option('query-prompt', { type: 'string', describe: 'Prefix for queries (and both sides of labelled pairs) [default: the model\'s saved "query" prompt]' })
      .option('document-prompt', { type: 'string', describe: 'Prefix for documents [default: the model\'s saved "passage" or "document" prompt]' })
      .option('task', { type: 'string', describe: "Task-routed (MoE) models: the task whose expert encodes queries and documents (config.json moe.tasks)" })
      .example('$0 eval --model checkpoints/tiny/final --data data/eval.arrow', 'retrieval on held-out title–abstract pairs')
      .example('$0 eval --model checkpoints/user-symmetric/final --data stsb-en-dev.csv --json', 'STS correlation on a CSV as distributed') as never,
  handler: async (argv) => {
    intFlag(argv['batch-size'], '--batch-size', 1);
    intFlag(argv['max-length'], '--max-length', 2);
    const mode = await checkEvalFile(argv.data); // validate the data file before loading the model
    const folder = await readModelFolder(argv.model);
    const limit = maxSequenceLength(folder.config);
    if (argv['max-length'] !== undefined && argv['max-length'] > limit) {
      throw userError('--max-length', undefined, `${argv['max-length']} exceeds the ${limit} tokens ${argv.model}'s positions allow`);
    }
    resolveTask(folder.config.moe, argv.task, '--task'); // a missing or unknown task: one line before the backend
    await setupBackend(argv.backend, argv.threads, true); // eval reads asynchronously: webgpu can run it
    const encoder = await loadEncoder(folder);
    try {
      const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
      const saved = savedPrompts(folder);
      const prompts = { query: argv['query-prompt'] ?? saved.query, document: argv['document-prompt'] ?? saved.document };
      const metrics = await evaluateFile({
        encoder: encoder.forTask(argv.task),
        tokenizer,
        path: argv.data,
        maxLength: argv['max-length'] ?? folder.maxLength,
        batchSize: argv['batch-size'],
        prompts,
      });
      if (argv.json) {
        process.stdout.write(JSON.stringify({ model: argv.model, data: argv.data, ...metrics }) + '\n');
      } else if (mode === 'sts') {
        process.stdout.write(`${argv.data}: ${metrics.pairs} scored pairs\n  spearman   ${fmt(metrics.spearman)}\n  pearson    ${fmt(metrics.pearson)}\n`);
      } else {
        process.stdout.write(`${argv.data}: ${metrics.queries} queries, ${metrics.corpus} documents\n`);
        for (const [k, v] of Object.entries(metrics)) if (k.includes('@')) process.stdout.write(`  ${k.padEnd(10)} ${fmt(v)}\n`);
      }
    } finally {
      encoder.dispose();
    }
  },
};
