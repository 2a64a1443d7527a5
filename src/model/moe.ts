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
import { userError } from '../util/errors.js';
import type { Params } from './params.js';

export const MOE_PARTS = ['attn', 'ffn'] as const;
export type MoePart = (typeof MOE_PARTS)[number];

/** A recipe's / config.json's `moe` section, resolved: layer indices, never a rule string. */
export interface MoeConfig {
  /** 0-based indices of the layers that hold experts, ascending. */
  layers: number[];
  parts: MoePart[];
  experts: number;
  /** Task name -> expert index; every batch of a dataset with `task: T` runs expert tasks[T]. */
  tasks: Record<string, number>;
}

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

/**
 * Validate a `moe` section (`where` names the file, `key` its path, e.g. `model.moe`):
 * `{ layers: "mod3" | [2, 5], parts: ["attn"] | ["attn", "ffn"], experts: N, tasks?: {name: expert} }`.
 * `tasks` defaults to SciMult's 3-expert map when experts is 3.
 */
export function validateMoe(raw: unknown, numLayers: number, where: string, key = 'model.moe'): MoeConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw userError(where, key, 'must be an object like {"layers": "mod3", "parts": ["attn"], "experts": 3}');
  const obj = raw as Record<string, unknown>;
  const valid = ['layers', 'parts', 'experts', 'tasks'];
  for (const k of Object.keys(obj)) if (!valid.includes(k)) throw userError(where, `${key}.${k}`, `unknown key; valid keys: ${valid.join(', ')}`);
  const experts = obj.experts;
  if (typeof experts !== 'number' || !Number.isInteger(experts) || experts < 1) throw userError(where, `${key}.experts`, `must be an integer ≥ 1, got ${JSON.stringify(experts)}`);
  let layers: number[] | undefined;
  if (typeof obj.layers === 'string') layers = layersOfRule(obj.layers, numLayers);
  else if (Array.isArray(obj.layers) && obj.layers.every((i) => Number.isInteger(i) && i >= 0 && i < numLayers)) layers = [...new Set(obj.layers as number[])].sort((a, b) => a - b);
  if (!layers) throw userError(where, `${key}.layers`, `${JSON.stringify(obj.layers)} is not valid; valid: ${LAYER_RULES} (numLayers ${numLayers})`);
  if (layers.length === 0) throw userError(where, `${key}.layers`, `${JSON.stringify(obj.layers)} picks none of the ${numLayers} layers`);
  const parts = obj.parts ?? ['attn'];
  if (!Array.isArray(parts) || parts.length === 0 || !parts.every((p) => (MOE_PARTS as readonly unknown[]).includes(p)) || new Set(parts).size !== parts.length) {
    throw userError(where, `${key}.parts`, `${JSON.stringify(parts)} is not valid; valid: ["attn"], ["ffn"] or ["attn", "ffn"]`);
  }
  const tasksRaw = obj.tasks ?? (experts === 3 ? SCIMULT_TASKS : undefined);
  if (typeof tasksRaw !== 'object' || tasksRaw === null || Array.isArray(tasksRaw) || Object.keys(tasksRaw).length === 0) {
    throw userError(where, `${key}.tasks`, `must map task names to experts, e.g. {"search": 0, "citation": 1} (defaults to ${JSON.stringify(SCIMULT_TASKS)} only with 3 experts)`);
  }
  for (const [task, e] of Object.entries(tasksRaw)) {
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 0 || e >= experts) throw userError(where, `${key}.tasks.${task}`, `must be an expert index 0..${experts - 1}, got ${JSON.stringify(e)}`);
  }
  return { layers, parts: [...parts] as MoePart[], experts, tasks: { ...(tasksRaw as Record<string, number>) } };
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
