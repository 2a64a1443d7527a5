// Element-wise kernels: binary ops with numpy broadcasting and unary ops, split over the thread pool
// by output ranges (each element computed once, so results do not depend on the thread count).
#pragma once

#include <cstdint>

namespace cn {

// kCopyA ignores b: a strided gather (Transpose, broadcasting copies).
enum class BinaryOp { kAdd = 0, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kCopyA };
enum class UnaryOp { kExp = 0, kNeg, kErf, kSqrt, kSquare, kRsqrt, kTanh, kLog, kAbs, kSigmoid, kRelu, kReciprocal };

// out[i] = op(a[.], b[.]) over out_shape (rank dims); a_strides/b_strides per output dim (0 where broadcast).
void binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
            float* out, const int64_t* out_shape, int rank);

void unary(UnaryOp op, const float* x, float* out, int64_t n);

}  // namespace cn
