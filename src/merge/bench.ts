/**
 * Memory of a merge: N random model folders of a given shape are written to a temp folder, then
 * merged in a fresh Node process that reports its resident set before the merge and its peak
 * (`process.resourceUsage().maxRSS`), so the figure is the merge's alone. The claim it checks: a merge
 * reads one slice of each tensor at a time, so its peak stays near one model's size however many
 * models are merged.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_CONFIG, type ModelConfig } from '../model/config.js';
import { isDenseWeight, paramSpecs } from '../model/params.js';
import { writeModelFolder } from '../folder/write.js';
import type { TensorData } from '../folder/safetensors.js';
import { Rng } from '../util/rng.js';

export interface MergeBenchShape {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
  /** Models merged. */
  models: number;
}

export interface MergeBenchResult {
  models: number;
  params: number;
  /** model.safetensors of one model. */
  model_mb: number;
  /** Resident set of the merging process before the merge (Node, modules loaded). */
  baseline_rss_mb: number;
  peak_rss_mb: number;
  /** peak − baseline, and that over one model's size. */
  merge_rss_mb: number;
  ratio_to_one_model: number;
  seconds: number;
}

/** A WordPiece tokenizer.json with only the special tokens (the merge reads and compares it, nothing tokenizes). */
const TOKENIZER = {
  version: '1.0',
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: null,
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4 } },
};

const MB = 2 ** 20;

/** Write `shape.models` random folders, merge them uniformly in a child process, report memory. */
export async function benchMerge(shape: MergeBenchShape): Promise<MergeBenchResult> {
  const root = await mkdtemp(join(tmpdir(), 'contrastive-merge-bench-'));
  try {
    const config: ModelConfig = {
      ...DEFAULT_MODEL_CONFIG, vocabSize: shape.vocab, hiddenSize: shape.hidden, numLayers: shape.layers, numHeads: shape.heads,
      intermediateSize: shape.intermediate, maxPositions: shape.maxPositions,
    };
    const specs = paramSpecs(config).map((s) => ({ name: s.name, dtype: 'F32' as const, shape: isDenseWeight(s.name) ? [...s.shape].reverse() : s.shape }));
    const tokenizerPath = join(root, 'tokenizer.json');
    await writeFile(tokenizerPath, JSON.stringify(TOKENIZER));
    const models: string[] = [];
    for (let m = 0; m < shape.models; m++) {
      const rng = new Rng(1000 + m);
      async function* random(count: number): AsyncGenerator<TensorData> {
        for (let start = 0; start < count; start += 1 << 20) {
          yield Float32Array.from({ length: Math.min(1 << 20, count - start) }, () => 0.04 * (rng.next() - 0.5));
        }
      }
      const dir = join(root, `model-${m}`);
      await writeModelFolder(dir, { config, weights: { specs, tensor: (name) => random(specs.find((s) => s.name === name)!.shape.reduce((a, b) => a * b, 1)) }, tokenizerPath, maxLength: 128 });
      models.push(dir);
    }
    const params = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
    const mergeModule = new URL('./merge.js', import.meta.url).href;
    const script = [
      `const { mergeModels } = await import(${JSON.stringify(mergeModule)});`,
      'const baseline = process.memoryUsage().rss;',
      'const t0 = performance.now();',
      `await mergeModels({ models: ${JSON.stringify(models)}, output: ${JSON.stringify(join(root, 'merged'))} });`,
      'process.stdout.write(JSON.stringify({ baseline, peak: process.resourceUsage().maxRSS * 1024, seconds: (performance.now() - t0) / 1000 }));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`merge child process failed: ${child.stderr}`);
    const { baseline, peak, seconds } = JSON.parse(child.stdout) as { baseline: number; peak: number; seconds: number };
    const modelBytes = params * 4;
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      models: shape.models,
      params,
      model_mb: round(modelBytes / MB),
      baseline_rss_mb: round(baseline / MB),
      peak_rss_mb: round(peak / MB),
      merge_rss_mb: round((peak - baseline) / MB),
      ratio_to_one_model: Math.round(((peak - baseline) / modelBytes) * 1000) / 1000,
      seconds: round(seconds),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
