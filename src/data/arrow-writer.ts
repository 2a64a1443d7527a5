import { closeSync, openSync, writeSync } from 'node:fs';
import { AsyncByteQueue, Field, Float32, RecordBatch, RecordBatchFileWriter, Schema, Struct, Utf8, makeBuilder, makeData } from 'apache-arrow';
import type { Data } from 'apache-arrow';

/**
 * Byte sink for the Arrow writer that writes every chunk straight to a file descriptor, synchronously.
 * Arrow's writer otherwise queues bytes in memory until someone reads them; writing through keeps memory
 * bounded by one record batch no matter how large the dataset is.
 */
export class FileSink extends AsyncByteQueue {
  constructor(private readonly fd: number) {
    super();
  }

  override write(value: ArrayBufferView | ArrayBufferLike | ArrayLike<number> | Iterable<number> | string | null | undefined): void {
    if (value == null) return;
    const bytes = value instanceof Uint8Array ? value
      : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      : typeof value === 'string' ? Buffer.from(value, 'utf8')
      : value instanceof ArrayBuffer ? new Uint8Array(value)
      : Uint8Array.from(value as ArrayLike<number>);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off, bytes.byteLength - off);
  }
}

function utf8Column(values: string[]): Data<Utf8> {
  const builder = makeBuilder({ type: new Utf8(), nullValues: [] });
  for (const v of values) builder.append(v);
  return builder.finish().flush() as Data<Utf8>;
}

function float32Column(values: number[]): Data<Float32> {
  return makeData({ type: new Float32(), length: values.length, nullCount: 0, data: Float32Array.from(values) });
}

/** A column of a prepared file: non-null Utf8 text or a non-null Float32 number. */
export interface ColumnSpec {
  name: string;
  type: 'utf8' | 'float32';
}

/**
 * Writes rows to an Arrow IPC *file* (random-access format, "ARROW1" magic) with non-null Utf8/Float32 columns,
 * one record batch per `write()` call. Bytes go to disk as each batch is written; `close()` writes the footer.
 */
export class TableFileWriter {
  readonly schema: Schema;
  private readonly fd: number;
  private readonly writer: RecordBatchFileWriter;
  private open = true;
  batches = 0;
  rows = 0;

  constructor(readonly path: string, readonly columns: ColumnSpec[]) {
    this.schema = new Schema(columns.map((c) => new Field(c.name, c.type === 'utf8' ? new Utf8() : new Float32(), false)));
    this.fd = openSync(path, 'w');
    this.writer = new RecordBatchFileWriter();
    this.writer.reset(new FileSink(this.fd), this.schema);
  }

  /** rows[r][c]: value of column c (a string for utf8 columns, a number for float32 ones). */
  write(rows: (string | number)[][]): void {
    if (rows.length === 0) return;
    const children = this.columns.map((c, i) => (c.type === 'utf8' ? utf8Column(rows.map((r) => r[i] as string)) : float32Column(rows.map((r) => r[i] as number))));
    const data = makeData({ type: new Struct(this.schema.fields), length: rows.length, nullCount: 0, children });
    this.writer.write(new RecordBatch(this.schema, data));
    this.batches++;
    this.rows += rows.length;
  }

  /** Writes the footer and closes the file. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.writer.finish();
    } finally {
      closeSync(this.fd);
    }
  }

  /** Closes the file without a valid footer (the caller deletes it). */
  abort(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}
