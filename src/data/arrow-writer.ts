import { closeSync, openSync, writeSync } from 'node:fs';
import { AsyncByteQueue, Field, RecordBatch, RecordBatchFileWriter, Schema, Struct, Utf8, makeBuilder, makeData } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import type { PairRecord } from './records.js';

/** The schema of prepared files: non-null Utf8 `anchor`, `positive` and, when present, `negative`. */
export function pairSchema(hasNegative: boolean): Schema {
  const names = hasNegative ? ['anchor', 'positive', 'negative'] : ['anchor', 'positive'];
  return new Schema(names.map((n) => new Field(n, new Utf8(), false)));
}

/**
 * Byte sink for the Arrow writer that writes every chunk straight to a file descriptor, synchronously.
 * Arrow's writer otherwise queues bytes in memory until someone reads them; writing through keeps memory
 * bounded by one record batch no matter how large the dataset is.
 */
class FileSink extends AsyncByteQueue {
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

/**
 * Writes PairRecords to an Arrow IPC *file* (random-access format, "ARROW1" magic), one record batch per
 * `write()` call. Bytes go to disk as each batch is written; `close()` writes the footer.
 */
export class PairFileWriter {
  readonly schema: Schema;
  private readonly fd: number;
  private readonly writer: RecordBatchFileWriter;
  private open = true;
  batches = 0;
  rows = 0;

  constructor(readonly path: string, readonly hasNegative: boolean) {
    this.schema = pairSchema(hasNegative);
    this.fd = openSync(path, 'w');
    this.writer = new RecordBatchFileWriter();
    this.writer.reset(new FileSink(this.fd), this.schema);
  }

  write(records: PairRecord[]): void {
    if (records.length === 0) return;
    const columns = [utf8Column(records.map((r) => r.anchor)), utf8Column(records.map((r) => r.positive))];
    if (this.hasNegative) columns.push(utf8Column(records.map((r) => r.negative ?? '')));
    const data = makeData({ type: new Struct(this.schema.fields), length: records.length, nullCount: 0, children: columns });
    this.writer.write(new RecordBatch(this.schema, data));
    this.batches++;
    this.rows += records.length;
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
