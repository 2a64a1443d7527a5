/** `contrastive export`: a model folder -> onnx/model.onnx (fp32) + onnx/model_quantized.onnx (int8). */
import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { exportOnnx, type ExportResult } from '../export/export.js';
import { readModelFolder } from '../folder/read.js';
import { resolveTask } from '../model/moe.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, validateOpset } from '../export/bert-graph.js';
import { DEFAULT_SAMPLE, readSampleTexts } from '../export/texts.js';
import { withBackend, setupBackend, type BackendArgs } from './common.js';

interface ExportArgs extends BackendArgs {
  model: string;
  output?: string;
  opset: number;
  quantize: boolean;
  sample?: string;
  verify: boolean;
  task?: string;
  json: boolean;
}


function mb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** The human-readable summary the command prints. */
export function describeExport(r: ExportResult, sample: string | undefined): string {
  const lines = [
    `wrote ${r.path} (fp32, opset ${r.opset}, ${mb(r.bytes)})`,
    `  inputs  input_ids, attention_mask, token_type_ids: int64 [batch_size, sequence_length]`,
    `  outputs last_hidden_state [batch_size, sequence_length, hidden]; sentence_embedding [batch_size, hidden] = ${r.pooling} pooling${r.normalize ? ' + L2 normalize' : ' (not normalized)'}`,
  ];
  const from = (source: string) => (source === 'text' ? `text from ${sample}` : 'random token ids');
  if (r.check) {
    lines.push(`  vs TensorFlow.js on ${r.check.rows} sentences (${from(r.check.source)}): max abs diff last_hidden_state ${r.check.lastHiddenState.toExponential(1)}, sentence_embedding ${r.check.sentenceEmbedding.toExponential(1)}`);
  }
  if (r.quantizedPath && r.quantizedBytes !== undefined) {
    lines.push(`wrote ${r.quantizedPath} (int8 weights, dynamic quantization, ${mb(r.quantizedBytes)})`);
  }
  if (r.cosine) {
    lines.push(`  int8 vs fp32 sentence embeddings, ${r.cosine.count} sentences (${from(r.cosine.source)}): cosine mean ${r.cosine.mean.toFixed(5)}, min ${r.cosine.min.toFixed(5)}`);
  }
  return lines.join('\n') + '\n';
}

export const exportCommand: CommandModule<object, ExportArgs> = {
  command: 'export',
  describe: 'Export a model folder to ONNX (onnx/model.onnx + int8 onnx/model_quantized.onnx) for onnxruntime, sentence-transformers and transformers.js',
  builder: (y: Argv<object>) =>
    withBackend(y)
      .option('model', { type: 'string', demandOption: true, describe: 'Model folder written by `contrastive train` (config.json, model.safetensors, 1_Pooling/, modules.json)' })
      .option('output', {
        type: 'string',
        describe: 'Folder to write onnx/ into [default: the model folder]. Another folder also gets the config, tokenizer and sentence-transformers files, so it loads on its own',
      })
      .option('opset', {
        type: 'number',
        default: DEFAULT_OPSET,
        describe: `ONNX opset, ${MIN_OPSET}–${MAX_OPSET}: 17 uses the fused LayerNormalization op (onnxruntime ≥ 1.14); 14–16 spell LayerNorm out for older runtimes`,
      })
      .option('quantize', { type: 'boolean', default: true, describe: 'Also write onnx/model_quantized.onnx (int8 weights; transformers.js loads it by default on wasm). --no-quantize to skip' })
      .option('sample', {
        type: 'string',
        describe: `Texts for the checks: .jsonl (fields ${'text, anchor, positive, query, title, abstract'}) or one text per line, tokenized with the folder's tokenizer.json [default: ${DEFAULT_SAMPLE} if present, else random token ids]`,
      })
      .option('verify', { type: 'boolean', default: true, describe: 'Compare the fp32 graph with the TensorFlow.js encoder before writing (--no-verify to skip)' })
      .option('task', {
        type: 'string',
        describe: "Task-routed (MoE) models: bake this task's expert into a plain BERT folder at --output (required) and export that",
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as one JSON object on stdout' })
      .example('$0 export --model checkpoints/scimult-tiny/final --task search --output scimult-search', 'the search expert as a plain BERT folder + ONNX')
      .example('$0 export --model checkpoints/tiny/final', 'writes checkpoints/tiny/final/onnx/model.onnx and model_quantized.onnx')
      .example('$0 export --model checkpoints/tiny/final --output web-model --opset 14', 'a self-contained folder for transformers.js, with opset 14')
      .epilog(
        [
          'The graph is Hugging Face BertModel op for op (inputs input_ids, attention_mask, token_type_ids as int64,',
          'dynamic batch_size / sequence_length axes) with two outputs: last_hidden_state, which optimum,',
          "sentence-transformers' ONNX backend and transformers.js read, and sentence_embedding, the folder's pooling",
          '(and L2 normalization) done in the graph. transformers.js never reads 1_Pooling/: call it with',
          "{ pooling: 'mean' | 'cls', normalize: true|false } to match, or read sentence_embedding directly.",
          'The int8 model quantizes every dense layer (DynamicQuantizeLinear + MatMulInteger, int8 weights per output',
          'channel) and the word embeddings (int8 per token); its cosine agreement with fp32 is printed.',
          'Files are written to a temp name and renamed, only after both models ran in onnxruntime.',
        ].join('\n'),
      ) as unknown as Argv<ExportArgs>,
  handler: async (argv) => {
    // cheap checks first, so a mistake is one line (before the backend line)
    validateOpset(argv.opset, '--opset');
    const folder = await readModelFolder(argv.model, { requireTokenizer: false });
    resolveTask(folder.config.moe, argv.task, '--task');
    const sample = argv.sample ?? (existsSync(DEFAULT_SAMPLE) ? DEFAULT_SAMPLE : undefined);
    const texts = sample ? await readSampleTexts(sample, 64) : undefined;
    if (argv.verify) await setupBackend(argv.backend, argv.threads);
    const result = await exportOnnx({
      model: argv.model,
      output: argv.output,
      opset: argv.opset,
      quantize: argv.quantize,
      texts,
      verify: argv.verify,
      task: argv.task,
    });
    if (argv.json) process.stdout.write(JSON.stringify({ model: argv.model, sample: sample ?? null, ...result }) + '\n');
    else process.stdout.write(describeExport(result, sample));
  },
};
