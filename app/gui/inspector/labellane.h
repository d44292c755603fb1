// The training-label lane of the inspector (issue 12 item 3): for the current chat's complete exchanges,
// which positions LLaVA stage-2 training would learn from and which it masks with -100, computed by core's
// computeTrainingLabels (the original train.py preprocess_* functions) and expanded over each image's
// feature rows like prepare_inputs_labels_for_multimodal. Pure: no widgets; the tokenizer is the model's.
#pragma once

#include <QList>
#include <QString>
#include <vector>

#include "chat/chattypes.h"
#include "llava/tokenizer.h"

struct LabelRun {
    int begin = 0;
    int count = 0;
    bool learned = false;
};

struct LabelLane {
    QList<LabelRun> runs;       // consecutive positions with the same kind, in order
    int learned = 0, masked = 0;
    QString preprocess;         // "preprocess_llama_2", ...
    bool mismatch = false;      // ORIG masks the whole sample ("tokenization mismatch")
    QString problem;            // why there is no lane (no complete exchange, two images in one message, ...)
    bool isEmpty() const { return runs.isEmpty(); }
};

// imageTokens: the token count of every image of `messages`, oldest first (anyres layouts).
LabelLane computeLabelLane(const llava::Tokenizer& tokenizer, const std::string& templateName,
                           const QList<ChatMessage>& messages, const QString& systemPrompt,
                           const std::vector<int>& imageTokens, int imageTokenId);
