/** Small filesystem helpers for all-or-nothing outputs. */
import { readFileSync } from 'node:fs';
import { appendFile, readdir, rename, rm, mkdir, writeFile, stat } from 'node:fs/promises';
import { UserError, userError } from './errors.js';
import { dirname, basename, join, resolve } from 'node:path';

/** Node's message for an errno, in words a user reads ("permission denied", "read-only file system"). */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded', ENOTDIR: 'a part of the path is a file, not a folder', EEXIST: 'exists and is not a folder', ENOENT: 'no such file or folder',
    EISDIR: 'is a folder', ENAMETOOLONG: 'name too long', EFBIG: 'file too large (a file-size limit, ulimit -f, or the file system)', EIO: 'input/output error',
    EMFILE: 'too many open files', ELOOP: 'too many symbolic links',
  };
  return e?.code ? `${words[e.code] ?? e.code} (${e.code})` : String(e?.message ?? err);
}

/**
 * Create `dir` and its missing parents, one level at a time. Node's recursive mkdir loops forever on
 * some special file systems (a path below /proc), so this walks the path itself; a failure is a
 * UserError naming the folder and the reason.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    const info = await stat(p).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))).catch((err) => {
      throw userError(p, undefined, `cannot use this folder: ${fsReason(err)}`);
    });
    if (info) {
      if (!info.isDirectory()) throw userError(p, undefined, 'is a file, not a folder');
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing.reverse()) {
    await mkdir(m).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw userError(m, undefined, `cannot create folder: ${fsReason(err)}`);
    });
  }
}

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
  await ensureDir(dirname(dir));
  const tmp = tempSibling(dir);
  try {
    await mkdir(tmp).catch((err) => {
      throw userError(dirname(dir), undefined, `cannot write here: ${fsReason(err)}`);
    });
    await fill(tmp);
    const old = `${tmp}.old`;
    const exists = await stat(dir).then(() => true, () => false);
    if (exists) await rename(dir, old);
    await rename(tmp, dir);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // a file inside the temp folder is named at its final place: the temp folder is gone, the user knows `dir`
    if (err instanceof UserError) err.message = err.message.replaceAll(tmp, dir);
    throw err;
  }
}

/**
 * Test hook, for test/train/sigkill.test.ts only: CONTRASTIVE_TEST_APPEND_PAUSE_MS=<ms> splits every
 * `appendText` into two writes that far apart, so that a kill can be aimed at a half-written line
 * (an append otherwise takes microseconds). Unset, nothing changes.
 */
const APPEND_PAUSE_MS = Number(process.env.CONTRASTIVE_TEST_APPEND_PAUSE_MS ?? 0);

/** Append `text` to the file at `path` (or replace its contents); a failure (a full disk, a read-only file) is a UserError naming the file. */
export async function appendText(path: string, text: string, opts: { replace?: boolean } = {}): Promise<void> {
  const fail = (err: unknown) => {
    throw userError(path, undefined, `cannot write: ${fsReason(err)}`);
  };
  if (APPEND_PAUSE_MS > 0 && !opts.replace && text.length > 1) {
    const half = Math.floor(text.length / 2);
    await appendFile(path, text.slice(0, half)).catch(fail);
    await new Promise((resolve) => setTimeout(resolve, APPEND_PAUSE_MS));
    text = text.slice(half);
  }
  await (opts.replace ? writeFile : appendFile)(path, text).catch(fail);
}

/** Write `data` to `path` through a temp file in the same folder and one rename: a kill never leaves a torn `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw userError(path, undefined, `cannot write: ${fsReason(err)}`);
  }
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await ensureDir(dirname(path));
  await writeFile(path, JSON.stringify(value, null, 2) + '\n').catch((err) => {
    throw userError(path, undefined, `cannot write: ${fsReason(err)}`);
  });
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
