// See confidence.h.
#include "engine/confidence.h"

namespace llava {

std::string tokenText(const Tokenizer& tokenizer, std::int32_t id) {
    if (auto byte = tokenizer.byteValue(id)) return std::string(1, static_cast<char>(*byte));
    const std::string piece = tokenizer.idToPiece(id);
    static constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, sentencepiece's space
    std::string text;
    for (std::size_t pos = 0; pos < piece.size();) {
        if (piece.compare(pos, kSpace.size(), kSpace) == 0) {
            text += ' ';
            pos += kSpace.size();
        } else {
            text += piece[pos++];
        }
    }
    return text;
}

TokenConfidence tokenConfidence(const Sampler& sampler, const Tokenizer& tokenizer, std::span<const float> logits,
                                std::span<const std::int32_t> recent, std::int32_t chosen, int n) {
    TokenConfidence out = sampler.confidence(logits, recent, chosen, n);
    out.chosen.token = tokenText(tokenizer, out.chosen.id);
    for (TokenLogprob& alternative : out.top) alternative.token = tokenText(tokenizer, alternative.id);
    return out;
}

}  // namespace llava
