// Next-token selection from one row of logits: greedy, temperature, top-k, top-p, min-p and a
// repetition penalty, with a seeded std::mt19937_64 so a (seed, logits) sequence always gives the same
// ids on every platform that implements the standard distributions the same way (we use our own
// uniform draw from the raw 64-bit output for that reason). No device code: logits arrive on the host.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace llava {

struct SamplingParams {
    float temperature = 0.2f;        // <= 0 -> greedy (argmax), as ORIG's "sampling iff temperature > 0"
    int topK = 0;                    // 0 = off
    float topP = 1.0f;               // 1 = off; keep the smallest prefix of sorted probs whose sum >= topP
    float minP = 0.0f;               // 0 = off; drop tokens with p < minP * p_max
    float repetitionPenalty = 1.0f;  // 1 = off; CTRL/HF rule: logit > 0 ? logit / r : logit * r
    int repetitionWindow = 64;       // how many recent tokens the penalty looks at (0 = all)
    std::uint64_t seed = 0;
    int maxNewTokens = 512;
    // Extra stop strings (besides the chat template's): generation stops when the reply text contains one;
    // it and anything after it are never streamed and not kept. Used by ChatSession, ignored by Sampler.
    std::vector<std::string> stopStrings;
    // > 0: every TokenEvent carries a TokenConfidence with this many alternatives (the GUI asks for 5).
    // 0 = off: nothing is computed, and plain greedy keeps picking the token on the device.
    int logprobs = 0;
};

// One token's log-probabilities (natural log). `logprob` is under the distribution the token was drawn
// from: repetition penalty, temperature, top-k, top-p and min-p applied and renormalised (greedy: the
// penalised logits' softmax, as HF's output_scores); -inf for a token those filters removed. `rawLogprob`
// is the model's own log-softmax over the valid vocabulary (HF output_logits), before anything else.
struct TokenLogprob {
    std::int32_t id = 0;
    double logprob = 0;
    double rawLogprob = 0;
    std::string token;  // its text (filled by the chat session: "▁" as a space, a byte piece as that byte)
};

struct TokenConfidence {
    TokenLogprob chosen;
    std::vector<TokenLogprob> top;  // (n) highest penalised logits first (ties: lower id), chosen or not
};

class Sampler {
public:
    explicit Sampler(const SamplingParams& params);
    void reset(std::uint64_t seed);

    // logits: the first nValid entries are candidates (padded vocabulary rows excluded by the caller);
    // recent: previously seen token ids (prompt + generated) for the repetition penalty.
    // Modifies nothing outside; returns an id in [0, logits.size()).
    std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> recent);

    // The distribution sample() draws from after every filter (probabilities, 0 for removed ids).
    // Exposed for tests with hand-computed distributions; empty for greedy.
    std::vector<float> distribution(std::span<const float> logits, std::span<const std::int32_t> recent) const;

    // Log-probabilities of `chosen` and of the n most likely ids for the same (logits, recent) that
    // sample() sees. Costs a softmax and a sort of the vocabulary: call it only when asked for.
    TokenConfidence confidence(std::span<const float> logits, std::span<const std::int32_t> recent,
                               std::int32_t chosen, int n) const;

    const SamplingParams& params() const { return m_params; }

private:
    std::vector<float> penalised(std::span<const float> logits, std::span<const std::int32_t> recent) const;
    // temperature -> top-k -> softmax -> top-p -> min-p on penalised logits `l` (non-empty, temperature > 0):
    // `order` = ids by descending logit, `p` = their probabilities before the final renormalisation; returns
    // how many of `order` are kept.
    std::size_t filter(const std::vector<float>& l, std::vector<std::int32_t>& order, std::vector<double>& p) const;
    double uniform();  // [0, 1)

    SamplingParams m_params;
    std::mt19937_64 m_rng;
};

}  // namespace llava
