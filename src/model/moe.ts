/**
 * SciMult's task-routed Mixture-of-Experts BERT (yuzhimanhua/SciMult, `MoEBertModel`; notes in
 * shared/notes/ANCHORS.md §1d and ARCHITECTURES.md §3): in the layers a rule picks, each expert has
 * its own attention projections (query, key, value and the attention-output dense; the LayerNorm after
 * them stays shared) and, when asked, its own feed-forward block (intermediate dense, output dense and
 * that output's LayerNorm). Every other tensor is shared. A task name routes a batch to one expert.
 *
 * Tensor names follow SciMult's checkpoints under HF BertModel names:
 *   encoder.layer.{i}.attention.self.moe_query.{e}.weight      (moe_key, moe_value likewise)
 *   encoder.layer.{i}.attention.output.moe_dense.{e}.weight
 *   encoder.layer.{i}.interm_layers.{e}.dense.weight           (FFN experts, with `parts: ["attn", "ffn"]`)
 *   encoder.layer.{i}.output_layers.{e}.dense.weight / .LayerNorm.weight
 * so `denseName` (SciMult's `init_moe_from_pretrained_mapping`) maps each expert tensor to the dense
 * tensor it starts from, and `bakeExpert` turns one expert back into a plain BertModel.
 */
import { z } from 'zod';
import { userError } from '../util/errors.js';
import { integer, mustBe, oneOf, section, show } from '../config/fields.js';
import { parseConfig } from '../config/parse.js';
import type { Params } from './params.js';

export const MOE_PARTS = ['attn', 'ffn'] as const;
export type MoePart = (typeof MOE_PARTS)[number];

/** SciMult's `EXPERT_CONFIG_TO_MAP['3-expert']` (single-hop retrieval, multi-hop / citation, entity / classification). */
export const SCIMULT_TASKS: Readonly<Record<string, number>> = { search: 0, citation: 1, classification: 2 };

const RULE = /^(?:(ge|le)(\d+))?mod(\d+)$/;
export const LAYER_RULES = 'modN (layers i with (i+1) % N == 0, e.g. mod3), geKmodN / leKmodN (also i >= K / i <= K), or a list of 0-based indices';

/**
 * The layers a SciMult `moe_type` rule picks: `modN` is every layer i (0-based) with (i + 1) % N == 0
 * (mod3 of 12 layers: 2, 5, 8, 11); `geKmodN` / `leKmodN` further keep i >= K / i <= K.
 */
export function layersOfRule(rule: string, numLayers: number): number[] | undefined {
  const m = RULE.exec(rule);
  if (!m || Number(m[3]) < 1) return undefined;
  const n = Number(m[3]);
  const bound = m[2] === undefined ? undefined : Number(m[2]);
  const out: number[] = [];
  for (let i = 0; i < numLayers; i++) {
    if ((i + 1) % n !== 0) continue;
    if (m[1] === 'ge' && i < bound!) continue;
    if (m[1] === 'le' && i > bound!) continue;
    out.push(i);
  }
  return out;
}

const TASKS_EXAMPLE = `e.g. {"search": 0, "citation": 1} (defaults to ${JSON.stringify(SCIMULT_TASKS)} only with 3 experts)`;

/**
 * A recipe's / config.json's `moe` section for a model of `numLayers` layers:
 * `{ layers: "mod3" | [2, 5], parts: ["attn"] | ["attn", "ffn"], experts: N, tasks?: {name: expert} }`,
 * resolved to layer indices (never a rule string); `tasks` defaults to SciMult's 3-expert map when experts is 3.
 */
export function moeSchema(numLayers: number) {
  return section({
    layers: z
      .unknown()
      .transform((v, ctx) => {
        let layers: number[] | undefined;
        if (typeof v === 'string') layers = layersOfRule(v, numLayers);
        else if (Array.isArray(v) && v.every((i) => Number.isInteger(i) && i >= 0 && i < numLayers)) layers = [...new Set(v as number[])].sort((a, b) => a - b);
        if (!layers) ctx.addIssue({ code: 'custom', message: `${show(v)} is not valid; valid: ${LAYER_RULES} (numLayers ${numLayers})` });
        else if (layers.length === 0) ctx.addIssue({ code: 'custom', message: `${show(v)} picks none of the ${numLayers} layers` });
        return layers ?? [];
      })
      .meta({ type: 'rule or list', default: 'required', description: "SciMult's rules: `modN` = every layer i (0-based) with (i+1) % N == 0 (`mod3` of 12 layers: 2, 5, 8, 11), `geKmodN` / `leKmodN` also require i ≥ K / i ≤ K; or a list of indices" }),
    parts: z
      .array(oneOf(MOE_PARTS), { error: (iss) => partsError(iss.input) })
      .min(1, { error: (iss) => partsError(iss.input) })
      .refine((p) => new Set(p).size === p.length, { error: (iss) => partsError(iss.input) })
      .default(['attn'])
      .meta({ type: 'list', description: '`["attn"]`: per-expert query, key, value and attention-output dense (the LayerNorm after them stays shared); `["attn", "ffn"]` adds per-expert feed-forward blocks (intermediate, output dense and its LayerNorm)' }),
    experts: integer({ min: 1 }).meta({ description: 'number of experts' }),
    tasks: z
      .record(z.string(), integer({ min: 0 }), { error: mustBe(`an object mapping task names to experts, ${TASKS_EXAMPLE}`) })
      .optional()
      .meta({ type: 'task → expert', default: 'SciMult\'s with 3 experts', description: "task name → expert; defaults to SciMult's 3-expert map `{search: 0, citation: 1, classification: 2}` when `experts` is 3" }),
  }).transform((m, ctx) => {
    const tasks = m.tasks ?? (m.experts === 3 ? { ...SCIMULT_TASKS } : undefined);
    if (!tasks || Object.keys(tasks).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['tasks'], message: `must map task names to experts, ${TASKS_EXAMPLE}` });
      return z.NEVER;
    }
    for (const [task, e] of Object.entries(tasks)) {
      if (e >= m.experts) ctx.addIssue({ code: 'custom', path: ['tasks', task], message: `must be an expert index 0..${m.experts - 1}, got ${e}` });
    }
    return { layers: m.layers, parts: [...m.parts], experts: m.experts, tasks };
  });
}

function partsError(input: unknown): string {
  return `${show(input)} is not valid; valid: ["attn"], ["ffn"] or ["attn", "ffn"]`;
}

/** A recipe's / config.json's `moe` section, resolved: layer indices, never a rule string. */
export type MoeConfig = z.output<ReturnType<typeof moeSchema>>;

/** Validate a `moe` section (`where` names the file, `key` its path, e.g. `model.moe`). */
export function validateMoe(raw: unknown, numLayers: number, where: string, key = 'model.moe'): MoeConfig {
  return parseConfig(moeSchema(numLayers), raw, where, key.split('.'));
}

/** The expert of a task, or a UserError listing the tasks (`where`: the flag or key that named it). */
export function expertOf(moe: MoeConfig, task: string, where: string): number {
  const e = moe.tasks[task];
  if (e === undefined) throw userError(where, undefined, `unknown task ${JSON.stringify(task)}; the model's tasks: ${Object.keys(moe.tasks).join(', ')}`);
  return e;
}

/**
 * The expert a `--task` flag (or recipe key, named by `where`) asks for: an MoE model needs a task it
 * knows; a dense model takes none (undefined). Both mistakes are one-line UserErrors.
 */
export function resolveTask(moe: MoeConfig | undefined, task: string | undefined, where: string): number | undefined {
  if (!moe) {
    if (task !== undefined) throw userError(where, undefined, `the model has no task experts (no moe in its config.json); leave ${where} out`);
    return undefined;
  }
  if (task === undefined) throw userError(where, undefined, `required: the model routes by task; valid: ${Object.keys(moe.tasks).join(', ')}`);
  return expertOf(moe, task, where);
}

/** The per-layer sublayers a part replaces, with SciMult's expert name for each (relative to `encoder.layer.{i}.`). */
const EXPERT_PREFIXES: Record<MoePart, Array<[dense: string, expert: string]>> = {
  attn: [
    ['attention.self.query', 'attention.self.moe_query'],
    ['attention.self.key', 'attention.self.moe_key'],
    ['attention.self.value', 'attention.self.moe_value'],
    ['attention.output.dense', 'attention.output.moe_dense'],
  ],
  ffn: [
    ['intermediate.dense', 'interm_layers.{e}.dense'],
    ['output.dense', 'output_layers.{e}.dense'],
    ['output.LayerNorm', 'output_layers.{e}.LayerNorm'],
  ],
};

/**
 * The param prefix (`<prefix>.weight`, `<prefix>.bias`) that layer `l`'s sublayer `dense` (e.g.
 * `attention.self.query`) uses for `expert`: the dense name when the layer has no expert for it.
 */
export function sublayer(moe: MoeConfig | undefined, l: number, dense: string, expert: number): string {
  const base = `encoder.layer.${l}`;
  if (!moe || !moe.layers.includes(l)) return `${base}.${dense}`;
  for (const part of moe.parts) {
    for (const [d, e] of EXPERT_PREFIXES[part]) {
      if (d === dense) return `${base}.${e.includes('{e}') ? e.replace('{e}', String(expert)) : `${e}.${expert}`}`;
    }
  }
  return `${base}.${dense}`;
}

/** Whether layer `l`'s sublayer `dense` has per-expert weights. */
export function isRouted(moe: MoeConfig | undefined, l: number, dense: string): boolean {
  return sublayer(moe, l, dense, 0) !== `encoder.layer.${l}.${dense}`;
}

/** Every routed (layer, dense sublayer) pair, in layer order. */
export function routedSublayers(moe: MoeConfig): Array<{ layer: number; dense: string }> {
  const out: Array<{ layer: number; dense: string }> = [];
  for (const layer of moe.layers) for (const part of MOE_PARTS) if (moe.parts.includes(part)) for (const [dense] of EXPERT_PREFIXES[part]) out.push({ layer, dense });
  return out;
}

/**
 * The dense BertModel tensor an expert tensor starts from (SciMult's `init_moe_from_pretrained_mapping`:
 * `moe_query.{e}` -> `query`, `interm_layers.{e}` -> `intermediate`, ...); other names map to themselves.
 */
export function denseName(name: string): string {
  return name
    .replace(/\.interm_layers\.\d+\./, '.intermediate.')
    .replace(/\.output_layers\.\d+\./, '.output.')
    .replace(/\.moe_(query|key|value|dense)\.\d+\./, '.$1.');
}

/** The expert index of an expert tensor's name (`...moe_query.2.weight` -> 2), undefined for shared tensors. */
export function expertIndex(name: string): number | undefined {
  const m = /\.(?:moe_(?:query|key|value|dense)|interm_layers|output_layers)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Expert `e` of an MoE model as the params of a plain BertModel (dense names, in the same order),
 * sharing the variables: what `export --task` writes. Tensors of the other experts are left out.
 */
export function bakeExpert(params: Params, e: number): Params {
  const out: Params = {};
  for (const [name, v] of Object.entries(params)) {
    const k = expertIndex(name);
    if (k === undefined) out[name] = v;
    else if (k === e) out[denseName(name)] = v;
  }
  return out;
}
