/**
 * WGSL kernels for the `webgpu` backend, registered under the same generic names as the native
 * backend's fused kernels (native-fused.ts), so the model (layer-norm.ts, gelu.ts) and AdamW pick
 * them up with no backend-specific code, plus two more for the attention and FFN:
 *
 *   RowLayerNorm        x [n, h], gamma [h], beta [h] (attr eps) -> y [n, h], mean [n], rstd [n]
 *   RowLayerNormGrad    dy, x, gamma, mean, rstd -> dx [n, h], dgamma [h], dbeta [h]
 *   GeluErf / GeluErfGrad   exact (erf) GELU and its derivative, element-wise
 *   AdamWUpdate         p, m, v, g (attr scalars[8]) -> p', m', v' (the native kernel's arithmetic, in its order)
 *   MatMulBiasGeluErf   a [M, K] @ b [K, N] + bias [N] -> y = gelu(z) [M, N], z [M, N] (z kept for the gradient)
 *   ScaledMaskedSoftmax     scores [R, S], maskBias [B, S] (attrs scale, rowsPerMask) -> softmax(scores·scale + maskBias[r / rowsPerMask])
 *   ScaledMaskedSoftmaxGrad probs [R, S], dprobs [R, S] (attr scale) -> scale · p · (dp − Σ dp·p)
 *
 * Multi-output kernels need more than tfjs's WebGPUProgram (one output), so each kernel is a
 * complete WGSL module dispatched on the backend's own command encoder and compute pass, the way
 * WebGPUBackend.recordAndSubmit does (tfjs-backend-webgpu 4.22.0, pinned: these are its internals).
 * Bindings: outputs first (read_write), then inputs (read), then one uniform struct of 4-byte scalars.
 *
 * Adapter features: shader-f16 and subgroups are reported by the backend set-up but not used: the
 * only adapter these kernels were tested on (Mesa llvmpipe through Dawn's GL backend) has neither,
 * and an untested f16/subgroup path would be a guess. All arithmetic is f32.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { FUSED_KERNELS } from './native-fused.js';
import type { WebgpuFacts } from './webgpu.js';

export const WEBGPU_KERNELS = {
  ...FUSED_KERNELS,
  matMulBiasGelu: 'MatMulBiasGeluErf',
  maskedSoftmax: 'ScaledMaskedSoftmax',
  maskedSoftmaxGrad: 'ScaledMaskedSoftmaxGrad',
} as const;

type Uniform = { type: 'float32' | 'int32' | 'uint32'; data: number[] };

/** The parts of tfjs-backend-webgpu 4.22's WebGPUBackend used here. */
interface Backend {
  device: {
    createShaderModule(d: { code: string; label?: string }): unknown;
    createComputePipeline(d: { layout: 'auto'; compute: { module: unknown; entryPoint: string }; label?: string }): { getBindGroupLayout(i: number): unknown };
    createBindGroup(d: { layout: unknown; entries: { binding: number; resource: unknown }[] }): unknown;
    createQuerySet(d: { type: 'timestamp'; count: number }): unknown;
    limits: Record<string, number>;
  };
  tensorMap: { get(id: object): { resource: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  uploadToGPU(id: object): void;
  makeUniforms(u: Uniform[]): { offset: number; size: number; buffer: unknown };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: { beginComputePass(d: object): ComputePass };
  computePassEncoder: ComputePass | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  /** Set while tf.time / tf.profile runs: each dispatch then gets its own pass with timestamps. */
  activeTimers?: { name: string; query: Promise<number> }[] | null;
  supportTimestampQuery: boolean;
  querySet: unknown;
  querySetCount: number;
  getQueryTime(): Promise<number>;
}
interface ComputePass {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

const pipelines = new WeakMap<object, Map<string, { getBindGroupLayout(i: number): unknown }>>();

function pipelineFor(b: Backend, key: string, code: () => string) {
  let cache = pipelines.get(b);
  if (cache == null) pipelines.set(b, (cache = new Map()));
  let p = cache.get(key);
  if (p == null) {
    const module = b.device.createShaderModule({ code: code(), label: key });
    p = b.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    cache.set(key, p);
  }
  return p;
}

/** Workgroup counts for `groups` workgroups, folded into 2-D past the per-dimension limit; shaders rebuild the index as wid.y·nwg.x + wid.x. */
function grid(b: Backend, groups: number): [number, number] {
  const max = b.device.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  if (groups <= max) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

interface Dispatch {
  key: string;
  code: () => string;
  inputs: TensorInfo[];
  outputs: { shape: number[]; dtype?: 'float32' }[];
  uniforms: Uniform[];
  groups: [number, number, number] | [number, number];
}

/** Records one dispatch on the backend's compute pass (as WebGPUBackend.recordAndSubmit does) and returns the new outputs. */
function dispatch(b: Backend, d: Dispatch): TensorInfo[] {
  const outs = d.outputs.map((o) => b.makeTensorInfo(o.shape, o.dtype ?? 'float32'));
  if (outs.some((o) => tf.util.sizeFromShape(o.shape) === 0)) return outs; // nothing to compute
  for (const t of [...outs, ...d.inputs]) b.uploadToGPU(t.dataId);
  const pipeline = pipelineFor(b, d.key, d.code);
  const uniforms = d.uniforms.length > 0 ? [b.makeUniforms(d.uniforms)] : [];
  const resources = [...[...outs, ...d.inputs].map((t) => ({ buffer: b.tensorMap.get(t.dataId).resource })), ...uniforms];
  for (const t of [...outs, ...d.inputs]) b.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: resources.map((resource, binding) => ({ binding, resource })) });
  const timed = b.activeTimers != null;
  b.ensureCommandEncoderReady();
  if (timed && b.supportTimestampQuery) {
    // as recordAndSubmit: a pass of its own with timestamps at its start and end
    b.endComputePassEncoder();
    b.querySet ??= b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
    b.computePassEncoder = b.commandEncoder.beginComputePass({ timestampWrites: { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  } else if (b.computePassEncoder == null) {
    b.computePassEncoder = b.commandEncoder.beginComputePass({});
  }
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2] ?? 1);
  b.dispatchCountInPass++;
  if (timed || tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    if (timed) b.activeTimers!.push({ name: d.key, query: b.getQueryTime() });
    else b.submitQueue();
  }
  return outs;
}

/** WGSL bindings: outputs (read_write), inputs (read), then the uniform struct `u`. */
function bindings(outputs: string[], inputs: string[], uniformFields: string[]): string {
  const lines: string[] = [];
  let i = 0;
  for (const o of outputs) lines.push(`@group(0) @binding(${i++}) var<storage, read_write> ${o}: array<f32>;`);
  for (const n of inputs) lines.push(`@group(0) @binding(${i++}) var<storage, read> ${n}: array<f32>;`);
  if (uniformFields.length > 0) {
    lines.push(`struct U { ${uniformFields.map((f) => `${f},`).join(' ')} };`, `@group(0) @binding(${i}) var<uniform> u: U;`);
  }
  return lines.join('\n');
}

const ERF = /* wgsl */ `
// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), as tfjs's Erf kernel and the native backend.
fn erf_as(x: f32) -> f32 {
  let ax = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * ax);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - poly * exp(-ax * ax);
  return select(y, -y, x < 0.0);
}
fn gelu(v: f32) -> f32 { return 0.5 * v * (1.0 + erf_as(v * 0.70710678118654752)); }
fn gelu_grad(v: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_as(v * 0.70710678118654752));
  return cdf + v * exp(-0.5 * v * v) * 0.39894228040143268;
}`;

const EW = 256; // threads per workgroup of element-wise kernels
const ROW = 128; // threads per workgroup (one row each) of row kernels

type KernelArgs = { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap };
const size = (t: TensorInfo) => tf.util.sizeFromShape(t.shape);

function rowsOf(x: TensorInfo): { n: number; h: number } {
  const h = x.shape[x.shape.length - 1] ?? 1;
  return { n: h === 0 ? 0 : size(x) / h, h };
}

/** A row reduction over `ROW` threads into `red[0]` (shared array `red`), for use inside a row kernel. */
const ROW_REDUCE = /* wgsl */ `
var<workgroup> red: array<f32, ${ROW}>;
fn row_sum(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${ROW / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  return red[0];
}`;

const ROW_ENTRY = `@compute @workgroup_size(${ROW}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;
const EW_ENTRY = `@compute @workgroup_size(${EW}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32)`;

function geluKernel(args: KernelArgs): TensorInfo {
  const b = args.backend as Backend;
  const { x } = args.inputs as Record<string, TensorInfo>;
  const n = size(x);
  const code = () => `${bindings(['y'], ['x'], ['n: u32'])}
${ERF}
${EW_ENTRY} {
  let i = (wid.y * nwg.x + wid.x) * ${EW}u + lid;
  if (i < u.n) { y[i] = gelu(x[i]); }
}`;
  return dispatch(b, { key: 'GeluErf', code, inputs: [x], outputs: [{ shape: x.shape.slice() }], uniforms: [{ type: 'uint32', data: [n] }], groups: grid(b, Math.ceil(n / EW)) })[0];
}

function geluGradKernel(args: KernelArgs): TensorInfo {
  const b = args.backend as Backend;
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const n = size(x);
  const code = () => `${bindings(['dx'], ['x', 'dy'], ['n: u32'])}
${ERF}
${EW_ENTRY} {
  let i = (wid.y * nwg.x + wid.x) * ${EW}u + lid;
  if (i < u.n) { dx[i] = dy[i] * gelu_grad(x[i]); }
}`;
  return dispatch(b, { key: 'GeluErfGrad', code, inputs: [x, dy], outputs: [{ shape: x.shape.slice() }], uniforms: [{ type: 'uint32', data: [n] }], groups: grid(b, Math.ceil(n / EW)) })[0];
}

function layerNormKernel(args: KernelArgs): TensorInfo[] {
  const b = args.backend as Backend;
  const { x, gamma, beta } = args.inputs as Record<string, TensorInfo>;
  const { n, h } = rowsOf(x);
  const eps = (args.attrs as { eps: number }).eps;
  // one workgroup per row: mean, then the centred sum of squares (two passes over the row, as the native kernel)
  const code = () => `${bindings(['y', 'mean', 'rstd'], ['x', 'gamma', 'beta'], ['n: u32', 'h: u32', 'eps: f32'])}
${ROW_REDUCE}
${ROW_ENTRY} {
  let r = wid.y * nwg.x + wid.x;
  if (r >= u.n) { return; }
  let base = r * u.h;
  var s = 0.0;
  for (var j = lid; j < u.h; j = j + ${ROW}u) { s = s + x[base + j]; }
  let m = row_sum(s, lid) / f32(u.h);
  var q = 0.0;
  for (var j = lid; j < u.h; j = j + ${ROW}u) { let d = x[base + j] - m; q = q + d * d; }
  let rs = 1.0 / sqrt(row_sum(q, lid) / f32(u.h) + u.eps);
  for (var j = lid; j < u.h; j = j + ${ROW}u) { y[base + j] = (x[base + j] - m) * rs * gamma[j] + beta[j]; }
  if (lid == 0u) { mean[r] = m; rstd[r] = rs; }
}`;
  return dispatch(b, {
    key: 'RowLayerNorm',
    code,
    inputs: [x, gamma, beta],
    outputs: [{ shape: x.shape.slice() }, { shape: [n] }, { shape: [n] }],
    uniforms: [{ type: 'uint32', data: [n] }, { type: 'uint32', data: [h] }, { type: 'float32', data: [eps] }],
    groups: grid(b, n),
  });
}

/** Rows per partial sum in the LayerNorm gamma/beta gradient (the first of two passes). */
const LN_ROWS_PER_PART = 64;
const LN_COLS = 64; // columns per workgroup in that pass (one thread each, coalesced across the row)

function layerNormGradKernel(args: KernelArgs): TensorInfo[] {
  const b = args.backend as Backend;
  const { dy, x, gamma, mean, rstd } = args.inputs as Record<string, TensorInfo>;
  const { n, h } = rowsOf(x);
  const dims = [{ type: 'uint32' as const, data: [n] }, { type: 'uint32' as const, data: [h] }];
  const dxCode = () => `${bindings(['dx'], ['dy', 'x', 'gamma', 'mean', 'rstd'], ['n: u32', 'h: u32'])}
${ROW_REDUCE}
${ROW_ENTRY} {
  let r = wid.y * nwg.x + wid.x;
  if (r >= u.n) { return; }
  let base = r * u.h;
  let m = mean[r];
  let rs = rstd[r];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var j = lid; j < u.h; j = j + ${ROW}u) {
    let g = dy[base + j] * gamma[j];
    s1 = s1 + g;
    s2 = s2 + g * (x[base + j] - m) * rs;
  }
  let a = row_sum(s1, lid) / f32(u.h);
  let c = row_sum(s2, lid) / f32(u.h);
  for (var j = lid; j < u.h; j = j + ${ROW}u) {
    let xhat = (x[base + j] - m) * rs;
    dx[base + j] = rs * (dy[base + j] * gamma[j] - a - xhat * c);
  }
}`;
  const [dx] = dispatch(b, { key: 'RowLayerNormGrad.dx', code: dxCode, inputs: [dy, x, gamma, mean, rstd], outputs: [{ shape: x.shape.slice() }], uniforms: dims, groups: grid(b, n) });
  // dgamma, dbeta: partial column sums over blocks of rows [parts, 2h], then the sum over blocks.
  const parts = Math.max(1, Math.ceil(n / LN_ROWS_PER_PART));
  const colBlocks = Math.ceil(h / LN_COLS);
  const partCode = () => `${bindings(['part'], ['dy', 'x', 'mean', 'rstd'], ['n: u32', 'h: u32'])}
@compute @workgroup_size(${LN_COLS}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * ${LN_COLS}u + lid;
  if (j >= u.h) { return; }
  let r0 = wid.y * ${LN_ROWS_PER_PART}u;
  let r1 = min(u.n, r0 + ${LN_ROWS_PER_PART}u);
  var g = 0.0;
  var bs = 0.0;
  for (var r = r0; r < r1; r = r + 1u) {
    let d = dy[r * u.h + j];
    g = g + d * (x[r * u.h + j] - mean[r]) * rstd[r];
    bs = bs + d;
  }
  part[wid.y * 2u * u.h + j] = g;
  part[wid.y * 2u * u.h + u.h + j] = bs;
}`;
  const [part] = dispatch(b, { key: 'RowLayerNormGrad.part', code: partCode, inputs: [dy, x, mean, rstd], outputs: [{ shape: [parts, 2 * h] }], uniforms: dims, groups: [colBlocks, parts] });
  const sumCode = () => `${bindings(['dgamma', 'dbeta'], ['part'], ['parts: u32', 'h: u32'])}
@compute @workgroup_size(${LN_COLS}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = wid.x * ${LN_COLS}u + lid;
  if (j >= u.h) { return; }
  var g = 0.0;
  var bs = 0.0;
  for (var p = 0u; p < u.parts; p = p + 1u) { g = g + part[p * 2u * u.h + j]; bs = bs + part[p * 2u * u.h + u.h + j]; }
  dgamma[j] = g;
  dbeta[j] = bs;
}`;
  const [dgamma, dbeta] = dispatch(b, { key: 'RowLayerNormGrad.sum', code: sumCode, inputs: [part], outputs: [{ shape: [h] }, { shape: [h] }], uniforms: [{ type: 'uint32', data: [parts] }, { type: 'uint32', data: [h] }], groups: [colBlocks, 1] });
  (b as unknown as tf.KernelBackend).disposeData(part.dataId);
  return [dx, dgamma, dbeta];
}

function adamwKernel(args: KernelArgs): TensorInfo[] {
  const b = args.backend as Backend;
  const { p, m, v, g } = args.inputs as Record<string, TensorInfo>;
  const n = size(p);
  const s = (args.attrs as { scalars: number[] }).scalars; // b1, 1-b1, b2, 1-b2, bc2Sqrt, eps, decay, step
  const code = () => `${bindings(['po', 'mo', 'vo'], ['p', 'm', 'v', 'g'], ['n: u32', 'b1: f32', 'omb1: f32', 'b2: f32', 'omb2: f32', 'bc2: f32', 'eps: f32', 'decay: f32', 'step: f32'])}
${EW_ENTRY} {
  let i = (wid.y * nwg.x + wid.x) * ${EW}u + lid;
  if (i >= u.n) { return; }
  let gi = g[i];
  let mi = m[i] * u.b1 + gi * u.omb1;
  let vi = v[i] * u.b2 + (gi * gi) * u.omb2;
  let denom = sqrt(vi) / u.bc2 + u.eps;
  let pd = select(p[i], p[i] * u.decay, u.decay != 1.0);
  po[i] = pd - (mi / denom) * u.step;
  mo[i] = mi;
  vo[i] = vi;
}`;
  return dispatch(b, {
    key: 'AdamWUpdate',
    code,
    inputs: [p, m, v, g],
    outputs: [{ shape: p.shape.slice() }, { shape: p.shape.slice() }, { shape: p.shape.slice() }],
    uniforms: [{ type: 'uint32', data: [n] }, ...s.map((data) => ({ type: 'float32' as const, data: [data] }))],
    groups: grid(b, Math.ceil(n / EW)),
  });
}

/** Matmul tile: 64×64 outputs per workgroup of 16×16 threads, 4×4 each, K in steps of 16. */
const TM = 64;
const TK = 16;

function matMulBiasGeluKernel(args: KernelArgs): TensorInfo[] {
  const b = args.backend as Backend;
  const { a, b: w, bias } = args.inputs as Record<string, TensorInfo>;
  const [M, K] = a.shape;
  const N = w.shape[1];
  if (a.shape.length !== 2 || w.shape.length !== 2 || w.shape[0] !== K || bias.shape[bias.shape.length - 1] !== N || size(bias) !== N) {
    throw new Error(`MatMulBiasGeluErf: expected a [M, K], b [K, N], bias [N]; got ${JSON.stringify([a.shape, w.shape, bias.shape])}`);
  }
  const code = () => `${bindings(['y', 'z'], ['a', 'b', 'bias'], ['M: u32', 'N: u32', 'K: u32'])}
${ERF}
var<workgroup> ta: array<f32, ${TM * TK}>; // [row][k]
var<workgroup> tb: array<f32, ${TK * TM}>; // [k][col]
@compute @workgroup_size(16, 16) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * ${TM}u;
  let col0 = wid.x * ${TM}u;
  let t = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < u.K; k0 = k0 + ${TK}u) {
    // 256 threads load 64x16 of a and 16x64 of b, 4 values each
    for (var e = 0u; e < 4u; e = e + 1u) {
      let idx = t + e * 256u;
      let ar = idx / ${TK}u;
      let ak = idx % ${TK}u;
      let gr = row0 + ar;
      let gk = k0 + ak;
      ta[idx] = select(0.0, a[gr * u.K + gk], gr < u.M && gk < u.K);
      let bk = idx / ${TM}u;
      let bc = idx % ${TM}u;
      let gk2 = k0 + bk;
      let gc = col0 + bc;
      tb[idx] = select(0.0, b[gk2 * u.N + gc], gk2 < u.K && gc < u.N);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {
      var av: array<f32, 4>;
      var bv: array<f32, 4>;
      for (var i = 0u; i < 4u; i = i + 1u) {
        av[i] = ta[(lid.y + i * 16u) * ${TK}u + kk];
        bv[i] = tb[kk * ${TM}u + lid.x + i * 16u];
      }
      for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 4u; j = j + 1u) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    let r = row0 + lid.y + i * 16u;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let c = col0 + lid.x + j * 16u;
      if (r < u.M && c < u.N) {
        let v = acc[i][j] + bias[c];
        z[r * u.N + c] = v;
        y[r * u.N + c] = gelu(v);
      }
    }
  }
}`;
  return dispatch(b, {
    key: 'MatMulBiasGeluErf',
    code,
    inputs: [a, w, bias],
    outputs: [{ shape: [M, N] }, { shape: [M, N] }],
    uniforms: [{ type: 'uint32', data: [M] }, { type: 'uint32', data: [N] }, { type: 'uint32', data: [K] }],
    groups: [Math.ceil(N / TM), Math.ceil(M / TM)],
  });
}

function maskedSoftmaxKernel(args: KernelArgs): TensorInfo {
  const b = args.backend as Backend;
  const { scores, maskBias } = args.inputs as Record<string, TensorInfo>;
  const { n, h: S } = rowsOf(scores);
  const { scale, rowsPerMask } = args.attrs as { scale: number; rowsPerMask: number };
  if (maskBias.shape[maskBias.shape.length - 1] !== S || size(maskBias) * rowsPerMask !== n * S) {
    throw new Error(`ScaledMaskedSoftmax: maskBias ${JSON.stringify(maskBias.shape)} does not cover ${n} rows of ${S} with ${rowsPerMask} rows per mask row`);
  }
  const code = () => `${bindings(['p'], ['x', 'mask'], ['n: u32', 's: u32', 'scale: f32', 'rpm: u32'])}
var<workgroup> red: array<f32, ${ROW}>;
fn row_reduce(v: f32, lid: u32, is_max: bool) -> f32 {
  workgroupBarrier();
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${ROW / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = select(red[lid] + red[lid + s], max(red[lid], red[lid + s]), is_max); }
    workgroupBarrier();
  }
  return red[0];
}
${ROW_ENTRY} {
  let r = wid.y * nwg.x + wid.x;
  if (r >= u.n) { return; }
  let base = r * u.s;
  let mbase = (r / u.rpm) * u.s;
  var mx = -3.402823e38;
  for (var j = lid; j < u.s; j = j + ${ROW}u) { mx = max(mx, x[base + j] * u.scale + mask[mbase + j]); }
  let m = row_reduce(mx, lid, true);
  var s = 0.0;
  for (var j = lid; j < u.s; j = j + ${ROW}u) { let e = exp(x[base + j] * u.scale + mask[mbase + j] - m); p[base + j] = e; s = s + e; }
  let inv = 1.0 / row_reduce(s, lid, false);
  for (var j = lid; j < u.s; j = j + ${ROW}u) { p[base + j] = p[base + j] * inv; }
}`;
  return dispatch(b, {
    key: 'ScaledMaskedSoftmax',
    code,
    inputs: [scores, maskBias],
    outputs: [{ shape: scores.shape.slice() }],
    uniforms: [{ type: 'uint32', data: [n] }, { type: 'uint32', data: [S] }, { type: 'float32', data: [scale] }, { type: 'uint32', data: [rowsPerMask] }],
    groups: grid(b, n),
  })[0];
}

function maskedSoftmaxGradKernel(args: KernelArgs): TensorInfo {
  const b = args.backend as Backend;
  const { probs, dprobs } = args.inputs as Record<string, TensorInfo>;
  const { n, h: S } = rowsOf(probs);
  const { scale } = args.attrs as { scale: number };
  const code = () => `${bindings(['dx'], ['p', 'dp'], ['n: u32', 's: u32', 'scale: f32'])}
${ROW_REDUCE}
${ROW_ENTRY} {
  let r = wid.y * nwg.x + wid.x;
  if (r >= u.n) { return; }
  let base = r * u.s;
  var s = 0.0;
  for (var j = lid; j < u.s; j = j + ${ROW}u) { s = s + p[base + j] * dp[base + j]; }
  let dot = row_sum(s, lid);
  for (var j = lid; j < u.s; j = j + ${ROW}u) { dx[base + j] = u.scale * p[base + j] * (dp[base + j] - dot); }
}`;
  return dispatch(b, {
    key: 'ScaledMaskedSoftmaxGrad',
    code,
    inputs: [probs, dprobs],
    outputs: [{ shape: probs.shape.slice() }],
    uniforms: [{ type: 'uint32', data: [n] }, { type: 'uint32', data: [S] }, { type: 'float32', data: [scale] }],
    groups: grid(b, n),
  })[0];
}

/** int32 -> float32 into a new float32 buffer. */
function intToFloat(b: Backend, x: TensorInfo): TensorInfo {
  const n = size(x);
  const code = () => `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<i32>;
struct U { n: u32, };
@group(0) @binding(2) var<uniform> u: U;
${EW_ENTRY} {
  let i = (wid.y * nwg.x + wid.x) * ${EW}u + lid;
  if (i < u.n) { y[i] = f32(x[i]); }
}`;
  return dispatch(b, { key: 'CastInt32Float32', code, inputs: [x], outputs: [{ shape: x.shape.slice() }], uniforms: [{ type: 'uint32', data: [n] }], groups: grid(b, Math.ceil(n / EW)) })[0];
}

const KERNELS: Record<string, (args: KernelArgs) => TensorInfo | TensorInfo[]> = {
  [WEBGPU_KERNELS.gelu]: geluKernel,
  [WEBGPU_KERNELS.geluGrad]: geluGradKernel,
  [WEBGPU_KERNELS.layerNorm]: layerNormKernel,
  [WEBGPU_KERNELS.layerNormGrad]: layerNormGradKernel,
  [WEBGPU_KERNELS.adamw]: adamwKernel,
  [WEBGPU_KERNELS.matMulBiasGelu]: matMulBiasGeluKernel,
  [WEBGPU_KERNELS.maskedSoftmax]: maskedSoftmaxKernel,
  [WEBGPU_KERNELS.maskedSoftmaxGrad]: maskedSoftmaxGradKernel,
};

/**
 * Fixes for two tfjs-backend-webgpu 4.22 kernels that fail validation (Dawn logs the error and the
 * result is garbage, silently), both hit by a training step:
 *  - Transpose of int32 emits WGSL that stores an i32 into the f32 setter: cast, transpose, cast back
 *    (exact for |x| < 2^24: token ids, labels);
 *  - AddN binds every input at once, past maxStorageBuffersPerShaderStage (16 on some adapters) for
 *    the gradient-norm sum over all parameters: add in chunks.
 */
function patchStockKernels(maxStorageBuffers: number): void {
  const transpose = tf.getKernel('Transpose', 'webgpu');
  const cast = tf.getKernel('Cast', 'webgpu');
  const addN = tf.getKernel('AddN', 'webgpu');
  if (transpose == null || cast == null || addN == null) return;
  const tFunc = transpose.kernelFunc;
  const cFunc = cast.kernelFunc;
  const aFunc = addN.kernelFunc;
  tf.unregisterKernel('Transpose', 'webgpu');
  tf.registerKernel({
    ...transpose,
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as Record<string, TensorInfo>;
      const b = args.backend as tf.KernelBackend;
      // the buffer's dtype, which can be int32 under a float32 tensor (tfjs shares data on some casts)
      const bufferDtype = (b as unknown as { tensorMap: { get(id: object): { dtype: string } } }).tensorMap.get(x.dataId).dtype;
      if (x.dtype !== 'int32' && bufferDtype !== 'int32') return tFunc(args as never);
      const xf = cFunc({ inputs: { x }, backend: b, attrs: { dtype: 'float32' } } as never) as TensorInfo;
      const tf32 = tFunc({ ...args, inputs: { x: xf } } as never) as TensorInfo;
      b.disposeData(xf.dataId);
      if (x.dtype !== 'int32') return tf32;
      const out = cFunc({ inputs: { x: tf32 }, backend: b, attrs: { dtype: 'int32' } } as never) as TensorInfo;
      b.disposeData(tf32.dataId);
      return out;
    }) as unknown as KernelFunc,
  });
  // Cast int32 -> float32 shares the int32 buffer under a float32 label; kernels that call tfjs's
  // internal transpose (Sum/Mean over a non-last axis, e.g. mean pooling over the cast attention mask)
  // then fail. Convert for real instead.
  tf.unregisterKernel('Cast', 'webgpu');
  tf.registerKernel({
    ...cast,
    kernelFunc: ((args: KernelArgs) => {
      const { x } = args.inputs as Record<string, TensorInfo>;
      if (x.dtype !== 'int32' || (args.attrs as { dtype: string }).dtype !== 'float32') return cFunc(args as never);
      return intToFloat(args.backend as Backend, x);
    }) as unknown as KernelFunc,
  });
  const chunk = Math.max(2, maxStorageBuffers - 1); // one binding is the output
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    ...addN,
    kernelFunc: ((args: KernelArgs) => {
      const all = Object.values(args.inputs) as TensorInfo[];
      if (all.length <= chunk) return aFunc(args as never);
      const b = args.backend as tf.KernelBackend;
      let rest = all;
      let carry: TensorInfo | null = null;
      while (rest.length > 0) {
        const take = rest.slice(0, carry == null ? chunk : chunk - 1);
        rest = rest.slice(take.length);
        const ins = carry == null ? take : [carry, ...take];
        const sum = (ins.length === 1 ? ins[0] : aFunc({ ...args, inputs: ins } as never)) as TensorInfo;
        if (carry != null) b.disposeData(carry.dataId);
        carry = sum;
      }
      return carry!;
    }) as unknown as KernelFunc,
  });
}

let patched = false;

/** Registers the kernels for the `webgpu` backend (idempotent). `facts` is for feature-gated variants (none yet: see the header). */
export function registerWebgpuKernels(facts: WebgpuFacts | null): void {
  for (const [kernelName, f] of Object.entries(KERNELS)) {
    if (tf.getKernel(kernelName, 'webgpu') == null) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: f as unknown as KernelFunc });
  }
  if (!patched) {
    patched = true;
    patchStockKernels(facts?.limits.maxStorageBuffersPerShaderStage ?? 8);
  }
}
