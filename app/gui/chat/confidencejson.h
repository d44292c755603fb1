// Token confidence in a chat file (docs/chat-files.md): an answer's per-token probabilities written with
// the message and read back with the same checks as any untrusted input. Shape per token:
//   {"begin": 0, "length": 5, "id": 1234, "text": "Hello", "logprob": -0.01, "raw_logprob": -0.02,
//    "top": [[1234, "Hello", -0.01, -0.02], [99, "Hi", -4.7, -4.6], ...]}
// Log-probabilities are natural logs, <= 0 (probability 0..1); null stands for -inf (a token the sampling
// filters removed: probability 0). "top" holds at most kMaxStoredAlternatives [id, text, logprob,
// raw_logprob] rows, highest logprob first.
// Reading never trusts the file: a block with a wrong type, a non-finite or positive log-probability, a
// span outside the message text, more than kMaxStoredAlternatives alternatives or an unsorted top list is
// refused as a whole (std::nullopt), and the caller keeps the message without confidence. Nothing is
// reserved from a count the file claims, so memory stays linear in the file's size.
#pragma once

#include <QJsonArray>
#include <QJsonValue>
#include <optional>

#include "tokenconfidence.h"

inline constexpr int kMaxStoredAlternatives = 5;  // the GUI asks core for 5 (SamplingParams::logprobs)
inline constexpr int kMaxStoredTokenText = 256;   // UTF-16 units of one token's text (real pieces are < 50)

QJsonArray confidenceToJson(const TokenProbabilities& tokens);
// textLength: the message text's UTF-16 length (every token span must lie inside it).
std::optional<TokenProbabilities> confidenceFromJson(const QJsonValue& value, qsizetype textLength);
