/**
 * The embeddings file: Arrow IPC (file format) with `id` (Int64 or Utf8) and `embedding`
 * (FixedSizeList<Float32>[dim]), one record batch per write, bytes straight to disk so memory stays
 * at one batch. Written to a temp sibling and renamed into place by `commit()`; `abort()` removes it.
 */
import { closeSync, openSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  Field, FixedSizeList, Float32, Int64, RecordBatch, RecordBatchFileWriter, Schema, Struct, Utf8, makeBuilder, makeData,
} from 'apache-arrow';
import type { Data } from 'apache-arrow';
import type { IdKind } from './input.js';
import { ensureDir, fsReason, tempSibling } from '../util/fs.js';
import { FileSink } from '../data/arrow-writer.js';
import { userError } from '../util/errors.js';

export function embeddingSchema(idKind: IdKind, dim: number, metadata: Record<string, string> = {}): Schema {
  const idType = idKind === 'string' ? new Utf8() : new Int64();
  const embType = new FixedSizeList(dim, new Field('item', new Float32(), false));
  return new Schema([new Field('id', idType, false), new Field('embedding', embType, false)], new Map(Object.entries(metadata)));
}

function idColumn(idKind: IdKind, ids: Array<bigint | string>): Data {
  if (idKind === 'string') {
    const builder = makeBuilder({ type: new Utf8(), nullValues: [] });
    for (const v of ids) builder.append(v as string);
    return builder.finish().flush();
  }
  return makeData({ type: new Int64(), length: ids.length, nullCount: 0, data: BigInt64Array.from(ids as bigint[]) });
}

export class EmbeddingFileWriter {
  readonly schema: Schema;
  private readonly tmp: string;
  private fd: number | undefined;
  private writer: RecordBatchFileWriter | undefined;
  rows = 0;

  private constructor(readonly path: string, readonly idKind: IdKind, readonly dim: number, metadata: Record<string, string>) {
    this.schema = embeddingSchema(idKind, dim, metadata);
    this.tmp = tempSibling(path);
  }

  /** Opens the temp file next to `path` (creating the folder). */
  static async create(opts: { path: string; idKind: IdKind; dim: number; metadata?: Record<string, string> }): Promise<EmbeddingFileWriter> {
    const w = new EmbeddingFileWriter(opts.path, opts.idKind, opts.dim, opts.metadata ?? {});
    try {
      await ensureDir(dirname(opts.path));
      w.fd = openSync(w.tmp, 'w');
    } catch (e) {
      throw userError(opts.path, undefined, `cannot write output (${fsReason(e)})`);
    }
    w.writer = new RecordBatchFileWriter();
    w.writer.reset(new FileSink(w.fd), w.schema);
    return w;
  }

  /** One record batch: ids[i] and the row-major embeddings [ids.length, dim]. */
  write(ids: Array<bigint | string>, embeddings: Float32Array): void {
    if (!this.writer) throw new Error('EmbeddingFileWriter is closed');
    const n = ids.length;
    if (embeddings.length !== n * this.dim) throw new Error(`embeddings hold ${embeddings.length} values, expected ${n} × ${this.dim}`);
    if (n === 0) return;
    const values = makeData({ type: new Float32(), length: n * this.dim, nullCount: 0, data: embeddings });
    const embType = this.schema.fields[1].type as FixedSizeList<Float32>;
    const emb = makeData({ type: embType, length: n, nullCount: 0, child: values });
    const data = makeData({ type: new Struct(this.schema.fields), length: n, nullCount: 0, children: [idColumn(this.idKind, ids), emb] });
    try {
      this.writer.write(new RecordBatch(this.schema, data));
    } catch (e) {
      throw userError(this.path, undefined, `cannot write output (${fsReason(e)})`); // a full disk, a file-size limit
    }
    this.rows += n;
  }

  /** Footer, close, and rename the temp file onto `path`. */
  async commit(): Promise<void> {
    if (!this.writer || this.fd === undefined) throw new Error('EmbeddingFileWriter is closed');
    try {
      this.writer.finish();
    } catch (e) {
      await rm(this.tmp, { force: true });
      throw userError(this.path, undefined, `cannot write output (${fsReason(e)})`);
    } finally {
      closeSync(this.fd);
      this.writer = undefined;
      this.fd = undefined;
    }
    try {
      await rename(this.tmp, this.path);
    } catch (e) {
      await rm(this.tmp, { force: true });
      throw userError(this.path, undefined, `cannot write output (${fsReason(e)})`);
    }
  }

  /** Close and delete the temp file; `path` is untouched. */
  async abort(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.writer = undefined;
    await rm(this.tmp, { force: true });
  }
}
