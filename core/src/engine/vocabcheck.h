// Engine::load's check that a tokenizer belongs to the model: its vocabulary must be the model's text
// vocabulary (docs/spec.md §2.6), so no id it produces lacks an embedding row and no id the model emits is
// undecodable.
#pragma once

#include <filesystem>

#include "llava/modelconfig.h"
#include "llava/status.h"

namespace llava {

// Extra text-token rows a model may have beyond its tokenizer's pieces (tokens added by the fine-tune
// and padding of the embedding to a multiple of 64/128). llava-hf's own extras (<image>, <pad>, padding
// to 32064) lie above image_token_index, which is ModelConfig::text.nVocabText, so they need none of it.
inline constexpr int kMaxExtraTextRows = 128;

// Accepts tokenizerPieces == nVocabText, and nVocabText - tokenizerPieces <= kMaxExtraTextRows.
// Errors (InvalidArgument) name both sizes and both files: a tokenizer larger than the embedding (its ids
// would index past the table), larger than the text vocabulary (it collides with image/added ids), or
// far smaller (the model would emit ids this tokenizer cannot decode: garbage text).
Status checkTokenizerMatchesModel(int tokenizerPieces, const std::filesystem::path& tokenizerFile,
                                  const ModelConfig& config, const std::filesystem::path& configFile);

}  // namespace llava
