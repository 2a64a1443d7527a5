/**
 * How many threads the native kernels use: `--threads N`, else CONTRASTIVE_THREADS, else the
 * physical cores this process may run on (hyper-threads share one core's FMA units, so they add
 * contention, not throughput).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UserError } from '../util/errors.js';

export const THREADS_ENV = 'CONTRASTIVE_THREADS';

/** Distinct (physical id, core id) pairs in /proc/cpuinfo, or null where it cannot be read. */
export function physicalCores(cpuinfo?: string): number | null {
  let text = cpuinfo;
  if (text == null) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return null;
    }
  }
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (phys != null && core != null) cores.add(`${phys}:${core}`);
  }
  return cores.size > 0 ? cores.size : null;
}

function parseThreads(value: string | number, source: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new UserError(`${source}: expected a whole number of threads from 1 to 1024, got "${value}"`);
  }
  return n;
}

/** Threads to use and where that number came from. */
export function resolveThreads(requested?: number, env: NodeJS.ProcessEnv = process.env): { threads: number; source: string } {
  if (requested != null && requested !== 0) return { threads: parseThreads(requested, '--threads'), source: '--threads' };
  const fromEnv = env[THREADS_ENV];
  if (fromEnv != null && fromEnv !== '') return { threads: parseThreads(fromEnv, THREADS_ENV), source: THREADS_ENV };
  const allowed = availableParallelism();
  const physical = physicalCores();
  return physical == null
    ? { threads: allowed, source: 'available CPUs' }
    : { threads: Math.max(1, Math.min(allowed, physical)), source: 'physical cores' };
}
