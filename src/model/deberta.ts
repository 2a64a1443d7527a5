/**
 * DeBERTa v1 without relative attention, as USER's base (deepvk/deberta-v1-base: `relative_attention: false`,
 * `position_biased_input: true`, no token types, LayerNorm eps 1e-7) runs in transformers' `DebertaModel`
 * (modeling_deberta.py, notes in shared/notes/ARCHITECTURES.md §2b). BERT's block with four differences:
 *
 *   - embeddings: word + position (+ token type when type_vocab_size > 0), LayerNorm, then multiplied by
 *     the attention mask (padding rows zeroed), then dropout. The word table's `padding_idx` row
 *     (pad_token_id) never gets a gradient, as `nn.Embedding(padding_idx=...)`; USER's pad id 0 is `<s>`;
 *   - attention: one bias-free `in_proj` [H -> 3H] whose output rows are head-interleaved (head h: q, k, v
 *     in columns h·3d + [0, d), [d, 2d), [2d, 3d)), then `q_bias` and `v_bias` (no key bias);
 *   - the query is divided by sqrt(d) before QKᵀ (scale factor 1: no pos_att_type);
 *   - XSoftmax with the 2-D mask m_i·m_j: padded keys get probability 0 (as BERT) and padded query rows are
 *     all-zero (BERT's are a softmax over the real keys); pooled embeddings never read those rows.
 * Full disentangled attention (relative_attention true, deberta-v2/v3) is refused in config.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { BertConfig } from './config.js';
import type { Params } from './params.js';
import { attentionDropout, dense, denseGelu, dropout, layerNorm, type EncoderInputs, type ForwardOptions } from './bert.js';
import { attention } from './attention.js';

/**
 * The word table as `nn.Embedding(padding_idx)` sees it in backward: values unchanged, the gradient of
 * row `pad` zeroed. [V, H] -> [V, H].
 */
function withFrozenRow(table: tf.Tensor2D, pad: number): tf.Tensor2D {
  const [V] = table.shape;
  const f = tf.customGrad((...args: unknown[]) => ({
    value: tf.clone(args[0] as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor2D) => tf.mul(dy, tf.sub(1, tf.oneHot(pad, V).reshape([V, 1]))) as tf.Tensor2D, // [V, H] · [V, 1]
  }));
  return f(table);
}

/** Token embeddings of the last layer, [B, S, H]. Call inside `tf.tidy` (or `variableGrads`). */
export function debertaForward(c: BertConfig, params: Params, inputs: EncoderInputs, opts: ForwardOptions = {}): tf.Tensor3D {
  const [B, S] = inputs.inputIds.shape;
  const H = c.hiddenSize;
  const nh = c.numHeads;
  const dh = H / nh;
  if (S > c.maxPositions) throw new Error(`Cannot encode a sequence of length ${S}: the model has only ${c.maxPositions} positions`);

  // Embeddings, flattened to [B*S, H].
  const table = withFrozenRow(params['embeddings.word_embeddings.weight'] as tf.Tensor2D, c.padTokenId);
  let summed = tf.add(
    tf.gather(table, inputs.inputIds.reshape([B * S])).reshape([B, S, H]), // [B, S, H]
    tf.slice(params['embeddings.position_embeddings.weight'], [0, 0], [S, H]), // [S, H], ids 0..S-1
  ).reshape([B * S, H]) as tf.Tensor2D;
  if (c.typeVocabSize > 0) {
    const types = inputs.tokenTypeIds ?? tf.zeros([B, S], 'int32');
    summed = tf.add(summed, tf.gather(params['embeddings.token_type_embeddings.weight'], types.reshape([B * S])));
  }
  const maskF = tf.cast(inputs.attentionMask, 'float32'); // [B, S]
  const rowMask = maskF.reshape([B * S, 1]); // [B*S, 1]
  let x = dropout(tf.mul(layerNorm(params, 'embeddings.LayerNorm', summed, c.layerNormEps), rowMask) as tf.Tensor2D, c.hiddenDropout, opts);

  const keyBias = tf.mul(tf.sub(1, maskF), -1e9) as tf.Tensor2D; // [B, S] padded keys
  const queryMask = maskF.reshape([B, S, 1, 1]); // [B, S, 1, 1] XSoftmax zeroes padded query rows (so their context)
  const scale = 1 / Math.sqrt(dh);

  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const qkv = tf.matMul(x, params[`${p}.attention.self.in_proj.weight`] as tf.Tensor2D).reshape([B, S, nh, 3 * dh]); // [B, S, nh, 3d], head-interleaved
    const [q0, k0, v0] = tf.split(qkv, 3, -1) as tf.Tensor4D[]; // each [B, S, nh, d]
    const q = tf.mul(tf.add(q0, params[`${p}.attention.self.q_bias`].reshape([nh, dh])), scale) as tf.Tensor4D; // [B, S, nh, d], scaled before QKᵀ
    const v = tf.add(v0, params[`${p}.attention.self.v_bias`].reshape([nh, dh])) as tf.Tensor4D; // [B, S, nh, d]
    // probabilities of padded query rows are zero in XSoftmax: the same as zeroing their context rows
    const ctx = tf.mul(attention(q, k0, v, { scale: 1, keyBias, dropout: attentionDropout(c.attentionDropout, opts) }), queryMask); // [B, S, nh, d]
    const merged = ctx.reshape([B * S, H]) as tf.Tensor2D; // [B*S, H]
    const attnOut = dropout(dense(params, `${p}.attention.output.dense`, merged), c.hiddenDropout, opts);
    x = layerNorm(params, `${p}.attention.output.LayerNorm`, tf.add(attnOut, x), c.layerNormEps);

    const inter = denseGelu(params, `${p}.intermediate.dense`, x); // [B*S, I]
    const out = dropout(dense(params, `${p}.output.dense`, inter), c.hiddenDropout, opts); // [B*S, H]
    x = layerNorm(params, `${p}.output.LayerNorm`, tf.add(out, x), c.layerNormEps);
  }
  return x.reshape([B, S, H]);
}
