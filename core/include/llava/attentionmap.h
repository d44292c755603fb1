// Where the answer looked: attention weights over an image's token positions mapped back through its
// anyres layout (docs/spec.md §5.1-§5.3): the 576 base tokens are the squashed overview (24 x 24 cells over the
// whole picture), the grid tokens are the kept cells of the stitched tile map (row-major, one newline
// token after each kept row), the newline tokens are kept apart. Pure functions on a layout; no model.
// Not here: collecting attention from the model (which query rows, layers, heads, reductions).
#pragma once

#include <span>
#include <vector>

#include "llava/anyres.h"
#include "llava/status.h"

namespace llava {

struct ImageAttentionMap {
    int baseSide = 24;                  // patches per side of the base crop
    std::vector<float> base;            // (baseSide, baseSide) weight of each overview cell, row-major
    int mapRows = 0, mapCols = 0;       // the stitched map (gridRows*24, gridCols*24)
    std::vector<float> grid;            // (mapRows, mapCols); 0 where unpadding removed the cell
    std::vector<float> newline;         // (H') weight of the newline token after each kept row
    double baseMass = 0, gridMass = 0, newlineMass = 0;  // sums of the three parts
};

// weights: (layout.imageTokens) attention mass on each image position, in the merged order
// (576 base, then each kept row's W' cells and its newline). Error: wrong length, negative patch count.
Result<ImageAttentionMap> projectImageAttention(const ImageLayout& layout, std::span<const float> weights,
                                                int patchesPerSide = 24);

// A feature-map cell's place in the ORIGINAL image, in pixels (x, y, width, height as doubles): a grid
// cell covers tileSize/patchesPerSide canvas pixels, mapped through the resize and padding (a cell partly
// in the padding is clipped to the image); a base cell covers 1/patchesPerSide of the whole image.
struct ImageRect {
    double x = 0, y = 0, width = 0, height = 0;
};
ImageRect gridCellRect(const ImageLayout& layout, int mapRow, int mapCol, int tileSize = 336, int patchesPerSide = 24);
ImageRect baseCellRect(const ImageLayout& layout, int row, int col, int patchesPerSide = 24);

// Which tile (row-major, 0-based; the base crop is not a tile) and which cell inside it a map cell is.
struct TileCell {
    int tile = 0, row = 0, col = 0;
};
TileCell tileCellOf(const ImageLayout& layout, int mapRow, int mapCol, int patchesPerSide = 24);

// (outHeight, outWidth) heatmap over the original image (any size up to kMaxHeatmapSide per side): each
// output pixel's centre is mapped into the image and gets the weight of the grid cell covering it (through
// resize and padding; 0 where unpadding removed the cell) and/or of the base cell covering it.
// Errors: an output side < 1 or > kMaxHeatmapSide, a map that does not belong to the layout.
inline constexpr int kMaxHeatmapSide = 8192;
enum class HeatmapParts { GridOnly, BaseOnly, GridAndBase };
Result<std::vector<float>> renderAttentionHeatmap(const ImageLayout& layout, const ImageAttentionMap& map,
                                                  HeatmapParts parts, int outWidth, int outHeight,
                                                  int tileSize = 336);

}  // namespace llava
