// The one pixel container core accepts: a contiguous 8-bit RGB image (no alpha, no stride padding).
// Decoders (Qt in app/, anything in tests) convert into it once; core never sees QImage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "llava/status.h"

namespace llava {

struct RgbImage {
    int width = 0, height = 0;
    std::vector<std::uint8_t> pixels;  // (height, width, 3) RGB8, row-major

    static constexpr int kChannels = 3;

    // A black (0,0,0) image; sizes < 1 give an empty image.
    static RgbImage black(int width, int height) {
        RgbImage image;
        if (width < 1 || height < 1) return image;
        image.width = width;
        image.height = height;
        image.pixels.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * kChannels, 0);
        return image;
    }

    bool isEmpty() const { return width < 1 || height < 1; }
    std::size_t rowBytes() const { return static_cast<std::size_t>(width) * kChannels; }
    std::size_t byteSize() const { return rowBytes() * static_cast<std::size_t>(height); }
    // True when sizes are positive and pixels hold exactly width*height*3 bytes.
    bool isValid() const { return !isEmpty() && pixels.size() == byteSize(); }

    std::uint8_t* row(int y) { return pixels.data() + rowBytes() * static_cast<std::size_t>(y); }
    const std::uint8_t* row(int y) const { return pixels.data() + rowBytes() * static_cast<std::size_t>(y); }
    std::uint8_t* pixel(int x, int y) { return row(y) + static_cast<std::size_t>(x) * kChannels; }
    const std::uint8_t* pixel(int x, int y) const { return row(y) + static_cast<std::size_t>(x) * kChannels; }
};

// InvalidArgument naming the sizes when the image is empty or its buffer size is inconsistent.
inline Status validateImage(const RgbImage& image) {
    if (image.isEmpty())
        return makeError(ErrorCode::InvalidArgument,
                         "image size " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                             " is empty (need at least 1x1)");
    if (image.pixels.size() != image.byteSize())
        return makeError(ErrorCode::InvalidArgument,
                         "image " + std::to_string(image.width) + "x" + std::to_string(image.height) + " has " +
                             std::to_string(image.pixels.size()) + " bytes, expected " +
                             std::to_string(image.byteSize()));
    return Status::ok();
}

}  // namespace llava
