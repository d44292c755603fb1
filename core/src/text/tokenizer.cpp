// Tokenizer: sentencepiece behind a pimpl (so no sentencepiece header leaks into the public API)
// plus literal special-token splitting. Why the splitting: sentencepiece never produces control
// symbols (<s>, </s>, Yi's <|endoftext|>) from text, but the HF tokenizers ORIG and HF use do.
#include "llava/tokenizer.h"

#include <algorithm>
#include <charconv>

#include <sentencepiece_processor.h>

#include "llava/checkedfile.h"

namespace llava {

struct Tokenizer::Impl {
    sentencepiece::SentencePieceProcessor sp;
    bool dummyPrefix = true;
    // Long text may be encoded window by window, cut after a newline (encodePlain): true when no piece
    // joins a newline with anything else, so BPE never merges across one (checked at load).
    bool newlineSplits = false;
    std::vector<int> newlinePrefix;  // ids of "\n" alone (dummy "▁" included): stripped from each window
};

namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁" U+2581

// Input bytes a piece stands for: each "▁" is one space byte of the text, everything else itself.
int pieceInputBytes(std::string_view piece) {
    int bytes = 0;
    for (std::size_t i = 0; i < piece.size(); ++bytes)
        i += piece.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0 ? kSpaceSymbol.size() : 1;
    return bytes;
}

Status fromSp(const sentencepiece::util::Status& status, const std::string& source, const char* what) {
    return makeError(ErrorCode::ParseError,
                     source + ": " + what + " failed: " + std::string(status.ToString()));
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl, std::string sourceName)
    : m_impl(std::move(impl)), m_sourceName(std::move(sourceName)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::loadFile(const std::filesystem::path& modelPath) {
    LLAVA_ASSIGN_OR_RETURN(std::string bytes, readCheckedFile(modelPath, "tokenizer model", kMaxTokenizerModelBytes));
    return loadBytes(bytes, modelPath.string());
}

Result<Tokenizer> Tokenizer::loadBytes(std::string_view serializedModel, std::string sourceName) {
    if (serializedModel.empty())
        return makeError(ErrorCode::ParseError, sourceName + ": empty tokenizer model");
    auto impl = std::make_unique<Impl>();
    const auto status = impl->sp.LoadFromSerializedProto(serializedModel);
    if (!status.ok()) return fromSp(status, sourceName, "loading sentencepiece model");
    if (impl->sp.GetPieceSize() <= 0)
        return makeError(ErrorCode::ParseError, sourceName + ": tokenizer model has no pieces");

    // The normalizer spec is not exposed without protobuf headers; observe it instead: with a dummy
    // prefix, "a" encodes to pieces starting with "▁".
    std::vector<std::string> probe;
    if (impl->sp.Encode("a", &probe).ok() && !probe.empty())
        impl->dummyPrefix = probe.front().rfind(kSpaceSymbol, 0) == 0;

    Tokenizer tokenizer(std::move(impl), std::move(sourceName));
    tokenizer.scanVocabulary();
    tokenizer.addDefaultSpecials();
    tokenizer.m_addBos = tokenizer.bosId() >= 0 ? AddBos::Yes : AddBos::No;
    return tokenizer;
}

void Tokenizer::scanVocabulary() {
    Impl& impl = *m_impl;
    bool newlineJoined = false;
    for (int id = 0; id < vocabSize(); ++id) {
        if (isControl(id) || isUnknown(id)) continue;  // never produced from text (specials: addSpecialToken)
        if (byteValue(id)) continue;                   // one byte
        const std::string piece = idToPiece(id);
        m_maxBytesPerToken = std::max(m_maxBytesPerToken, pieceInputBytes(piece));
        if (piece != "\n" && piece.find('\n') != std::string::npos) newlineJoined = true;
    }
    // Window cutting also needs "\n" to survive normalisation as itself, and is probed once on text with
    // the cases that matter (spaces after a newline, newline runs) against the one-string encoding.
    impl.newlinePrefix = encodeWhole("\n");
    const std::string nlPiece = idToPiece(impl.newlinePrefix.empty() ? -1 : impl.newlinePrefix.back());
    const bool newlineKept = nlPiece == "\n" || nlPiece == "<0x0A>";
    if (newlineJoined || !newlineKept) return;
    const std::string probe = "Hi there\n  two spaces\n\n\nruns \n x";
    std::vector<int> windowed;
    std::size_t begin = 0;
    while (begin < probe.size()) {
        const std::size_t nl = probe.find('\n', begin);
        const std::size_t end = nl == std::string::npos ? probe.size() : nl + 1;
        const std::string window = begin == 0 ? probe.substr(0, end) : "\n" + probe.substr(begin, end - begin);
        const std::vector<int> ids = encodeWhole(window);
        const std::size_t skip = begin == 0 ? 0 : impl.newlinePrefix.size();
        if (ids.size() < skip || !std::equal(impl.newlinePrefix.begin(), impl.newlinePrefix.begin() + skip, ids.begin())) return;
        windowed.insert(windowed.end(), ids.begin() + static_cast<std::ptrdiff_t>(skip), ids.end());
        begin = end;
    }
    impl.newlineSplits = windowed == encodeWhole(probe);
}

void Tokenizer::addDefaultSpecials() {
    // Exactly the tokens HF declares special for Llama-family tokenizers: unk, bos, eos. Other control
    // pieces (Yi's <|Human|>, reserved slots) are only split when tokenizer_config.json lists them.
    for (int id : {unkId(), bosId(), eosId()}) {
        if (id >= 0 && id < vocabSize()) (void)addSpecialToken(idToPiece(id), id);
    }
}

Status Tokenizer::addSpecialToken(std::string text, int id) {
    if (text.empty()) return makeError(ErrorCode::InvalidArgument, m_sourceName + ": empty special token text");
    if (id < 0 || id >= vocabSize())
        return makeError(ErrorCode::OutOfRange, m_sourceName + ": special token '" + text + "' id " +
                                                    std::to_string(id) + " outside vocabulary of " +
                                                    std::to_string(vocabSize()));
    for (auto& special : m_specials) {
        if (special.text == text) {
            special.id = id;
            return Status::ok();
        }
    }
    m_maxBytesPerToken = std::max(m_maxBytesPerToken, static_cast<int>(text.size()));
    m_specials.push_back({std::move(text), id});
    std::stable_sort(m_specials.begin(), m_specials.end(),
                     [](const SpecialToken& a, const SpecialToken& b) { return a.text.size() > b.text.size(); });
    return Status::ok();
}

std::vector<int> Tokenizer::encodeWhole(std::string_view text) const {
    std::vector<int> ids;
    if (text.empty()) return ids;
    // Encode only fails on an unloaded model, which the factory functions rule out.
    (void)m_impl->sp.Encode(text, &ids);
    return ids;
}

// Why windows: sentencepiece's BPE keeps per input character a symbol, candidate pairs in a heap and
// an offset table (~100 bytes per byte; a 40 MB prompt took 4.5 GB). Cut after a newline (BPE never
// merges across one for these vocabularies, scanVocabulary), the next window is encoded as "\n" + window
// so it starts in the same state as inside the whole string, and the ids of that "\n" are dropped.
std::vector<int> Tokenizer::encodePlain(std::string_view text) const {
    if (text.size() <= kEncodeWindowBytes || !m_impl->newlineSplits) return encodeWhole(text);
    const std::vector<int>& prefix = m_impl->newlinePrefix;
    std::vector<int> ids;
    std::string window;
    std::size_t begin = 0;
    while (begin < text.size()) {
        std::size_t end = text.size();
        if (end - begin > kEncodeWindowBytes) {
            std::size_t nl = text.rfind('\n', begin + kEncodeWindowBytes - 1);
            if (nl == std::string_view::npos || nl < begin) nl = text.find('\n', begin + kEncodeWindowBytes);
            if (nl != std::string_view::npos) end = nl + 1;
        }
        if (begin == 0) {
            ids = encodeWhole(text.substr(0, end));
        } else {
            window.assign("\n");
            window.append(text.substr(begin, end - begin));
            const std::vector<int> part = encodeWhole(window);
            ids.insert(ids.end(), part.begin() + static_cast<std::ptrdiff_t>(prefix.size()), part.end());
        }
        begin = end;
    }
    return ids;
}

std::vector<int> Tokenizer::encode(std::string_view text, AddBos addBos) const {
    std::vector<int> ids;
    if (addBos == AddBos::Yes && bosId() >= 0) ids.push_back(bosId());
    std::size_t chunkBegin = 0;
    std::size_t pos = 0;
    auto flushChunk = [&](std::size_t end) {
        const auto chunk = encodePlain(text.substr(chunkBegin, end - chunkBegin));
        ids.insert(ids.end(), chunk.begin(), chunk.end());
    };
    while (pos < text.size()) {
        const SpecialToken* match = nullptr;
        for (const auto& special : m_specials) {  // longest first
            if (text.compare(pos, special.text.size(), special.text) == 0) {
                match = &special;
                break;
            }
        }
        if (!match) {
            ++pos;
            continue;
        }
        // Each plain chunk is a fresh sentencepiece string (dummy prefix included), as the HF
        // legacy tokenizers and ORIG's per-chunk tokenizer_image_token do.
        flushChunk(pos);
        ids.push_back(match->id);
        pos += match->text.size();
        chunkBegin = pos;
    }
    flushChunk(text.size());
    return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
    std::vector<int> valid;
    valid.reserve(ids.size());
    for (int id : ids) {
        if (id >= 0 && id < vocabSize()) valid.push_back(id);
    }
    std::string text;
    (void)m_impl->sp.Decode(valid, &text);
    return text;
}

std::string Tokenizer::idToPiece(int id) const {
    if (id < 0 || id >= vocabSize()) return {};
    return m_impl->sp.IdToPiece(id);
}

std::optional<int> Tokenizer::pieceToId(std::string_view piece) const {
    const int id = m_impl->sp.PieceToId(piece);
    // PieceToId answers unk for unknown pieces; only the unk piece itself really maps to unk.
    if (id == unkId() && piece != idToPiece(unkId())) return std::nullopt;
    return id;
}

int Tokenizer::vocabSize() const { return m_impl->sp.GetPieceSize(); }
int Tokenizer::bosId() const { return m_impl->sp.bos_id(); }
int Tokenizer::eosId() const { return m_impl->sp.eos_id(); }
int Tokenizer::unkId() const { return m_impl->sp.unk_id(); }
bool Tokenizer::addsDummyPrefix() const { return m_impl->dummyPrefix; }

bool Tokenizer::isControl(int id) const {
    return id >= 0 && id < vocabSize() && m_impl->sp.IsControl(id);
}

bool Tokenizer::isUnknown(int id) const {
    return id >= 0 && id < vocabSize() && m_impl->sp.IsUnknown(id);
}

std::optional<std::uint8_t> Tokenizer::byteValue(int id) const {
    if (id < 0 || id >= vocabSize() || !m_impl->sp.IsByte(id)) return std::nullopt;
    const std::string piece = idToPiece(id);  // "<0xAB>"
    if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>') return std::nullopt;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(piece.data() + 3, piece.data() + 5, value, 16);
    if (ec != std::errc() || end != piece.data() + 5) return std::nullopt;
    return static_cast<std::uint8_t>(value);
}

}  // namespace llava
