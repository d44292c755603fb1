// computeTrainingLabels: a line-by-line port of ORIG llava/train/train.py (preprocess_multimodal,
// preprocess_llama_2 / _v1 / _mpt / _plain) on top of our chat templates and tokenizer. The arithmetic is
// kept literally (split on separators, re-tokenize each round, "- 2" / "- 1" corrections, Python slice
// semantics), because its quirks are the point: they decide which tokens the model learned from.
// https://github.com/haotian-liu/LLaVA/blob/main/llava/train/train.py (llava-torch 1.2.2.post1)
#include "llava/traininglabels.h"

#include <algorithm>
#include <string_view>

#include "llava/prompt.h"

namespace llava {
namespace {

enum class Style { Plain, Llama2, Two, Mpt };

struct StyleInfo {
    Style style;
    const char* function;
};

Result<StyleInfo> styleFor(const std::string& templateName, std::string* canonical) {
    if (templateName == "plain") {
        *canonical = "plain";
        return StyleInfo{Style::Plain, "preprocess_plain"};
    }
    LLAVA_ASSIGN_OR_RETURN(ChatTemplateInfo info, findChatTemplate(templateName));
    *canonical = info.name;
    // preprocess() dispatch: PLAIN, then LLAMA_2, then version "v1*", then version "mpt".
    if (info.name == "mistral_instruct" || info.name == "llava_llama_2") return StyleInfo{Style::Llama2, "preprocess_llama_2"};
    if (info.name == "llava_v1" || info.name == "vicuna_v1") return StyleInfo{Style::Two, "preprocess_v1"};
    if (info.name == "chatml_direct") return StyleInfo{Style::Mpt, "preprocess_mpt"};
    return makeError(ErrorCode::Unsupported, "no training preprocess known for template '" + info.name + "'");
}

// Python str.strip(): ASCII whitespace plus the Unicode White_Space code points, UTF-8 encoded.
std::size_t whitespaceLengthAt(std::string_view s, std::size_t pos, bool backwards) {
    static constexpr std::string_view kMultiByte[] = {
        "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83",
        "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89",
        "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
    const unsigned char c = static_cast<unsigned char>(backwards ? s[pos - 1] : s[pos]);
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
    for (std::string_view ws : kMultiByte) {
        if (backwards ? (pos >= ws.size() && s.substr(pos - ws.size(), ws.size()) == ws)
                      : s.substr(pos, ws.size()) == ws)
            return ws.size();
    }
    return 0;
}

std::string pyStrip(std::string_view s) {
    std::size_t begin = 0, end = s.size();
    while (begin < end) {
        const std::size_t n = whitespaceLengthAt(s, begin, false);
        if (n == 0) break;
        begin += n;
    }
    while (end > begin) {
        const std::size_t n = whitespaceLengthAt(s, end, true);
        if (n == 0) break;
        end -= n;
    }
    return std::string(s.substr(begin, end - begin));
}

// Python str.split(sep) with a non-empty separator.
std::vector<std::string> pySplit(std::string_view s, std::string_view sep) {
    std::vector<std::string> parts;
    std::size_t begin = 0;
    for (std::size_t pos = s.find(sep); pos != std::string_view::npos; pos = s.find(sep, begin)) {
        parts.emplace_back(s.substr(begin, pos - begin));
        begin = pos + sep.size();
    }
    parts.emplace_back(s.substr(begin));
    return parts;
}

std::string pyJoin(const std::vector<std::string>& parts, std::size_t from, std::size_t to, std::string_view sep) {
    std::string out;
    for (std::size_t i = from; i < std::min(to, parts.size()); ++i) out += (i == from ? "" : std::string(sep)) + parts[i];
    return out;
}

// target[start:end] = IGNORE_INDEX with Python's slice rules (negative indices count from the end, clamped).
void maskSlice(std::vector<int>& target, long start, long end) {
    const long n = static_cast<long>(target.size());
    auto clamp = [n](long i) { return i < 0 ? std::max(0L, i + n) : std::min(i, n); };
    for (long i = clamp(start); i < clamp(end); ++i) target[static_cast<std::size_t>(i)] = kIgnoreIndex;
}

// HF's slow LlamaTokenizer with legacy=False (transformers 4.36 tokenize/_tokenize): "▁" is prepended to
// the text (its own "▁" become spaces), the text is split on the special tokens, and each piece between
// them is encoded by a sentencepiece WITHOUT the dummy prefix; a lone leading "▁" before a special token
// is dropped. Without a dummy prefix, text after "</s>" gets no "▁" (legacy: it does).
class NonLegacyEncoder {
public:
    explicit NonLegacyEncoder(const Tokenizer& tokenizer) : m_tokenizer(tokenizer) {
        m_unkLength = m_tokenizer.encodePlain(m_tokenizer.idToPiece(m_tokenizer.unkId())).size();
    }

    std::vector<int> encode(std::string_view text, AddBos addBos) const {
        std::vector<int> ids;
        if (addBos == AddBos::Yes && m_tokenizer.bosId() >= 0) ids.push_back(m_tokenizer.bosId());
        if (text.empty()) return ids;
        std::string t = std::string(kSpace);
        for (std::size_t pos = 0; pos < text.size();) {  // text.replace("▁", " ")
            if (text.compare(pos, kSpace.size(), kSpace) == 0) {
                t += ' ';
                pos += kSpace.size();
            } else {
                t += text[pos++];
            }
        }
        const std::size_t first = ids.size();
        std::size_t chunkBegin = 0;
        for (std::size_t pos = 0; pos < t.size();) {
            const SpecialToken* match = nullptr;
            for (const auto& special : m_tokenizer.specialTokens()) {  // longest first
                if (t.compare(pos, special.text.size(), special.text) == 0) {
                    match = &special;
                    break;
                }
            }
            if (!match) {
                ++pos;
                continue;
            }
            appendChunk(ids, std::string_view(t).substr(chunkBegin, pos - chunkBegin));
            ids.push_back(match->id);
            pos += match->text.size();
            chunkBegin = pos;
        }
        appendChunk(ids, std::string_view(t).substr(chunkBegin));
        const auto space = m_tokenizer.pieceToId(kSpace);
        if (ids.size() > first + 1 && space && ids[first] == *space && isSpecial(ids[first + 1]))
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(first));
        return ids;
    }

private:
    static constexpr std::string_view kSpace = "\xe2\x96\x81";

    bool isSpecial(int id) const {
        for (const auto& special : m_tokenizer.specialTokens())
            if (special.id == id) return true;
        return false;
    }
    // sentencepiece without the dummy prefix. Our processor adds it (Mistral, Llama), so: a chunk starting
    // with "▁"/" " is the prefixed encoding of the rest; any other chunk is encoded behind "<unk>" and those
    // pieces are dropped again (HF's own trick in _tokenize). Yi has no dummy prefix: encoded as is.
    void appendChunk(std::vector<int>& ids, std::string_view chunk) const {
        if (chunk.empty()) return;
        std::vector<int> v;
        if (!m_tokenizer.addsDummyPrefix()) {
            v = m_tokenizer.encodePlain(chunk);
        } else if (chunk.compare(0, kSpace.size(), kSpace) == 0) {
            v = m_tokenizer.encodePlain(chunk.substr(kSpace.size()));
        } else if (chunk.front() == ' ') {
            v = m_tokenizer.encodePlain(chunk.substr(1));
        } else {
            v = m_tokenizer.encodePlain(m_tokenizer.idToPiece(m_tokenizer.unkId()) + std::string(chunk));
            v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(m_unkLength, v.size())));
        }
        ids.insert(ids.end(), v.begin(), v.end());
    }

    const Tokenizer& m_tokenizer;
    std::size_t m_unkLength = 0;
};

// The two ways ORIG tokenizes: tokenizer_image_token (has_image) or tokenizer(text).input_ids, with the
// legacy or non-legacy tokenizer.
class Lengths {
public:
    Lengths(const Tokenizer& tokenizer, bool hasImage, AddBos addBos, TokenizerLegacy legacy)
        : m_tokenizer(tokenizer), m_hasImage(hasImage), m_addBos(addBos), m_legacy(legacy), m_nonLegacy(tokenizer) {}

    std::vector<int> encode(std::string_view text) const {
        return m_legacy == TokenizerLegacy::Yes ? m_tokenizer.encode(text, m_addBos) : m_nonLegacy.encode(text, m_addBos);
    }
    // mm_utils.tokenizer_image_token: chunks between "<image>" tokenized on their own (each with BOS), BOS kept
    // once when the first chunk starts with it, -200 between chunks.
    std::vector<int> ids(const std::string& text) const {
        if (!m_hasImage) return encode(text);
        std::vector<std::vector<int>> chunks;
        std::size_t begin = 0;
        for (std::size_t pos = text.find(kImageMarker);; pos = text.find(kImageMarker, begin)) {
            chunks.push_back(encode(std::string_view(text).substr(begin, pos == std::string::npos ? std::string::npos : pos - begin)));
            if (pos == std::string::npos) break;
            begin = pos + kImageMarker.size();
        }
        std::vector<int> out;
        std::size_t offset = 0;
        if (!chunks[0].empty() && chunks[0][0] == m_tokenizer.bosId()) {
            offset = 1;
            out.push_back(chunks[0][0]);
        }
        for (std::size_t c = 0; c < chunks.size(); ++c) {
            if (c > 0) out.push_back(kImagePlaceholderId);
            out.insert(out.end(), chunks[c].begin() + static_cast<std::ptrdiff_t>(std::min(offset, chunks[c].size())),
                       chunks[c].end());
        }
        return out;
    }
    long length(const std::string& text) const { return static_cast<long>(ids(text).size()); }

private:
    const Tokenizer& m_tokenizer;
    bool m_hasImage;
    AddBos m_addBos;
    TokenizerLegacy m_legacy;
    NonLegacyEncoder m_nonLegacy;
};

Status validateTurns(const std::vector<TrainingTurn>& turns, Style style) {
    if (turns.empty()) return makeError(ErrorCode::InvalidArgument, "empty conversation");
    for (std::size_t i = 0; i < turns.size(); ++i) {
        const TrainingTurn& t = turns[i];
        const std::string where = "turn " + std::to_string(i + 1);
        const ChatRole expected = i % 2 == 0 ? ChatRole::User : ChatRole::Assistant;
        if (t.role != expected)
            return makeError(ErrorCode::InvalidArgument, where + " must be a " +
                                                             (expected == ChatRole::User ? "user" : "assistant") +
                                                             " turn (turns alternate, user first)");
        if (t.images < 0 || t.images > 1)
            return makeError(ErrorCode::InvalidArgument, where + " has " + std::to_string(t.images) +
                                                             " images; ORIG preprocess_multimodal keeps one <image> per message");
        if (t.images > 0 && t.role != ChatRole::User)
            return makeError(ErrorCode::InvalidArgument, where + ": images belong to user messages");
        if (t.text.find(kImageMarker) != std::string::npos)
            return makeError(ErrorCode::InvalidArgument, where + " contains a literal \"<image>\"; attach images instead");
        if (t.text.empty() && t.images == 0)
            return makeError(ErrorCode::InvalidArgument, where + " is empty (ORIG renders an empty message as a pending reply)");
    }
    if (turns.back().role != ChatRole::Assistant)
        return makeError(ErrorCode::InvalidArgument, "a training sample ends with an assistant turn (complete exchanges only)");
    if (style == Style::Plain && (turns.size() != 2 || turns[0].images != 1))
        return makeError(ErrorCode::InvalidArgument,
                         "plain (stage 1) takes exactly one exchange whose user message has the image");
    return Status::ok();
}

// preprocess_multimodal: the marker of a message moves to its front ("<image>\n" + stripped text, then
// stripped again, so an image without text is just "<image>"). Only for samples with an image.
std::string multimodalValue(const TrainingTurn& turn, bool hasImage) {
    if (!hasImage || turn.images == 0) return turn.text;
    return pyStrip(std::string(kImageMarker) + "\n" + pyStrip(turn.text));
}

struct MaskState {
    long curLen = 0;
};

// The round loop shared by preprocess_llama_2 / _v1 / _mpt: each round masks its instruction part.
Status maskRounds(std::vector<int>& target, const std::vector<std::string>& rounds, const std::string& sep,
                  long instructionCorrection, long laterRoundCorrection, const Lengths& lengths, MaskState& state) {
    for (std::size_t i = 0; i < rounds.size(); ++i) {
        const std::string& rou = rounds[i];
        if (rou.empty()) break;
        std::vector<std::string> parts = pySplit(rou, sep);
        if (parts.size() != 2) break;
        parts[0] += sep;
        long roundLen = lengths.length(rou);
        long instructionLen = lengths.length(parts[0]);
        instructionLen -= instructionCorrection;
        if (i != 0) {
            roundLen += laterRoundCorrection;
            instructionLen += laterRoundCorrection;
        }
        maskSlice(target, state.curLen, state.curLen + instructionLen);
        state.curLen += roundLen;
    }
    return Status::ok();
}

}  // namespace

int TrainingLabels::learnedCount() const {
    return static_cast<int>(std::count_if(labels.begin(), labels.end(), [](int l) { return l != kIgnoreIndex; }));
}

Result<TrainingLabels> computeTrainingLabels(const Tokenizer& tokenizer, const std::vector<TrainingTurn>& turns,
                                             const TrainingLabelOptions& options) {
    std::string canonical;
    LLAVA_ASSIGN_OR_RETURN(StyleInfo style, styleFor(options.templateName, &canonical));
    LLAVA_TRY(validateTurns(turns, style.style));
    if (options.modelMaxLength <= 0)
        return makeError(ErrorCode::InvalidArgument, "model_max_length " + std::to_string(options.modelMaxLength));
    TrainingLabels out;
    out.preprocess = style.function;
    out.hasImage = std::any_of(turns.begin(), turns.end(), [](const TrainingTurn& t) { return t.images > 0; });
    const Lengths lengths(tokenizer, out.hasImage, options.addBos.value_or(tokenizer.defaultAddBos()), options.legacy);

    if (style.style == Style::Plain) {
        // preprocess_plain: the question is replaced by the bare marker; "<image>" + answer + sep ("\n").
        const std::string marker(kImageMarker);
        out.ids = lengths.ids(marker + turns[1].text + "\n");
        out.labels = out.ids;
        maskSlice(out.labels, 0, lengths.length(marker));
        return out;
    }

    std::vector<ChatTurn> chat;
    for (const TrainingTurn& t : turns) {
        ChatTurn turn;  // members set by name: ChatTurn may grow
        turn.role = t.role;
        turn.text = multimodalValue(t, out.hasImage);
        chat.push_back(std::move(turn));
    }
    RenderOptions render;
    render.flavour = TemplateFlavour::Original;
    render.nImages = 0;  // the markers are already in the messages, where preprocess_multimodal put them
    render.systemPrompt = options.systemPrompt;
    LLAVA_ASSIGN_OR_RETURN(out.conversation, renderChat(canonical, chat, render));

    out.ids = lengths.ids(out.conversation);
    // Without an image ORIG calls tokenizer(..., max_length=model_max_length, truncation=True).
    if (!out.hasImage && static_cast<int>(out.ids.size()) > options.modelMaxLength)
        out.ids.resize(static_cast<std::size_t>(options.modelMaxLength));
    out.labels = out.ids;
    // pad_token = unk_token; total_len counts the ids that are not the pad id.
    const long totalLen = std::count_if(out.ids.begin(), out.ids.end(), [&](int id) { return id != tokenizer.unkId(); });
    const bool legacy = options.legacy == TokenizerLegacy::Yes;  // tokenizers 0.15 >= 0.14 in ORIG's pins

    MaskState state;
    switch (style.style) {
    case Style::Llama2: {
        state.curLen = 1;
        maskSlice(out.labels, 0, 1);
        LLAVA_TRY(maskRounds(out.labels, pySplit(out.conversation, "</s>"), "[/INST] ", 2, 0, lengths, state));
        break;
    }
    case Style::Two: {
        state.curLen = 1;
        maskSlice(out.labels, 0, 1);
        LLAVA_TRY(maskRounds(out.labels, pySplit(out.conversation, "</s>"), " ASSISTANT: ", 2, legacy ? 0 : -1,
                             lengths, state));
        break;
    }
    case Style::Mpt: {
        const std::string sep = "<|im_end|>";
        const std::vector<std::string> rounds = pySplit(out.conversation, sep);
        std::vector<std::string> reRounds = {pyJoin(rounds, 0, 3, sep)};  // system + user + gpt
        for (std::size_t i = 3; i < rounds.size(); i += 2) reRounds.push_back(pyJoin(rounds, i, i + 2, sep));
        state.curLen = 0;
        LLAVA_TRY(maskRounds(out.labels, reRounds, sep + "<|im_start|>assistant\n", 1, legacy ? 1 : 0, lengths, state));
        break;
    }
    case Style::Plain: break;
    }
    maskSlice(out.labels, state.curLen, static_cast<long>(out.labels.size()));
    if (state.curLen < options.modelMaxLength && state.curLen != totalLen) {
        std::fill(out.labels.begin(), out.labels.end(), kIgnoreIndex);
        out.mismatch = true;
        out.mismatchCurLen = static_cast<int>(state.curLen);
        out.mismatchTotalLen = static_cast<int>(totalLen);
    }
    return out;
}

Result<ExpandedLabels> expandTrainingLabels(const TrainingLabels& labels, const std::vector<int>& imageTokenCounts,
                                            int imageTokenId, int tokenizerModelMaxLength) {
    const auto placeholders = static_cast<std::size_t>(std::count(labels.ids.begin(), labels.ids.end(), kImagePlaceholderId));
    if (placeholders != imageTokenCounts.size())
        return makeError(ErrorCode::InvalidArgument, "the labels have " + std::to_string(placeholders) +
                                                         " image placeholders but " + std::to_string(imageTokenCounts.size()) +
                                                         " image token counts were given");
    if (labels.ids.size() != labels.labels.size())
        return makeError(ErrorCode::InvalidArgument, "ids and labels differ in length");
    ExpandedLabels out;
    std::size_t image = 0;
    for (std::size_t i = 0; i < labels.ids.size(); ++i) {
        if (labels.ids[i] != kImagePlaceholderId) {
            out.ids.push_back(labels.ids[i]);
            out.labels.push_back(labels.labels[i]);
            continue;
        }
        const int n = imageTokenCounts[image++];
        if (n <= 0) return makeError(ErrorCode::InvalidArgument, "image " + std::to_string(image - 1) + " has token count " + std::to_string(n));
        out.ids.insert(out.ids.end(), static_cast<std::size_t>(n), imageTokenId);
        out.labels.insert(out.labels.end(), static_cast<std::size_t>(n), kIgnoreIndex);
    }
    if (tokenizerModelMaxLength > 0 && out.ids.size() > static_cast<std::size_t>(tokenizerModelMaxLength)) {
        out.ids.resize(static_cast<std::size_t>(tokenizerModelMaxLength));
        out.labels.resize(static_cast<std::size_t>(tokenizerModelMaxLength));
    }
    return out;
}

}  // namespace llava
