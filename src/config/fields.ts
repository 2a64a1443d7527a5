/**
 * Field builders for config schemas: each fails with one message that says what the field must be and
 * what it got (`must be an integer ≥ 2, got 1.5`), and records that wording as the field's `type` for
 * the README tables (see table.ts), so the message, the check and the documentation share one source.
 */
import { z } from 'zod';
import { nearestKey } from './nearest.js';

/** A value as a message shows it: JSON, except what JSON cannot say. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** `must be <want>, got <value>` (or `required: <want>` when the key is absent). */
export function mustBe(want: string): (iss: { input?: unknown }) => string {
  return (iss) => (iss.input === undefined ? `required: ${want}` : `must be ${want}, got ${show(iss.input)}`);
}

export interface NumberSpec {
  int?: boolean;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  /** Exclusive bounds. */
  gt?: number;
  lt?: number;
}

/** "an integer ≥ 2", "a positive integer", "a number > 0", "a number in [0, 1)". */
export function describeNumber(s: NumberSpec): string {
  if (s.int && s.min === 1 && s.gt === undefined && s.max === undefined && s.lt === undefined) return 'a positive integer';
  const noun = s.int ? 'an integer' : 'a number';
  const low = s.min !== undefined ? ['[', s.min] as const : s.gt !== undefined ? ['(', s.gt] as const : undefined;
  const high = s.max !== undefined ? [']', s.max] as const : s.lt !== undefined ? [')', s.lt] as const : undefined;
  if (low && high) return `${noun} in ${low[0]}${low[1]}, ${high[1]}${high[0]}`;
  if (low) return `${noun} ${low[0] === '[' ? '≥' : '>'} ${low[1]}`;
  if (high) return `${noun} ${high[0] === ']' ? '≤' : '<'} ${high[1]}`;
  return noun;
}

/** A finite number (JSON has no others) with optional integrality and bounds. */
export function number(spec: NumberSpec = {}) {
  const want = describeNumber(spec);
  const error = mustBe(want);
  let s = z.number({ error });
  if (spec.int) s = s.int({ error });
  if (spec.min !== undefined) s = s.min(spec.min, { error });
  if (spec.gt !== undefined) s = s.gt(spec.gt, { error });
  if (spec.max !== undefined) s = s.max(spec.max, { error });
  if (spec.lt !== undefined) s = s.lt(spec.lt, { error });
  return s.meta({ type: want });
}

export function integer(spec: Omit<NumberSpec, 'int'> = {}) {
  return number({ ...spec, int: true });
}

export function text() {
  const error = mustBe('a non-empty string');
  return z.string({ error }).min(1, { error }).meta({ type: 'string' });
}

export function flag() {
  return z.boolean({ error: mustBe('true or false') }).meta({ type: 'true / false' });
}

/**
 * One of a closed set; the message lists the valid values (`unknown pooling "max"; valid: mean, cls`),
 * or, for a value another library knows but this toolkit does not implement, the supported ones
 * (`unsupported activation "relu"; supported: gelu`).
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, noun?: string, kind: 'unknown' | 'unsupported' = 'unknown', note = '') {
  const valid = kind === 'unknown' ? 'valid' : 'supported';
  const error = (iss: { input?: unknown }) =>
    `${iss.input === undefined ? 'required' : noun || kind === 'unsupported' ? `${kind} ${noun ? `${noun} ` : ''}${show(iss.input)}` : `${show(iss.input)} is not valid`}; ${valid}: ${values.join(', ')}${note}`;
  return z.enum(values, { error }).meta({ type: values.map((v) => `\`"${v}"\``).join(' \\| ') });
}

/** A JSON object with exactly these keys (others: "unknown key", with the nearest valid one suggested). */
export function section<S extends z.ZodRawShape>(shape: S, aliases: Record<string, string> = {}) {
  const valid = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'invalid_type') return mustBe('an object')(iss);
      if (iss.code === 'unrecognized_keys') return unknownKey(String(iss.keys[0]), valid, aliases);
      return undefined;
    },
  });
}

/**
 * "unknown key; valid keys: …; did you mean `batchSize`?": the nearest valid key, or the key that
 * `aliases` maps the name to (what other tools call it: `learning_rate` for `lr`).
 */
export function unknownKey(key: string, valid: readonly string[], aliases: Record<string, string> = {}): string {
  const near = aliases[key] ?? nearestKey(key, valid);
  return `unknown key; valid keys: ${valid.join(', ')}${near ? `; did you mean \`${near}\`?` : ''}`;
}
