/**
 * Hugging Face `BertModel` + sentence-transformers Pooling/Normalize as an ONNX graph, built from
 * the encoder's params (as folder/read.ts loads them from `model.safetensors`). Initializers keep
 * the HF names; Linear weights are stored transposed for MatMul, as `<name>_T` ([in, out]).
 *
 * Inputs (int64, as HF/optimum export them): input_ids, attention_mask, token_type_ids, all
 * [batch_size, sequence_length]. Outputs: last_hidden_state [batch_size, sequence_length, H] (what
 * optimum / sentence-transformers' ONNX backend / transformers.js read) and sentence_embedding
 * [batch_size, H] (the folder's pooling, L2-normalized when the folder has a Normalize module).
 *
 * The graph follows BertModel's eager forward op for op: embeddings = (word + token_type) + position
 * with position ids Range(0, seq); LayerNorm with the config's eps; scores / sqrt(d_head) + (1 - mask)
 * · finfo(float32).min broadcast as [B, 1, 1, S]; softmax; exact erf GELU; post-LN residual blocks.
 *
 * `modelType: 'deberta'` (DeBERTa v1 without relative attention, src/model/deberta.ts) is the same graph
 * with DebertaModel's differences: no token_type_ids input (type_vocab_size 0, as optimum drops it),
 * embeddings multiplied by the mask after LayerNorm, one bias-free in_proj split per head into q, k, v
 * plus q_bias / v_bias, the query divided by sqrt(d_head) before QKᵀ, and probabilities of padded
 * query rows zeroed (XSoftmax).
 *
 * LayerNorm: opset 17 has a LayerNormalization op — one fused kernel in onnxruntime (CPU, wasm,
 * WebGPU), fewer nodes, and the mean/variance computed in one pass at float32 — so 17 is the default.
 * Opsets 14–16 get the decomposition torch.onnx emits there (ReduceMean, Sub, Mul, ReduceMean, Add,
 * Sqrt, Div, Mul, Add), for runtimes older than onnxruntime 1.14; onnxruntime fuses it back.
 *
 * With `quantize`, every dense layer becomes DynamicQuantizeLinear (activations → uint8, per tensor,
 * at run time) + MatMulInteger with int8 weights (symmetric, per output channel) + a float rescale,
 * which is the pattern onnxruntime's `quantize_dynamic` writes and fuses (MatMulIntegerToFloat); the
 * word-embedding table is stored as int8 with one scale per token (quantize_dynamic leaves Gather
 * alone by default; the table is most of a small-vocabulary-heavy model like SciRus-tiny). Everything
 * else stays float32. Like transformers.js' own q8 files (QInt8 weights, no reduce_range), uint8 ×
 * int8 products can saturate in onnxruntime's AVX2 kernels on CPUs without VNNI; the export reports
 * the measured cosine so a bad case shows.
 */
import type { ModelConfig } from '../model/config.js';
import { paramSpecs } from '../model/params.js';
import { userError } from '../util/errors.js';
import { GraphBuilder, DT, type ModelProto } from './onnx-graph.js';
import { quantizePerColumn, quantizePerRow } from './quantize.js';

export const MIN_OPSET = 14;
export const MAX_OPSET = 17;
export const DEFAULT_OPSET = 17;
export const INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
export const OUTPUT_NAMES = ['last_hidden_state', 'sentence_embedding'] as const;
export const BATCH_AXIS = 'batch_size';
export const SEQ_AXIS = 'sequence_length';

/** torch.finfo(torch.float32).min, what BertModel multiplies (1 - mask) by. */
export const MASK_MIN = -3.4028234663852886e38;

export interface BertGraphOptions {
  /** BERT sizes plus the sentence-embedding head (pooling, normalize). */
  config: ModelConfig;
  /** The encoder's params by name (folder/read.ts reads them from any supported folder); dense weights [in, out]. */
  weights: ParamData;
  /** 14–17; default 17. */
  opset?: number;
  /** int8 weights (see the file comment); default false. */
  quantize?: boolean;
}

/** Param values by our (HF BertModel) name, in the encoder's layout: dense weights [in, out]. */
export type ParamData = Record<string, { data: Float32Array; shape: number[] }>;

export function validateOpset(opset: number, where = 'opset'): number {
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw userError(where, undefined, `unsupported ONNX opset ${opset}; valid: ${MIN_OPSET}–${MAX_OPSET} (17 uses the LayerNormalization op, 14–16 decompose it)`);
  }
  return opset;
}

/** Look up and shape-check the params the graph needs. */
function weightReader(c: ModelConfig, weights: ParamData): (name: string) => { data: Float32Array; shape: number[] } {
  const specs = new Map(paramSpecs(c).map((s) => [s.name, s]));
  return (name) => {
    const spec = specs.get(name);
    const w = weights[name];
    if (!spec || !w) throw new Error(`no parameter ${name} for this config`);
    if (w.shape.length !== spec.shape.length || w.shape.some((d, i) => d !== spec.shape[i])) {
      throw new Error(`parameter ${name} has shape [${w.shape}], the config needs [${spec.shape}]`);
    }
    return w;
  };
}

/** Build the ONNX model (a protobufjs ModelProto; `encodeModel` turns it into file bytes). */
export function buildBertOnnx(opts: BertGraphOptions): ModelProto {
  const c = opts.config;
  const opset = validateOpset(opts.opset ?? DEFAULT_OPSET);
  const quantize = opts.quantize ?? false;
  const weight = weightReader(c, opts.weights);
  const g = new GraphBuilder();
  const H = c.hiddenSize;
  const nh = c.numHeads;
  const dh = H / nh;
  const dims = [BATCH_AXIS, SEQ_AXIS];
  const deberta = c.modelType === 'deberta';

  const inputIds = g.input('input_ids', 'int64', dims);
  const attentionMask = g.input('attention_mask', 'int64', dims);
  // BERT always has token types (type_vocab_size >= 1); HF and optimum declare the input.
  const tokenTypeIds = c.typeVocabSize >= 1 ? g.input('token_type_ids', 'int64', dims) : undefined;

  const init = (name: string): string => {
    const w = weight(name);
    return g.initializer(name, w.data, w.shape);
  };

  const layerNorm = (x: string, prefix: string): string => {
    const gamma = init(`${prefix}.weight`);
    const beta = init(`${prefix}.bias`);
    if (opset >= 17) return g.node('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: c.layerNormEps } });
    const mean = g.node('ReduceMean', [x], { axes: [-1], keepdims: 1 }); // [.., 1]
    const d = g.node('Sub', [x, mean]);
    const variance = g.node('ReduceMean', [g.node('Mul', [d, d])], { axes: [-1], keepdims: 1 }); // biased, as torch
    const std = g.node('Sqrt', [g.node('Add', [variance, g.float(c.layerNormEps)])]);
    return g.node('Add', [g.node('Mul', [g.node('Div', [d, std]), gamma]), beta]);
  };

  // Activations quantized once per tensor (Q, K and V share theirs), as quantize_dynamic does.
  const dynQ = new Map<string, string[]>();
  const linear = (x: string, prefix: string, hasBias = true): string => {
    const w = weight(`${prefix}.weight`); // [in, out]
    const withBias = (y: string) => (hasBias ? g.node('Add', [y, init(`${prefix}.bias`)]) : y);
    if (!quantize) return withBias(g.node('MatMul', [x, g.initializer(`${prefix}.weight_T`, w.data, w.shape)]));
    const [inDim, outDim] = w.shape;
    const { q, scale } = quantizePerColumn(w.data, inDim, outDim);
    const wq = g.initializer(`${prefix}.weight_T_quantized`, q, w.shape);
    const ws = g.initializer(`${prefix}.weight_scale`, scale, [outDim]);
    let xq = dynQ.get(x);
    if (!xq) {
      xq = g.nodeN('DynamicQuantizeLinear', [x], 3, {}, [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`]);
      dynQ.set(x, xq);
    }
    const acc = g.node('MatMulInteger', [xq[0], wq, xq[2]]); // int32 [.., out]
    const rescale = g.node('Mul', [xq[1], ws]); // [out]
    return withBias(g.node('Mul', [g.node('Cast', [acc], { to: DT.FLOAT }), rescale]));
  };

  // --- Embeddings -------------------------------------------------------------------------
  let words: string; // [B, S, H]
  if (quantize) {
    const w = weight('embeddings.word_embeddings.weight'); // [V, H]
    const { q, scale } = quantizePerRow(w.data, c.vocabSize, H);
    const codes = g.node('Gather', [g.initializer('embeddings.word_embeddings.weight_quantized', q, w.shape), inputIds]); // int8 [B, S, H]
    const rowScale = g.node('Gather', [g.initializer('embeddings.word_embeddings.weight_scale', scale, [c.vocabSize, 1]), inputIds]); // [B, S, 1]
    words = g.node('Mul', [g.node('Cast', [codes], { to: DT.FLOAT }), rowScale]);
  } else {
    words = g.node('Gather', [init('embeddings.word_embeddings.weight'), inputIds]);
  }
  let summed = words;
  if (tokenTypeIds) summed = g.node('Add', [summed, g.node('Gather', [init('embeddings.token_type_embeddings.weight'), tokenTypeIds])]);
  let positions: string;
  if (c.modelType === 'xlm-roberta') {
    // HF create_position_ids_from_input_ids: real tokens count up from padding_idx + 1, padding stays at padding_idx
    const real = g.node('Cast', [g.node('Not', [g.node('Equal', [inputIds, g.ints([c.padTokenId], true)])])], { to: DT.INT64 }); // [B, S]
    const counted = g.node('Mul', [g.node('CumSum', [real, g.ints([1], true)]), real]); // [B, S]
    const positionIds = g.node('Add', [counted, g.ints([c.padTokenId], true)], {}, 'position_ids'); // [B, S]
    positions = g.node('Gather', [init('embeddings.position_embeddings.weight'), positionIds]); // [B, S, H]
  } else {
    const seqLen = g.node('Gather', [g.node('Shape', [inputIds]), g.ints([1], true)], { axis: 0 }); // scalar S
    const positionIds = g.node('Range', [g.ints([0], true), seqLen, g.ints([1], true)], {}, 'position_ids'); // [S]
    positions = g.node('Gather', [init('embeddings.position_embeddings.weight'), positionIds]); // [S, H]
  }
  summed = g.node('Add', [summed, positions]); // [B, S, H] (broadcast over B for BERT)
  let x = layerNorm(summed, 'embeddings.LayerNorm');
  const maskF = g.node('Cast', [attentionMask], { to: DT.FLOAT }); // [B, S]
  if (deberta) x = g.node('Mul', [x, g.node('Unsqueeze', [maskF, g.ints([2])])]); // DebertaEmbeddings: padding rows zeroed

  // --- Additive attention mask: 0 where attended, finfo.min on padding -----------------------
  const mask4 = g.node('Unsqueeze', [maskF, g.ints([1, 2])]); // [B, 1, 1, S]
  const maskBias = g.node('Mul', [g.node('Sub', [g.float(1), mask4]), g.float(MASK_MIN)], {}, 'extended_attention_mask');

  // --- Encoder layers ------------------------------------------------------------------------
  const headsShape = g.ints([0, 0, nh, dh]); // 0 = copy B, S
  const mergedShape = g.ints([0, 0, H]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const heads = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, headsShape])], { perm });
    let scores: string; // [B, nh, S, S]
    let v: string; // [B, nh, S, dh]
    if (deberta) {
      // one bias-free in_proj, head-interleaved: [B, S, nh, 3·dh] split into q, k, v; q_bias / v_bias; q scaled first
      const qkv = g.node('Reshape', [linear(x, `${p}.attention.self.in_proj`, false), g.ints([0, 0, nh, 3 * dh])]);
      const [q0, k0, v0] = g.nodeN('Split', [qkv, g.ints([dh, dh, dh])], 3, { axis: -1 });
      const bias = (name: string) => g.node('Reshape', [init(`${p}.attention.self.${name}`), g.ints([nh, dh])]); // [nh, dh]
      const q = g.node('Transpose', [g.node('Div', [g.node('Add', [q0, bias('q_bias')]), g.float(Math.sqrt(dh))])], { perm: [0, 2, 1, 3] });
      const kT = g.node('Transpose', [k0], { perm: [0, 2, 3, 1] });
      v = g.node('Transpose', [g.node('Add', [v0, bias('v_bias')])], { perm: [0, 2, 1, 3] });
      scores = g.node('MatMul', [q, kT]);
    } else {
      const q = heads(linear(x, `${p}.attention.self.query`), [0, 2, 1, 3]); // [B, nh, S, dh]
      const kT = heads(linear(x, `${p}.attention.self.key`), [0, 2, 3, 1]); // [B, nh, dh, S]
      v = heads(linear(x, `${p}.attention.self.value`), [0, 2, 1, 3]); // [B, nh, S, dh]
      scores = g.node('Div', [g.node('MatMul', [q, kT]), g.float(Math.sqrt(dh))]);
    }
    let probs = g.node('Softmax', [g.node('Add', [scores, maskBias])], { axis: -1 });
    if (deberta) probs = g.node('Mul', [probs, g.node('Unsqueeze', [maskF, g.ints([1, 3])])]); // XSoftmax: padded query rows 0
    const ctx = g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }); // [B, S, nh, dh]
    const merged = g.node('Reshape', [ctx, mergedShape]); // [B, S, H]
    const attn = linear(merged, `${p}.attention.output.dense`);
    x = layerNorm(g.node('Add', [attn, x]), `${p}.attention.output.LayerNorm`);

    const pre = linear(x, `${p}.intermediate.dense`); // [B, S, I]
    const erf = g.node('Erf', [g.node('Div', [pre, g.float(Math.SQRT2)])]);
    const inter = g.node('Mul', [g.node('Mul', [pre, g.float(0.5)]), g.node('Add', [erf, g.float(1)])]); // exact GELU
    const out = linear(inter, `${p}.output.dense`); // [B, S, H]
    x = layerNorm(g.node('Add', [out, x]), `${p}.output.LayerNorm`);
  }
  g.output(x, 'last_hidden_state', 'float32', [BATCH_AXIS, SEQ_AXIS, H]);

  // --- Pooling (+ Normalize) -----------------------------------------------------------------
  let pooled: string; // [B, H]
  if (c.pooling === 'cls') {
    pooled = g.node('Gather', [x, g.ints([0], true)], { axis: 1 });
  } else {
    // sentence-transformers: sum(x·m) / clamp(sum(m), 1e-9)
    const m = g.node('Unsqueeze', [maskF, g.ints([2])]); // [B, S, 1]
    const sum = g.node('ReduceSum', [g.node('Mul', [x, m]), g.ints([1])], { keepdims: 0 }); // [B, H]
    const count = g.node('Max', [g.node('ReduceSum', [m, g.ints([1])], { keepdims: 0 }), g.float(1e-9)]); // [B, 1]
    pooled = g.node('Div', [sum, count]);
  }
  if (c.normalize) {
    // torch F.normalize: x / max(||x||, 1e-12)
    const norm = g.node('Max', [g.node('ReduceL2', [pooled], { axes: [-1], keepdims: 1 }), g.float(1e-12)]); // [B, 1]
    pooled = g.node('Div', [pooled, norm]);
  }
  g.output(pooled, 'sentence_embedding', 'float32', [BATCH_AXIS, H]);

  return g.build({
    name: deberta ? 'deberta_sentence_encoder' : 'bert_sentence_encoder',
    opset,
    producer: 'contrastive',
    docString: `${deberta ? 'DebertaModel' : 'BertModel'} (${c.numLayers} layers, hidden ${H}) + ${c.pooling} pooling${c.normalize ? ' + L2 normalize' : ''}${quantize ? ', int8 weights (dynamic quantization)' : ''}`,
    metadata: { pooling: c.pooling, normalize: String(c.normalize), quantized: String(quantize) },
  });
}
