// checkTokenizerMatchesModel: see vocabcheck.h.
#include "engine/vocabcheck.h"

#include <string>

namespace llava {

Status checkTokenizerMatchesModel(int tokenizerPieces, const std::filesystem::path& tokenizerFile,
                                  const ModelConfig& config, const std::filesystem::path& configFile) {
    const int rows = config.text.nVocab;        // embed_tokens / lm_head rows
    const int textRows = config.text.nVocabText;  // ids below image_token_index (HF) or all rows (ORIG)
    std::string modelSide = std::to_string(textRows) + " text tokens (vocab_size " + std::to_string(rows);
    if (textRows != rows) modelSide += ", image_token_index " + std::to_string(config.imageTokenId);
    modelSide += ")";
    auto mismatch = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidArgument,
                         "tokenizer " + tokenizerFile.string() + " has " + std::to_string(tokenizerPieces) +
                             " pieces but the model " + configFile.string() + " expects " + modelSide + ": " + why +
                             "; use the tokenizer.model that came with this model");
    };
    if (tokenizerPieces > rows)
        return mismatch("ids from " + std::to_string(rows) + " up would have no embedding row");
    if (tokenizerPieces > textRows)
        return mismatch("its ids from " + std::to_string(textRows) + " up collide with the model's image/added tokens");
    if (textRows - tokenizerPieces > kMaxExtraTextRows)
        return mismatch("the model would generate ids this tokenizer cannot decode (at most " +
                        std::to_string(kMaxExtraTextRows) + " extra rows are accepted as added tokens or padding)");
    return Status::ok();
}

}  // namespace llava
