// See completionstream.h.
#include "inference/completionstream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

void CompletionStream::feed(const QByteArray& bytes) {
    m_pending += bytes;
    qsizetype end;
    while ((end = m_pending.indexOf('\n')) >= 0) {
        const QByteArray line = m_pending.left(end).trimmed();
        m_pending.remove(0, end + 1);
        parseLine(line);
    }
}

void CompletionStream::parseLine(const QByteArray& line) {
    if (!line.startsWith("data:")) return;  // comments, event names, blank separators
    const QByteArray payload = line.mid(5).trimmed();
    if (payload == "[DONE]") return;
    const QJsonObject chunk = QJsonDocument::fromJson(payload).object();
    if (chunk.contains("error")) {
        m_errorPayload = payload;
        return;
    }
    const QJsonObject usage = chunk.value("usage").toObject();
    if (!usage.isEmpty()) {
        m_promptTokens = usage.value("prompt_tokens").toInt();
        m_completionTokens = usage.value("completion_tokens").toInt(m_completionTokens);
    }
    for (const QJsonValue& c : chunk.value("choices").toArray()) {
        const QJsonObject choice = c.toObject();
        const QString piece = choice.value("delta").toObject().value("content").toString();
        if (!choice.value("finish_reason").toString().isEmpty()) m_finish = choice.value("finish_reason").toString();
        if (piece.isEmpty() || m_listenerStopped) continue;
        ++m_completionTokens;
        if (!m_onPiece(piece)) m_listenerStopped = true;
    }
}
