// Internal: trains the demo model's sentencepiece tokenizer in memory (see demomodel.h).
#pragma once

#include <string>

#include "llava/status.h"

namespace llava::demo {

// A serialized sentencepiece ModelProto: BPE, byte fallback, Llama-style normalisation (identity, dummy
// prefix, digits split), ids <unk> 0, <s> 1, </s> 2. Deterministic: one thread, every sentence, no shuffle.
Result<std::string> trainTokenizer(int vocabSize);

}  // namespace llava::demo
