import { Type, type DataType, type Dictionary, type Schema } from 'apache-arrow';
import { userError } from '../util/errors.js';
import { negativeColumn, negativeIndex, type DataKind } from './records.js';

/** What `readSchema` reports about a prepared Arrow file. */
export interface SchemaInfo {
  kind: DataKind;
  /** Every column of the file, in file order. */
  columns: string[];
  /** Hard-negative columns of a `pairs` file in order (`negative`, `negative_2`, …); empty for `labelled`. */
  negatives: string[];
}

function fieldType(schema: Schema, name: string): DataType | undefined {
  return schema.fields.find((f) => f.name === name)?.type;
}

/** Utf8/LargeUtf8, plain or dictionary-encoded (pandas/pyarrow categoricals). */
export function isStringField(schema: Schema, name: string): boolean {
  const type = fieldType(schema, name);
  const t = type?.typeId === Type.Dictionary ? (type as Dictionary).dictionary.typeId : type?.typeId;
  return t === Type.Utf8 || t === Type.LargeUtf8;
}

/** Any integer or floating-point column (Int8…Uint64, Float16/32/64). */
export function isNumericField(schema: Schema, name: string): boolean {
  const t = fieldType(schema, name)?.typeId;
  return t === Type.Int || t === Type.Float;
}

/** The type in words; a damaged schema's nested type (a list without its child) cannot say, and says so. */
function typeString(type: DataType | undefined): string {
  try {
    return String(type ?? 'missing');
  } catch {
    return 'a damaged type';
  }
}

/** `"anchor" (Utf8), "n" (Int32)` — the columns with their Arrow types, for error messages. */
export function describeColumns(schema: Schema): string {
  return schema.fields.map((f) => `${JSON.stringify(f.name)} (${typeString(f.type)})`).join(', ') || '(no columns)';
}

export function typeName(schema: Schema, name: string): string {
  return typeString(fieldType(schema, name));
}

/** What keeps `schema` from being a `pairs` file ([] when it is one). */
function pairsProblems(schema: Schema): string[] {
  const names = schema.fields.map((f) => f.name);
  const out: string[] = [];
  for (const col of ['anchor', 'positive']) {
    if (!names.includes(col)) out.push(`no ${col}`);
    else if (!isStringField(schema, col)) out.push(`${col} is ${typeName(schema, col)}, not Utf8`);
  }
  return out;
}

/** What keeps `schema` from being a `labelled` file ([] when it is one). */
function labelledProblems(schema: Schema): string[] {
  const names = schema.fields.map((f) => f.name);
  const out: string[] = [];
  for (const col of ['text1', 'text2']) {
    if (!names.includes(col)) out.push(`no ${col}`);
    else if (!isStringField(schema, col)) out.push(`${col} is ${typeName(schema, col)}, not Utf8`);
  }
  if (!names.includes('score')) out.push('no score');
  else if (!isNumericField(schema, 'score')) out.push(`score is ${typeName(schema, 'score')}, not a number type`);
  return out;
}

/** The hard-negative columns in order; UserError when one is not a string or the numbering has a gap. */
function negativeColumns(path: string, schema: Schema): string[] {
  const found = schema.fields.map((f) => f.name).filter((n) => negativeIndex(n) >= 0);
  found.sort((a, b) => negativeIndex(a) - negativeIndex(b));
  found.forEach((name, i) => {
    if (negativeIndex(name) !== i) {
      throw userError(path, name, `hard-negative columns must be numbered without gaps (${[0, 1, 2].map(negativeColumn).join(', ')}, …), but ${negativeColumn(i)} is missing`);
    }
    if (!isStringField(schema, name)) throw userError(path, name, `expected a string (Utf8) column, found ${typeName(schema, name)}`);
  });
  return found;
}

/**
 * Which kind of prepared file `schema` describes. A file with Utf8 `anchor` and `positive` is `pairs` (its
 * hard negatives are the columns `negative`, `negative_2`, … in that order); otherwise one with Utf8 `text1`,
 * `text2` and a numeric `score` is `labelled`. Anything else is a UserError listing the columns found (with
 * their types) and what each kind needs. Other columns are allowed and ignored.
 */
export function classifySchema(path: string, schema: Schema): SchemaInfo {
  const columns = schema.fields.map((f) => f.name);
  const pairs = pairsProblems(schema);
  if (pairs.length === 0) return { kind: 'pairs', columns, negatives: negativeColumns(path, schema) };
  const labelled = labelledProblems(schema);
  if (labelled.length === 0) return { kind: 'labelled', columns, negatives: [] };
  throw userError(
    path,
    undefined,
    `neither a pairs nor a labelled file; it has ${describeColumns(schema)}. ` +
      `pairs need Utf8 anchor and positive (+ optional negative, negative_2, …) [here: ${pairs.join(', ')}]; ` +
      `labelled need Utf8 text1, text2 and a numeric score [here: ${labelled.join(', ')}] ` +
      '(convert with `contrastive prepare --kind pairs|labelled`)',
  );
}
