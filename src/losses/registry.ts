/**
 * Losses by name, as recipes select them: the options each accepts (with defaults), the batch
 * columns (roles) each needs, and one `computeLoss` that feeds embeddings to the right function.
 *
 * Roles: `pairs` data has anchor, positive and hard negatives negative, negative_2, …;
 * `labelled` data has text1, text2 and a gold score per row.
 */
import * as tf from '@tensorflow/tfjs';
import { infoNCE, INFONCE_SIMILARITIES } from './infonce.js';
import { angle, ANGLE_DEFAULTS, ANGLE_POOLINGS } from './angle.js';
import { cosent, PAIR_SIMILARITIES } from './cosent.js';
import { triplet, TRIPLET_DISTANCES } from './triplet.js';
import { z } from 'zod';
import { parseConfig } from '../config/parse.js';
import { flag, mustBe, number, oneOf, section } from '../config/fields.js';

export const LOSS_NAMES = ['infonce', 'angle', 'cosent', 'triplet'] as const;
export type LossName = (typeof LOSS_NAMES)[number];
export type DataKind = 'pairs' | 'labelled';

// scales and temperatures divide or multiply logits: they must be > 0; weights and margins may be 0
const scale = (d: number) => number({ gt: 0 }).default(d);
const weight = (d: number) => number({ min: 0 }).default(d);
const choice = <T extends string>(values: readonly T[], d: NoInfer<T>) => oneOf(values as readonly T[] as [T, ...T[]]).default(d);

/** Each loss's options with their defaults, as a recipe's `loss` section gives them (beside `name`). */
export const LOSS_OPTIONS = {
  infonce: { scale: scale(20), symmetric: flag().default(false), similarity: choice(INFONCE_SIMILARITIES, 'cosine') },
  angle: {
    cosineW: weight(ANGLE_DEFAULTS.cosineW), ibnW: weight(ANGLE_DEFAULTS.ibnW), clnW: weight(ANGLE_DEFAULTS.clnW), angleW: weight(ANGLE_DEFAULTS.angleW),
    cosineTau: scale(ANGLE_DEFAULTS.cosineTau), ibnTau: scale(ANGLE_DEFAULTS.ibnTau), angleTau: scale(ANGLE_DEFAULTS.angleTau),
    pooling: choice(ANGLE_POOLINGS, ANGLE_DEFAULTS.pooling),
  },
  cosent: { scale: scale(20), similarity: choice(PAIR_SIMILARITIES, 'cosine') },
  triplet: { margin: weight(1), distance: choice(TRIPLET_DISTANCES, 'l2') },
} satisfies Record<LossName, z.ZodRawShape>;

const lossSchemas = LOSS_NAMES.map((name) => section({ name: z.literal(name), ...LOSS_OPTIONS[name] })) as unknown as [
  ReturnType<typeof section<{ name: z.ZodLiteral<'infonce'> } & typeof LOSS_OPTIONS.infonce>>,
  ReturnType<typeof section<{ name: z.ZodLiteral<'angle'> } & typeof LOSS_OPTIONS.angle>>,
  ReturnType<typeof section<{ name: z.ZodLiteral<'cosent'> } & typeof LOSS_OPTIONS.cosent>>,
  ReturnType<typeof section<{ name: z.ZodLiteral<'triplet'> } & typeof LOSS_OPTIONS.triplet>>,
];

/**
 * A recipe's `loss`: `{"name": "<loss>", ...options}`, name defaulting to infonce and every option to
 * its default; errors read `<file>: <path>.<option>: …` (e.g. `x.json: datasets[0].loss.scale: …`).
 */
export const lossConfigSchema = z
  .looseObject({ name: oneOf(LOSS_NAMES, 'loss').default('infonce') }, { error: mustBe('an object like {"name": "infonce"}') })
  .pipe(z.discriminatedUnion('name', lossSchemas));

export type LossConfig = z.output<typeof lossConfigSchema>;

interface LossSpec {
  /** What it computes, for the README's loss table (scripts/config-tables.ts). */
  definition: string;
  /** Data kinds the loss trains on, with the roles each needs. */
  kinds: Partial<Record<DataKind, { required: string[]; negatives: 'any' | 'one' | 'none' }>>;
  /** The batch needs no duplicate texts (in-batch negatives). */
  inBatchNegatives: boolean;
}

export const LOSS_SPECS: Record<LossName, LossSpec> = {
  infonce: {
    definition:
      "sentence-transformers' MultipleNegativesRankingLoss: `−mean_i[s·cos(a_i,p_i) − log Σ_{d∈[P;N]} exp(s·cos(a_i,d))]`; `symmetric` adds positive→anchor (MultipleNegativesSymmetricRankingLoss); `similarity: \"dot\"` scores with raw dot products (SciMult: dot, temperature 0.01 = `scale` 100)",
    kinds: { pairs: { required: ['anchor', 'positive'], negatives: 'any' } },
    inBatchNegatives: true,
  },
  angle: {
    definition:
      "AnglE v0.6 `AngleLoss`: CoSENT term, in-batch-negative term, angle term (complex division), combined per AnglE's formats A/B/C. The in-batch term reads labels as AnglE does (truncated to integers, non-zero = positive): use binary labels with it, or `ibnW` 0 on graded scores",
    kinds: {
      labelled: { required: ['text1', 'text2'], negatives: 'none' },
      pairs: { required: ['anchor', 'positive'], negatives: 'one' },
    },
    inBatchNegatives: true,
  },
  cosent: {
    definition: "sentence-transformers' CoSENTLoss (`angle` similarity = its AnglELoss)",
    kinds: { labelled: { required: ['text1', 'text2'], negatives: 'none' } },
    inBatchNegatives: false,
  },
  triplet: {
    definition: "SPECTER/SciNCL: `mean(max(0, ‖a−p‖ − ‖a−n‖ + margin))` (torch TripletMarginLoss; `cosine` distance as SPECTER's option)",
    kinds: { pairs: { required: ['anchor', 'positive', 'negative'], negatives: 'one' } },
    inBatchNegatives: false,
  },
};

/** Fill defaults and check every option of a `loss` section (`path`: where it sits in the file). */
export function validateLossConfig(raw: unknown, where: string, path = 'loss'): LossConfig {
  return parseConfig(lossConfigSchema, raw, where, path.split('.'));
}

/** Embeddings of one batch by role ([B, H] each), plus gold scores for labelled data. */
export interface LossInputs {
  embeddings: Record<string, tf.Tensor2D>;
  scores?: tf.Tensor1D;
}

/** Hard-negative roles present, in order: negative, negative_2, negative_3, … */
export function negativeRoles(roles: Iterable<string>): string[] {
  const set = new Set(roles);
  const out: string[] = [];
  if (set.has('negative')) out.push('negative');
  for (let k = 2; set.has(`negative_${k}`); k++) out.push(`negative_${k}`);
  return out;
}

export function computeLoss(loss: LossConfig, { embeddings: e, scores }: LossInputs): tf.Scalar {
  const o = loss as unknown as Record<string, never>;
  switch (loss.name) {
    case 'infonce':
      return infoNCE(
        { anchor: e.anchor, positive: e.positive, negatives: negativeRoles(Object.keys(e)).map((r) => e[r]) },
        { scale: o.scale, symmetric: o.symmetric, similarity: o.similarity },
      );
    case 'triplet':
      return triplet({ anchor: e.anchor, positive: e.positive, negative: e.negative }, { margin: o.margin, distance: o.distance });
    case 'cosent':
      return cosent({ text1: e.text1, text2: e.text2 }, scores!, { scale: o.scale, similarity: o.similarity });
    case 'angle': {
      const { name: _name, ...opts } = loss;
      return e.text1
        ? angle({ text1: e.text1, text2: e.text2 }, scores!, opts)
        : angle({ query: e.anchor, positive: e.positive, negative: e.negative }, null, opts);
    }
  }
}
