import type { Argv, CommandModule } from 'yargs';
import { INPUT_FORMATS, prepare, type InputFormat } from '../data/prepare.js';

export interface PrepareArgs {
  input: string;
  output: string;
  format?: InputFormat;
  anchor: string;
  positive: string;
  negative?: string;
  'batch-rows': number;
}

export const prepareCommand: CommandModule<object, PrepareArgs> = {
  command: 'prepare',
  describe: 'Convert a JSONL/CSV/TSV file of text pairs (or triplets) into an Arrow file for training',
  builder: (y: Argv<object>) =>
    y
      .option('input', {
        alias: 'i',
        type: 'string',
        demandOption: true,
        describe: 'Input file: .jsonl/.ndjson (one JSON object per line) or .csv/.tsv (first row = column names, RFC-4180 quoting)',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'Arrow IPC file to write (written to a temp file first, renamed when complete)',
      })
      .option('format', {
        choices: INPUT_FORMATS as InputFormat[],
        describe: 'Input format; default: from the input extension',
      })
      .option('anchor', { type: 'string', default: 'anchor', describe: 'Input column holding the anchor (query) text' })
      .option('positive', { type: 'string', default: 'positive', describe: 'Input column holding the positive (matching) text' })
      .option('negative', {
        type: 'string',
        describe: 'Input column holding a hard negative; default: a column named "negative" if there is one, else none',
      })
      .option('batch-rows', { type: 'number', default: 1024, describe: 'Rows per Arrow record batch' })
      .epilog(
        [
          'Examples:',
          '  contrastive prepare -i data/sample.jsonl -o sample.arrow --anchor title --positive abstract',
          '  contrastive prepare -i triplets.csv -o train.arrow --anchor query --positive pos --negative neg',
          '',
          'Rows whose anchor, positive (or negative, when used) is empty are skipped and counted. ' +
            'The output has Utf8 columns anchor, positive[, negative]. Nothing is left behind on error.',
        ].join('\n'),
      ) as unknown as Argv<PrepareArgs>,
  handler: async (argv) => {
    const result = await prepare({
      input: argv.input,
      output: argv.output,
      format: argv.format,
      anchor: argv.anchor,
      positive: argv.positive,
      negative: argv.negative,
      batchRows: argv['batch-rows'],
    });
    console.log(`prepare: wrote ${result.rows} rows (${result.columns.join(', ')}), skipped ${result.skipped} with an empty field, to ${argv.output}`);
  },
};
