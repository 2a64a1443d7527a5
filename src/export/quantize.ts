/**
 * Symmetric int8 weight quantization (zero point 0, range [-127, 127]) for the int8 ONNX export.
 *
 * - Dense weights [in, out] get one scale per OUTPUT column (per-channel), so a column with small
 *   weights keeps its resolution; the graph multiplies the int32 MatMulInteger result by
 *   x_scale · w_scale[out] (a row vector), which any runtime can do.
 * - Embedding tables [V, H] get one scale per ROW (per token), gathered with the ids.
 * A zero column/row gets scale 1 (all its codes are 0 anyway).
 */

export interface Quantized {
  /** int8 codes, same layout as the input. */
  q: Int8Array;
  /** float32 scales: value ≈ q · scale. */
  scale: Float32Array;
}

function code(v: number, inv: number): number {
  const r = Math.round(v * inv);
  return r > 127 ? 127 : r < -127 ? -127 : r;
}

/** w: [rows, cols] row-major; one scale per column. */
export function quantizePerColumn(w: Float32Array, rows: number, cols: number): Quantized {
  if (w.length !== rows * cols) throw new Error(`quantizePerColumn: ${w.length} values for [${rows}, ${cols}]`);
  const absMax = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(w[r * cols + c]);
      if (a > absMax[c]) absMax[c] = a;
    }
  }
  const scale = absMax.map((m) => (m > 0 ? m / 127 : 1));
  const inv = Array.from(scale, (s) => 1 / s);
  const q = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) q[r * cols + c] = code(w[r * cols + c], inv[c]);
  }
  return { q, scale };
}

/** w: [rows, cols] row-major; one scale per row. */
export function quantizePerRow(w: Float32Array, rows: number, cols: number): Quantized {
  if (w.length !== rows * cols) throw new Error(`quantizePerRow: ${w.length} values for [${rows}, ${cols}]`);
  const scale = new Float32Array(rows);
  const q = new Int8Array(w.length);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    scale[r] = m > 0 ? m / 127 : 1;
    const inv = 1 / scale[r];
    for (let c = 0; c < cols; c++) q[r * cols + c] = code(w[r * cols + c], inv);
  }
  return { q, scale };
}
