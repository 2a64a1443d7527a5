/**
 * Text files read as UTF-8 strictly: bytes that are not UTF-8 are an error naming the file and the
 * line (not U+FFFD replacement characters a model would then train on), unless the caller asks to
 * replace them. Streams: memory is one read chunk.
 */
import { createReadStream } from 'node:fs';
import { userError } from '../util/errors.js';
import { fsReason } from '../util/fs.js';

/** Index of the first byte of `buf` that starts an invalid UTF-8 sequence, or -1 (a sequence cut at the end is not invalid). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    const [len, min, max] = b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf] : b === 0xe0 ? [3, 0xa0, 0xbf] : b === 0xed ? [3, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf] : b === 0xf0 ? [4, 0x90, 0xbf] : b === 0xf4 ? [4, 0x80, 0x8f] : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf] : [0, 0, 0];
    if (len === 0) return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= buf.length) return -1; // cut by the chunk boundary: the next chunk decides
      const c = buf[i + k];
      if (k === 1 ? c < min || c > max : c < 0x80 || c > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}

/**
 * The file's text in chunks. Invalid UTF-8 is a UserError "line N: invalid UTF-8 (byte 0x..)" unless
 * `replaceInvalid`, which decodes it to U+FFFD as most readers silently do.
 */
export async function* utf8Chunks(file: string, opts: { replaceInvalid?: boolean } = {}): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: !opts.replaceInvalid });
  let line = 1;
  let pending: Uint8Array = new Uint8Array(0); // bytes of a sequence cut by the previous chunk
  const input = createReadStream(file);
  const opened = new Promise<void>((resolve, reject) => input.once('open', () => resolve()).once('error', reject));
  await opened.catch((err: NodeJS.ErrnoException) => {
    input.destroy();
    throw userError(file, undefined, err.code === 'ENOENT' ? 'file not found' : `cannot read: ${fsReason(err)}`);
  });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true }); // the fatal decoder validates; only a failure is located by hand
      } catch {
        const bytes: Uint8Array = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        const bad = Math.max(0, firstInvalidUtf8(bytes));
        let at = line;
        for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) at++;
        throw userError(file, undefined, `line ${at}: invalid UTF-8 (byte 0x${bytes[bad].toString(16).padStart(2, '0')}); fix the file's encoding, or pass --replace-invalid-utf8 to read such bytes as U+FFFD`);
      }
      if (!opts.replaceInvalid) {
        for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) line++;
        const tail = trailingPartial(chunk);
        pending = tail === chunk.length ? Buffer.concat([pending, chunk]) : chunk.subarray(chunk.length - tail);
      }
      yield text;
    }
    let rest: string;
    try {
      rest = decoder.decode();
    } catch {
      throw userError(file, undefined, `line ${line}: invalid UTF-8 (the file ends inside a multi-byte character)`);
    }
    if (rest) yield rest;
  } finally {
    input.destroy();
  }
}

/** Bytes at the end of `buf` that begin a multi-byte sequence not yet complete (0–3). */
function trailingPartial(buf: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, buf.length); k++) {
    const b = buf[buf.length - k];
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return len > k ? k : 0;
    }
  }
  return 0;
}
