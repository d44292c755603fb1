// Pillow-exact bicubic resize (docs/spec.md §4.6). Coefficients follow libImaging/Resample.c
// (precompute_coeffs + normalize_coeffs_8bpc) in double; the passes are written for speed instead:
// the vertical pass accumulates whole rows tap by tap (vectorisable, cache friendly) and both passes
// split their rows over threads. Integer sums are exact, so the order of accumulation cannot change a
// byte compared with Pillow's per-pixel loops.
#include "llava/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "vision/parallel.h"

namespace llava {
namespace {

constexpr int kPrecisionBits = 22;                  // Pillow's PRECISION_BITS for 8-bit images
constexpr std::int32_t kHalf = 1 << (kPrecisionBits - 1);  // rounding term added before the shift
constexpr double kBicubicSupport = 2.0;
constexpr int kChannels = RgbImage::kChannels;
// Below this many multiply-adds a pass stays on the calling thread (thread start ~50 us).
constexpr long long kMinWorkPerThread = 2'000'000;

// Keys cubic, a = -0.5, evaluated in Pillow's operation order (bicubic_filter).
double bicubicFilter(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// Taps of one axis: output o reads input [first[o], first[o] + count[o]) with weights k[o * ksize + j].
struct AxisCoeffs {
    int ksize = 0;
    std::vector<int> first;        // (outSize)
    std::vector<int> count;        // (outSize)
    std::vector<std::int32_t> k;   // (outSize, ksize) fixed point, 22 fractional bits
};

AxisCoeffs computeCoeffs(int inSize, int outSize) {
    AxisCoeffs c;
    const double scale = static_cast<double>(inSize) / outSize;
    const double filterScale = std::max(scale, 1.0);  // widen the kernel only when downscaling
    const double support = kBicubicSupport * filterScale;
    const double ss = 1.0 / filterScale;  // Pillow multiplies by the reciprocal (not a division)
    c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.first.resize(static_cast<std::size_t>(outSize));
    c.count.resize(static_cast<std::size_t>(outSize));
    c.k.assign(static_cast<std::size_t>(outSize) * static_cast<std::size_t>(c.ksize), 0);
    std::vector<double> w(static_cast<std::size_t>(c.ksize));
    for (int o = 0; o < outSize; ++o) {
        const double center = (o + 0.5) * scale;
        int xmin = static_cast<int>(center - support + 0.5);  // C truncation, as Pillow
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > inSize) xmax = inSize;
        xmax -= xmin;
        double ww = 0.0;
        for (int j = 0; j < xmax; ++j) {
            w[static_cast<std::size_t>(j)] = bicubicFilter((j + xmin - center + 0.5) * ss);
            ww += w[static_cast<std::size_t>(j)];
        }
        std::int32_t* kk = c.k.data() + static_cast<std::size_t>(o) * static_cast<std::size_t>(c.ksize);
        for (int j = 0; j < xmax; ++j) {
            double v = w[static_cast<std::size_t>(j)];
            if (ww != 0.0) v /= ww;
            kk[j] = v < 0 ? static_cast<std::int32_t>(-0.5 + v * (1 << kPrecisionBits))
                          : static_cast<std::int32_t>(0.5 + v * (1 << kPrecisionBits));
        }
        c.first[static_cast<std::size_t>(o)] = xmin;
        c.count[static_cast<std::size_t>(o)] = std::max(xmax, 0);
    }
    return c;
}

inline std::uint8_t clip8(std::int32_t acc) {
    const std::int32_t v = acc >> kPrecisionBits;  // arithmetic shift, as Pillow
    return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// The horizontal pass works on blocks of kRowBlock source rows, transposed so that one source pixel
// of all rows is contiguous: row-major (inWidth, kRowBlock, 4) bytes, RGB plus one ignored byte, so the
// transpose is one 4-byte move per pixel. Each tap is then a fixed-length multiply-add over kLanes
// int32 lanes, which vectorises well, instead of Pillow's 3-wide per-pixel loop.
constexpr int kRowBlock = 8;
constexpr int kPixelBytes = 4;
constexpr int kLanes = kRowBlock * kPixelBytes;  // 32

// AVX2 widens the int32 lanes; the default clone keeps the binary portable (GCC ifunc dispatch).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LLAVA_VISION_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LLAVA_VISION_CLONES
#endif

LLAVA_VISION_CLONES
void horizontalBlock(const std::uint8_t* t /* (inWidth, kRowBlock, 4) */, std::uint8_t* const* outRows, int nRows,
                     int outWidth, const AxisCoeffs& c) {
    for (int x = 0; x < outWidth; ++x) {
        const std::int32_t* k = c.k.data() + static_cast<std::size_t>(x) * static_cast<std::size_t>(c.ksize);
        const std::uint8_t* p = t + static_cast<std::size_t>(c.first[static_cast<std::size_t>(x)]) * kLanes;
        const int n = c.count[static_cast<std::size_t>(x)];
        std::int32_t acc[kLanes];
        for (int l = 0; l < kLanes; ++l) acc[l] = kHalf;
        for (int j = 0; j < n; ++j, p += kLanes) {
            const std::int32_t w = k[j];
            for (int l = 0; l < kLanes; ++l) acc[l] += p[l] * w;
        }
        for (int r = 0; r < nRows; ++r)
            for (int ch = 0; ch < kChannels; ++ch) outRows[r][x * kChannels + ch] = clip8(acc[r * kPixelBytes + ch]);
    }
}

// Rows [begin, end) of the source window -> the same rows of the horizontal output.
void horizontalRows(const RgbImage& src, int firstRow, int begin, int end, std::uint8_t* out, std::size_t outStride,
                    int outWidth, const AxisCoeffs& c) {
    std::vector<std::uint8_t> t(static_cast<std::size_t>(src.width) * kLanes, 0);  // (inWidth, kRowBlock, 4)
    std::uint8_t* outRows[kRowBlock];
    for (int r0 = begin; r0 < end; r0 += kRowBlock) {
        const int nRows = std::min(kRowBlock, end - r0);
        for (int r = 0; r < nRows; ++r) {
            const std::uint8_t* in = src.row(firstRow + r0 + r);
            std::uint8_t* dst = t.data() + r * kPixelBytes;
            // 4-byte moves carry the next pixel's red into the ignored byte; the last pixel of a row
            // copies 3 bytes so the read never passes the end of the image.
            for (int x = 0; x + 1 < src.width; ++x, in += kChannels, dst += kLanes) std::memcpy(dst, in, 4);
            std::memcpy(dst, in, 3);
            outRows[r] = out + static_cast<std::size_t>(r0 + r) * outStride;
        }
        horizontalBlock(t.data(), outRows, nRows, outWidth, c);
    }
}

// Output row y of the vertical pass: rows first[y].. of `in` (rowStride apart), `n` = width * 3 bytes.
LLAVA_VISION_CLONES
void verticalRow(const std::uint8_t* in, std::size_t inStride, std::uint8_t* out, int n, const AxisCoeffs& c,
                 int y, std::int32_t* acc /* (n) scratch */) {
    const std::int32_t* k = c.k.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(c.ksize);
    const int first = c.first[static_cast<std::size_t>(y)];
    const int count = c.count[static_cast<std::size_t>(y)];
    std::fill(acc, acc + n, kHalf);
    for (int j = 0; j < count; ++j) {
        const std::uint8_t* row = in + static_cast<std::size_t>(first + j) * inStride;
        const std::int32_t w = k[j];
        for (int i = 0; i < n; ++i) acc[i] += row[i] * w;
    }
    for (int i = 0; i < n; ++i) out[i] = clip8(acc[i]);
}

int threadsFor(long long work, int maxThreads, int rows) {
    const long long byWork = std::max(1LL, work / kMinWorkPerThread);
    return static_cast<int>(std::min<long long>({byWork, vision::resolveThreads(maxThreads), rows}));
}

Status checkSize(int width, int height) {
    if (width < 1 || height < 1 || width > (1 << 16) || height > (1 << 16))
        return makeError(ErrorCode::InvalidArgument, "resize target " + std::to_string(width) + "x" +
                                                         std::to_string(height) + " outside 1..65536 per side");
    return Status::ok();
}

}  // namespace

Status resizeBicubicInto(const RgbImage& src, const RgbTarget& target, const ResampleOptions& options) {
    LLAVA_TRY(validateImage(src));
    LLAVA_TRY(checkSize(target.width, target.height));
    if (!target.data || target.rowStride < static_cast<std::size_t>(target.width) * kChannels)
        return makeError(ErrorCode::InvalidArgument, "resize target buffer is null or its row stride is too small");

    const int outW = target.width, outH = target.height;
    const bool needHorizontal = outW != src.width;
    const bool needVertical = outH != src.height;
    const std::size_t outRowBytes = static_cast<std::size_t>(outW) * kChannels;

    if (!needHorizontal && !needVertical) {  // Pillow returns a copy
        for (int y = 0; y < outH; ++y)
            std::memcpy(target.data + static_cast<std::size_t>(y) * target.rowStride, src.row(y), outRowBytes);
        return Status::ok();
    }

    AxisCoeffs vert;
    int firstRow = 0, lastRow = src.height;  // source rows the vertical pass reads
    if (needVertical) {
        vert = computeCoeffs(src.height, outH);
        firstRow = vert.first.front();
        lastRow = vert.first.back() + vert.count.back();
        for (int& f : vert.first) f -= firstRow;
    }

    // Horizontal pass into `temp` (or straight into the target when no vertical pass follows).
    std::vector<std::uint8_t> temp;  // (lastRow - firstRow, outW, 3)
    const std::uint8_t* vIn = src.pixels.data() + static_cast<std::size_t>(firstRow) * src.rowBytes();
    std::size_t vInStride = src.rowBytes();
    if (needHorizontal) {
        const AxisCoeffs horiz = computeCoeffs(src.width, outW);
        const int rows = lastRow - firstRow;
        std::uint8_t* hOut = target.data;
        std::size_t hStride = target.rowStride;
        if (needVertical) {
            temp.resize(static_cast<std::size_t>(rows) * outRowBytes);
            hOut = temp.data();
            hStride = outRowBytes;
        }
        const long long work = static_cast<long long>(rows) * outW * horiz.ksize * kChannels;
        vision::parallelFor(rows, threadsFor(work, options.maxThreads, rows), [&](int begin, int end) {
            horizontalRows(src, firstRow, begin, end, hOut, hStride, outW, horiz);
        });
        if (!needVertical) return Status::ok();
        vIn = temp.data();
        vInStride = outRowBytes;
    }

    const int n = static_cast<int>(outRowBytes);
    const long long work = static_cast<long long>(outH) * n * vert.ksize;
    vision::parallelFor(outH, threadsFor(work, options.maxThreads, outH), [&](int begin, int end) {
        std::vector<std::int32_t> acc(static_cast<std::size_t>(n));  // (outW * 3)
        for (int y = begin; y < end; ++y)
            verticalRow(vIn, vInStride, target.data + static_cast<std::size_t>(y) * target.rowStride, n, vert, y,
                        acc.data());
    });
    return Status::ok();
}

Result<RgbImage> resizeBicubic(const RgbImage& src, int width, int height, const ResampleOptions& options) {
    LLAVA_TRY(validateImage(src));
    LLAVA_TRY(checkSize(width, height));
    RgbImage out = RgbImage::black(width, height);
    LLAVA_TRY(resizeBicubicInto(src, RgbTarget{out.pixels.data(), width, height, out.rowBytes()}, options));
    return out;
}

}  // namespace llava
