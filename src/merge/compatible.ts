/**
 * Whether model folders can be merged tensor by tensor: the same architecture (every config.json
 * field the network uses), the same tensor names, dtypes and shapes, and the same tokenizer
 * (vocabulary, normalizer, pre-tokenizer, post-processor). The first difference is a UserError naming
 * both folders and what differs.
 */
import { readFile } from 'node:fs/promises';
import type { BertConfig } from '../model/config.js';
import type { ModelFolder } from '../folder/read.js';
import type { TensorSpec } from '../folder/safetensors.js';
import { tokenizerVocab, type TokenizerJson } from '../folder/st-files.js';
import { userError } from '../util/errors.js';

/** The config fields that make two networks the same architecture (dropout and init do not). */
const ARCHITECTURE_KEYS: (keyof BertConfig)[] = [
  'modelType', 'vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPositions', 'typeVocabSize', 'layerNormEps', 'padTokenId',
];

export function checkSameArchitecture(first: ModelFolder, other: ModelFolder): void {
  for (const key of ARCHITECTURE_KEYS) {
    const [a, b] = [first.config[key] ?? 'bert', other.config[key] ?? 'bert'];
    if (a !== b) {
      throw userError(other.dir, `config.json: ${key}`, `is ${JSON.stringify(b)} but ${first.dir} has ${JSON.stringify(a)}; only models of one architecture can be merged`);
    }
  }
}

export function checkSameTensors(first: { dir: string; specs: TensorSpec[] }, other: { dir: string; specs: TensorSpec[] }): void {
  const theirs = new Map(other.specs.map((s) => [s.name, s]));
  for (const s of first.specs) {
    const t = theirs.get(s.name);
    if (!t) throw userError(other.dir, `model.safetensors: ${s.name}`, `missing (${first.dir} has it); merged models need the same tensors`);
    if (t.dtype !== s.dtype || t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw userError(other.dir, `model.safetensors: ${s.name}`, `is ${t.dtype} [${t.shape}] but ${s.dtype} [${s.shape}] in ${first.dir}`);
    }
  }
  const ours = new Set(first.specs.map((s) => s.name));
  const extra = other.specs.find((s) => !ours.has(s.name));
  if (extra) throw userError(other.dir, `model.safetensors: ${extra.name}`, `not in ${first.dir}; merged models need the same tensors`);
}

interface TokenizerParts extends TokenizerJson {
  decoder?: unknown;
}

async function readTokenizer(path: string): Promise<TokenizerParts> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as TokenizerParts;
  } catch (err) {
    throw userError(path, undefined, `cannot read the tokenizer (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Same token → id map and the same text processing; truncation and padding settings may differ. */
export async function checkSameTokenizer(first: ModelFolder, other: ModelFolder): Promise<void> {
  const [a, b] = [await readTokenizer(first.tokenizerPath), await readTokenizer(other.tokenizerPath)];
  const [va, vb] = [tokenizerVocab(a), tokenizerVocab(b)];
  for (const [token, id] of va) {
    if (vb.get(token) !== id) {
      const there = vb.get(token);
      throw userError(other.tokenizerPath, 'vocabulary', `token ${JSON.stringify(token)} is ${there === undefined ? 'missing' : `id ${there}`} here but id ${id} in ${first.tokenizerPath}; merged models need one tokenizer`);
    }
  }
  if (vb.size !== va.size) throw userError(other.tokenizerPath, 'vocabulary', `has ${vb.size} tokens, ${first.tokenizerPath} has ${va.size}; merged models need one tokenizer`);
  for (const part of ['model.type', 'normalizer', 'pre_tokenizer', 'post_processor'] as const) {
    const get = (t: TokenizerParts) => JSON.stringify(part === 'model.type' ? t.model?.type : t[part] ?? null);
    if (get(a) !== get(b)) throw userError(other.tokenizerPath, part, `differs from ${first.tokenizerPath}; merged models need one tokenizer`);
  }
}
