/**
 * Encoder parameters, keyed by their Hugging Face `BertModel` names
 * (`encoder.layer.0.attention.self.query.weight`, ...), so saving and loading is a loop over keys.
 *
 * One difference from PyTorch: dense (Linear) weights are held as [in, out] so the forward pass is a
 * plain `x @ W` (the fast path on every backend). `isDenseWeight` marks them; the safetensors I/O
 * transposes them to PyTorch's [out, in].
 */
import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './config.js';
import { denseName, isRouted, sublayer, type MoeConfig } from './moe.js';
import { Rng } from '../util/rng.js';

export type Params = Record<string, tf.Variable>;

let nextId = 0;
/**
 * tfjs variable names are global to the process, so two live models (a merge, a resume, an eval
 * beside training) must not both own `encoder.layer.0...`: each variable gets a unique suffix.
 * Params are always addressed by their record key (the HF name), never by `variable.name`.
 */
export function makeVariable(value: tf.Tensor, trainable: boolean, name: string): tf.Variable {
  return tf.variable(value, trainable, `${name}#${nextId++}`);
}

export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones';
  /** The pooler is saved for HF compatibility but sentence embeddings never use it. */
  trainable: boolean;
}

export function isDenseWeight(name: string): boolean {
  return name.endsWith('.weight') && !name.startsWith('embeddings.') && !name.includes('LayerNorm');
}

/** Every tensor of a BertModel (or DebertaModel), in the order transformers lists them. */
export function paramSpecs(c: BertConfig): ParamSpec[] {
  if (c.modelType === 'deberta') return debertaSpecs(c);
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const specs: ParamSpec[] = [];
  const add = (name: string, shape: number[], init: ParamSpec['init'], trainable = true) =>
    specs.push({ name, shape, init, trainable });
  const dense = (prefix: string, inDim: number, outDim: number, trainable = true) => {
    add(`${prefix}.weight`, [inDim, outDim], 'normal', trainable); // [in, out]
    add(`${prefix}.bias`, [outDim], 'zeros', trainable);
  };
  const layerNorm = (prefix: string) => {
    add(`${prefix}.weight`, [H], 'ones');
    add(`${prefix}.bias`, [H], 'zeros');
  };
  add('embeddings.word_embeddings.weight', [c.vocabSize, H], 'normal');
  add('embeddings.position_embeddings.weight', [c.maxPositions, H], 'normal');
  add('embeddings.token_type_embeddings.weight', [c.typeVocabSize, H], 'normal');
  layerNorm('embeddings.LayerNorm');
  for (let l = 0; l < c.numLayers; l++) {
    // A sublayer SciMult gives experts (moe.ts) appears once per expert, under the expert's name.
    const each = (sub: string, make: (prefix: string) => void) => {
      if (!isRouted(c.moe, l, sub)) make(`encoder.layer.${l}.${sub}`);
      else for (let e = 0; e < c.moe!.experts; e++) make(sublayer(c.moe, l, sub, e));
    };
    each('attention.self.query', (p) => dense(p, H, H));
    each('attention.self.key', (p) => dense(p, H, H));
    each('attention.self.value', (p) => dense(p, H, H));
    each('attention.output.dense', (p) => dense(p, H, H));
    layerNorm(`encoder.layer.${l}.attention.output.LayerNorm`);
    each('intermediate.dense', (p) => dense(p, H, I));
    each('output.dense', (p) => dense(p, I, H));
    each('output.LayerNorm', layerNorm);
  }
  dense('pooler.dense', H, H, false);
  return specs;
}

/**
 * A DebertaModel without relative attention (deberta.ts): no token types when type_vocab_size is 0,
 * per layer a bias-free `in_proj` [H, 3H] (held [in, out]; head-interleaved columns) with `q_bias` and
 * `v_bias`, and no pooler. Initialised as HF DebertaPreTrainedModel: normal weights, zero q/v biases.
 */
function debertaSpecs(c: BertConfig): ParamSpec[] {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const specs: ParamSpec[] = [];
  const add = (name: string, shape: number[], init: ParamSpec['init']) => specs.push({ name, shape, init, trainable: true });
  const dense = (prefix: string, inDim: number, outDim: number) => {
    add(`${prefix}.weight`, [inDim, outDim], 'normal'); // [in, out]
    add(`${prefix}.bias`, [outDim], 'zeros');
  };
  const layerNorm = (prefix: string) => {
    add(`${prefix}.weight`, [H], 'ones');
    add(`${prefix}.bias`, [H], 'zeros');
  };
  add('embeddings.word_embeddings.weight', [c.vocabSize, H], 'normal');
  add('embeddings.position_embeddings.weight', [c.maxPositions, H], 'normal');
  if (c.typeVocabSize > 0) add('embeddings.token_type_embeddings.weight', [c.typeVocabSize, H], 'normal');
  layerNorm('embeddings.LayerNorm');
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    add(`${p}.attention.self.in_proj.weight`, [H, 3 * H], 'normal'); // [in, out]
    add(`${p}.attention.self.q_bias`, [H], 'zeros');
    add(`${p}.attention.self.v_bias`, [H], 'zeros');
    dense(`${p}.attention.output.dense`, H, H);
    layerNorm(`${p}.attention.output.LayerNorm`);
    dense(`${p}.intermediate.dense`, H, I);
    dense(`${p}.output.dense`, I, H);
    layerNorm(`${p}.output.LayerNorm`);
  }
  return specs;
}

/**
 * Fresh weights with HF `BertPreTrainedModel._init_weights` semantics: N(0, initializer_range) for
 * dense and embedding weights, zero biases, LayerNorm (1, 0), and the padding row of the word
 * embeddings zeroed. Seeded: the same seed gives the same model on every backend.
 */
export function initParams(c: BertConfig, seed: number): Params {
  const rng = new Rng(seed);
  const params: Params = {};
  for (const spec of paramSpecs({ ...c, moe: undefined })) {
    const value = tf.tidy(() => {
      if (spec.init === 'zeros') return tf.zeros(spec.shape);
      if (spec.init === 'ones') return tf.ones(spec.shape);
      const w = tf.randomNormal(spec.shape, 0, c.initializerRange, 'float32', rng.seed());
      if (spec.name === 'embeddings.word_embeddings.weight') {
        const keep = tf.oneHot(c.padTokenId, c.vocabSize).reshape([c.vocabSize, 1]); // [V, 1]
        return w.mul(tf.scalar(1).sub(keep));
      }
      return w;
    });
    params[spec.name] = makeVariable(value, spec.trainable, spec.name);
    value.dispose();
  }
  // Experts start as copies of the dense init, so an MoE model and its dense twin begin equal.
  return c.moe ? withExperts(params, c) : params;
}

/**
 * Dense BertModel params -> the MoE model of `c.moe`: every expert tensor a copy of the dense tensor it
 * replaces (SciMult's `init_moe_from_nonmoe_pretrained`). Consumes `dense` (replaced variables are
 * disposed); the result is in paramSpecs(c) order.
 */
export function withExperts(dense: Params, c: BertConfig & { moe?: MoeConfig }): Params {
  const out: Params = {};
  for (const spec of paramSpecs(c)) {
    const source = dense[denseName(spec.name)];
    if (!source) throw new Error(`withExperts: no dense tensor ${denseName(spec.name)} for ${spec.name}`);
    if (denseName(spec.name) === spec.name) {
      out[spec.name] = source; // a shared tensor: kept as it is
      continue;
    }
    const copy = source.clone();
    out[spec.name] = makeVariable(copy, spec.trainable, spec.name);
    copy.dispose();
  }
  const kept = new Set(Object.values(out));
  for (const v of Object.values(dense)) if (!kept.has(v)) v.dispose();
  return out;
}

/** The params that receive gradients (everything but the pooler), keyed by HF name. */
export function trainableParams(params: Params): Params {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v.trainable));
}

export function countParams(params: Params): number {
  return Object.values(params).reduce((n, v) => n + v.size, 0);
}

export function disposeParams(params: Params): void {
  for (const v of Object.values(params)) v.dispose();
}
