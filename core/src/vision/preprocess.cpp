// Anyres pixel pipeline (docs/spec.md §4.3-§4.5). The two resizes (canvas and base) each split their rows over
// threads; normalisation is a per-channel 256-entry table, which is exact because the spec's float
// sequence depends only on (channel, byte).
#include "llava/preprocess.h"

#include <array>
#include <cstring>
#include <string>

#include "vision/parallel.h"

namespace llava {
namespace {

constexpr int kChannels = RgbImage::kChannels;

using NormTable = std::array<std::array<float, 256>, kChannels>;  // (channel, byte)

NormTable makeNormTable(const VisionConfig& vision) {
    NormTable table{};
    for (int c = 0; c < kChannels; ++c) {
        const float mean = vision.imageMean[static_cast<std::size_t>(c)];
        const float stdev = vision.imageStd[static_cast<std::size_t>(c)];
        for (int u = 0; u < 256; ++u) {
            // numpy: uint8 * python float -> float64, astype(float32); then two float32 ops.
            const float a = static_cast<float>(static_cast<double>(u) * (1.0 / 255.0));
            const float centred = a - mean;
            table[static_cast<std::size_t>(c)][static_cast<std::size_t>(u)] = centred / stdev;
        }
    }
    return table;
}

void normalizeWithTable(const RgbImage& crop, const NormTable& table, float* out /* (3, h, w) */) {
    const std::size_t plane = static_cast<std::size_t>(crop.width) * static_cast<std::size_t>(crop.height);
    const std::uint8_t* px = crop.pixels.data();
    for (std::size_t i = 0; i < plane; ++i, px += kChannels) {
        out[i] = table[0][px[0]];
        out[plane + i] = table[1][px[1]];
        out[2 * plane + i] = table[2][px[2]];
    }
}

Status checkLayout(const RgbImage& image, const ImageLayout& layout) {
    if (layout.imageWidth != image.width || layout.imageHeight != image.height || layout.resizedWidth < 1 ||
        layout.resizedHeight < 1 || layout.padLeft < 0 || layout.padTop < 0 ||
        layout.padLeft + layout.resizedWidth > layout.canvasWidth ||
        layout.padTop + layout.resizedHeight > layout.canvasHeight)
        return makeError(ErrorCode::InvalidArgument,
                         "layout for " + std::to_string(layout.imageWidth) + "x" + std::to_string(layout.imageHeight) +
                             " does not fit image " + std::to_string(image.width) + "x" +
                             std::to_string(image.height));
    return Status::ok();
}

}  // namespace

Result<RgbImage> resizeAndPad(const RgbImage& image, const ImageLayout& layout, const ResampleOptions& options) {
    LLAVA_TRY(validateImage(image));
    LLAVA_TRY(checkLayout(image, layout));
    RgbImage canvas = RgbImage::black(layout.canvasWidth, layout.canvasHeight);
    RgbTarget window{canvas.pixel(layout.padLeft, layout.padTop), layout.resizedWidth, layout.resizedHeight,
                     canvas.rowBytes()};
    LLAVA_TRY(resizeBicubicInto(image, window, options));
    return canvas;
}

Result<std::vector<RgbImage>> cutTiles(const RgbImage& canvas, const ImageLayout& layout, int tileSize) {
    LLAVA_TRY(validateImage(canvas));
    if (tileSize < 1 || canvas.width != layout.gridCols * tileSize || canvas.height != layout.gridRows * tileSize)
        return makeError(ErrorCode::InvalidArgument,
                         "canvas " + std::to_string(canvas.width) + "x" + std::to_string(canvas.height) +
                             " is not a " + std::to_string(layout.gridCols) + "x" + std::to_string(layout.gridRows) +
                             " grid of " + std::to_string(tileSize) + "-px tiles");
    std::vector<RgbImage> tiles;
    tiles.reserve(static_cast<std::size_t>(layout.gridCols) * static_cast<std::size_t>(layout.gridRows));
    const std::size_t tileRowBytes = static_cast<std::size_t>(tileSize) * kChannels;
    for (int r = 0; r < layout.gridRows; ++r) {
        for (int c = 0; c < layout.gridCols; ++c) {
            RgbImage tile = RgbImage::black(tileSize, tileSize);
            for (int y = 0; y < tileSize; ++y)
                std::memcpy(tile.row(y), canvas.pixel(c * tileSize, r * tileSize + y), tileRowBytes);
            tiles.push_back(std::move(tile));
        }
    }
    return tiles;
}

void normalizeCrop(const RgbImage& crop, const VisionConfig& vision, std::vector<float>& out) {
    const NormTable table = makeNormTable(vision);
    const std::size_t offset = out.size();
    out.resize(offset + crop.byteSize());
    normalizeWithTable(crop, table, out.data() + offset);
}

Result<PreprocessedImage> preprocessImage(const RgbImage& image, const ImageLayout& layout, const VisionConfig& vision,
                                          const ResampleOptions& options) {
    LLAVA_TRY(validateImage(image));
    LLAVA_TRY(checkLayout(image, layout));
    const int tileSize = vision.imageSize;
    PreprocessedImage result;
    result.layout = layout;
    LLAVA_ASSIGN_OR_RETURN(result.canvas, resizeAndPad(image, layout, options));
    LLAVA_ASSIGN_OR_RETURN(RgbImage base, resizeBicubic(image, tileSize, tileSize, options));
    LLAVA_ASSIGN_OR_RETURN(std::vector<RgbImage> tiles, cutTiles(result.canvas, layout, tileSize));
    result.crops.reserve(tiles.size() + 1);
    result.crops.push_back(std::move(base));
    for (auto& tile : tiles) result.crops.push_back(std::move(tile));

    const NormTable table = makeNormTable(vision);
    const std::size_t cropFloats = static_cast<std::size_t>(tileSize) * static_cast<std::size_t>(tileSize) * kChannels;
    result.pixels.resize(cropFloats * result.crops.size());
    const int nCrops = static_cast<int>(result.crops.size());
    vision::parallelFor(nCrops, vision::resolveThreads(options.maxThreads), [&](int begin, int end) {
        for (int i = begin; i < end; ++i)
            normalizeWithTable(result.crops[static_cast<std::size_t>(i)], table,
                               result.pixels.data() + cropFloats * static_cast<std::size_t>(i));
    });
    return result;
}

Result<PreprocessedImage> preprocessImage(const RgbImage& image, const AnyresParams& params, const VisionConfig& vision,
                                          const ResampleOptions& options) {
    LLAVA_TRY(validateImage(image));
    if (params.tileSize != vision.imageSize)
        return makeError(ErrorCode::InvalidArgument, "anyres tile size " + std::to_string(params.tileSize) +
                                                         " differs from the vision image size " +
                                                         std::to_string(vision.imageSize));
    LLAVA_ASSIGN_OR_RETURN(ImageLayout layout, computeImageLayout(image.width, image.height, params));
    return preprocessImage(image, layout, vision, options);
}

}  // namespace llava
