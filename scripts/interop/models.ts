/**
 * The toolkit side of `npm run interop` (scripts/interop/run.sh): trains tiny models with the real
 * `contrastive` binary (train, export, merge), then records what the toolkit computes for a fixed set
 * of EN/RU texts — token ids and sentence embeddings, without and with each saved prompt, short
 * texts and texts cut at max_seq_length — so check.py can hold the real Python libraries to them.
 *
 *   node dist/scripts/interop/models.js --work DIR [--minilm FOLDER] [--tokenizer-texts FILE]
 *
 * Writes DIR/<name>/ (the run; its final/ is the model folder), DIR/manifest.json listing every model
 * folder with its expected values, and, with --tokenizer-texts, DIR/tokenization.json: the toolkit's
 * ids of those texts for each tokenizer (WordPiece and Unigram) to compare with `transformers`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadEncoder, readModelFolder } from '../../src/folder/read.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { embedTexts } from '../../src/eval/embed.js';

const CLI = resolve('dist/src/cli/main.js');

/** EN/RU texts; the long ones are cut at the models' max_seq_length (32 tokens here). */
export const TEXTS = [
  'Contrastive learning of sentence embeddings',
  'Protein structure prediction with deep learning.',
  'кошка сидит на ковре',
  'Методы машинного обучения для анализа текстов на русском языке',
  'a',
  'We propose a simple contrastive framework that learns sentence embeddings from title and abstract pairs of scientific papers, '
    + 'and we show that in-batch negatives with a large batch size give strong retrieval results on several benchmarks.',
  'В работе предложен метод обучения векторных представлений предложений на парах «заголовок — аннотация» научных статей; '
    + 'показано, что отрицательные примеры из батча дают высокое качество поиска на нескольких наборах данных.',
  'Mixed case: BERT, XLM-R and ONNX ✓ — 2024!',
];

interface ModelSpec {
  name: string;
  /** The recipe (paths relative to the repository root). */
  recipe: Record<string, unknown>;
  maxSteps: number;
  /** Run `contrastive export` on the final folder. */
  onnx?: boolean;
}

const TINY = { hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, maxPositions: 64 };
const XLMR = { modelType: 'xlm-roberta', typeVocabSize: 1, layerNormEps: 1e-5, maxPositions: 66 };
const TRAIN = { batchSize: 16, epochs: 1, lr: 1e-3, warmupRatio: 0.1, weightDecay: 0.01, maxGradNorm: 1.0 };

function specs(work: string, minilm: string | undefined): ModelSpec[] {
  const pairs = (prompts?: Record<string, string>) => [{ name: 'title-abstract', path: 'data/train.arrow', loss: { name: 'infonce', scale: 20 }, ...(prompts ? { prompts } : {}) }];
  const bertMean = (seed: number) => ({
    name: 'bert-mean-prompts', seed, tokenizer: 'data/tokenizer.json',
    model: { ...TINY, pooling: 'mean', normalize: true },
    datasets: pairs({ anchor: 'query: ', positive: 'passage: ' }),
    data: { maxLength: 32, shuffleBuffer: 512 }, train: TRAIN,
  });
  const out: ModelSpec[] = [
    { name: 'bert-mean-prompts', recipe: bertMean(42), maxSteps: 8, onnx: true },
    { name: 'bert-mean-prompts-seed7', recipe: bertMean(7), maxSteps: 8 },
    {
      name: 'bert-cls', maxSteps: 8, onnx: true,
      recipe: {
        name: 'bert-cls', seed: 3, tokenizer: 'data/tokenizer.json', model: { ...TINY, pooling: 'cls', normalize: false },
        datasets: pairs(), data: { maxLength: 32, shuffleBuffer: 512 }, train: TRAIN,
      },
    },
    {
      // Unigram tokenizers trained by prepare.py; offset position ids, pad id 1
      name: 'xlmr-mean', maxSteps: 8, onnx: true,
      recipe: {
        name: 'xlmr-mean', seed: 5, tokenizer: join(work, 'unigram-xlmr', 'tokenizer.json'),
        model: { ...TINY, ...XLMR, pooling: 'mean', normalize: true },
        datasets: pairs({ anchor: 'query: ', positive: 'passage: ' }), data: { maxLength: 32, shuffleBuffer: 512 }, train: TRAIN,
      },
    },
    {
      name: 'xlmr-cls-nfkc', maxSteps: 8,
      recipe: {
        name: 'xlmr-cls-nfkc', seed: 6, tokenizer: join(work, 'unigram-nfkc', 'tokenizer.json'),
        model: { ...TINY, ...XLMR, pooling: 'cls', normalize: false },
        datasets: pairs(), data: { maxLength: 32, shuffleBuffer: 512 }, train: TRAIN,
      },
    },
  ];
  if (minilm) {
    out.push({
      name: 'minilm-ft', maxSteps: 3,
      recipe: {
        name: 'minilm-ft', seed: 11, model: { from: minilm },
        datasets: pairs(), data: { maxLength: 32, shuffleBuffer: 512 }, train: { ...TRAIN, batchSize: 8, lr: 2e-5 },
      },
    });
  }
  return out;
}

function cli(args: string[]): void {
  execFileSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

export interface ExpectedCase {
  prompt_name: string | null;
  /** the texts without the prompt (sentence-transformers adds it) */
  texts: string[];
  /** token ids (no padding) of prompt + text, cut at max_seq_length */
  input_ids: number[][];
  embeddings: number[][];
}

/** What the toolkit computes for TEXTS with `dir`'s model: one case without a prompt, one per saved prompt. */
async function expected(dir: string): Promise<Record<string, unknown>> {
  const folder = await readModelFolder(dir);
  const encoder = await loadEncoder(folder);
  const tokenizer = await TextTokenizer.load(folder.tokenizerPath);
  const H = encoder.config.hiddenSize;
  const cases: ExpectedCase[] = [];
  for (const name of [null, ...Object.keys(folder.prompts)]) {
    const texts = TEXTS.map((t) => (name === null ? '' : folder.prompts[name]) + t);
    const flat = await embedTexts(encoder, tokenizer, texts, { maxLength: folder.maxLength, batchSize: 3 });
    cases.push({
      prompt_name: name,
      texts: TEXTS,
      input_ids: texts.map((t) => tokenizer.encodeOne(t, folder.maxLength)),
      embeddings: TEXTS.map((_, i) => Array.from(flat.subarray(i * H, (i + 1) * H))),
    });
  }
  encoder.dispose();
  return {
    path: resolve(dir), model_type: folder.modelType, pooling: folder.config.pooling, normalize: folder.config.normalize,
    max_seq_length: folder.maxLength, prompts: folder.prompts, hidden_size: H,
    onnx: existsSync(join(dir, 'onnx', 'model.onnx')), cases,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const work = resolve(opt('--work') ?? 'checkpoints/interop');
  const minilm = opt('--minilm');
  await mkdir(work, { recursive: true });
  const manifest: Record<string, unknown> = {};
  const finals: Record<string, string> = {};
  for (const spec of specs(work, minilm && resolve(minilm))) {
    const run = join(work, spec.name);
    const recipePath = join(work, `${spec.name}.recipe.json`);
    await writeFile(recipePath, JSON.stringify(spec.recipe, null, 2) + '\n');
    console.error(`\n== train ${spec.name} (${spec.maxSteps} steps)`);
    cli(['train', '--config', recipePath, '--output', run, '--overwrite', '--max-steps', String(spec.maxSteps), '--backend', 'wasm']);
    finals[spec.name] = join(run, 'final');
    if (spec.onnx) {
      console.error(`== export ${spec.name}`);
      cli(['export', '--model', finals[spec.name], '--no-quantize']);
    }
  }
  console.error('\n== merge bert-mean-prompts + bert-mean-prompts-seed7');
  const merged = join(work, 'merged');
  cli(['merge', '--models', finals['bert-mean-prompts'], finals['bert-mean-prompts-seed7'], '--output', merged, '--weights', '0.7', '0.3', '--overwrite']);
  finals.merged = merged;
  if (minilm) finals['minilm-packaged'] = resolve(minilm);

  await tf.setBackend('cpu'); // the reference backend: what the toolkit means by its embeddings
  for (const [name, dir] of Object.entries(finals)) manifest[name] = await expected(dir);
  await writeFile(join(work, 'manifest.json'), JSON.stringify(manifest) + '\n');
  console.error(`\nwrote ${join(work, 'manifest.json')} (${Object.keys(manifest).length} models)`);

  const textsFile = opt('--tokenizer-texts');
  if (textsFile) {
    const texts = (await readFile(textsFile, 'utf8')).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as string);
    // each folder's tokenizer.json as the toolkit reads it; check.py loads the same folder with AutoTokenizer
    const folders: Record<string, string> = {
      'WordPiece, bundled data/tokenizer.json (bert-mean-prompts)': finals['bert-mean-prompts'],
      'Unigram trained by tokenizers, XLM-R pipeline (xlmr-mean)': finals['xlmr-mean'],
      'Unigram trained by tokenizers, NFKC (xlmr-cls-nfkc)': finals['xlmr-cls-nfkc'],
    };
    if (minilm) folders['WordPiece, all-MiniLM-L6-v2 (packaged)'] = resolve(minilm);
    const out: Record<string, { folder: string; ids: number[][] }> = {};
    for (const [label, folder] of Object.entries(folders)) {
      const tok = await TextTokenizer.load(join(folder, 'tokenizer.json'));
      out[label] = { folder, ids: texts.map((t) => tok.encodeOne(t, 128)) };
    }
    await writeFile(join(work, 'tokenization.json'), JSON.stringify({ max_length: 128, texts, tokenizers: out }) + '\n');
    console.error(`wrote ${join(work, 'tokenization.json')} (${texts.length} texts x ${Object.keys(out).length} tokenizers)`);
  }
}

await main();
