// Token confidence over a rendered answer: the answer is Markdown, so the document the user sees is not
// the text the tokens were streamed as ("**bold**" shows as "bold"). alignToDocument() maps each source
// character to its place in the document's plain text; ConfidenceMap then says which token covers a
// document position, shades low-confidence tokens and writes the hover card.
// Not here: the widget (messagewidget.*) and where the probabilities come from (inference/tokenbatcher.*).
#pragma once

#include <QList>
#include <QString>
#include <vector>

#include "tokenconfidence.h"

class QTextDocument;

// For every character of `source`, its index in `plain` (the document's plain text), -1 when Markdown
// consumed it (emphasis marks, heading hashes, list markers). Greedy: equal characters match in order,
// whitespace matches whitespace (paragraph breaks become one separator).
std::vector<int> alignToDocument(const QString& source, const QString& plain);

// Below this probability a token counts as unsure and gets shaded when shading is on.
inline constexpr double kUnsureProbability = 0.5;

class ConfidenceMap {
public:
    ConfidenceMap() = default;
    // document: the rendered answer; source: the answer's text; tokens: offsets into source.
    ConfidenceMap(const QTextDocument& document, const QString& source, const TokenProbabilities& tokens);

    bool isEmpty() const { return m_tokens.isEmpty(); }
    int tokenAt(int documentPosition) const;                // -1: no token there
    QList<QPair<int, int>> documentRanges(int token) const;  // (position, length) runs of a token
    void shade(QTextDocument* document) const;               // background ∝ 1 - p for unsure tokens
    const TokenProbabilities& tokens() const { return m_tokens; }

private:
    TokenProbabilities m_tokens;
    std::vector<int> m_tokenOfPosition;  // (plain text length) token index, -1 for none
};

// The hover card: the token, its probability (sampling and raw), the alternatives.
QString confidenceCard(const TokenProbability& token);
QString formatProbability(double probability);  // "87.3 %", "<0.1 %"
