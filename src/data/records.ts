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

/** Column names in prepared Arrow files, in file order. */
export const PAIR_COLUMNS = ['anchor', 'positive', 'negative'] as const;
export type PairColumn = (typeof PAIR_COLUMNS)[number];

/** True when a text has no visible content; such anchors/positives/negatives are skipped by `prepare`. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}
