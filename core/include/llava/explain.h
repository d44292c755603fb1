// "Where did the answer look?": answer a single question about one image, then re-run the prompt and
// the answer with attention capture for the chosen answer tokens, reduce over heads (mean) and the chosen
// layers, and map the image part back through the image's layout (attentionmap.h). The query position of
// answer token k is the position whose output predicted it (the prompt's last position for k = 0, else
// the position of answer token k - 1). Costs one extra prefill of prompt + answer with the capture on.
// CPU backend only for now (the capture needs an F32 KV cache; other backends -> Unsupported).
#pragma once

#include <vector>

#include "llava/attentionmap.h"
#include "llava/engine.h"

namespace llava {

struct ExplainOptions {
    int firstToken = 0;          // answer tokens [firstToken, lastToken] are explained (0-based, inclusive);
    int lastToken = -1;          // -1: up to the last answer token
    int firstLayer = 0;          // layers [firstLayer, lastLayer] are averaged; -1: the last layer
    int lastLayer = -1;
};

struct AttentionExplanation {
    std::vector<std::int32_t> answerIds;   // the answer's token ids (the reply that was explained)
    std::string answerText;
    int promptLength = 0;                  // positions before the answer
    int imageBegin = 0;                    // first image position
    ImageLayout layout;
    ImageAttentionMap map;                 // mean over the explained tokens, heads and layers
    // How the attention mass of the explained rows splits (sums to 1 up to rounding):
    double massTextBefore = 0, massImage = 0, massTextAfter = 0, massAnswer = 0;  // prompt text, image, answer
};

// Clears the session, answers `message` (exactly one image) with `sampling`, and explains it.
// Errors: not exactly one image, an empty answer, token/layer ranges outside the answer/model,
// a backend without capture support. cancel (optional) is polled between tokens, layers and prefill
// chunks: true -> Cancelled (the session is cleared either way).
Result<AttentionExplanation> explainAnswer(Engine& engine, const UserMessage& message, const SamplingParams& sampling,
                                           const ExplainOptions& options, const CancelPredicate& cancel = {});

}  // namespace llava
