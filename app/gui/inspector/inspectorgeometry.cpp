// See inspectorgeometry.h.
#include "inspectorgeometry.h"

InspectorGeometry inspectorGeometry(const llava::ImageLayout& l, int tileSize, int patchesPerSide) {
    InspectorGeometry g;
    g.cellPixels = patchesPerSide > 0 ? tileSize / patchesPerSide : 14;
    g.canvas = QRect(0, 0, l.canvasWidth, l.canvasHeight);
    g.image = QRect(l.padLeft, l.padTop, l.resizedWidth, l.resizedHeight);
    if (l.padTop > 0) g.padding << QRect(0, 0, l.canvasWidth, l.padTop);
    if (l.padBottom > 0) g.padding << QRect(0, l.canvasHeight - l.padBottom, l.canvasWidth, l.padBottom);
    if (l.padLeft > 0) g.padding << QRect(0, 0, l.padLeft, l.canvasHeight);
    if (l.padRight > 0) g.padding << QRect(l.canvasWidth - l.padRight, 0, l.padRight, l.canvasHeight);
    for (int r = 0; r < l.gridRows; ++r)
        for (int c = 0; c < l.gridCols; ++c) g.tiles << QRect(c * tileSize, r * tileSize, tileSize, tileSize);
    const int cp = g.cellPixels;
    g.kept = QRect(l.keptColBegin * cp, l.keptRowBegin * cp, (l.keptColEnd - l.keptColBegin) * cp,
                   (l.keptRowEnd - l.keptRowBegin) * cp);
    if (l.keptRowBegin > 0) g.removed << QRect(0, 0, l.canvasWidth, l.keptRowBegin * cp);
    if (l.keptRowEnd < l.mapRows)
        g.removed << QRect(0, l.keptRowEnd * cp, l.canvasWidth, (l.mapRows - l.keptRowEnd) * cp);
    if (l.keptColBegin > 0) g.removed << QRect(0, 0, l.keptColBegin * cp, l.canvasHeight);
    if (l.keptColEnd < l.mapCols)
        g.removed << QRect(l.keptColEnd * cp, 0, (l.mapCols - l.keptColEnd) * cp, l.canvasHeight);
    return g;
}

QList<TokenStripSegment> tokenStrip(int textBefore, const llava::ImageLayout& l, int textAfter, bool estimated) {
    using Kind = TokenStripSegment::Kind;
    QList<TokenStripSegment> out;
    int pos = 0;
    auto add = [&](Kind kind, int count, const QString& label, bool est) {
        out << TokenStripSegment{kind, pos, count, label, est};
        pos += count;
    };
    add(Kind::Text, textBefore, QStringLiteral("text %1").arg(textBefore), estimated);
    add(Kind::Base, l.baseTokens, QStringLiteral("base %1").arg(l.baseTokens), false);
    add(Kind::Grid, l.unpaddedRows * l.unpaddedCols,
        QStringLiteral("grid %1\u00d7%2").arg(l.unpaddedRows).arg(l.unpaddedCols), false);
    add(Kind::Newlines, l.newlineTokens, QStringLiteral("newlines %1").arg(l.newlineTokens), false);
    add(Kind::Text, textAfter, QStringLiteral("text %1").arg(textAfter), estimated);
    return out;
}

QList<TokenRun> cropTokenRuns(const llava::ImageLayout& l, int crop, int P) {
    if (crop == 0) return {TokenRun{0, l.baseTokens}};
    const int tile = crop - 1, r = tile / std::max(1, l.gridCols), c = tile % std::max(1, l.gridCols);
    if (crop < 0 || r >= l.gridRows) return {};
    const int rowWidth = l.unpaddedCols + 1;  // W' cells and the row's newline
    const int x0 = std::max(c * P, l.keptColBegin), x1 = std::min((c + 1) * P, l.keptColEnd);
    QList<TokenRun> runs;
    for (int y = std::max(r * P, l.keptRowBegin); y < std::min((r + 1) * P, l.keptRowEnd) && x1 > x0; ++y)
        runs << TokenRun{l.baseTokens + (y - l.keptRowBegin) * rowWidth + (x0 - l.keptColBegin), x1 - x0};
    return runs;
}

int cropOfToken(const llava::ImageLayout& l, int position, int P) {
    if (position < 0 || position >= l.imageTokens) return -1;
    if (position < l.baseTokens) return 0;
    const int rowWidth = l.unpaddedCols + 1, k = position - l.baseTokens;
    const int y = k / rowWidth + l.keptRowBegin, x = k % rowWidth;
    if (x == l.unpaddedCols) return -1;  // the row's newline token
    return 1 + (y / P) * l.gridCols + (x + l.keptColBegin) / P;
}
