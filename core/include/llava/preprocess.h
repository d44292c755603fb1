// Image -> CLIP pixel tensors for LLaVA-NeXT anyres (docs/spec.md §4.3-§4.5): resize-and-pad onto the chosen
// canvas (black), cut it into row-major tiles, squash the whole image into the base crop, normalise.
// Crop order everywhere: base first, then tile k = r * gridCols + c.
// Not here: decoding (app/ or tests convert to RgbImage), the fp16 cast (the model stage does that).
#pragma once

#include <vector>

#include "llava/anyres.h"
#include "llava/image.h"
#include "llava/modelconfig.h"
#include "llava/resample.h"
#include "llava/status.h"

namespace llava {

struct PreprocessedImage {
    ImageLayout layout;
    RgbImage canvas;              // (canvasHeight, canvasWidth, 3) resized + black padding
    std::vector<RgbImage> crops;  // 1 + gridCols*gridRows crops of (tileSize, tileSize, 3)
    std::vector<float> pixels;    // (nCrops, 3, tileSize, tileSize) normalised, channel order R,G,B
};

// The resized image pasted at (padLeft, padTop) of a black canvas. Errors: layout not for this image.
Result<RgbImage> resizeAndPad(const RgbImage& image, const ImageLayout& layout, const ResampleOptions& options = {});
// Tile k = r * gridCols + c of a canvas (row-major), each tileSize x tileSize.
Result<std::vector<RgbImage>> cutTiles(const RgbImage& canvas, const ImageLayout& layout, int tileSize);
// docs/spec.md §4.5 float sequence: a = float(double(u) * (1/255)), (a - mean[c]) / std[c] in float32, HWC -> CHW.
// Appends (3, h, w) per crop to `out`.
void normalizeCrop(const RgbImage& crop, const VisionConfig& vision, std::vector<float>& out);

// The whole pipeline. `vision` supplies the crop size (imageSize) and mean/std; the layout must come
// from computeImageLayout with the same tile size.
Result<PreprocessedImage> preprocessImage(const RgbImage& image, const ImageLayout& layout, const VisionConfig& vision,
                                          const ResampleOptions& options = {});
// Convenience: layout from `params`, then the pipeline.
Result<PreprocessedImage> preprocessImage(const RgbImage& image, const AnyresParams& params, const VisionConfig& vision,
                                          const ResampleOptions& options = {});

}  // namespace llava
