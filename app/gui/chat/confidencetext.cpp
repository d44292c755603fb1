// See confidencetext.h.
#include "confidencetext.h"

#include <QCoreApplication>
#include <QTextCursor>
#include <QTextDocument>
#include <cmath>

namespace {
bool isSpace(QChar c) { return c.isSpace() || c == QChar::ParagraphSeparator || c == QChar::LineSeparator; }

QString shownToken(const QString& text) {
    QString t = text.toHtmlEscaped();
    t.replace(QLatin1Char('\n'), QStringLiteral("\u21b5"));
    return QStringLiteral("\u201c%1\u201d").arg(t);
}
}  // namespace

std::vector<int> alignToDocument(const QString& source, const QString& plain) {
    std::vector<int> out(size_t(source.size()), -1);
    qsizetype j = 0;
    for (qsizetype i = 0; i < source.size() && j < plain.size();) {
        const QChar s = source[i], p = plain[j];
        if (s == p || (isSpace(s) && isSpace(p))) {
            out[size_t(i++)] = int(j++);
        } else if (isSpace(p) && !isSpace(s)) {
            ++j;  // the document inserted a break (list items, headings)
        } else {
            ++i;  // Markdown syntax the document does not show
        }
    }
    return out;
}

ConfidenceMap::ConfidenceMap(const QTextDocument& document, const QString& source, const TokenProbabilities& tokens)
    : m_tokens(tokens) {
    const QString plain = document.toPlainText();
    const std::vector<int> toDoc = alignToDocument(source, plain);
    m_tokenOfPosition.assign(size_t(plain.size()), -1);
    for (int k = 0; k < m_tokens.size(); ++k) {
        const TokenProbability& t = m_tokens[k];
        for (int i = t.begin; i < t.begin + t.length && i < int(toDoc.size()); ++i)
            if (toDoc[size_t(i)] >= 0) m_tokenOfPosition[size_t(toDoc[size_t(i)])] = k;
    }
}

int ConfidenceMap::tokenAt(int position) const {
    return position >= 0 && position < int(m_tokenOfPosition.size()) ? m_tokenOfPosition[size_t(position)] : -1;
}

QList<QPair<int, int>> ConfidenceMap::documentRanges(int token) const {
    QList<QPair<int, int>> runs;
    for (int i = 0; i < int(m_tokenOfPosition.size()); ++i) {
        if (m_tokenOfPosition[size_t(i)] != token) continue;
        if (!runs.isEmpty() && runs.back().first + runs.back().second == i) ++runs.back().second;
        else runs.append({i, 1});
    }
    return runs;
}

void ConfidenceMap::shade(QTextDocument* document) const {
    QTextCursor cursor(document);
    for (int k = 0; k < m_tokens.size(); ++k) {
        const double p = m_tokens[k].chosen.probability();
        if (!(p < kUnsureProbability)) continue;
        QTextCharFormat format;
        // Alpha grows as the probability falls: a 45 % token is faint, a 2 % token is strong.
        format.setBackground(QColor(255, 120, 40, int(60 + 160 * (1.0 - p / kUnsureProbability))));
        for (const auto& [position, length] : documentRanges(k)) {
            cursor.setPosition(position);
            cursor.setPosition(position + length, QTextCursor::KeepAnchor);
            cursor.mergeCharFormat(format);
        }
    }
}

QString formatProbability(double probability) {
    if (!std::isfinite(probability) || probability <= 0) return QStringLiteral("0 %");
    if (probability < 0.001) return QStringLiteral("<0.1 %");
    return QString::number(probability * 100.0, 'f', 1) + QStringLiteral(" %");
}

QString confidenceCard(const TokenProbability& token) {
    // formatProbability may start with "<": escaped, or it would open a tag and swallow the line break.
    auto shown = [](double p) { return formatProbability(p).toHtmlEscaped(); };
    QString html = QStringLiteral("<b>%1</b> %2").arg(shownToken(token.chosen.text), shown(token.chosen.probability()));
    html += QStringLiteral("<br/><small>") +
            QCoreApplication::translate("ConfidenceCard", "model before sampling: %1").arg(shown(token.chosen.rawProbability())) +
            QStringLiteral("</small><table>");
    for (const TokenAlternative& alt : token.top) {
        const bool chosen = alt.id == token.chosen.id;
        html += QStringLiteral("<tr><td>%1%2%3</td><td align=\"right\">&nbsp;%4</td></tr>")
                    .arg(chosen ? QStringLiteral("<b>") : QString(), shownToken(alt.text),
                         chosen ? QStringLiteral("</b>") : QString(), shown(alt.probability()));
    }
    return html + QStringLiteral("</table>");
}
