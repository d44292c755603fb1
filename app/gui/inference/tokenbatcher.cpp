// See tokenbatcher.h.
#include "tokenbatcher.h"

TokenAlternative toAlternative(const llava::TokenLogprob& t) {
    return {t.id, QString::fromStdString(t.token), t.logprob, t.rawLogprob};
}

TokenBatcher::TokenBatcher(int intervalMs, Emit emitBatch) : m_intervalMs(intervalMs), m_emit(std::move(emitBatch)) {
    m_sinceEmit.start();
}

void TokenBatcher::add(const llava::TokenEvent& event) {
    // Pieces are UTF-8 safe on their own (the detokenizer never splits a character), so each converts alone.
    const int length = int(QString::fromUtf8(event.piece.data(), qsizetype(event.piece.size())).size());
    if (event.confidence) {
        TokenProbability p;
        p.begin = m_position;
        p.length = length;
        p.chosen = toAlternative(event.confidence->chosen);
        for (const llava::TokenLogprob& t : event.confidence->top) p.top << toAlternative(t);
        m_tokens << p;
    }
    m_position += length;
    m_pending.append(event.piece.data(), qsizetype(event.piece.size()));
    if (m_sinceEmit.elapsed() >= m_intervalMs) flush();
}

void TokenBatcher::flush() {
    if (m_pending.isEmpty() && m_tokens.isEmpty()) return;
    m_emit(QString::fromUtf8(m_pending), m_tokens);
    m_pending.clear();
    m_tokens.clear();
    m_sinceEmit.restart();
}
