// Per-token confidence of an answer, as the GUI keeps it: where each generated token sits in the message
// text and how probable it and its top alternatives were (llava::TokenConfidence, converted on the
// inference thread into values that cross threads). Saved with the message (confidencejson.h).
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>
#include <cmath>

struct TokenAlternative {
    qint32 id = 0;
    QString text;             // the token's text ("▁" shown as a space)
    double logprob = 0;       // under the sampling distribution (-inf: removed by the filters)
    double rawLogprob = 0;    // the model's own log-softmax
    double probability() const { return std::exp(logprob); }
    double rawProbability() const { return std::exp(rawLogprob); }
};

struct TokenProbability {
    int begin = 0;            // UTF-16 offset of the token's streamed text in the message text
    int length = 0;           // UTF-16 length of that text (0 while a character or stop string is held back)
    TokenAlternative chosen;
    QList<TokenAlternative> top;  // highest first
};

using TokenProbabilities = QList<TokenProbability>;
Q_DECLARE_METATYPE(TokenProbabilities)
