import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError, userError } from '../util/errors.js';

/** Token ids of a batch of texts, row-major [batchSize, seqLen], right-padded with `padId`. */
export interface TokenBatch {
  inputIds: Int32Array; // [B, S]
  attentionMask: Int32Array; // [B, S] 1 = real token (incl. specials), 0 = padding
  tokenTypeIds: Int32Array; // [B, S] all 0 (single-segment inputs)
  batchSize: number;
  seqLen: number;
}

interface TokenizerJson {
  model?: { vocab?: Record<string, number> | [string, number][] };
  added_tokens?: { id: number; content: string }[];
  padding?: { pad_id?: number } | null;
}

/**
 * A Hugging Face `tokenizer.json` (WordPiece/BPE/Unigram) run by the pure-JS `@huggingface/tokenizers`.
 * `encode` adds the tokenizer's own special tokens (e.g. `[CLS] … [SEP]` from its post-processor), truncates so
 * the result INCLUDING those specials is at most `maxLength` tokens (the end of the text is dropped, the
 * closing special is kept), and pads every row to the longest row of the batch.
 */
export class TextTokenizer {
  /** Ids the post-processor puts before / after the text of a single sequence. */
  private readonly prefix: number[];
  private readonly suffix: number[];

  private constructor(
    private readonly tok: Tokenizer,
    readonly path: string,
    readonly vocabSize: number,
    readonly padId: number,
  ) {
    const probe = 'a';
    const plain = tok.encode(probe, { add_special_tokens: false }).ids;
    const full = tok.encode(probe, { add_special_tokens: true }).ids;
    const at = findSub(full, plain);
    if (at < 0) throw userError(path, 'post_processor', 'cannot locate the text between the special tokens of a single-sequence encoding');
    this.prefix = full.slice(0, at);
    this.suffix = full.slice(at + plain.length);
  }

  /** Loads `tokenizer.json`; UserError naming the file when it is missing, not JSON or not a tokenizer. */
  static async load(path: string): Promise<TextTokenizer> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw userError(path, undefined, code === 'ENOENT' ? 'tokenizer file not found (expected a Hugging Face tokenizer.json)' : `cannot read tokenizer file (${code ?? (e as Error).message})`);
    }
    let json: TokenizerJson;
    try {
      json = JSON.parse(text) as TokenizerJson;
    } catch (e) {
      throw userError(path, undefined, `tokenizer file is not valid JSON (${(e as Error).message})`);
    }
    checkIds(path, json);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, {});
    } catch (e) {
      throw userError(path, undefined, `not a usable Hugging Face tokenizer.json (${(e as Error).message})`);
    }
    const vocab = tok.get_vocab(true);
    let maxId = -1;
    for (const id of vocab.values()) maxId = Math.max(maxId, id); // dense: checkIds has checked
    const padId = json.padding?.pad_id ?? ['[PAD]', '<pad>', '<PAD>'].map((t) => tok.token_to_id(t)).find((id) => id !== undefined) ?? 0;
    if (!(Number.isSafeInteger(padId) && padId >= 0 && padId <= maxId)) throw userError(path, 'padding.pad_id', `is ${JSON.stringify(padId)}; expected one of the tokenizer's ids, 0..${maxId}`);
    try {
      return new TextTokenizer(tok, path, maxId + 1, padId);
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw userError(path, undefined, `not a usable Hugging Face tokenizer.json: it cannot encode a test text (${(e as Error).message})`);
    }
  }

  /** Number of special tokens added around a single text (2 for `[CLS] $A [SEP]`). */
  get numSpecialTokens(): number {
    return this.prefix.length + this.suffix.length;
  }

  /** Token ids of one text with specials, truncated to `maxLength` including the specials. */
  encodeOne(text: string, maxLength: number): number[] {
    const room = maxLength - this.prefix.length - this.suffix.length;
    if (!Number.isInteger(maxLength) || room < 1) {
      throw userError(this.path, 'maxLength', `must be an integer of at least ${this.prefix.length + this.suffix.length + 1} (room for the special tokens and one text token), got ${maxLength}`);
    }
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    return [...this.prefix, ...(ids.length > room ? ids.slice(0, room) : ids), ...this.suffix];
  }

  encode(texts: string[], opts: { maxLength: number }): TokenBatch {
    return padRows(texts.map((t) => this.encodeOne(t, opts.maxLength)), this.padId);
  }

  /** Token strings of a text (no specials); for inspection and tests. */
  tokenize(text: string): string[] {
    return this.tok.tokenize(text, { add_special_tokens: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    return ids.length === 0 ? '' : this.tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }
}

/** Right-pad rows of token ids to the longest row: mask 1 on real tokens (specials included), token types 0. */
export function padRows(rows: number[][], padId: number): TokenBatch {
  const batchSize = rows.length;
  const seqLen = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const inputIds = new Int32Array(batchSize * seqLen).fill(padId); // [B, S]
  const attentionMask = new Int32Array(batchSize * seqLen); // [B, S]
  rows.forEach((ids, b) => {
    inputIds.set(ids, b * seqLen);
    attentionMask.fill(1, b * seqLen, b * seqLen + ids.length);
  });
  return { inputIds, attentionMask, tokenTypeIds: new Int32Array(batchSize * seqLen), batchSize, seqLen };
}

function findSub(hay: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The ids the file lists must be whole numbers ≥ 0 and dense, checked on the JSON before the tokenizer
 * library sees it: it sizes tables by the largest id, so one damaged id (1e9) meant minutes of work and
 * gigabytes of memory before any error. UserError naming the file and the token.
 */
function checkIds(path: string, json: unknown): void {
  const j = json as { model?: { vocab?: unknown }; added_tokens?: unknown } | null;
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw userError(path, undefined, 'not a Hugging Face tokenizer.json (expected a JSON object)');
  const vocab = j.model?.vocab;
  let count = 0;
  let maxId = -1;
  const take = (field: string, token: unknown, id: unknown) => {
    if (!(typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)) throw userError(path, field, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids are whole numbers ≥ 0, the file is damaged`);
    count++;
    maxId = Math.max(maxId, id);
  };
  if (Array.isArray(vocab)) [count, maxId] = [vocab.length, vocab.length - 1]; // Unigram: [piece, score], the id is the index
  else if (vocab !== null && typeof vocab === 'object') for (const [token, id] of Object.entries(vocab)) take('model.vocab', token, id);
  if (Array.isArray(j.added_tokens)) for (const t of j.added_tokens) take('added_tokens', (t as { content?: unknown })?.content, (t as { id?: unknown })?.id);
  // Ids index an embedding table: a stray huge id would make it gigabytes. Real vocabularies are dense.
  if (maxId >= Math.max(4 * count, 1024)) throw userError(path, 'model.vocab', `has an id of ${maxId} among only ${count} tokens; ids must be dense (0..${count - 1}), the file is damaged`);
}
