/** Options and helpers shared by the CLI commands. */
import type { Argv } from 'yargs';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_REQUESTS, initBackend, type BackendRequest, type BackendInfo } from '../backend/select.js';
import { userError } from '../util/errors.js';

export interface BackendArgs {
  backend: BackendRequest;
  threads?: number;
}

export function withBackend<T>(y: Argv<T>): Argv<T & BackendArgs> {
  return y.option('backend', {
    choices: BACKEND_REQUESTS as unknown as BackendRequest[],
    default: 'auto' as BackendRequest,
    describe: 'TensorFlow.js backend: auto = tfjs-node-gpu with a GPU, else (train, eval, bench) webgpu with a GPU adapter (Vulkan), else native (C++ kernels, when built at install), else tfjs-node, else wasm; cpu is the slow pure-JS reference',
  }).option('threads', {
    type: 'number',
    describe: 'Threads for the native backend (default: CONTRASTIVE_THREADS, else the physical cores); results are bitwise repeatable for a given count',
  }) as unknown as Argv<T & BackendArgs>;
}

/**
 * tfjs's cpu backend prints a five-line "install our node backend" banner on stderr at its first tensor
 * (also when a command that needs no backend choice, such as `export --no-verify`, uses it), which made
 * every error more than one line; the CLI's `backend:` line says which backend runs. tfjs 4.22 reads its
 * PROD flag only to silence such console warnings (tf.enableProdMode), so the CLI sets it.
 */
export function quietTfjsWarnings(): void {
  tf.env().set('PROD', true);
}

/**
 * Pick the backend and say which one and why, on stderr (stdout stays clean for --json).
 * `asyncReads`: the command reads tensors only asynchronously, so webgpu can run it (bench).
 */
export async function setupBackend(requested: BackendRequest, threads?: number, asyncReads = false): Promise<BackendInfo> {
  const info = await initBackend(requested, { threads, asyncReads });
  process.stderr.write(`backend: ${info.name}${info.device === 'cuda' ? ' (CUDA)' : ''} — ${info.reason}\n`);
  return info;
}

export function fmt(x: number, digits = 4): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e4 ? x.toFixed(digits) : x.toExponential(2);
}

/**
 * Ctrl-C / SIGTERM for long commands: the first one aborts the returned signal (the trainer finishes
 * its step and writes a resumable checkpoint); a second one exits at once (130 / 143). `exitCode()` is
 * the code the command should end with after a clean stop (undefined when no signal came).
 */
export function stopOnSignals(): { signal: AbortSignal; exitCode: () => number | undefined; dispose: () => void } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const code = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 130 : 143);
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`\ncontrastive: ${sig} again: exiting now (the last complete checkpoint is intact)\n`);
      process.exit(code(sig));
    }
    received = sig;
    process.stderr.write(`\ncontrastive: ${sig}: finishing this step and writing a checkpoint (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to exit at once)\n`);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    exitCode: () => (received ? code(received) : undefined),
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * A numeric flag that must be a whole number ≥ `min` (yargs turns `--max-steps abc` into NaN and lets
 * `-3` through): the value, or a one-line UserError naming the flag. `undefined` passes through.
 */
export function intFlag(value: number | undefined, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) throw userError(flag, undefined, `must be a whole number ≥ ${min}, got ${Number.isNaN(value) ? 'not a number' : value}`);
  return value;
}
