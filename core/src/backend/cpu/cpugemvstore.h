// The epilogue both GEMV paths share (cpugemv.cpp for float activations, cpuint8.cpp for int8 ones):
// writing or adding the row sums of a few output rows, with the per-channel q8 scale and the bias.
#pragma once

#include <cstdint>

#include "backend/cpu/cpukernels.h"
#include "backend/cpu/cpusimd.h"

namespace llava::cpu {

struct GemvEpilogue {
    float* out;           // (m, n) row-major
    std::int64_t n;
    const float* bias;    // (n) or null
    bool accumulate;      // out += instead of out =
};

// out[mi, row + r] (=|+=) sums[mi * count + r] * scale(row + r) + bias[row + r], for mi < m and r < count;
// scale is the row's q8 per-channel scale, 1 for every other format.
inline void storeGemvRows(const GemvEpilogue& e, const WeightMatrix& w, int m, int count, std::int64_t row,
                          const float* sums) {
    for (int r = 0; r < count; ++r) {
        const float scale = w.format == StorageFormat::Q8PerChannel ? simd::loadScale(w.data + w.rows * w.cols + (row + r) * 4) : 1.0f;
        const float b = e.bias ? e.bias[row + r] : 0.0f;
        for (int mi = 0; mi < m; ++mi) {
            float& o = e.out[mi * e.n + row + r];
            o = (e.accumulate ? o : 0.0f) + b + sums[mi * count + r] * scale;
        }
    }
}

}  // namespace llava::cpu
