// The anyres geometry of LLaVA-NeXT (docs/spec.md §4.2-§5.4): which canvas an image gets, how it is resized
// and padded, the 336-px tile grid, the unpadded feature map and the number of image tokens.
// Pure arithmetic on sizes (double precision exactly as the references); no pixels here.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "llava/modelconfig.h"
#include "llava/status.h"
#include "llava/types.h"

namespace llava {

struct AnyresParams {
    int tileSize = 336;                    // CLIP image_size
    int patchesPerSide = 24;               // image_size / patch_size
    std::vector<std::array<int, 2>> candidates;  // (width, height) in the reference's iteration order
    Reference reference = Reference::Original;
};

struct ImageLayout {
    int imageWidth = 0, imageHeight = 0;   // original decoded size (W, H)
    int canvasWidth = 0, canvasHeight = 0; // chosen pinpoint (cw, ch)
    int gridCols = 0, gridRows = 0;        // cw / 336, ch / 336
    int resizedWidth = 0, resizedHeight = 0;  // (nw, nh) after resize, before padding
    int padLeft = 0, padTop = 0;           // black border; the odd remainder goes right/bottom
    int padRight = 0, padBottom = 0;
    int mapRows = 0, mapCols = 0;          // Hc x Wc = rows*24 x cols*24 feature cells
    int keptRowBegin = 0, keptRowEnd = 0;  // unpadding keeps rows [begin, end) ...
    int keptColBegin = 0, keptColEnd = 0;  // ... and cols [begin, end) of the stitched map
    int unpaddedRows = 0, unpaddedCols = 0;   // H', W'
    int baseTokens = 576;                  // the squashed overview crop
    int newlineTokens = 0;                 // = H'
    int imageTokens = 0;                   // 576 + H'*W' + H'
    int cropCount() const { return 1 + gridCols * gridRows; }
};

// Errors: width/height < 1, sizes above kMaxImageSide, or no candidates -> InvalidArgument naming the value.
constexpr int kMaxImageSide = 1 << 16;
Result<ImageLayout> computeImageLayout(int width, int height, const AnyresParams& params);

// Params of a model: tile size and patches from config.vision, candidates from candidateResolutions()
// in `reference`'s iteration order.
AnyresParams anyresParams(const ModelConfig& config, Reference reference);
// computeImageLayout(width, height, anyresParams(config, reference)).
Result<ImageLayout> computeImageLayout(int width, int height, const ModelConfig& config, Reference reference);

}  // namespace llava
