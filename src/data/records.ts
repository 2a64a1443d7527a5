/**
 * The unit of training data: a text (`anchor`), a text that should embed close to it (`positive`),
 * and optionally a text that should embed further away than the positive (`negative`, a hard negative).
 * Arrow files written by `prepare` have exactly these column names.
 */
export interface PairRecord {
  anchor: string;
  positive: string;
  negative?: string;
}

/**
 * The two kinds of prepared Arrow file:
 * - `pairs`: Utf8 `anchor`, `positive` and any number of hard negatives `negative`, `negative_2`, `negative_3`, …;
 * - `labelled`: Utf8 `text1`, `text2` and a numeric gold `score` (e.g. STS similarity in [0, 5]).
 */
export type DataKind = 'pairs' | 'labelled';
export const DATA_KINDS: readonly DataKind[] = ['pairs', 'labelled'];

/** A row of a `labelled` file. */
export interface LabelledRecord {
  text1: string;
  text2: string;
  score: number;
}

/** Name of the i-th (0-based) hard-negative column: `negative`, `negative_2`, `negative_3`, … */
export function negativeColumn(i: number): string {
  return i === 0 ? 'negative' : `negative_${i + 1}`;
}

/** 0-based position of a hard-negative column name (`negative` → 0, `negative_3` → 2), or -1 for other names. */
export function negativeIndex(name: string): number {
  if (name === 'negative') return 0;
  const m = /^negative_([1-9]\d*)$/.exec(name);
  return m && Number(m[1]) >= 2 ? Number(m[1]) - 1 : -1;
}

/** True when a text has no visible content; such anchors/positives/negatives are skipped by `prepare`. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A score written as a plain decimal number (`4`, `-0.5`, `2.615`, `1e-3`; surrounding spaces allowed), or
 * undefined for anything else (words, `NaN`, `Infinity`, hex, empty).
 */
export function parseScore(text: string): number | undefined {
  const t = text.trim();
  if (!DECIMAL.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}
