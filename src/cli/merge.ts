/** `contrastive merge`: LM-Cocktail model merging of model folders (fixed, uniform or automatic weights). */
import type { CommandModule } from 'yargs';
import { mergeModels, MERGE_DEFAULTS } from '../merge/merge.js';
import { POOLINGS, type Pooling } from '../model/config.js';
import { withBackend, setupBackend, fmt, type BackendArgs } from './common.js';

interface MergeArgs extends BackendArgs {
  models: string[];
  output: string;
  weights?: number[];
  'example-data'?: string;
  temperature: number;
  'max-examples'?: number;
  'batch-size': number;
  negatives: number;
  pooling?: Pooling;
  normalize?: boolean;
  overwrite: boolean;
  json: boolean;
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge',
  describe: 'Merge model folders LM-Cocktail style: every weight is Σ w_m·θ_m, with given, uniform or automatic (example-loss) weights',
  builder: (y) =>
    withBackend(y)
      .option('models', { type: 'string', array: true, demandOption: true, describe: 'Two or more model folders of one architecture and tokenizer; the first gives the tokenizer, prompts and max_seq_length' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'Folder to write: a complete sentence-transformers folder (written atomically)' })
      .option('weights', { type: 'number', array: true, describe: 'One weight per model, summing to 1 (±1e-3) [default: uniform, or automatic with --example-data]' })
      .option('example-data', {
        type: 'string',
        describe: 'Automatic weights softmax(−loss/T) from each model\'s InfoNCE loss on these examples: LM-Cocktail JSONL {"query", "pos": [...], "neg": [...]} or a pairs .arrow file',
      })
      .option('max-examples', { type: 'number', describe: 'Use only the first N examples [default: all]' })
      .option('temperature', { type: 'number', default: MERGE_DEFAULTS.temperature, describe: 'T of the automatic weights: larger = closer to uniform' })
      .option('batch-size', { type: 'number', default: MERGE_DEFAULTS.batchSize, describe: 'Examples per batch for the example loss (passages of the batch are in-batch negatives)' })
      .option('negatives', { type: 'number', default: MERGE_DEFAULTS.negatives, describe: 'Hard negatives per example for the example loss (fewer if an example has fewer)' })
      .option('pooling', { choices: POOLINGS as unknown as Pooling[], describe: "The merged model's pooling; required when the models' poolings differ" })
      .option('normalize', { type: 'boolean', describe: 'Whether the merged model L2-normalizes; required when the models differ (--no-normalize for no)' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'Replace --output if it exists' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' })
      .example('$0 merge --models runs/sym/final runs/asym/final --output merged', 'uniform weights')
      .example('$0 merge --models a b --weights 0.3 0.7 -o merged', 'given weights')
      .example('$0 merge --models a b c --example-data examples.jsonl -o merged', 'automatic weights (LM-Cocktail mix_models_with_data)')
      .epilog(
        [
          'Float tensors are summed in float64 and written in the inputs\' dtype; integer tensors are copied from the',
          'first model. Models must share the architecture, tensors and tokenizer (the first difference is named).',
          "Automatic weights use each model's own pooling and saved prompts (query / passage), cosine scores × 20, batches",
          'of --batch-size examples: LM-Cocktail\'s encoder loss, which hard-codes CLS pooling; for a CLS model they agree.',
          'The merge reads one tensor at a time from each model: memory stays near one model, whatever the count.',
        ].join('\n'),
      ) as never,
  handler: async (argv) => {
    if (argv['example-data']) await setupBackend(argv.backend, argv.threads); // the example loss runs the encoders
    const result = await mergeModels({
      models: argv.models,
      output: argv.output,
      weights: argv.weights,
      exampleData: argv['example-data'],
      temperature: argv.temperature,
      maxExamples: argv['max-examples'],
      batchSize: argv['batch-size'],
      negatives: argv.negatives,
      pooling: argv.pooling,
      normalize: argv.normalize,
      overwrite: argv.overwrite,
      onLoss: ({ model, loss }) => process.stderr.write(`example loss ${fmt(loss)}  ${model}\n`),
    });
    if (argv.json) {
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    const lines = [`wrote ${result.output} (${result.mode} weights; ${result.tensors.merged} tensors merged, ${result.tensors.copied} copied; pooling ${result.pooling}${result.normalize ? ' + normalize' : ''})`];
    result.models.forEach((m, i) => lines.push(`  weight ${result.weights[i].toFixed(6)}${result.losses ? `  loss ${fmt(result.losses[i])}` : ''}  ${m}`));
    process.stdout.write(lines.join('\n') + '\n');
  },
};
