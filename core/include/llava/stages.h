// Stage waterfall of one answer: where the time went (image preprocessing, CLIP, projector, merge, each
// prefill chunk, the first decode step and the steady state), with an estimate of the bytes each stage
// moved and the floating-point operations it did, so a viewer can show achieved GB/s and GFLOP/s next to
// the machine's ceilings. Timings are wall-clock with the backend synchronised at the stage's end (device
// work is included). Bytes and FLOPs come from the model's shapes (stagecost.cpp documents the formulas);
// they are estimates of the work, not measurements.
// Not here: image file decoding (the app decodes files before core sees pixels; it adds its own stage).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llava {

// Stage names, in the order they happen.
inline constexpr std::string_view kStagePreprocess = "preprocess";       // resize, pad, crop, normalise (one image)
inline constexpr std::string_view kStageClip = "clip";                   // CLIP tower over a pass of crops
inline constexpr std::string_view kStageProjector = "projector";         // mlp2x_gelu over the pass's patches
inline constexpr std::string_view kStageMerge = "merge";                 // unpad + newline merge on the host
inline constexpr std::string_view kStagePrefillChunk = "prefill.chunk";  // one prefill pass of prompt rows
inline constexpr std::string_view kStageDecodeFirst = "decode.first";    // the first decode step
inline constexpr std::string_view kStageDecodeSteady = "decode.steady";  // every later decode step, summed

struct StageTiming {
    std::string name;          // one of the kStage* names
    int index = 0;             // 0, 1, ... among stages of the same name in this answer (image, chunk number)
    double startMs = 0;        // since reply() began
    double ms = 0;             // wall time of the stage (summed over its steps for decode.steady)
    std::int64_t items = 0;    // crops (clip, projector, preprocess), rows (prefill), image tokens (merge), steps
    std::int64_t position = 0; // prefill / decode: the first position in the KV cache the stage wrote
    double bytes = 0;          // estimated bytes read + written (weights, KV cache, activations)
    double flops = 0;          // estimated floating-point operations (a multiply-add counts 2)
};

}  // namespace llava
