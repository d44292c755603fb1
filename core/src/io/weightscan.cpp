// scanWeightsFinite: every F32/F16/BF16 element of the checkpoint tested for an all-ones exponent
// (NaN or Inf) on its bit pattern, in blocks that the compiler vectorises; only a block that holds a bad
// element is searched again for its index and counted. Tensors in weight-table order, so "first" means
// the earliest in the forward pass.
#include "llava/weightscan.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "llava/weights.h"

namespace llava {
namespace {

constexpr std::int64_t kBlock = 4096;  // elements per vectorised pass

struct BitLayout {
    std::size_t bytes;       // per element
    std::uint32_t exponent;  // mask of the exponent bits: all ones = NaN or Inf
    std::uint32_t mantissa;  // mask of the mantissa: zero = Inf, else NaN
    std::uint32_t sign;
};

bool layoutOf(DType dtype, BitLayout* out) {
    switch (dtype) {
    case DType::F32: *out = {4, 0x7F800000u, 0x007FFFFFu, 0x80000000u}; return true;
    case DType::F16: *out = {2, 0x7C00u, 0x03FFu, 0x8000u}; return true;
    case DType::BF16: *out = {2, 0x7F80u, 0x007Fu, 0x8000u}; return true;
    default: return false;
    }
}

template <typename Word>
bool blockHasBad(const std::byte* data, std::int64_t n, Word exponent) {
    Word any = 0;  // becomes non-zero when some element's exponent is all ones
    for (std::int64_t i = 0; i < n; ++i) {
        Word w;
        std::memcpy(&w, data + i * static_cast<std::int64_t>(sizeof(Word)), sizeof(Word));
        any |= static_cast<Word>((w & exponent) == exponent);
    }
    return any != 0;
}

std::uint32_t elementBits(const std::byte* data, std::int64_t i, std::size_t bytes) {
    if (bytes == 4) {
        std::uint32_t w;
        std::memcpy(&w, data + i * 4, 4);
        return w;
    }
    std::uint16_t h;
    std::memcpy(&h, data + i * 2, 2);
    return h;
}

struct Finding {
    std::int64_t first = -1;
    std::int64_t count = 0;
    std::uint32_t bits = 0;
};

Finding scanTensor(const TensorView& view, const BitLayout& layout) {
    Finding f;
    const std::int64_t n = static_cast<std::int64_t>(view.byteSize / layout.bytes);
    for (std::int64_t b = 0; b < n; b += kBlock) {
        const std::int64_t len = std::min(kBlock, n - b);
        const std::byte* p = view.data + b * static_cast<std::int64_t>(layout.bytes);
        const bool bad = layout.bytes == 4 ? blockHasBad<std::uint32_t>(p, len, layout.exponent)
                                           : blockHasBad<std::uint16_t>(p, len, static_cast<std::uint16_t>(layout.exponent));
        if (!bad) continue;
        for (std::int64_t i = 0; i < len; ++i) {
            const std::uint32_t bits = elementBits(p, i, layout.bytes);
            if ((bits & layout.exponent) != layout.exponent) continue;
            if (f.first < 0) {
                f.first = b + i;
                f.bits = bits;
            }
            ++f.count;
        }
    }
    return f;
}

std::string describe(const TensorView& view, const BitLayout& layout, const Finding& f) {
    const char* kind = (f.bits & layout.mantissa) ? "NaN" : ((f.bits & layout.sign) ? "-Inf" : "+Inf");
    const std::int64_t cols = view.shape.empty() ? 1 : std::max<std::int64_t>(1, view.shape.back());
    std::string where = view.shape.size() >= 2 ? "row " + std::to_string(f.first / cols) + ", column " +
                                                     std::to_string(f.first % cols)
                                               : "element " + std::to_string(f.first);
    return "weight " + view.name + " " + std::string(dtypeName(view.dtype)) + " " + shapeToString(view.shape) +
           " holds " + kind + " at " + where + " (" + std::to_string(f.count) + " non-finite element" +
           (f.count == 1 ? "" : "s") + " in this tensor)";
}

}  // namespace

Status scanWeightsFinite(const Checkpoint& checkpoint, const ScanProgress& progress) {
    const std::uint64_t total = checkpoint.totalTensorBytes();
    std::uint64_t done = 0;
    for (const WeightSpec& spec : buildWeightTable(checkpoint.config())) {
        const TensorView* view = checkpoint.find(spec.name);
        if (!view) continue;  // an absent optional tensor
        BitLayout layout{};
        if (layoutOf(view->dtype, &layout)) {
            const Finding f = scanTensor(*view, layout);
            if (f.first >= 0)
                return makeError(ErrorCode::ParseError,
                                 checkpoint.directory().string() + ": " + describe(*view, layout, f));
        }
        done += view->byteSize;
        if (progress && !progress(done, total)) return makeError(ErrorCode::Cancelled, "weight check cancelled");
    }
    return Status::ok();
}

}  // namespace llava
