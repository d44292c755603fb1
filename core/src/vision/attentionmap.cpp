// See attentionmap.h. The merged image-token order (docs/spec.md §5.3): base tokens row-major, then for each
// kept map row r in [keptRowBegin, keptRowEnd): the kept cells c in [keptColBegin, keptColEnd), then
// one newline token.
#include "llava/attentionmap.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace llava {

Result<ImageAttentionMap> projectImageAttention(const ImageLayout& layout, std::span<const float> weights,
                                                int patchesPerSide) {
    if (patchesPerSide < 1) return makeError(ErrorCode::InvalidArgument, "patches per side " + std::to_string(patchesPerSide));
    const int base = patchesPerSide * patchesPerSide;
    const int rows = layout.keptRowEnd - layout.keptRowBegin, cols = layout.keptColEnd - layout.keptColBegin;
    if (rows < 0 || cols < 0 || layout.keptRowEnd > layout.mapRows || layout.keptColEnd > layout.mapCols ||
        layout.keptRowBegin < 0 || layout.keptColBegin < 0)
        return makeError(ErrorCode::InvalidArgument, "layout's kept region lies outside its feature map");
    const std::size_t expected = static_cast<std::size_t>(base) + static_cast<std::size_t>(rows) * (cols + 1);
    if (weights.size() != expected || static_cast<int>(expected) != layout.imageTokens)
        return makeError(ErrorCode::ShapeMismatch, "attention over " + std::to_string(weights.size()) +
                                                       " image positions, but the layout has " +
                                                       std::to_string(layout.imageTokens) + " (576 + H'*W' + H' = " +
                                                       std::to_string(expected) + ")");
    ImageAttentionMap out;
    out.baseSide = patchesPerSide;
    out.base.assign(weights.begin(), weights.begin() + base);
    out.mapRows = layout.mapRows;
    out.mapCols = layout.mapCols;
    out.grid.assign(static_cast<std::size_t>(layout.mapRows) * layout.mapCols, 0.0f);
    out.newline.assign(static_cast<std::size_t>(rows), 0.0f);
    for (float w : out.base) out.baseMass += w;
    std::size_t i = static_cast<std::size_t>(base);
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c, ++i) {
            const std::size_t cell = static_cast<std::size_t>(layout.keptRowBegin + r) * layout.mapCols + (layout.keptColBegin + c);
            out.grid[cell] = weights[i];
            out.gridMass += weights[i];
        }
        out.newline[static_cast<std::size_t>(r)] = weights[i];
        out.newlineMass += weights[i++];
    }
    return out;
}

ImageRect gridCellRect(const ImageLayout& layout, int mapRow, int mapCol, int tileSize, int patchesPerSide) {
    const double cell = static_cast<double>(tileSize) / patchesPerSide;  // canvas pixels per map cell
    // Canvas -> original image: remove the padding, undo the resize; clip to the image.
    const double sx = layout.resizedWidth > 0 ? static_cast<double>(layout.imageWidth) / layout.resizedWidth : 0.0;
    const double sy = layout.resizedHeight > 0 ? static_cast<double>(layout.imageHeight) / layout.resizedHeight : 0.0;
    const double x0 = std::clamp((mapCol * cell - layout.padLeft) * sx, 0.0, double(layout.imageWidth));
    const double x1 = std::clamp(((mapCol + 1) * cell - layout.padLeft) * sx, 0.0, double(layout.imageWidth));
    const double y0 = std::clamp((mapRow * cell - layout.padTop) * sy, 0.0, double(layout.imageHeight));
    const double y1 = std::clamp(((mapRow + 1) * cell - layout.padTop) * sy, 0.0, double(layout.imageHeight));
    return {x0, y0, x1 - x0, y1 - y0};
}

ImageRect baseCellRect(const ImageLayout& layout, int row, int col, int patchesPerSide) {
    const double w = static_cast<double>(layout.imageWidth) / patchesPerSide;
    const double h = static_cast<double>(layout.imageHeight) / patchesPerSide;
    return {col * w, row * h, w, h};
}

TileCell tileCellOf(const ImageLayout& layout, int mapRow, int mapCol, int patchesPerSide) {
    return {(mapRow / patchesPerSide) * layout.gridCols + mapCol / patchesPerSide, mapRow % patchesPerSide,
            mapCol % patchesPerSide};
}

Result<std::vector<float>> renderAttentionHeatmap(const ImageLayout& layout, const ImageAttentionMap& map,
                                                  HeatmapParts parts, int outWidth, int outHeight, int tileSize) {
    if (outWidth < 1 || outHeight < 1 || outWidth > kMaxHeatmapSide || outHeight > kMaxHeatmapSide)
        return makeError(ErrorCode::InvalidArgument, "heatmap size " + std::to_string(outWidth) + "x" +
                                                         std::to_string(outHeight) + " outside 1.." +
                                                         std::to_string(kMaxHeatmapSide));
    const int side = map.baseSide;
    if (side < 1 || map.base.size() != static_cast<std::size_t>(side) * side || map.mapRows != layout.mapRows ||
        map.mapCols != layout.mapCols || map.grid.size() != static_cast<std::size_t>(map.mapRows) * map.mapCols)
        return makeError(ErrorCode::ShapeMismatch, "attention map does not belong to this layout");
    const double cell = static_cast<double>(tileSize) / side;
    std::vector<float> out(static_cast<std::size_t>(outWidth) * outHeight, 0.0f);  // (outHeight, outWidth)
    for (int py = 0; py < outHeight; ++py) {
        const double y = (py + 0.5) * layout.imageHeight / outHeight;  // original image coordinates
        const double cy = layout.padTop + y * layout.resizedHeight / std::max(1, layout.imageHeight);
        const int gr = static_cast<int>(std::floor(cy / cell));
        const int br = std::min(side - 1, static_cast<int>(y * side / std::max(1, layout.imageHeight)));
        for (int px = 0; px < outWidth; ++px) {
            const double x = (px + 0.5) * layout.imageWidth / outWidth;
            float v = 0;
            if (parts != HeatmapParts::BaseOnly) {
                const double cx = layout.padLeft + x * layout.resizedWidth / std::max(1, layout.imageWidth);
                const int gc = static_cast<int>(std::floor(cx / cell));
                if (gr >= 0 && gr < map.mapRows && gc >= 0 && gc < map.mapCols)
                    v += map.grid[static_cast<std::size_t>(gr) * map.mapCols + gc];
            }
            if (parts != HeatmapParts::GridOnly) {
                const int bc = std::min(side - 1, static_cast<int>(x * side / std::max(1, layout.imageWidth)));
                v += map.base[static_cast<std::size_t>(br) * side + bc];
            }
            out[static_cast<std::size_t>(py) * outWidth + px] = v;
        }
    }
    return out;
}

}  // namespace llava
