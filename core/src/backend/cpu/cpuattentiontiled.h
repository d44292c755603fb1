// Blocked (flash-style) attention for many query rows on AVX2 (cpuattentiontiled.cpp); cpu::attention
// chooses it when tiledAttentionApplies, else runs one query row per pass (cpuattention.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/cpukernels.h"

namespace llava::cpu {

constexpr std::int64_t kTileQ = 32;                  // query rows per tile (one head)
constexpr std::int64_t kTileK = 256;                 // keys per block
constexpr std::int64_t kTiledAttentionMinRows = 16;  // fewer rows (decode): the row kernel

// AVX2 available, headDim % 8 == 0 and at least kTiledAttentionMinRows query rows.
bool tiledAttentionApplies(CpuIsa isa, const AttentionShape& s);
// Per thread; f16Kv: plus the block of K and V widened to fp32 (2 x kTileK x headDim).
std::size_t tiledAttentionScratchFloats(const AttentionShape& s, bool f16Kv);
// PRECONDITION: tiledAttentionApplies (x86-64 only); k.format == v.format, F32 or F16.
void attentionTiledAvx2(ThreadPool& pool, Scratch& scratch, float* out, const float* q, const KvRows& k, const KvRows& v,
                        const AttentionShape& s);

}  // namespace llava::cpu
