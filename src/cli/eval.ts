/** `contrastive eval`: anchor→positive retrieval metrics of a model folder on an Arrow pairs file. */
import type { CommandModule } from 'yargs';
import { loadModelFolder } from '../model/folder.js';
import { TextTokenizer } from '../data/tokenizer.js';
import { countRows } from '../data/arrow-reader.js';
import { evaluateRetrieval } from '../eval/evaluate.js';
import { withBackend, setupBackend, fmt, type BackendArgs } from './common.js';

interface EvalArgs extends BackendArgs {
  model: string;
  data: string;
  json: boolean;
  'max-length'?: number;
  'batch-size': number;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate anchor→positive retrieval (Recall@1, Recall@10, MRR@10, nDCG@10)',
  builder: (y) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'Model folder written by `contrastive train` (e.g. checkpoints/tiny/final)' })
      .option('data', { type: 'string', demandOption: true, describe: 'Arrow pairs file (anchor = query, positive = its relevant document)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the metrics as one JSON object on stdout' })
      .option('max-length', { type: 'number', describe: "Tokens per text [default: the model's max_seq_length]" })
      .option('batch-size', { type: 'number', default: 64, describe: 'Texts embedded per forward pass' })
      .example('$0 eval --model checkpoints/tiny/final --data data/eval.arrow', '') as never,
  handler: async (argv) => {
    await countRows(argv.data); // validate the data file before loading the model
    await setupBackend(argv.backend);
    const { encoder, info, tokenizerPath } = await loadModelFolder(argv.model);
    try {
      const tokenizer = await TextTokenizer.load(tokenizerPath);
      const metrics = await evaluateRetrieval({
        encoder,
        tokenizer,
        path: argv.data,
        maxLength: argv['max-length'] ?? info.maxLength,
        batchSize: argv['batch-size'],
      });
      if (argv.json) {
        process.stdout.write(JSON.stringify({ model: argv.model, data: argv.data, ...metrics }) + '\n');
      } else {
        process.stdout.write(`${argv.data}: ${metrics.queries} queries, ${metrics.corpus} documents\n`);
        for (const [k, v] of Object.entries(metrics)) if (k.includes('@')) process.stdout.write(`  ${k.padEnd(10)} ${fmt(v as number)}\n`);
      }
    } finally {
      encoder.dispose();
    }
  },
};
