// One streamed chat completion as it arrives from an OpenAI-compatible server: server-sent event lines
// ("data: {...}") holding chat.completion.chunk objects, fed in whatever pieces the network delivers.
// Hands each text piece to a callback (until it says stop) and keeps the finish reason, the usage block
// and an error object sent mid-stream. Qt Core only; RemoteChatEngine::reply drives it.
#pragma once

#include <QByteArray>
#include <QString>
#include <functional>

class CompletionStream {
public:
    using PieceHandler = std::function<bool(const QString& piece)>;  // false: the listener wants no more
    explicit CompletionStream(PieceHandler onPiece) : m_onPiece(std::move(onPiece)) {}

    void feed(const QByteArray& bytes);  // complete lines are parsed at once; a partial line waits

    const QString& finishReason() const { return m_finish; }
    int promptTokens() const { return m_promptTokens; }  // usage.prompt_tokens; 0 until the usage chunk
    // Pieces passed on, replaced by usage.completion_tokens when the server sends it.
    int completionTokens() const { return m_completionTokens; }
    bool listenerStopped() const { return m_listenerStopped; }
    // The last chunk that was an {"error": ...} object instead of a completion chunk; empty for none.
    const QByteArray& errorPayload() const { return m_errorPayload; }

private:
    void parseLine(const QByteArray& line);

    PieceHandler m_onPiece;
    QByteArray m_pending;  // bytes after the last newline
    QString m_finish;
    int m_promptTokens = 0;
    int m_completionTokens = 0;
    bool m_listenerStopped = false;
    QByteArray m_errorPayload;
};
