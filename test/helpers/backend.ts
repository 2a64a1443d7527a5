/** Test helpers: backends to run against, and array comparison with a readable failure. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { registerWasmOverrides } from '../../src/backend/wasm-overrides.js';
import { registerCpuOverrides } from '../../src/backend/cpu-overrides.js';
import { registerNativeBackend } from '../../src/backend/native-backend.js';
import { loadNativeAddon } from '../../src/backend/native-addon.js';

/**
 * `cpu` is the reference (with a fast scatter-add for the embedding gradient); `wasm` runs with the
 * toolkit's kernel overrides; `native` with the C++ addon's kernels, where it was built (see backendSkip).
 */
export const BACKENDS = ['cpu', 'wasm', 'native'] as const;

/** For node:test's `skip`: why a backend cannot run here (the native addon was not built), else false. */
export function backendSkip(name: string): string | false {
  if (name !== 'native') return false;
  const { error } = loadNativeAddon();
  return error == null ? false : `native addon unavailable: ${error}`;
}

/** Threads the native backend runs tests with (2 exercises the pool even on a 1-core machine). */
export const TEST_THREADS = 2;

export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  if (name === 'native') {
    const missing = registerNativeBackend(TEST_THREADS);
    if (missing != null) throw new Error(`native backend unavailable: ${missing}`);
  } else if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmOverrides();
  } else {
    registerCpuOverrides();
  }
  await tf.setBackend(name);
  await tf.ready();
}

export function flat(x: unknown): number[] {
  return Array.isArray(x) ? (x as unknown[]).flatMap(flat) : [x as number];
}

/** max |a - b| <= atol + rtol·|b| elementwise, reporting the worst element. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, what: string, rtol = 0): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= worst) || Number.isNaN(actual[i])) {
      worst = excess;
      at = i;
      if (Number.isNaN(actual[i])) break;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`);
}
