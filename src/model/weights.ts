/**
 * Params <-> Hugging Face tensors (PyTorch layout, HF `BertModel` names), for model.safetensors.
 */
import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './config.js';
import { isDenseWeight, makeVariable, paramSpecs, type Params } from './params.js';
import type { NamedTensor } from './safetensors.js';
import { userError } from '../util/errors.js';

/** Our params as HF tensors: dense weights transposed from [in, out] to PyTorch's [out, in]. */
export function paramsToHf(params: Params): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  for (const [name, v] of Object.entries(params)) {
    const t = isDenseWeight(name) ? tf.transpose(v) : v;
    out[name] = { dtype: 'F32', shape: t.shape.slice(), data: t.dataSync() as Float32Array };
    if (t !== v) t.dispose();
  }
  return out;
}

/**
 * Build params from HF tensors. Accepts names with or without the `bert.` prefix that
 * `BertForPreTraining`-style checkpoints use. A missing tensor or a shape mismatch is an error
 * naming it; the pooler may be absent (it is re-initialised to zeros: embeddings never use it).
 */
export function paramsFromHf(c: BertConfig, tensors: Record<string, NamedTensor>, where: string): Params {
  const params: Params = {};
  try {
    for (const spec of paramSpecs(c)) {
      const t = tensors[spec.name] ?? tensors[`bert.${spec.name}`];
      if (!t) {
        if (spec.name.startsWith('pooler.')) {
          params[spec.name] = makeVariable(tf.zeros(spec.shape), spec.trainable, spec.name);
          continue;
        }
        throw userError(where, spec.name, 'tensor missing from the checkpoint');
      }
      const hfShape = isDenseWeight(spec.name) ? [...spec.shape].reverse() : spec.shape;
      if (t.shape.length !== hfShape.length || t.shape.some((d, i) => d !== hfShape[i])) {
        throw userError(where, spec.name, `shape [${t.shape}] does not match the config's [${hfShape}]`);
      }
      if (!(t.data instanceof Float32Array)) throw userError(where, spec.name, `expected a float tensor, got ${t.dtype}`);
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
