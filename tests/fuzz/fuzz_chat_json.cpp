// Fuzz target: the chat file parser (ChatStore::fromJson, app/gui/chat/chatstore.cpp), which reads every
// <data>/chats/*.json at start: files another program, a sync tool or an older/newer app version wrote.
// Input: the bytes of a chat file.
// Checks beyond "no crash / UB / leak":
//  - an accepted chat has a valid id and only plain image file names (no "", ".", "..", '/', '\\' or
//    control characters): loadAll joins them to <data>/images, and a name that is not a plain file name
//    would point a later delete (which moves unshared images to the trash) at a folder;
//  - it survives a save/load round trip field for field (title, prompt, roles, texts, images, states,
//    errors, seeds, token confidence: spans, ids, texts, log-probabilities, alternatives), and the second
//    serialisation is a fixed point of the first;
//  - accepted token confidence is what the GUI can show: spans inside the text, log-probabilities <= 0
//    (or -inf), at most 5 alternatives, highest first;
//  - what we would write back grows at most linearly with the input.
#include <QByteArray>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chat/chatstore.h"
#include "chat/stagesjson.h"

namespace {
bool plainFileName(const QString& name) {
    if (name.isEmpty() || name == QLatin1String(".") || name == QLatin1String("..")) return false;
    for (const QChar c : name)
        if (c == QLatin1Char('/') || c == QLatin1Char('\\') || c.unicode() < 0x20) return false;
    return true;
}

// Compared as UTF-8: a lone surrogate escaped in the input ("\ud800") is written back as U+FFFD, which is
// what the UTF-8 of the in-memory text already is; the text a user sees does not change.
bool same(const QString& a, const QString& b) { return a.toUtf8() == b.toUtf8(); }

bool same(const QStringList& a, const QStringList& b) {
    if (a.size() != b.size()) return false;
    for (qsizetype i = 0; i < a.size(); ++i)
        if (!same(a[i], b[i])) return false;
    return true;
}

// Log-probabilities compare exactly (-inf equals -inf): the file holds them as written.
bool same(const TokenAlternative& a, const TokenAlternative& b) {
    return a.id == b.id && same(a.text, b.text) && a.logprob == b.logprob && a.rawLogprob == b.rawLogprob;
}

bool same(const TokenProbabilities& a, const TokenProbabilities& b) {
    if (a.size() != b.size()) return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (a[i].begin != b[i].begin || a[i].length != b[i].length || !same(a[i].chosen, b[i].chosen) ||
            a[i].top.size() != b[i].top.size())
            return false;
        for (qsizetype k = 0; k < a[i].top.size(); ++k)
            if (!same(a[i].top[k], b[i].top[k])) return false;
    }
    return true;
}

bool showable(const ChatMessage& m) {
    for (const TokenProbability& t : m.tokens) {
        if (t.begin < 0 || t.length < 0 || qsizetype(t.begin) + t.length > m.text.size() || t.top.size() > 5) return false;
        if (!(t.chosen.logprob <= 0) || !(t.chosen.rawLogprob <= 0)) return false;  // NaN fails too
        for (qsizetype k = 0; k < t.top.size(); ++k)
            if (!(t.top[k].logprob <= 0) || !(t.top[k].rawLogprob <= 0) || (k > 0 && t.top[k].logprob > t.top[k - 1].logprob))
                return false;
    }
    return true;
}

// The timeline and its ceilings: every field as read (stagesjson.h), so a round trip keeps them exactly.
bool sameTimeline(const llava::GenerationStats& a, const llava::GenerationStats& b) {
    if (a.stages.size() != b.stages.size() || a.ceilings.has_value() != b.ceilings.has_value()) return false;
    for (std::size_t i = 0; i < a.stages.size(); ++i) {
        const llava::StageTiming& x = a.stages[i];
        const llava::StageTiming& y = b.stages[i];
        if (x.name != y.name || x.index != y.index || x.startMs != y.startMs || x.ms != y.ms || x.items != y.items ||
            x.position != y.position || x.bytes != y.bytes || x.flops != y.flops)
            return false;
    }
    if (a.stages.size() > std::size_t(kMaxSavedStages)) return false;
    return !a.ceilings || (a.ceilings->copyGBs == b.ceilings->copyGBs && a.ceilings->gemmGflops == b.ceilings->gemmGflops &&
                           a.ceilings->threads == b.ceilings->threads && a.ceilings->cpu == b.ceilings->cpu &&
                           a.ceilings->measuredAt == b.ceilings->measuredAt);
}

bool sameMessages(const Conversation& a, const Conversation& b) {
    if (a.messages.size() != b.messages.size()) return false;
    for (qsizetype i = 0; i < a.messages.size(); ++i) {
        const ChatMessage& x = a.messages[i];
        const ChatMessage& y = b.messages[i];
        if (x.role != y.role || !same(x.text, y.text) || !same(x.images, y.images) || !same(x.error, y.error) || x.seed != y.seed ||
            x.hasStats != y.hasStats || !same(x.tokens, y.tokens) || !sameTimeline(x.stats, y.stats))
            return false;
        // A reply still streaming is written as complete; every other state is kept.
        const MessageState sx = x.state == MessageState::Streaming ? MessageState::Complete : x.state;
        if (sx != y.state) return false;
    }
    return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), qsizetype(size));
    const auto chat = ChatStore::fromJson(bytes, QStringLiteral("fuzz.json"));
    if (!chat.isOk()) {
        if (chat.status().message().empty()) std::abort();  // a refusal always says why
        return 0;
    }
    if (!isValidConversationId(chat->id)) std::abort();
    for (const ChatMessage& m : chat->messages) {
        for (const QString& image : m.images)
            if (!plainFileName(image)) std::abort();
        if (!showable(m)) std::abort();
    }

    const QByteArray written = ChatStore::toJson(*chat);
    // Fixed markup per message (~300 bytes indented) on top of the input: never more than linear.
    if (written.size() > 16 * qsizetype(size) + 4096) std::abort();
    const auto back = ChatStore::fromJson(written, QStringLiteral("fuzz.json"));
    if (!back.isOk()) std::abort();  // we must always read what we wrote
    if (back->id != chat->id || !same(back->title, chat->title) || !same(back->systemPrompt, chat->systemPrompt) ||
        !same(back->modelName, chat->modelName) || !sameMessages(*chat, *back))
        std::abort();
    if (ChatStore::toJson(*back) != written) std::abort();
    return 0;
}
