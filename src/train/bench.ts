/**
 * Training throughput on random tokens, with the shapes and step of
 * ../shared/bench/torch_reference.py (the PyTorch yardstick): `batch` anchors and `batch`
 * positives of `seq` tokens, mean pooling, in-batch InfoNCE, backprop, AdamW. Dropout is off
 * there, so it is off here.
 */
import * as tf from '@tensorflow/tfjs';
import { SentenceEncoder, toInputs, disposeInputs } from '../model/encoder.js';
import { trainableParams } from '../model/params.js';
import { DEFAULT_MODEL_CONFIG } from '../model/config.js';
import { AdamW } from './adamw.js';
import { trainStepAsync } from './step.js';
import { Rng } from '../util/rng.js';
import type { TokenBatch } from '../data/tokenizer.js';
import { profileKernels, type KernelTime } from './bench-profile.js';

export interface BenchShape {
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  seq: number;
  batch: number;
  vocab: number;
  maxPositions: number;
  scale: number;
  steps: number;
  warmup: number;
  /** GradCache mini-batch (0: off), as train.miniBatchSize. */
  miniBatch?: number;
  /** Also time every kernel of the timed steps (bench-profile.ts); adds `profile` to the result. */
  profile?: boolean;
}

export interface BenchResult extends Omit<BenchShape, 'maxPositions' | 'scale' | 'steps' | 'warmup' | 'miniBatch' | 'profile'> {
  mini_batch?: number;
  impl: string;
  backend: string;
  params: number;
  seconds_per_step: number;
  pairs_per_s: number;
  tokens_per_s: number;
  /** Peak resident memory of this process so far, MB (the suite runs each bench in a fresh process). */
  peak_rss_mb: number;
  /**
   * Resident memory after timed steps, MB, at up to 11 evenly spaced steps (step number -> MB): flat
   * when a long run (`--steps 300`) neither leaks nor lets freed arrays pile up waiting for the GC.
   */
  rss_mb_at_step: Record<string, number>;
  /** The last sample minus the first: what the timed steps added to the resident memory. */
  rss_growth_mb: number;
  /** With `profile`: milliseconds and calls per step of each kernel, largest first. */
  profile?: KernelTime[];
}

function randomBatch(rng: Rng, batch: number, seq: number, vocab: number): TokenBatch {
  const ids = new Int32Array(batch * seq).map(() => rng.int(vocab));
  return { inputIds: ids, attentionMask: new Int32Array(batch * seq).fill(1), tokenTypeIds: new Int32Array(batch * seq), batchSize: batch, seqLen: seq };
}

/** Async: steps read the loss back with data(), which every backend (webgpu included) supports. */
export async function benchTrainStep(shape: BenchShape): Promise<BenchResult> {
  const encoder = SentenceEncoder.init(
    {
      ...DEFAULT_MODEL_CONFIG,
      vocabSize: shape.vocab,
      hiddenSize: shape.hidden,
      numLayers: shape.layers,
      numHeads: shape.heads,
      intermediateSize: shape.intermediate,
      maxPositions: shape.maxPositions,
      hiddenDropout: 0,
      attentionDropout: 0,
      pooling: 'mean',
      normalize: false,
    },
    0,
  );
  const optimizer = new AdamW(trainableParams(encoder.params), { weightDecay: 0.01 });
  const rng = new Rng(0);
  const batch = {
    columns: {
      anchor: toInputs(randomBatch(rng, shape.batch, shape.seq, shape.vocab)),
      positive: toInputs(randomBatch(rng, shape.batch, shape.seq, shape.vocab)),
    },
    size: shape.batch,
  };
  const loss = { name: 'infonce' as const, scale: shape.scale, symmetric: false, similarity: 'cosine' as const };
  const step = () => trainStepAsync(encoder, optimizer, batch, { lr: 1e-4, loss, maxGradNorm: 0, seed: 0, miniBatchSize: shape.miniBatch ?? 0 });
  for (let i = 0; i < shape.warmup; i++) await step();
  // RSS samples at steps 1, every steps/10, and the last (reading RSS costs microseconds)
  const every = Math.max(1, Math.floor(shape.steps / 10));
  const rss: Record<string, number> = {};
  const profiler = shape.profile ? profileKernels() : undefined;
  profiler?.start();
  const t0 = performance.now();
  for (let i = 1; i <= shape.steps; i++) {
    await step(); // each step reads the loss back, so timing includes the sync
    if (i === 1 || i % every === 0 || i === shape.steps) rss[String(i)] = Math.round(process.memoryUsage.rss() / 2 ** 20);
  }
  const dt = (performance.now() - t0) / 1000 / shape.steps;
  const profile = profiler?.finish(shape.steps);
  const samples = Object.values(rss);
  const params = encoder.numParams - shape.hidden * shape.hidden - shape.hidden; // torch_reference has no pooler
  disposeInputs(batch.columns.anchor);
  disposeInputs(batch.columns.positive);
  optimizer.dispose();
  encoder.dispose();
  return {
    impl: 'contrastive-tfjs',
    backend: tf.getBackend(),
    params,
    hidden: shape.hidden,
    layers: shape.layers,
    heads: shape.heads,
    intermediate: shape.intermediate,
    seq: shape.seq,
    batch: shape.batch,
    vocab: shape.vocab,
    ...(shape.miniBatch ? { mini_batch: shape.miniBatch } : {}),
    seconds_per_step: Number(dt.toFixed(4)),
    pairs_per_s: Number((shape.batch / dt).toFixed(2)),
    tokens_per_s: Number(((2 * shape.batch * shape.seq) / dt).toFixed(1)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    rss_mb_at_step: rss,
    rss_growth_mb: samples[samples.length - 1] - samples[0],
    ...(profile ? { profile } : {}),
  };
}
