/** Options and helpers shared by the CLI commands. */
import type { Argv } from 'yargs';
import { BACKEND_REQUESTS, initBackend, type BackendRequest, type BackendInfo } from '../backend/select.js';

export interface BackendArgs {
  backend: BackendRequest;
  threads?: number;
}

export function withBackend<T>(y: Argv<T>): Argv<T & BackendArgs> {
  return y.option('backend', {
    choices: BACKEND_REQUESTS as unknown as BackendRequest[],
    default: 'auto' as BackendRequest,
    describe: 'TensorFlow.js backend: auto = tfjs-node-gpu with a GPU, else native (C++ kernels, when built at install), else tfjs-node, else wasm; cpu is the slow pure-JS reference',
  }).option('threads', {
    type: 'number',
    describe: 'Threads for the native backend (default: CONTRASTIVE_THREADS, else the physical cores); results are bitwise repeatable for a given count',
  }) as unknown as Argv<T & BackendArgs>;
}

/** Pick the backend and say which one and why, on stderr (stdout stays clean for --json). */
export async function setupBackend(requested: BackendRequest, threads?: number): Promise<BackendInfo> {
  const info = await initBackend(requested, { threads });
  process.stderr.write(`backend: ${info.name}${info.device === 'cuda' ? ' (CUDA)' : ''} — ${info.reason}\n`);
  return info;
}

export function fmt(x: number, digits = 4): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e4 ? x.toFixed(digits) : x.toExponential(2);
}
