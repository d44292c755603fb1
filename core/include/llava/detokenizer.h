// Streaming detokenizer: ids arrive one at a time from the sampler; text leaves as complete UTF-8.
// Reproduces sentencepiece's decode exactly when the pushed chunks are concatenated: byte-fallback
// pieces (<0xE4><0xBD><0xA0>) are held until they form a character, invalid bytes become U+FFFD
// (one per byte, as sentencepiece does), the dummy-prefix space of the first piece is dropped.
// Special tokens (control pieces and Tokenizer::specialTokens()) produce no text.
// Not thread-safe: one instance per generation stream.
#pragma once

#include <string>

#include "llava/tokenizer.h"

namespace llava {

class StreamingDetokenizer {
public:
    // PRECONDITION: `tokenizer` outlives this object.
    explicit StreamingDetokenizer(const Tokenizer& tokenizer);

    // Text that became final with this id (often empty while bytes are pending).
    std::string push(int id);
    // Ends the stream: pending incomplete bytes become U+FFFD each.
    std::string flush();
    // Starts a new stream (the next piece is "first" again).
    void reset();

    bool isSpecial(int id) const;

private:
    std::string drainBytes(bool final);

    const Tokenizer* m_tokenizer;
    std::string m_pendingBytes;  // byte-fallback bytes not yet forming a complete character
    bool m_atStart = true;       // no non-special piece seen yet
};

}  // namespace llava
