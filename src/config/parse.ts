/**
 * Validate a plain-data config (a recipe, a pipeline, a model folder's JSON files) against its zod
 * schema, turning the first problem into the toolkit's one-line UserError:
 *
 *   configs/x.json: train.lr: must be a number ≥ 0, got "fast"
 *   configs/x.json: train.batchsize: unknown key; valid keys: batchSize, …; did you mean `batchSize`?
 *
 * The field builders (fields.ts) word their own failures; this adds the file, the field path, unknown
 * keys with the nearest valid key, and a wording for zod's structural issues.
 */
import { z } from 'zod';
import { userError, type UserError } from '../util/errors.js';
import { show, unknownKey } from './fields.js';

type Issue = z.core.$ZodIssue;
type Path = ReadonlyArray<PropertyKey>;

/** `train.lr`, `datasets[0].loss.scale`, `stages[2].merge.models[1]`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out;
}

/** The keys of the object schema an issue came from (for the unknown-key message). */
function shapeKeys(inst: unknown): string[] {
  return Object.keys((inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape ?? {});
}

/** Wording for issues a field builder did not word itself (zod's structural issues). */
const wording: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'unrecognized_keys':
      return unknownKey(String(iss.keys[0]), shapeKeys(iss.inst));
    case 'invalid_type': {
      const want = iss.expected === 'object' ? 'an object' : iss.expected === 'array' ? 'a list' : `a ${iss.expected}`;
      return iss.input === undefined ? `required: ${want}` : `must be ${want}, got ${show(iss.input)}`;
    }
    case 'too_small':
      if (iss.origin === 'array') return `must be a list of at least ${iss.minimum}, got ${show(iss.input)}`;
      return undefined;
    default:
      return undefined;
  }
};

/** The issue's path to the field it is about, and its message (unknown keys: the key itself; unions word their own). */
function located(iss: Issue): { path: Path; message: string } {
  if (iss.code === 'unrecognized_keys') return { path: [...iss.path, iss.keys[0]], message: iss.message };
  if (iss.code === 'invalid_key' || iss.code === 'invalid_element') return { path: iss.path, message: iss.issues[0]?.message ?? iss.message };
  return { path: iss.path, message: iss.message };
}

/** The UserError for a failed parse: the first unknown key if any (it is the likeliest cause), else the first issue. */
function configError(error: z.ZodError, where: string, prefix: Path = []): UserError {
  const iss = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0];
  const { path, message } = located(iss);
  const field = formatPath([...prefix, ...path]);
  return userError(where, field || undefined, message);
}

/**
 * Parse `raw` with `schema`; on failure throw a UserError naming `where` (the file) and the field
 * path, below `prefix` (e.g. `['model']` for a recipe's model section).
 */
export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown, where: string, prefix: Path = []): z.output<S> {
  const result = schema.safeParse(raw, { error: wording, reportInput: true });
  if (!result.success) throw configError(result.error, where, prefix);
  return result.data;
}
