/**
 * apache-arrow decodes each IPC message's metadata (footer, schema, record-batch headers) with
 * flatbuffers, which trusts every vector length it reads: one damaged length (10^9 buffers in a
 * record batch, 10^9 blocks in a footer) made the reader loop and allocate for minutes, synchronously,
 * before any check of ours could run. A flatbuffers vector cannot hold more elements than its buffer
 * has bytes, so a longer one is refused here and the Arrow reader reports the file as damaged.
 *
 * This wraps flatbuffers' `ByteBuffer.__vector_len` once, when the Arrow reader is loaded; the package
 * is a dependency of apache-arrow only (pinned to apache-arrow's own copy).
 */
import { ByteBuffer } from 'flatbuffers';

const GUARDED = Symbol.for('contrastive.flatbuffersVectorGuard');
type Guarded = typeof ByteBuffer.prototype & { [GUARDED]?: true };
const proto = ByteBuffer.prototype as Guarded;

if (!proto[GUARDED]) {
  const vectorLen = proto.__vector_len;
  proto.__vector_len = function (this: ByteBuffer, offset: number): number {
    const n = vectorLen.call(this, offset);
    if (!(n >= 0 && n <= this.capacity())) throw new RangeError(`flatbuffers vector of ${n} elements in a ${this.capacity()}-byte message; the metadata is damaged`);
    return n;
  };
  proto[GUARDED] = true;
}
