import type { Argv, CommandModule } from 'yargs';
import { INPUT_FORMATS, prepare, type InputFormat } from '../data/prepare.js';
import { DATA_KINDS, type DataKind } from '../data/records.js';

export interface PrepareArgs {
  input: string;
  output: string;
  format?: InputFormat;
  kind: DataKind;
  anchor?: string;
  positive?: string;
  negative?: string | string[];
  text1?: string;
  text2?: string;
  score?: string;
  'batch-rows': number;
  'replace-invalid-utf8': boolean;
}

/** `--negative a,b --negative c` → ['a', 'b', 'c']; `--negative ''` → [] (no negatives even if the input has some). */
export function negativeList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

export const prepareCommand: CommandModule<object, PrepareArgs> = {
  command: 'prepare',
  describe: 'Convert a JSONL/CSV/TSV file of text pairs (or triplets, or scored pairs) into an Arrow file for training',
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
      .option('kind', {
        choices: DATA_KINDS as DataKind[],
        default: 'pairs' as DataKind,
        describe: 'pairs: anchor, positive and optional hard negatives; labelled: text1, text2 and a numeric score',
      })
      .option('anchor', { type: 'string', describe: 'pairs: input column holding the anchor (query) text [default: "anchor"]' })
      .option('positive', { type: 'string', describe: 'pairs: input column holding the positive (matching) text [default: "positive"]' })
      .option('negative', {
        type: 'string',
        describe: 'pairs: input column(s) holding hard negatives, comma-separated (written as negative, negative_2, ...); default: the input\'s own negative, negative_2, ... columns if any; "" for none',
      })
      .option('text1', { type: 'string', describe: 'labelled: input column of the first text [default: "text1"]' })
      .option('text2', { type: 'string', describe: 'labelled: input column of the second text [default: "text2"]' })
      .option('score', { type: 'string', describe: 'labelled: input column of the gold score, a number (written as Float32) [default: "score"]' })
      .option('batch-rows', { type: 'number', default: 1024, describe: 'Rows per Arrow record batch' })
      .option('replace-invalid-utf8', { type: 'boolean', default: false, describe: 'Read bytes that are not UTF-8 as U+FFFD (default: refuse the file, naming the line)' })
      .epilog(
        [
          'Examples:',
          '  contrastive prepare -i data/sample.jsonl -o sample.arrow --anchor title --positive abstract',
          '  contrastive prepare -i triplets.csv -o train.arrow --anchor query --positive pos --negative neg1,neg2',
          '  contrastive prepare -i sts.csv -o sts.arrow --kind labelled --text1 sentence1 --text2 sentence2 --score score',
          '',
          'Rows with an empty text (or score) are skipped and counted; a score that is not a number is an error. ' +
            'The output has Utf8 columns anchor, positive[, negative, negative_2, ...] (pairs) or text1, text2 and a ' +
            'Float32 score (labelled). Nothing is left behind on error.',
        ].join('\n'),
      ) as unknown as Argv<PrepareArgs>,
  handler: async (argv) => {
    const result = await prepare({
      input: argv.input,
      output: argv.output,
      format: argv.format,
      kind: argv.kind,
      anchor: argv.anchor,
      positive: argv.positive,
      negative: negativeList(argv.negative),
      text1: argv.text1,
      text2: argv.text2,
      score: argv.score,
      batchRows: argv['batch-rows'],
      replaceInvalidUtf8: argv['replace-invalid-utf8'],
    });
    console.log(`prepare: wrote ${result.rows} rows (${result.columns.join(', ')}), skipped ${result.skipped} with an empty field, to ${argv.output}`);
  },
};
