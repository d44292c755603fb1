// Coalesces a reply's streamed TokenEvents on the inference thread: pieces and their confidence are
// collected and handed out together at most every interval (InferenceWorker::kCoalesceMs), so the GUI's
// event loop sees a few batches a second, not one signal per token. Confidence entries record where the
// token's text lies in the whole answer (UTF-16 offsets), which is what the chat view hovers over.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <functional>

#include "chat/tokenconfidence.h"
#include "llava/engine.h"

class TokenBatcher {
public:
    using Emit = std::function<void(const QString& text, const TokenProbabilities& tokens)>;
    TokenBatcher(int intervalMs, Emit emitBatch);

    void add(const llava::TokenEvent& event);  // flushes when the interval has passed
    void flush();

private:
    int m_intervalMs;
    Emit m_emit;
    QByteArray m_pending;           // UTF-8 pieces since the last flush
    TokenProbabilities m_tokens;    // their confidences
    int m_position = 0;             // UTF-16 length of the answer so far
    QElapsedTimer m_sinceEmit;
};

TokenAlternative toAlternative(const llava::TokenLogprob& logprob);
