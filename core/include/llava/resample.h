// Pillow-exact BICUBIC resize of RGB8 images (docs/spec.md §4.6): Image.resize((w, h), Image.BICUBIC) on an
// "RGB" image with reducing_gap=None gives byte-identical output. Integer fixed-point (22 bits) with
// coefficients generated in double exactly as libImaging/Resample.c; horizontal pass first (only over
// the source rows the vertical pass reads), uint8 intermediate, a pass whose size is unchanged skipped.
// Not here: other filters, alpha/premultiplication, boxes (sub-rectangles) and reducing_gap.
#pragma once

#include <cstddef>
#include <cstdint>

#include "llava/image.h"
#include "llava/status.h"

namespace llava {

struct ResampleOptions {
    // Upper bound on worker threads; 0 = std::thread::hardware_concurrency(). Small images always run
    // on the calling thread (thread start-up would cost more than the work).
    int maxThreads = 0;
};

// A writable window into a bigger RGB8 buffer (e.g. the padded canvas), rows rowStride bytes apart.
struct RgbTarget {
    std::uint8_t* data = nullptr;  // first pixel of the window
    int width = 0, height = 0;
    std::size_t rowStride = 0;     // bytes between rows, >= width * 3
};

// Errors: invalid source image, target sizes < 1 or above 1<<16 -> InvalidArgument.
Result<RgbImage> resizeBicubic(const RgbImage& src, int width, int height, const ResampleOptions& options = {});
// Same, writing into `target` (its width/height are the output size). Pixels outside it are untouched.
Status resizeBicubicInto(const RgbImage& src, const RgbTarget& target, const ResampleOptions& options = {});

}  // namespace llava
