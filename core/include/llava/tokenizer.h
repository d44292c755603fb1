// SentencePiece tokenizer for the LLaVA text models (Mistral / Llama-2 / Yi), docs/spec.md §7.1-§7.3.
// Adds what plain sentencepiece lacks: special tokens written literally in the text ("</s>",
// "<s>", "<|endoftext|>") become their ids, as the HF tokenizers and ORIG's tokenizer do.
// Text between special tokens is encoded as a fresh sentencepiece string, so each chunk gets the
// model's dummy prefix "▁" (Mistral/Llama; Yi has none) — the HF "legacy" behaviour ORIG relies on.
// Deliberately not here: chat templates (chattemplate.h), <image> splitting (prompt.h), streaming
// decode (detokenizer.h). Thread safety: all const methods may be called from many threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llava/status.h"

namespace llava {

enum class AddBos { No, Yes };

// A string that is matched literally in input text and mapped to one id.
struct SpecialToken {
    std::string text;  // "</s>", "<|im_end|>"
    int id = -1;
};

class Tokenizer {
public:
    // PRECONDITIONS: none; errors name the file and what was wrong.
    static Result<Tokenizer> loadFile(const std::filesystem::path& modelPath);
    // `sourceName` only labels error messages ("<memory>", a file name inside an archive).
    static Result<Tokenizer> loadBytes(std::string_view serializedModel, std::string sourceName = "<memory>");

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;
    ~Tokenizer();

    // Reads <modelDir>/tokenizer_config.json when present: add_bos_token and every added token whose
    // text is a vocabulary piece (or has an id inside the vocabulary) becomes a SpecialToken.
    // A missing file is not an error (returns ok and changes nothing); malformed JSON is.
    Status applyTokenizerConfig(const std::filesystem::path& modelDir);
    // Registers one more literal special token. `id` must be inside the vocabulary.
    Status addSpecialToken(std::string text, int id);

    // Special tokens in `text` become their ids; the rest is sentencepiece-encoded per chunk.
    // BOS is prepended when addBos == Yes (callers usually pass defaultAddBos()).
    std::vector<int> encode(std::string_view text, AddBos addBos) const;
    // Plain sentencepiece encoding, no special-token matching and no BOS (what sp.encode does).
    // Memory: sentencepiece's BPE needs ~100 bytes per input byte for one string, so long text is
    // encoded in pieces of about kEncodeWindowBytes cut after a newline (see tokenizer.cpp: for the
    // vocabularies where no piece spans a newline this gives exactly sp.encode's ids).
    std::vector<int> encodePlain(std::string_view text) const;
    static constexpr std::size_t kEncodeWindowBytes = 16 * 1024;

    // The most input bytes one token can stand for: the longest vocabulary piece (its "▁" counted as
    // the one space byte it encodes; byte pieces as 1) or literal special token. A text of B bytes
    // therefore gives at least B / maxBytesPerToken() tokens, so a text longer than
    // context x maxBytesPerToken() can never fit: callers refuse it before tokenising.
    int maxBytesPerToken() const { return m_maxBytesPerToken; }
    // Full decode of ids as sentencepiece does it; special/control ids are skipped.
    std::string decode(const std::vector<int>& ids) const;

    // Piece text ("▁the", "<0x0A>", "</s>"); empty string for an id outside the vocabulary.
    std::string idToPiece(int id) const;
    // Id of an exact piece; nullopt when the piece is not in the vocabulary.
    std::optional<int> pieceToId(std::string_view piece) const;

    int vocabSize() const;
    int bosId() const;   // -1 when the model has none
    int eosId() const;
    int unkId() const;
    AddBos defaultAddBos() const { return m_addBos; }

    bool isControl(int id) const;  // <s>, </s>, Yi's <|startoftext|> ...; never shown to users
    bool isUnknown(int id) const;
    // Byte-fallback piece "<0xAB>": returns the byte, nullopt for any other id.
    std::optional<std::uint8_t> byteValue(int id) const;
    // True when the model adds "▁" at the start of every encoded string (Mistral, Llama: yes; Yi: no).
    bool addsDummyPrefix() const;

    const std::vector<SpecialToken>& specialTokens() const { return m_specials; }
    const std::string& sourceName() const { return m_sourceName; }

private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl, std::string sourceName);
    void addDefaultSpecials();
    std::vector<int> encodeWhole(std::string_view text) const;
    void scanVocabulary();  // m_maxBytesPerToken, newline windows (tokenizer.cpp)

    std::unique_ptr<Impl> m_impl;
    std::string m_sourceName;
    std::vector<SpecialToken> m_specials;  // longest text first, so "<|im_end|>" wins over a prefix
    AddBos m_addBos = AddBos::Yes;
    int m_maxBytesPerToken = 1;
};

}  // namespace llava
