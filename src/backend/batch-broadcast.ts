/**
 * Batch broadcasting for batched matrix products (numpy rules, as tf.matMul): for each entry of the
 * output's batch dims, the flat index of the operand's batch entry it reads.
 */
import * as tf from '@tensorflow/tfjs';

export function broadcastIndex(outDims: readonly number[], dims: readonly number[]): Int32Array {
  const outSize = tf.util.sizeFromShape(outDims as number[]);
  const idx = new Int32Array(outSize);
  const pad = outDims.length - dims.length;
  const strides = new Array<number>(dims.length);
  let s = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= dims[d];
  }
  for (let o = 0; o < outSize; o++) {
    let rem = o;
    let flat = 0;
    for (let d = outDims.length - 1; d >= 0; d--) {
      const coord = rem % outDims[d];
      rem = (rem - coord) / outDims[d];
      const dd = d - pad;
      if (dd >= 0 && dims[dd] !== 1) flat += coord * strides[dd];
    }
    idx[o] = flat;
  }
  return idx;
}
