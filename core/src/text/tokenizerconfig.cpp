// Tokenizer::applyTokenizerConfig: reads the HF tokenizer_config.json of a model folder.
// Only the two things that change ids: add_bos_token and the literal added tokens. Tokens whose
// id lies outside the sentencepiece vocabulary (llava-hf's "<image>" = 32000) are not ours to
// map: prompt.h splits "<image>" before the tokenizer sees the text.
#include <nlohmann/json.hpp>

#include "llava/checkedfile.h"
#include "llava/tokenizer.h"

namespace llava {

namespace {

// "bos_token" is either a plain string or {"content": "<s>", ...} depending on the writer.
std::string tokenContent(const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
        return value["content"].get<std::string>();
    return {};
}

}  // namespace

Status Tokenizer::applyTokenizerConfig(const std::filesystem::path& modelDir) {
    const auto path = modelDir / "tokenizer_config.json";
    const std::string name = path.string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Status::ok();
    LLAVA_ASSIGN_OR_RETURN(std::string text, readCheckedFile(path, "tokenizer config", kMaxTokenizerConfigBytes));

    const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object())
        return makeError(ErrorCode::ParseError, name + ": not a JSON object");

    if (json.contains("add_bos_token")) {
        if (!json["add_bos_token"].is_boolean())
            return makeError(ErrorCode::ParseError, name + ": add_bos_token is not a boolean");
        m_addBos = json["add_bos_token"].get<bool>() ? AddBos::Yes : AddBos::No;
    }

    if (json.contains("added_tokens_decoder")) {
        const auto& decoder = json["added_tokens_decoder"];
        if (!decoder.is_object()) return makeError(ErrorCode::ParseError, name + ": added_tokens_decoder is not an object");
        for (const auto& [key, value] : decoder.items()) {
            int id = -1;
            try {
                id = std::stoi(key);
            } catch (...) {
                return makeError(ErrorCode::ParseError, name + ": added token id '" + key + "' is not a number");
            }
            const std::string content = tokenContent(value);
            if (content.empty()) return makeError(ErrorCode::ParseError, name + ": added token " + key + " has no content");
            if (id < 0 || id >= vocabSize()) continue;  // e.g. <image> beyond the sp vocabulary
            LLAVA_TRY(addSpecialToken(content, id).withContext(name));
        }
    }

    // Older configs only name the specials; map each through the vocabulary.
    for (const char* key : {"bos_token", "eos_token", "unk_token"}) {
        if (!json.contains(key)) continue;
        const std::string content = tokenContent(json[key]);
        if (const auto id = pieceToId(content); id && !content.empty()) LLAVA_TRY(addSpecialToken(content, *id));
    }
    if (json.contains("additional_special_tokens") && json["additional_special_tokens"].is_array()) {
        for (const auto& value : json["additional_special_tokens"]) {
            const std::string content = tokenContent(value);
            if (const auto id = pieceToId(content); id && !content.empty()) LLAVA_TRY(addSpecialToken(content, *id));
        }
    }
    return Status::ok();
}

}  // namespace llava
