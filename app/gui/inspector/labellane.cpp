// See labellane.h.
#include "labellane.h"

#include <QCoreApplication>

#include "llava/traininglabels.h"

namespace {
// Complete exchanges only (a training sample ends with an answer); images of the turns taken, in order.
bool toTurns(const QList<ChatMessage>& messages, std::vector<llava::TrainingTurn>* turns, int* images, QString* problem) {
    for (qsizetype i = 0; i + 1 < messages.size(); i += 2) {
        const ChatMessage &user = messages[i], &answer = messages[i + 1];
        if (user.role != MessageRole::User || answer.role != MessageRole::Assistant || answer.text.isEmpty()) break;
        if (user.images.size() > 1) {
            *problem = QCoreApplication::translate("LabelLane", "training keeps one image per message; this chat has a message with %1").arg(user.images.size());
            return false;
        }
        turns->push_back({llava::ChatRole::User, user.text.toStdString(), int(user.images.size())});
        turns->push_back({llava::ChatRole::Assistant, answer.text.toStdString(), 0});
        *images += int(user.images.size());
    }
    if (turns->empty()) *problem = QCoreApplication::translate("LabelLane", "no answered message yet");
    return !turns->empty();
}
}  // namespace

LabelLane computeLabelLane(const llava::Tokenizer& tokenizer, const std::string& templateName,
                           const QList<ChatMessage>& messages, const QString& systemPrompt,
                           const std::vector<int>& imageTokens, int imageTokenId) {
    LabelLane lane;
    std::vector<llava::TrainingTurn> turns;
    int images = 0;
    if (!toTurns(messages, &turns, &images, &lane.problem)) return lane;
    llava::TrainingLabelOptions options;
    options.templateName = templateName;
    options.systemPrompt = systemPrompt.toStdString();
    auto labels = llava::computeTrainingLabels(tokenizer, turns, options);
    if (!labels.isOk()) {
        lane.problem = QString::fromStdString(labels.status().message());
        return lane;
    }
    const std::vector<int> counts(imageTokens.begin(), imageTokens.begin() + std::min<size_t>(size_t(images), imageTokens.size()));
    auto expanded = llava::expandTrainingLabels(*labels, counts, imageTokenId);
    if (!expanded.isOk()) {
        lane.problem = QString::fromStdString(expanded.status().message());
        return lane;
    }
    lane.preprocess = QString::fromStdString(labels->preprocess);
    lane.mismatch = labels->mismatch;
    for (size_t i = 0; i < expanded->labels.size(); ++i) {
        const bool learned = expanded->labels[i] != llava::kIgnoreIndex;
        (learned ? lane.learned : lane.masked) += 1;
        if (!lane.runs.isEmpty() && lane.runs.back().learned == learned) ++lane.runs.back().count;
        else lane.runs << LabelRun{int(i), 1, learned};
    }
    return lane;
}
