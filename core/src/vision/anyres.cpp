// computeImageLayout: the anyres geometry of docs/spec.md §4.2-§5.4 in double precision, exactly as the Python
// references compute it (truncating int(), ceil of a double product, Python floor division).
// Deliberately pixel-free; resample.cpp / preprocess.cpp consume the layout.
#include "llava/anyres.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace llava {
namespace {

struct Choice {
    int width = 0, height = 0;
};

// docs/spec.md §4.2: the first candidate with the largest effective resolution, ties broken by the smallest
// waste; strict comparisons so the first in list order wins an exact tie (ORIG vs HF differ only here).
Choice selectBestResolution(std::int64_t w, std::int64_t h, const std::vector<std::array<int, 2>>& candidates) {
    Choice best;
    std::int64_t bestEff = -1;
    std::int64_t bestWaste = std::numeric_limits<std::int64_t>::max();
    for (const auto& cand : candidates) {
        const double cw = cand[0], ch = cand[1];
        const double s = std::min(cw / static_cast<double>(w), ch / static_cast<double>(h));
        // Python int() truncates toward zero; both products are >= 0.
        const auto dw = static_cast<std::int64_t>(static_cast<double>(w) * s);
        const auto dh = static_cast<std::int64_t>(static_cast<double>(h) * s);
        const std::int64_t eff = std::min(dw * dh, w * h);
        const std::int64_t waste = static_cast<std::int64_t>(cand[0]) * cand[1] - eff;
        if (eff > bestEff || (eff == bestEff && waste < bestWaste)) {
            bestEff = eff;
            bestWaste = waste;
            best = {cand[0], cand[1]};
        }
    }
    return best;
}

// Python's int(x) (ORIG) or int(round(x, 7)) (HF) for x >= 0. round(x, 7) only moves the integer part
// when the fraction is >= 0.99999995. For sizes <= kMaxImageSide the exact ratio H*Wc/W has a fraction
// that is either >= 1/W away from an integer or within ~1e-12 of one, so this threshold test (rather
// than a correctly rounded decimal conversion) cannot disagree with Python.
std::int64_t truncateLikeReference(double x, Reference reference) {
    double n = std::floor(x);
    if (reference == Reference::Transformers && x - n > 1.0 - 5e-8) n += 1.0;
    return static_cast<std::int64_t>(n);
}

// Python's a // 2 for possibly negative a.
std::int64_t floorHalf(std::int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); }

}  // namespace

Result<ImageLayout> computeImageLayout(int width, int height, const AnyresParams& params) {
    if (width < 1 || height < 1 || width > kMaxImageSide || height > kMaxImageSide)
        return makeError(ErrorCode::InvalidArgument,
                         "image size " + std::to_string(width) + "x" + std::to_string(height) +
                             " outside 1.." + std::to_string(kMaxImageSide) + " per side");
    if (params.candidates.empty())
        return makeError(ErrorCode::InvalidArgument, "anyres: no candidate resolutions (image_grid_pinpoints empty)");
    if (params.tileSize < 1 || params.patchesPerSide < 1)
        return makeError(ErrorCode::InvalidArgument, "anyres: tileSize " + std::to_string(params.tileSize) +
                                                         " and patchesPerSide " +
                                                         std::to_string(params.patchesPerSide) + " must be >= 1");
    for (const auto& cand : params.candidates) {
        if (cand[0] < params.tileSize || cand[1] < params.tileSize || cand[0] % params.tileSize != 0 ||
            cand[1] % params.tileSize != 0 || cand[0] > kMaxImageSide || cand[1] > kMaxImageSide)
            return makeError(ErrorCode::InvalidArgument,
                             "anyres: candidate " + std::to_string(cand[0]) + "x" + std::to_string(cand[1]) +
                                 " is not a positive multiple of the tile size " + std::to_string(params.tileSize));
    }

    ImageLayout out;
    out.imageWidth = width;
    out.imageHeight = height;
    const Choice canvas = selectBestResolution(width, height, params.candidates);
    out.canvasWidth = canvas.width;
    out.canvasHeight = canvas.height;
    out.gridCols = canvas.width / params.tileSize;
    out.gridRows = canvas.height / params.tileSize;

    // docs/spec.md §4.3: ceil of a double product (float noise is intended: 1000x750 -> 505 rows).
    const double w = width, h = height;
    const double sw = canvas.width / w, sh = canvas.height / h;
    if (sw < sh) {
        out.resizedWidth = canvas.width;
        out.resizedHeight = static_cast<int>(std::min(std::ceil(h * sw), static_cast<double>(canvas.height)));
    } else {
        out.resizedHeight = canvas.height;
        out.resizedWidth = static_cast<int>(std::min(std::ceil(w * sh), static_cast<double>(canvas.width)));
    }
    out.padLeft = (canvas.width - out.resizedWidth) / 2;
    out.padTop = (canvas.height - out.resizedHeight) / 2;
    out.padRight = canvas.width - out.resizedWidth - out.padLeft;
    out.padBottom = canvas.height - out.resizedHeight - out.padTop;

    // docs/spec.md §5.2: unpad measured in feature cells, same p removed from both sides.
    const std::int64_t mapRows = static_cast<std::int64_t>(out.gridRows) * params.patchesPerSide;
    const std::int64_t mapCols = static_cast<std::int64_t>(out.gridCols) * params.patchesPerSide;
    out.mapRows = static_cast<int>(mapRows);
    out.mapCols = static_cast<int>(mapCols);
    out.keptRowBegin = 0;
    out.keptRowEnd = out.mapRows;
    out.keptColBegin = 0;
    out.keptColEnd = out.mapCols;
    const double hc = static_cast<double>(mapRows), wc = static_cast<double>(mapCols);
    if (w / h > wc / hc) {
        const std::int64_t nh = truncateLikeReference(h * (wc / w), params.reference);
        const std::int64_t p = floorHalf(mapRows - nh);
        out.keptRowBegin = static_cast<int>(p);
        out.keptRowEnd = static_cast<int>(mapRows - p);
    } else {
        const std::int64_t nw = truncateLikeReference(w * (hc / h), params.reference);
        const std::int64_t p = floorHalf(mapCols - nw);
        out.keptColBegin = static_cast<int>(p);
        out.keptColEnd = static_cast<int>(mapCols - p);
    }
    if (out.keptRowBegin < 0 || out.keptColBegin < 0 || out.keptRowEnd < out.keptRowBegin ||
        out.keptColEnd < out.keptColBegin)
        return makeError(ErrorCode::Internal, "anyres: unpad range broke for image " + std::to_string(width) +
                                                  "x" + std::to_string(height));
    out.unpaddedRows = out.keptRowEnd - out.keptRowBegin;
    out.unpaddedCols = out.keptColEnd - out.keptColBegin;
    out.baseTokens = params.patchesPerSide * params.patchesPerSide;
    out.newlineTokens = out.unpaddedRows;
    out.imageTokens = out.baseTokens + out.unpaddedRows * out.unpaddedCols + out.newlineTokens;
    return out;
}

}  // namespace llava
