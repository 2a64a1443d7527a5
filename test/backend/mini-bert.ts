/**
 * A tiny self-contained BERT encoder + InfoNCE step, written only to find out which kernels a BERT
 * forward + backward + optimiser step reaches (and to compare wasm with cpu end to end). It uses
 * the same op families as src/model (gathers, LayerNorm, multi-head attention with transposed
 * products, exact-erf GELU, dropout, masked mean pooling, L2 normalisation, logSumExp / oneHot
 * cross-entropy, global-norm clipping, Adam) but does not import it, so it stays a fixed yardstick.
 */
import * as tf from '@tensorflow/tfjs';
import { values } from './helpers.js';

export const SHAPE = { vocab: 23, hidden: 8, heads: 2, ff: 16, seq: 5, batch: 3, layers: 1 };

export type Params = Record<string, tf.Tensor>;

export function initParams(): Params {
  return tf.tidy(() => makeParams());
}

function makeParams(): Params {
  const { vocab, hidden: H, ff: F, seq } = SHAPE;
  const p: Params = {};
  let seed = 100;
  const t = (shape: number[], scale = 0.5) => tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed++), shape).mul(scale);
  p.word = t([vocab, H]);
  p.pos = t([seq, H]);
  p.type = t([2, H]);
  p.ln0g = t([H], 0.1).add(1);
  p.ln0b = t([H], 0.1);
  for (const n of ['q', 'k', 'v', 'o']) {
    p[`${n}W`] = t([H, H]);
    p[`${n}b`] = t([H], 0.1);
  }
  p.ln1g = t([H], 0.1).add(1);
  p.ln1b = t([H], 0.1);
  p.f1W = t([H, F]);
  p.f1b = t([F], 0.1);
  p.f2W = t([F, H]);
  p.f2b = t([H], 0.1);
  p.ln2g = t([H], 0.1).add(1);
  p.ln2b = t([H], 0.1);
  return p;
}

function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = x.mean(-1, true);
  // not tf.squaredDifference(x, mean): its gradient does not reduce broadcast inputs (tfjs 4.22)
  const centered = x.sub(mean);
  const variance = centered.square().mean(-1, true);
  return centered.mul(tf.rsqrt(variance.add(1e-12))).mul(g).add(b);
}

function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [B, S, H] = x.shape as [number, number, number]; // [B, S, H] -> [B*S, H] x [H, O]
  const O = w.shape[1] as number;
  return tf.matMul(x.reshape([B * S, H]), w).add(b).reshape([B, S, O]);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)); // exact erf GELU
}

/** [B, S] token ids + mask -> [B, H] L2-normalised embeddings. */
function encode(p: Params, ids: tf.Tensor2D, mask: tf.Tensor2D, dropSeed: number, train: boolean): tf.Tensor2D {
  const { hidden: H, heads, seq: S } = SHAPE;
  const B = ids.shape[0];
  const d = H / heads;
  const drop = (x: tf.Tensor, s: number) => (train ? tf.dropout(x, 0.1, undefined, dropSeed + s) : x);
  const positions = tf.range(0, S, 1, 'int32');
  let x = tf.gather(p.word, ids).add(tf.gather(p.pos, positions)).add(tf.gather(p.type, tf.zerosLike(ids))); // [B, S, H]
  x = drop(layerNorm(x, p.ln0g, p.ln0b), 1);
  const heads4 = (t: tf.Tensor) => t.reshape([B, S, heads, d]).transpose([0, 2, 1, 3]).reshape([B * heads, S, d]); // [B*h, S, d]
  const q = heads4(dense(x, p.qW, p.qb));
  const k = heads4(dense(x, p.kW, p.kb));
  const v = heads4(dense(x, p.vW, p.vb));
  const maskBias = tf.sub(1, mask.cast('float32')).mul(-1e4).reshape([B, 1, 1, S]).tile([1, heads, 1, 1]).reshape([B * heads, 1, S]);
  const scores = tf.matMul(q, k, false, true).div(Math.sqrt(d)).add(maskBias); // [B*h, S, S]
  const probs = drop(tf.softmax(scores), 2);
  const ctx = tf.matMul(probs, v).reshape([B, heads, S, d]).transpose([0, 2, 1, 3]).reshape([B, S, H]);
  x = layerNorm(x.add(drop(dense(ctx, p.oW, p.ob), 3)), p.ln1g, p.ln1b);
  const h = gelu(dense(x, p.f1W, p.f1b));
  x = layerNorm(x.add(drop(dense(h, p.f2W, p.f2b), 4)), p.ln2g, p.ln2b);
  const m = mask.cast('float32').expandDims(2); // [B, S, 1]
  const cls = x.slice([0, 0, 0], [B, 1, H]).reshape([B, H]); // gradient of slice is a pad
  const pooled = x.mul(m).sum(1).div(tf.maximum(m.sum(1), 1e-9)).add(cls.mul(0.1)); // [B, H]
  const norm = tf.sqrt(tf.maximum(pooled.square().sum(1, true), 1e-12));
  return pooled.div(norm) as tf.Tensor2D;
}

export function batch(): { a: tf.Tensor2D; pa: tf.Tensor2D; ma: tf.Tensor2D; mp: tf.Tensor2D } {
  const { vocab, seq, batch: B } = SHAPE;
  const ids = (seed: number) => tf.tensor2d(Array.from(values(B * seq, seed), (v) => Math.floor((v + 1) * 0.5 * vocab) % vocab), [B, seq], 'int32');
  const mask = tf.tensor2d([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0], [B, seq], 'int32');
  return { a: ids(7), pa: ids(8), ma: mask, mp: tf.onesLike(mask) as tf.Tensor2D };
}

/** Symmetric in-batch InfoNCE: logSumExp form one way, oneHot + logSoftmax the other. */
export function loss(p: Params, train = true): tf.Scalar {
  const b = batch();
  const qa = encode(p, b.a, b.ma, 11, train);
  const qp = encode(p, b.pa, b.mp, 21, train);
  const logits = tf.matMul(qa, qp, false, true).mul(20); // [B, B]
  const n = logits.shape[0];
  const diag = logits.mul(tf.eye(n)).sum(1);
  const l1 = tf.logSumExp(logits, 1).sub(diag).mean();
  const l2 = tf.neg(tf.oneHot(tf.range(0, n, 1, 'int32'), n).mul(tf.logSoftmax(logits.transpose())).sum(1)).mean();
  return l1.add(l2).div(2) as tf.Scalar;
}

/** Loss, gradients (global-norm clipped), and one Adam update of copies of the params. */
export function step(p: Params): { loss: number; grads: Float32Array[]; updated: Float32Array[] } {
  const names = Object.keys(p).sort();
  return tf.tidy(() => {
    const vars = names.map((n) => tf.variable(p[n].clone(), true, undefined));
    const byName: Params = Object.fromEntries(names.map((n, i) => [n, vars[i]]));
    const { value, grads } = tf.variableGrads(() => loss(byName), vars);
    const gs = vars.map((v) => grads[v.name]);
    const norm = tf.sqrt(tf.addN(gs.map((g) => g.square().sum())));
    const clip = tf.minimum(1, tf.div(1.0, tf.maximum(norm, 1e-6)));
    const clipped = gs.map((g) => g.mul(clip).clipByValue(-5, 5));
    // epsilon 1e-4: the key bias has a zero true gradient (softmax ignores it), and Adam's
    // m/sqrt(v) would otherwise blow float noise up to a full-size step that differs per backend.
    const opt = tf.train.adam(1e-2, 0.9, 0.999, 1e-4);
    opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: clipped[i] })));
    const out = { loss: value.dataSync()[0], grads: gs.map((g) => g.dataSync() as Float32Array), updated: vars.map((v) => v.dataSync() as Float32Array) };
    opt.dispose();
    vars.forEach((v) => v.dispose());
    return out;
  });
}
