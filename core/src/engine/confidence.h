// Token confidence for streamed tokens (SamplingParams::logprobs): the sampler's log-probabilities plus
// each token's text, so the GUI and `chat --json` need no tokenizer of their own. Kept apart from
// chatsession.cpp so the decode loop only gains a call.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "llava/sampler.h"
#include "llava/tokenizer.h"

namespace llava {

// The text a single token stands for: its piece with "▁" as a space; a byte-fallback piece "<0xAB>" is
// that one byte (possibly part of a UTF-8 character); control tokens ("</s>") keep their piece.
std::string tokenText(const Tokenizer& tokenizer, std::int32_t id);

// sampler.confidence() with the texts filled in.
TokenConfidence tokenConfidence(const Sampler& sampler, const Tokenizer& tokenizer, std::span<const float> logits,
                                std::span<const std::int32_t> recent, std::int32_t chosen, int n);

}  // namespace llava
