/**
 * The Node half of scripts/gpu-check.sh, one part per process so a hang or crash loses one figure:
 *
 *   node dist/scripts/gpu-check.js probe            adapter, features, limits (JSON line)
 *   node dist/scripts/gpu-check.js matmul           tf.matMul and our MatMulBiasGeluErf GFLOP/s
 *   node dist/scripts/gpu-check.js train <shape>    one training step on webgpu (scirus-tiny | bert-base)
 *   node dist/scripts/gpu-check.js profile <shape>  GPU time per kernel of one step (timestamp queries), the top 30
 *   node dist/scripts/gpu-check.js torch-flags <shape>   torch_reference.py's flags for that shape (one line)
 *   node dist/scripts/gpu-check.js merge <dir>      part-*.json in <dir> -> one report with the ratios
 *
 * GPU_CHECK_SMOKE=1 swaps in tiny shapes (256³ matmul, a 1-layer 64-wide model) to test the plumbing
 * on a software adapter; the report then says "smoke": true and its ratios mean nothing.
 * Every part prints one JSON line on stdout (errors as {"error": ...}).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { prepareWebgpu, webgpuErrors } from '../src/backend/webgpu.js';
import { WEBGPU_KERNELS } from '../src/backend/webgpu-kernels.js';
import { benchTrainStep, type BenchShape } from '../src/train/bench.js';
import { batchLoss, trainStepAsync } from '../src/train/step.js';
import { AdamW } from '../src/train/adamw.js';
import { SentenceEncoder, toInputs, disposeInputs } from '../src/model/encoder.js';
import { trainableParams } from '../src/model/params.js';
import { DEFAULT_MODEL_CONFIG } from '../src/model/config.js';

/** The shapes; torch_reference.py gets the same flags. Targets: our step vs PyTorch eager fp32 on the same GPU. */
const SMOKE = process.env.GPU_CHECK_SMOKE === '1';
const TINY = { hidden: 64, layers: 1, heads: 4, intermediate: 128, seq: 16, batch: 4, vocab: 500, maxPositions: 1024 };
export const CHECK_SHAPES: Record<string, { flags: Omit<BenchShape, 'scale' | 'steps' | 'warmup'>; target: number }> = {
  'scirus-tiny': { flags: SMOKE ? TINY : { hidden: 312, layers: 3, heads: 12, intermediate: 600, seq: 256, batch: 64, vocab: 30000, maxPositions: 1024 }, target: 1.0 },
  'bert-base': { flags: SMOKE ? TINY : { hidden: 768, layers: 12, heads: 12, intermediate: 3072, seq: 128, batch: 32, vocab: 30522, maxPositions: 1024 }, target: 0.5 },
};
const MATMULS = SMOKE ? [[256, 256, 256]] : [[1024, 1024, 1024], [4096, 768, 3072]];

function torchFlags(shape: string): string {
  const f = CHECK_SHAPES[shape]?.flags;
  if (f == null) return '';
  return `--hidden ${f.hidden} --layers ${f.layers} --heads ${f.heads} --intermediate ${f.intermediate} --seq ${f.seq} --batch ${f.batch} --vocab ${f.vocab} --max-positions ${f.maxPositions}`;
}

async function webgpuOrExit(): Promise<void> {
  const p = await prepareWebgpu();
  if (!p.ok) {
    console.log(JSON.stringify({ error: p.why }));
    process.exit(0);
  }
  await tf.setBackend('webgpu');
  await tf.ready();
}

async function probe(): Promise<object> {
  const p = await prepareWebgpu();
  return p.ok ? { ok: true, why: p.why, ...p.facts } : { ok: false, error: p.why };
}

/** Median seconds of `reps` runs of `f` (each awaited to completion by reading one value back). */
async function timeIt(f: () => tf.Tensor | tf.Tensor[], reps: number): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = f();
    const outs = Array.isArray(out) ? out : [out];
    await outs[0].data();
    tf.dispose(outs);
    return (performance.now() - t0) / 1000;
  };
  await once(); // compile
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function matmul(): Promise<object> {
  await webgpuOrExit();
  const rows: object[] = [];
  for (const [M, K, N] of MATMULS) {
    const a = tf.randomNormal([M, K]);
    const b = tf.randomNormal([K, N]);
    const bias = tf.randomNormal([N]);
    const flop = 2 * M * K * N;
    // a chain of 10 products per timing, so the read-back latency is amortised
    const chain = (g: () => tf.Tensor | tf.Tensor[]) => () => {
      let last: tf.Tensor[] = [];
      for (let i = 0; i < 10; i++) {
        tf.dispose(last);
        const o = g();
        last = Array.isArray(o) ? o : [o];
      }
      return last;
    };
    const s1 = (await timeIt(chain(() => tf.matMul(a, b)), 5)) / 10;
    const s2 = (await timeIt(chain(() => tf.engine().runKernel(WEBGPU_KERNELS.matMulBiasGelu, { a, b, bias }) as tf.Tensor[]), 5)) / 10;
    rows.push({ M, K, N, tfjs_matmul_gflops: Math.round(flop / s1 / 1e9), ours_matmul_bias_gelu_gflops: Math.round(flop / s2 / 1e9) });
    tf.dispose([a, b, bias]);
  }
  return { matmul: rows, webgpu_errors: webgpuErrors() };
}

async function train(shape: string): Promise<object> {
  const s = CHECK_SHAPES[shape];
  if (s == null) return { error: `unknown shape ${shape}; valid: ${Object.keys(CHECK_SHAPES).join(', ')}` };
  await webgpuOrExit();
  const before = tf.memory().numTensors;
  const r = await benchTrainStep({ ...s.flags, scale: 20, steps: Number(process.env.GPU_CHECK_STEPS ?? 5), warmup: Number(process.env.GPU_CHECK_WARMUP ?? 2) });
  return { shape, ...r, tensors_left: tf.memory().numTensors - before, webgpu_errors: webgpuErrors() };
}

/**
 * One step (forward, backward, AdamW) under tf.time: with timestamp-query each dispatch is timed
 * on the GPU (tfjs's programs and ours), summed here per program. Passes split per dispatch while
 * timing, so the total is above the untimed step's; the shares are what matters.
 */
async function profile(shape: string): Promise<object> {
  const s = CHECK_SHAPES[shape];
  if (s == null) return { error: `unknown shape ${shape}` };
  await webgpuOrExit();
  const f = s.flags;
  const encoder = SentenceEncoder.init({ ...DEFAULT_MODEL_CONFIG, vocabSize: f.vocab, hiddenSize: f.hidden, numLayers: f.layers, numHeads: f.heads, intermediateSize: f.intermediate, maxPositions: f.maxPositions, hiddenDropout: 0, attentionDropout: 0, pooling: 'mean', normalize: false }, 0);
  const optimizer = new AdamW(trainableParams(encoder.params), { weightDecay: 0.01 });
  const ids = () => Int32Array.from({ length: f.batch * f.seq }, (_, i) => (i * 7919) % f.vocab);
  const tokens = () => ({ inputIds: ids(), attentionMask: new Int32Array(f.batch * f.seq).fill(1), tokenTypeIds: new Int32Array(f.batch * f.seq), batchSize: f.batch, seqLen: f.seq });
  const batch = { columns: { anchor: toInputs(tokens()), positive: toInputs(tokens()) }, size: f.batch };
  const loss = { name: 'infonce' as const, scale: 20, symmetric: false, similarity: 'cosine' as const };
  await trainStepAsync(encoder, optimizer, batch, { lr: 1e-4, loss, maxGradNorm: 0, seed: 0 }); // compiles every pipeline
  const vars = Object.values(trainableParams(encoder.params));
  const t = await tf.time(() => {
    const { value, grads } = tf.variableGrads(() => batchLoss(encoder, batch, loss, 0), vars);
    optimizer.apply(grads, 1e-4);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const perProgram = new Map<string, { ms: number; n: number }>();
  for (const item of (t as { getExtraProfileInfo?: () => string }).getExtraProfileInfo?.().split(', ') ?? []) {
    const at = item.lastIndexOf(': ');
    const [name, ms] = [item.slice(0, at), Number(item.slice(at + 2))];
    const e = perProgram.get(name) ?? { ms: 0, n: 0 };
    perProgram.set(name, { ms: e.ms + (Number.isFinite(ms) ? ms : 0), n: e.n + 1 });
  }
  const top = [...perProgram.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30).map(([name, e]) => ({ name, ms: Number(e.ms.toFixed(3)), dispatches: e.n }));
  disposeInputs(batch.columns.anchor);
  disposeInputs(batch.columns.positive);
  optimizer.dispose();
  encoder.dispose();
  return { shape, kernel_ms: t.kernelMs, wall_ms: t.wallMs, dispatches: [...perProgram.values()].reduce((a, e) => a + e.n, 0), top, webgpu_errors: webgpuErrors() };
}

/** Reads part-*.json (one JSON line each; torch parts hold torch_reference.py's line) and adds the ratios. */
function merge(dir: string): object {
  const parts: Record<string, unknown> = {};
  for (const f of readdirSync(dir).filter((n) => /^part-.*\.json$/.test(n)).sort()) {
    const text = readFileSync(join(dir, f), 'utf8').trim().split('\n').reverse().find((l) => l.startsWith('{'));
    try {
      parts[f.slice(5, -5)] = text == null ? { error: 'no output (timed out or crashed; see gpu-check.log)' } : JSON.parse(text);
    } catch {
      parts[f.slice(5, -5)] = { error: `unparsable output: ${text?.slice(0, 200)}` };
    }
  }
  const ratios: Record<string, unknown> = {};
  for (const [shape, { target }] of Object.entries(CHECK_SHAPES)) {
    const ours = parts[`train-${shape}`] as { seconds_per_step?: number } | undefined;
    const torch = parts[`torch-${shape}`] as { seconds_per_step?: number } | undefined;
    const ratio = ours?.seconds_per_step && torch?.seconds_per_step ? Number((torch.seconds_per_step / ours.seconds_per_step).toFixed(3)) : null;
    ratios[shape] = { webgpu_s_per_step: ours?.seconds_per_step ?? null, torch_cuda_fp32_s_per_step: torch?.seconds_per_step ?? null, ratio_vs_torch: ratio, target, met: ratio == null ? null : ratio >= target };
  }
  return { ...(SMOKE ? { smoke: true } : {}), ratios, ...parts };
}

async function main(): Promise<void> {
  const [part, arg] = process.argv.slice(2);
  let out: object;
  try {
    if (part === 'probe') out = await probe();
    else if (part === 'matmul') out = await matmul();
    else if (part === 'train') out = await train(arg);
    else if (part === 'profile') out = await profile(arg);
    else if (part === 'merge') out = merge(arg);
    else if (part === 'torch-flags') {
      console.log(torchFlags(arg));
      return;
    }
    else out = { error: `unknown part ${part}; valid: probe, matmul, train <shape>, merge <dir>` };
  } catch (e) {
    out = { error: (e as Error).message.split('\n')[0] };
  }
  console.log(JSON.stringify(out));
}

await main();
