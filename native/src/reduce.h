// Reductions over any set of axes, and softmax over the last axis. Each output element is reduced
// by one thread in the input's memory order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace cn {

enum class ReduceOp { kSum = 0, kMean, kMax, kMin };

// x has `shape` (rank dims); reduce[d] != 0 marks reduced axes; out holds the kept dims in order.
void reduce(ReduceOp op, const float* x, const int64_t* shape, const uint8_t* reduce_axes, int rank, float* out);

// Row-wise softmax of [rows, n].
void softmax(const float* x, float* out, int64_t rows, int64_t n);

}  // namespace cn
