/** Validation of loss options and embedding shapes, shared by the loss files (errors name the option). */
import type * as tf from '@tensorflow/tfjs';
import { userError } from '../util/errors.js';

/** Throws unless every key of `opts` is one of `valid`. */
export function checkOptionKeys(where: string, opts: object, valid: readonly string[]): void {
  for (const key of Object.keys(opts)) {
    if (!valid.includes(key)) throw userError(where, key, `unknown option; valid options: ${valid.join(', ')}`);
  }
}

/** A finite number, > 0 (`positive`) or ≥ 0 (`nonNegative`). */
export function checkNumber(where: string, field: string, v: unknown, kind: 'positive' | 'nonNegative'): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (kind === 'positive' ? v > 0 : v >= 0);
  if (!ok) throw userError(where, field, `must be a finite number ${kind === 'positive' ? '> 0' : '>= 0'}, got ${JSON.stringify(v)}`);
  return v as number;
}

export function checkChoice<T extends string>(where: string, field: string, v: unknown, valid: readonly T[]): T {
  if (!valid.includes(v as T)) throw userError(where, field, `must be one of ${valid.join(', ')}; got ${JSON.stringify(v)}`);
  return v as T;
}

/** All named tensors are [B, H] with one B and one H; returns [B, H]. */
export function checkSameShape(where: string, tensors: Record<string, tf.Tensor>): [number, number] {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    if (t.rank !== 2) throw userError(where, name, `must be a 2-D tensor [batch, dim], got shape [${t.shape}]`);
  }
  const [firstName, first] = entries[0];
  for (const [name, t] of entries.slice(1)) {
    if (t.shape[0] !== first.shape[0] || t.shape[1] !== first.shape[1])
      throw userError(where, name, `shape [${t.shape}] differs from ${firstName} [${first.shape}]`);
  }
  const [B, H] = first.shape as [number, number];
  if (B < 1) throw userError(where, firstName, 'batch is empty');
  return [B, H];
}

/** scores must be 1-D with one entry per pair. */
export function checkScores(where: string, scores: tf.Tensor, B: number): void {
  if (scores.rank !== 1 || scores.shape[0] !== B)
    throw userError(where, 'scores', `must be a 1-D tensor with one score per pair ([${B}]), got shape [${scores.shape}]`);
}
