/** Small filesystem helpers for all-or-nothing outputs. */
import { readFileSync } from 'node:fs';
import { readdir, rename, rm, mkdir, writeFile, stat } from 'node:fs/promises';
import { userError } from './errors.js';
import { dirname, basename, join } from 'node:path';

/** A sibling temp path that `commitDir`/`rename` can move into place atomically. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
}

/** Remove what killed writes left in `dir`: `tempSibling` paths (and their `.old` twins). Returns the names removed. */
export async function removeTempSiblings(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\..+\.tmp-\d+-\d+/.test(n));
  for (const n of names) await rm(join(dir, n), { recursive: true, force: true });
  return names;
}

/**
 * Build a directory at a temp path with `fill`, then move it to `dir` in one rename. An existing
 * `dir` is moved aside first and removed after, so a crash never leaves a half-written `dir`.
 * On any error the temp directory is removed.
 */
export async function writeDirAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tempSibling(dir);
  try {
    await mkdir(tmp, { recursive: true });
    await fill(tmp);
    const old = `${tmp}.old`;
    const exists = await stat(dir).then(() => true, () => false);
    if (exists) await rename(dir, old);
    await rename(tmp, dir);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(value, null, 2) + '\n');
}

/** A JSON config file, parsed; unreadable or non-JSON files are one-line UserErrors naming the file (`what`: "config", "pipeline config"). */
export function readJsonConfig(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw userError(path, undefined, `cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw userError(path, undefined, `not valid JSON: ${(err as Error).message}`);
  }
}
