// StreamingDetokenizer: incremental version of sentencepiece's DecodeIds. The rules mirror
// sentencepiece (checked against Python sentencepiece in tests/text): a run of byte pieces is decoded
// left to right, each byte that does not start a complete valid UTF-8 character becomes U+FFFD; any
// non-byte piece (including a skipped control token) ends the run; only the first non-special piece
// loses its leading "▁" (and only for models with a dummy prefix).
#include "llava/detokenizer.h"

#include <algorithm>

namespace llava {

namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁"
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

enum class Utf8Check { Complete, NeedMore, Invalid };

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
Utf8Check checkCharacter(std::string_view bytes, std::size_t* length) {
    const auto b0 = static_cast<unsigned char>(bytes[0]);
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 < 0x80) {
        *length = 1;
        return Utf8Check::Complete;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return Utf8Check::Invalid;
    }
    for (std::size_t i = 1; i < need; ++i) {
        if (i >= bytes.size()) return Utf8Check::NeedMore;
        const auto b = static_cast<unsigned char>(bytes[i]);
        const unsigned char low = i == 1 ? lo : 0x80;
        const unsigned char high = i == 1 ? hi : 0xBF;
        if (b < low || b > high) return Utf8Check::Invalid;
    }
    *length = need;
    return Utf8Check::Complete;
}

std::string replaceSpaceSymbols(std::string_view piece) {
    std::string out;
    out.reserve(piece.size());
    for (std::size_t i = 0; i < piece.size();) {
        if (piece.compare(i, kSpaceSymbol.size(), kSpaceSymbol) == 0) {
            out.push_back(' ');
            i += kSpaceSymbol.size();
        } else {
            out.push_back(piece[i++]);
        }
    }
    return out;
}

}  // namespace

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer) : m_tokenizer(&tokenizer) {}

void StreamingDetokenizer::reset() {
    m_pendingBytes.clear();
    m_atStart = true;
}

bool StreamingDetokenizer::isSpecial(int id) const {
    if (id < 0 || id >= m_tokenizer->vocabSize() || m_tokenizer->isControl(id)) return true;
    const auto& specials = m_tokenizer->specialTokens();
    return std::any_of(specials.begin(), specials.end(), [id](const SpecialToken& s) { return s.id == id; });
}

// Emits every character that is decided; with final == false an incomplete valid tail is kept.
std::string StreamingDetokenizer::drainBytes(bool final) {
    std::string out;
    std::size_t pos = 0;
    while (pos < m_pendingBytes.size()) {
        std::size_t length = 0;
        const auto check = checkCharacter(std::string_view(m_pendingBytes).substr(pos), &length);
        if (check == Utf8Check::Complete) {
            out.append(m_pendingBytes, pos, length);
            pos += length;
        } else if (check == Utf8Check::NeedMore && !final) {
            break;
        } else {
            out.append(kReplacement);
            pos += 1;
        }
    }
    m_pendingBytes.erase(0, pos);
    return out;
}

std::string StreamingDetokenizer::push(int id) {
    if (isSpecial(id)) return drainBytes(/*final=*/true);  // a control piece ends a byte run
    if (const auto byte = m_tokenizer->byteValue(id)) {
        m_atStart = false;
        m_pendingBytes.push_back(static_cast<char>(*byte));
        return drainBytes(/*final=*/false);
    }
    std::string out = drainBytes(/*final=*/true);
    // Unknown ids never get here: unk is one of the tokenizer's special tokens and is skipped.
    const std::string pieceText = m_tokenizer->idToPiece(id);
    std::string_view piece = pieceText;
    if (m_atStart && m_tokenizer->addsDummyPrefix() && piece.substr(0, kSpaceSymbol.size()) == kSpaceSymbol)
        piece.remove_prefix(kSpaceSymbol.size());
    m_atStart = false;
    out += replaceSpaceSymbols(piece);
    return out;
}

std::string StreamingDetokenizer::flush() { return drainBytes(/*final=*/true); }

}  // namespace llava
