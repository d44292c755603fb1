// Helpers shared by the engine-level tests: deterministic test images and a greedy reply that records
// every TokenEvent. Header-only, test code only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llava/engine.h"

namespace llava::test {

// A smooth colour gradient with a diagonal stripe (non-constant, so tiles differ).
inline RgbImage patternImage(int width, int height) {
    RgbImage image = RgbImage::black(width, height);
    for (int y = 0; y < height; ++y) {
        std::uint8_t* row = image.row(y);
        for (int x = 0; x < width; ++x) {
            row[3 * x + 0] = static_cast<std::uint8_t>((x * 255) / std::max(1, width - 1));
            row[3 * x + 1] = static_cast<std::uint8_t>((y * 255) / std::max(1, height - 1));
            row[3 * x + 2] = static_cast<std::uint8_t>(((x + y) / 7) % 2 ? 220 : 30);
        }
    }
    return image;
}

struct Recorded {
    Result<GenerationStats> stats = makeError(ErrorCode::Internal, "not run");
    std::vector<std::int32_t> ids;
    std::string text;  // concatenated pieces
};

inline SamplingParams greedy(int maxNewTokens) {
    SamplingParams p;
    p.temperature = 0.0f;
    p.maxNewTokens = maxNewTokens;
    return p;
}

inline Recorded replyRecorded(ChatSession& session, const UserMessage& message, const SamplingParams& sampling,
                              const CancelPredicate& cancel = {}) {
    Recorded r;
    r.stats = session.reply(message, sampling, [&](const TokenEvent& e) {
        r.ids.push_back(e.id);
        r.text += e.piece;
        return true;
    }, cancel);
    return r;
}

}  // namespace llava::test
