/**
 * The README's config tables, rendered from the schemas: one row per key with its type (the wording
 * the field's own error uses), its default and its meaning (the `description` in the field's meta).
 * scripts/config-tables.ts writes them into README.md; test/config/readme-tables.test.ts fails when
 * the README and the schemas differ.
 */
import { z } from 'zod';

interface FieldMeta {
  type?: string;
  default?: string;
  description?: string;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; defaultValue?: unknown; shape?: Record<string, z.ZodType> };
const defOf = (s: z.ZodType) => s._zod.def as unknown as Def;

/** The wrappers around a field (default, optional, pipe …), outermost first, ending at the field itself. */
function layers(s: z.ZodType): z.ZodType[] {
  const out = [s];
  for (;;) {
    const d = defOf(out[out.length - 1]);
    const inner = d.type === 'pipe' ? d.in : d.innerType;
    if (!inner) return out;
    out.push(inner);
  }
}

/** A default as the README writes it: numbers bare (tiny ones as 5e-5), everything else as JSON in backticks. */
export function formatDefault(v: unknown): string {
  if (typeof v === 'number') return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
  return `\`${JSON.stringify(v)}\``;
}

export interface Row {
  key: string;
  type: string;
  default: string;
  meaning: string;
}

/** One row for a field: meta from any layer (outer wins), the default from a default layer. */
export function rowOf(key: string, s: z.ZodType): Row {
  const meta: FieldMeta = {};
  let def: string | undefined;
  let optional = false;
  for (const layer of layers(s)) {
    const m = (z.globalRegistry.get(layer) ?? {}) as FieldMeta;
    meta.type ??= m.type;
    meta.default ??= m.default;
    meta.description ??= m.description;
    const d = defOf(layer);
    if (d.type === 'default' && def === undefined) def = formatDefault(d.defaultValue);
    if (d.type === 'optional' || d.type === 'prefault') optional = true;
  }
  const bare = defOf(layers(s).at(-1)!).type;
  const type = meta.type ?? (bare === 'array' ? 'list' : bare === 'record' || bare === 'object' ? 'object' : bare);
  return { key, type, default: meta.default ?? def ?? (optional ? 'none' : 'required'), meaning: meta.description ?? '' };
}

/** The object schema inside a field (through defaults, pipes and refinements). */
export function shapeOf(s: z.ZodType): Record<string, z.ZodType> {
  for (const layer of layers(s)) {
    const shape = defOf(layer).shape;
    if (shape) return shape;
  }
  throw new Error('not an object schema');
}

/** Rows for the keys of an object schema (all, or `only` these, in that order), each key under `prefix`. */
export function rowsOf(s: z.ZodType, prefix = '', only?: string[]): Row[] {
  const shape = shapeOf(s);
  return (only ?? Object.keys(shape)).map((k) => rowOf(`${prefix}${k}`, shape[k]));
}

export function markdownTable(rows: Row[]): string {
  const cell = (t: string) => t.replace(/\n/g, ' ');
  return ['| key | type | default | meaning |', '| --- | --- | --- | --- |', ...rows.map((r) => `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.meaning)} |`)].join('\n');
}

/** Replace each `<!-- config-table: NAME -->` … `<!-- /config-table -->` block of `text` with `tables[NAME]`. */
export function fillTables(text: string, tables: Record<string, string>): string {
  return text.replace(/(<!-- config-table: ([\w-]+) -->\n)[\s\S]*?(<!-- \/config-table -->)/g, (_m, open: string, name: string, close: string) => {
    if (!(name in tables)) throw new Error(`README names an unknown config table ${name}`);
    return `${open}${tables[name]}\n${close}`;
  });
}
