// Integer-dot decode for quantised weights (Q8PerChannel, Q4Group128) on AVX2: the activation rows are
// quantised once per matmul to int8 in blocks (Q8: 32 elements, Q4: 128 = one weight group; scale =
// max|x| / 127, round to nearest even), then each weight byte is multiplied in int8 x int8 -> int16 -> int32
// (vpmaddubsw / vpmaddwd); a block's products are summed in integers and only the block sum is converted to
// fp32 and scaled. The weight formats (tensor.h) are unchanged.
// Why 128 for Q4: a group is then one integer sum and one scale (3 conversions and 3 FMAs per row and group
// fewer than 32-element blocks: 1.6x the in-cache rate on a 2-core Zen); llama.cpp's K-quants use 256-element
// activation blocks. Q8 keeps 32 (cpukernels.h says why).
// Accuracy: quantising x moves each element by at most scale / 2 = max|x over its block| / 254, so an output
// differs from the fp32 product with the same (dequantised) weights by at most
// sum_i |w_i| * max|x over i's block| / 254 (plus fp32 rounding); tst_int8gemv checks that bound and the
// kernel against a scalar evaluation of the same integer arithmetic.
#pragma once

#include <cstdint>

#include "backend/cpu/cpukernels.h"

namespace llava::cpu {

// kInt8BlockQ8/Q4 and Int8Rows (the quantised activation rows, kept in Scratch) are in cpukernels.h.


// True when gemvInt8Avx2 handles (m, w): AVX2, Q8 with cols % 32 == 0 or Q4 (cols % 128 == 0), m <= kGemvMaxRows.
bool int8GemvApplies(CpuIsa isa, std::int64_t m, const WeightMatrix& w);

// Quantises x (m, k) for weights of `format`. PRECONDITION: k % 32 == 0 (Q4: k % 128 == 0).
void quantiseRowsInt8(const float* x, std::int64_t m, std::int64_t k, StorageFormat format, Int8Rows& out);

// out[:, r0:r1] (=|+=) xq · wᵀ + bias over weight rows [r0, r1). PRECONDITION: int8GemvApplies, xq built for
// w.format with xq.cols == w.cols.
void gemvInt8Avx2(float* out, const Int8Rows& xq, const WeightMatrix& w, const float* bias, bool accumulate,
                  std::int64_t r0, std::int64_t r1);

// The same product evaluated one element at a time in double from the same int8 values and scales: the
// reference the AVX2 kernel is tested against (any CPU).
void gemvInt8Reference(float* out, const Int8Rows& xq, const WeightMatrix& w, const float* bias, bool accumulate);

}  // namespace llava::cpu
