/**
 * Losses by name, as recipes select them: the options each accepts (with defaults), the batch
 * columns (roles) each needs, and one `computeLoss` that feeds embeddings to the right function.
 *
 * Roles: `pairs` data has anchor, positive and hard negatives negative, negative_2, …;
 * `labelled` data has text1, text2 and a gold score per row.
 */
import * as tf from '@tensorflow/tfjs';
import { infoNCE, INFONCE_SIMILARITIES } from './infonce.js';
import { angle, ANGLE_DEFAULTS } from './angle.js';
import { cosent, PAIR_SIMILARITIES } from './cosent.js';
import { triplet, TRIPLET_DISTANCES } from './triplet.js';
import { userError } from '../util/errors.js';

export const LOSS_NAMES = ['infonce', 'angle', 'cosent', 'triplet'] as const;
export type LossName = (typeof LOSS_NAMES)[number];
export type DataKind = 'pairs' | 'labelled';

export interface LossConfig {
  name: LossName;
  [option: string]: unknown;
}

interface LossSpec {
  /** Option defaults; an option's type is its default's type (strings list their choices). */
  defaults: Record<string, number | boolean | string>;
  choices?: Record<string, readonly string[]>;
  /** Data kinds the loss trains on, with the roles each needs. */
  kinds: Partial<Record<DataKind, { required: string[]; negatives: 'any' | 'one' | 'none' }>>;
  /** The batch needs no duplicate texts (in-batch negatives). */
  inBatchNegatives: boolean;
}

const { pooling: anglePooling, ...angleNumbers } = ANGLE_DEFAULTS;

export const LOSS_SPECS: Record<LossName, LossSpec> = {
  infonce: {
    defaults: { scale: 20, symmetric: false, similarity: 'cosine' },
    choices: { similarity: INFONCE_SIMILARITIES },
    kinds: { pairs: { required: ['anchor', 'positive'], negatives: 'any' } },
    inBatchNegatives: true,
  },
  angle: {
    defaults: { ...angleNumbers, pooling: anglePooling },
    choices: { pooling: ['sum', 'mean'] },
    kinds: {
      labelled: { required: ['text1', 'text2'], negatives: 'none' },
      pairs: { required: ['anchor', 'positive'], negatives: 'one' },
    },
    inBatchNegatives: true,
  },
  cosent: {
    defaults: { scale: 20, similarity: 'cosine' },
    choices: { similarity: PAIR_SIMILARITIES },
    kinds: { labelled: { required: ['text1', 'text2'], negatives: 'none' } },
    inBatchNegatives: false,
  },
  triplet: {
    defaults: { margin: 1, distance: 'l2' },
    choices: { distance: TRIPLET_DISTANCES },
    kinds: { pairs: { required: ['anchor', 'positive', 'negative'], negatives: 'one' } },
    inBatchNegatives: false,
  },
};

/** Fill defaults and check every option; errors read `<where>: <path>.<option>: …` (e.g. `x.json: datasets[0].loss.scale: …`). */
export function validateLossConfig(raw: unknown, where: string, path = 'loss'): LossConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw userError(where, path, 'must be an object like {"name": "infonce"}');
  const obj = raw as Record<string, unknown>;
  const name = obj.name ?? 'infonce';
  if (!(LOSS_NAMES as readonly unknown[]).includes(name)) {
    throw userError(where, `${path}.name`, `unknown loss ${JSON.stringify(name)}; valid: ${LOSS_NAMES.join(', ')}`);
  }
  const spec = LOSS_SPECS[name as LossName];
  const out: LossConfig = { name: name as LossName, ...spec.defaults };
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'name') continue;
    if (!(key in spec.defaults)) {
      throw userError(where, `${path}.${key}`, `unknown option for loss ${name}; valid: ${Object.keys(spec.defaults).join(', ') || '(none)'}`);
    }
    const def = spec.defaults[key];
    const choices = spec.choices?.[key];
    if (choices && !choices.includes(value as string)) {
      throw userError(where, `${path}.${key}`, `${JSON.stringify(value)} is not valid; valid: ${choices.join(', ')}`);
    }
    // scales and temperatures divide or multiply logits: they must be > 0; weights and margins may be 0
    const positive = /scale|tau/i.test(key);
    const okNumber = typeof value === 'number' && Number.isFinite(value) && (positive ? value > 0 : value >= 0);
    if (typeof value !== typeof def || (typeof value === 'number' && !okNumber)) {
      const want = typeof def === 'number' ? (positive ? 'a number > 0' : 'a number ≥ 0') : `a ${typeof def}`;
      throw userError(where, `${path}.${key}`, `must be ${want}, got ${JSON.stringify(value)}`);
    }
    out[key] = value;
  }
  return out;
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
