/**
 * Params <-> Hugging Face tensors (PyTorch layout, HF `BertModel` / `XLMRobertaModel` names), for
 * model.safetensors. Both architectures share the tensor names below their model prefix.
 */
import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from '../model/config.js';
import { isDenseWeight, makeVariable, paramSpecs, type Params } from '../model/params.js';
import type { NamedTensor, SafetensorsFile, TensorSpec } from './safetensors.js';
import { userError } from '../util/errors.js';

/**
 * Name prefixes of task-head checkpoints: `BertForPreTraining`/`BertForMaskedLM` keep the encoder under
 * `bert.`, `XLMRobertaForMaskedLM` (the hub's xlm-roberta-base) under `roberta.`, DeBERTa heads under `deberta.`. `save_pretrained` of
 * the bare `BertModel`/`XLMRobertaModel` writes no prefix. Head tensors (`cls.*`, `lm_head.*`) are ignored.
 */
export const WEIGHT_PREFIXES = ['', 'bert.', 'roberta.', 'deberta.'] as const;

/** The HF tensors of our params (name, dtype, shape), for laying out model.safetensors before writing it. */
export function hfSpecs(params: Params): TensorSpec[] {
  return Object.entries(params).map(([name, v]) => ({ name, dtype: 'F32', shape: isDenseWeight(name) ? [...v.shape].reverse() : v.shape.slice() }));
}

/** One param as an HF tensor: dense weights transposed from [in, out] to PyTorch's [out, in]. */
export async function paramToHf(params: Params, name: string): Promise<NamedTensor> {
  const v = params[name];
  const t = isDenseWeight(name) ? tf.transpose(v) : v;
  const out: NamedTensor = { dtype: 'F32', shape: t.shape.slice(), data: Float32Array.from((await t.data()) as Float32Array) };
  if (t !== v) t.dispose();
  return out;
}

/** Old TF-converted BERT checkpoints name LayerNorm parameters gamma/beta (transformers renames them on load too). */
function legacyName(name: string): string | undefined {
  if (!name.includes('LayerNorm.')) return undefined;
  return name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
}

/** The checkpoint's name for one of our param names, trying each prefix (and legacy LayerNorm names). */
export function findHfName(has: (name: string) => boolean, name: string): string | undefined {
  const legacy = legacyName(name);
  for (const prefix of WEIGHT_PREFIXES) {
    if (has(prefix + name)) return prefix + name;
    if (legacy && has(prefix + legacy)) return prefix + legacy;
  }
  return undefined;
}

function describeCheckpoint(names: string[]): string {
  const shown = names.slice(0, 4).join(', ');
  return `the checkpoint has ${names.length} tensors (${shown}${names.length > 4 ? ', …' : ''}); expected BertModel / XLMRobertaModel / DebertaModel names, optionally prefixed ${WEIGHT_PREFIXES.filter(Boolean).join(' or ')}`;
}

/**
 * Build params from an open model.safetensors, one tensor at a time. Accepts names with or without a
 * `bert.`/`roberta.` prefix. A missing tensor or a shape mismatch is a UserError naming it; the pooler
 * may be absent (task-head checkpoints have none; it is set to zeros: embeddings never use it).
 */
export async function paramsFromHf(c: BertConfig, file: SafetensorsFile): Promise<Params> {
  const where = file.path;
  const params: Params = {};
  try {
    for (const spec of paramSpecs(c)) {
      const name = findHfName(file.has, spec.name);
      if (!name) {
        if (spec.name.startsWith('pooler.')) {
          params[spec.name] = makeVariable(tf.zeros(spec.shape), spec.trainable, spec.name);
          continue;
        }
        throw userError(where, spec.name, `tensor missing from the checkpoint; ${describeCheckpoint(file.specs.map((s) => s.name))}`);
      }
      const t = await file.read(name);
      const hfShape = isDenseWeight(spec.name) ? [...spec.shape].reverse() : spec.shape;
      if (t.shape.length !== hfShape.length || t.shape.some((d, i) => d !== hfShape[i])) {
        throw userError(where, spec.name, `shape [${t.shape}] does not match the config's [${hfShape}]`);
      }
      if (!(t.data instanceof Float32Array)) throw userError(where, spec.name, `expected a float tensor (F32, F16 or BF16), got ${t.dtype}`);
      const bad = t.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) throw userError(where, name, `holds ${t.data[bad]} at index ${bad}: the weights are broken (a run that diverged?); refusing to load them`);
      const value = tf.tidy(() => {
        const raw = tf.tensor(t.data as Float32Array, t.shape, 'float32');
        return isDenseWeight(spec.name) ? tf.transpose(raw) : raw;
      });
      params[spec.name] = makeVariable(value, spec.trainable, spec.name);
      value.dispose();
    }
  } catch (err) {
    for (const v of Object.values(params)) v.dispose();
    throw err;
  }
  return params;
}
