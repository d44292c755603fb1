// The status bar's content: which model is loaded (or loading, with progress and Cancel), the backend
// actually used (and why Auto fell back), memory, and the last answer's TTFT and speed. Holds the facts,
// not the sentences: every text is rebuilt from them, so a language change re-translates all of it.
#pragma once

#include <QObject>
#include <optional>

#include "inference/chatengine.h"

class ChatController;
class InferenceController;
class QLabel;
class QProgressBar;
class QStatusBar;
class QToolButton;

class StatusPanel : public QObject {
    Q_OBJECT
public:
    explicit StatusPanel(QStatusBar* bar);

    void setLoading(const QString& name, bool demo);
    void setLoadProgress(quint64 done, quint64 total, const QString& stage);
    void setLoaded(const ModelInfo& info);
    // After a failed load: the model still loaded (if any) stays named; otherwise "No model loaded".
    void setLoadFailed(const QString& reason, bool stillLoaded);
    void setAnswerStats(const llava::GenerationStats& stats, bool complete);
    void clearAnswerStats();
    // A server's usage for the last answer (remote backend), shown next to the local count.
    void setServerUsage(const ServerUsage& usage);
    QString serverUsageText() const;
    void retranslate();
    // The answer statistics follow the chat: cleared when an answer starts (the previous TTFT does not
    // describe it), set when it completes or stops with tokens; the server's usage as reported.
    void followAnswers(ChatController* chat, InferenceController* inference);

    const std::optional<ModelInfo>& model() const { return m_model; }
    QString modelText() const;

signals:
    void cancelLoadRequested();

private:
    QLabel* m_modelLabel;
    QLabel* m_backendLabel;
    QLabel* m_memoryLabel;
    QLabel* m_speedLabel;
    QLabel* m_usageLabel;
    QProgressBar* m_progress;
    QToolButton* m_cancel;

    std::optional<ModelInfo> m_model;  // loaded and usable
    QString m_loadingName;             // non-empty while loading
    bool m_loadingDemo = false;
    QString m_loadStage;
    QString m_failure;                 // the last load failure, shown until the next load
    std::optional<llava::GenerationStats> m_stats;
    bool m_statsComplete = true;
    std::optional<ServerUsage> m_serverUsage;
};
