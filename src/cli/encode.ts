/** `contrastive encode`: embed a text column of an Arrow/JSONL file into an Arrow file of (id, embedding). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import cliProgress from 'cli-progress';
import { encodeFile } from '../encode/encode-file.js';
import { ENGINES, type EngineName } from '../encode/engines.js';
import { inputKind } from '../encode/input.js';
import { readModelFolder } from '../folder/read.js';
import { withBackend, setupBackend, type BackendArgs } from './common.js';

interface EncodeArgs extends BackendArgs {
  model: string;
  input: string;
  output: string;
  engine?: EngineName;
  column: string;
  'batch-size': number;
  'max-length'?: number;
  'prompt-name'?: string;
  prompt?: string;
  threads?: number;
  task?: string;
  json: boolean;
}

export const encodeCommand: CommandModule<object, EncodeArgs> = {
  command: 'encode',
  describe: 'Embed a text column of an Arrow or JSONL file; writes an Arrow file with `id` and `embedding` (FixedSizeList<Float32>)',
  builder: (y) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'Model folder (from `contrastive train`, or a sentence-transformers / Hugging Face BERT or XLM-R folder)' })
      .option('input', { alias: 'i', type: 'string', demandOption: true, describe: 'Texts: .arrow/.feather/.ipc (Arrow IPC) or .jsonl/.ndjson; ids from an `id` column/field, else the row number' })
      .option('output', { alias: 'o', type: 'string', demandOption: true, describe: 'Arrow IPC file to write (temp file, renamed when complete)' })
      .option('engine', { choices: ENGINES as unknown as EngineName[], describe: 'onnx = onnxruntime on <model>/onnx/model.onnx (all cores); tfjs = the TensorFlow.js encoder on --backend [default: onnx when the folder has onnx/model.onnx, else tfjs]' })
      .option('column', { type: 'string', default: 'anchor', describe: 'Text column (Arrow) or field (JSONL) to embed' })
      .option('batch-size', { type: 'number', default: 64, describe: 'Texts per forward pass' })
      .option('max-length', { type: 'number', describe: "Tokens per text, special tokens included [default: the model's max_seq_length]" })
      .option('prompt-name', { type: 'string', describe: 'Prepend the model\'s prompt of this name (config_sentence_transformers.json), e.g. query' })
      .option('prompt', { type: 'string', describe: 'Prepend this text to every input (overrides --prompt-name)' })
      .option('threads', { type: 'number', describe: 'onnxruntime intra-op threads [default: all cores]' })
      .option('task', { type: 'string', describe: "Task-routed (MoE) models: the task whose expert encodes, one of the model's config.json moe.tasks (e.g. search)" })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary on stdout' })
      .example('$0 encode --model checkpoints/tiny/final --input data/sample.jsonl --output emb.arrow', 'embed the `anchor` field of each line')
      .example('$0 encode --model m --input docs.arrow --column positive --engine tfjs --backend wasm -o docs-emb.arrow', 'embed another column with TensorFlow.js') as never,
  handler: async (argv) => {
    inputKind(argv.input); // unknown extension: one line before anything loads
    await readModelFolder(argv.model); // bad folder: one line before a backend is chosen
    const engine = argv.engine ?? (existsSync(join(argv.model, 'onnx', 'model.onnx')) ? 'onnx' : 'tfjs');
    if (engine === 'tfjs') await setupBackend(argv.backend, argv.threads);
    const tty = Boolean(process.stderr.isTTY);
    const bar = new cliProgress.SingleBar(
      { format: 'encode |{bar}| {value}/{total} texts | {rate} texts/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    const t0 = Date.now();
    let lastLog = 0;
    let barOn = false;
    const result = await encodeFile({
      model: argv.model,
      input: argv.input,
      output: argv.output,
      engine,
      column: argv.column,
      batchSize: argv['batch-size'],
      maxLength: argv['max-length'],
      promptName: argv['prompt-name'],
      prompt: argv.prompt,
      threads: argv.threads,
      task: argv.task,
      onStart: (info) => {
        process.stderr.write(`encoding ${info.rows} texts with ${info.engine} (dim ${info.dim}, max ${info.maxLength} tokens) → ${argv.output}\n`);
        if (tty) {
          bar.start(info.rows, 0, { rate: '-' });
          barOn = true;
        }
      },
      onProgress: (done, total) => {
        const rate = (done / Math.max((Date.now() - t0) / 1000, 1e-3)).toFixed(1);
        if (barOn) bar.update(done, { rate });
        else if (Date.now() - lastLog > 10_000 || done === total) {
          lastLog = Date.now();
          process.stderr.write(`${done}/${total} texts, ${rate} texts/s\n`);
        }
      },
    }).finally(() => {
      if (barOn) bar.stop();
    });
    process.stderr.write(`wrote ${result.rows} embeddings (${result.dim} floats each, ids: ${result.idKind}) to ${result.output} in ${result.seconds.toFixed(1)} s\n`);
    if (argv.json) process.stdout.write(JSON.stringify(result) + '\n');
  },
};
