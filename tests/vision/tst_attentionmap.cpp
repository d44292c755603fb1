// Projection of image-position attention back to the picture (llava/attentionmap.h) on hand-built layouts:
// a single hot token must land in the right tile and cell, for grids 1x2, 2x2 and 3x1, and where unpadding
// removed rows or columns. Expected cells and rectangles are hand-computed from the docs/spec.md §5 merge order
// (576 base tokens, then each kept map row's cells and one newline). Guards against: a newline token
// counted as a cell (every later cell shifted by one per row), rows/cols of the kept region offset wrongly,
// tiles numbered column-major, padding not removed when mapping to image pixels.
#include <QtTest>

#include <cmath>

#include "llava/anyres.h"
#include "llava/attentionmap.h"

using namespace llava;

namespace {

// 1x2 grid (two tiles side by side), nothing removed: image 672x336 fills the 672x336 canvas.
ImageLayout wide1x2() {
    ImageLayout l;
    l.imageWidth = 672; l.imageHeight = 336;
    l.canvasWidth = 672; l.canvasHeight = 336;
    l.gridCols = 2; l.gridRows = 1;
    l.resizedWidth = 672; l.resizedHeight = 336;
    l.mapRows = 24; l.mapCols = 48;
    l.keptRowBegin = 0; l.keptRowEnd = 24; l.keptColBegin = 0; l.keptColEnd = 48;
    l.unpaddedRows = 24; l.unpaddedCols = 48; l.newlineTokens = 24;
    l.imageTokens = 576 + 24 * 48 + 24;  // 1752
    return l;
}

// 2x2 grid, 640x480 -> 672x504 on a 672x672 canvas, 84 px black top and bottom: unpadding keeps rows [6, 42).
ImageLayout square2x2() {
    ImageLayout l;
    l.imageWidth = 640; l.imageHeight = 480;
    l.canvasWidth = 672; l.canvasHeight = 672;
    l.gridCols = 2; l.gridRows = 2;
    l.resizedWidth = 672; l.resizedHeight = 504;
    l.padTop = 84; l.padBottom = 84;
    l.mapRows = 48; l.mapCols = 48;
    l.keptRowBegin = 6; l.keptRowEnd = 42; l.keptColBegin = 0; l.keptColEnd = 48;
    l.unpaddedRows = 36; l.unpaddedCols = 48; l.newlineTokens = 36;
    l.imageTokens = 576 + 36 * 48 + 36;  // 2340
    return l;
}

// 3x1 grid (three tiles stacked), 200x800 -> 252x1008 on a 336x1008 canvas, 42 px left and right:
// unpadding keeps cols [3, 21) (ORIG: new_width = int(200 * 72 / 800) = 18, offset (24 - 18) / 2 = 3).
ImageLayout tall3x1() {
    ImageLayout l;
    l.imageWidth = 200; l.imageHeight = 800;
    l.canvasWidth = 336; l.canvasHeight = 1008;
    l.gridCols = 1; l.gridRows = 3;
    l.resizedWidth = 252; l.resizedHeight = 1008;
    l.padLeft = 42; l.padRight = 42;
    l.mapRows = 72; l.mapCols = 24;
    l.keptRowBegin = 0; l.keptRowEnd = 72; l.keptColBegin = 3; l.keptColEnd = 21;
    l.unpaddedRows = 72; l.unpaddedCols = 18; l.newlineTokens = 72;
    l.imageTokens = 576 + 72 * 18 + 72;  // 1944
    return l;
}

// Position in the merged image tokens of kept row r (0-based within the kept region), kept col c; c == W' is
// that row's newline.
int gridToken(const ImageLayout& l, int r, int c) { return 576 + r * (l.unpaddedCols + 1) + c; }

std::vector<float> hot(const ImageLayout& l, int position) {
    std::vector<float> w(static_cast<std::size_t>(l.imageTokens), 0.0f);
    w[static_cast<std::size_t>(position)] = 1.0f;
    return w;
}

bool near(double a, double b) { return std::fabs(a - b) < 1e-9; }

}  // namespace

class TestAttentionMap : public QObject {
    Q_OBJECT

private slots:
    // The hand-built layouts are the ones anyres computes (ORIG flavour) for the 2x2 and 3x1 images.
    void layoutsMatchAnyres() {
        AnyresParams p;
        p.candidates = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
        p.reference = Reference::Original;
        for (const ImageLayout& hand : {square2x2(), tall3x1()}) {
            auto real = computeImageLayout(hand.imageWidth, hand.imageHeight, p);
            QVERIFY(real.isOk());
            QCOMPARE(real->gridCols, hand.gridCols);
            QCOMPARE(real->gridRows, hand.gridRows);
            QCOMPARE(real->padLeft, hand.padLeft);
            QCOMPARE(real->padTop, hand.padTop);
            QCOMPARE(real->keptRowBegin, hand.keptRowBegin);
            QCOMPARE(real->keptRowEnd, hand.keptRowEnd);
            QCOMPARE(real->keptColBegin, hand.keptColBegin);
            QCOMPARE(real->keptColEnd, hand.keptColEnd);
            QCOMPARE(real->imageTokens, hand.imageTokens);
        }
    }

    void hotToken_data() {
        QTest::addColumn<int>("layoutId");
        QTest::addColumn<int>("keptRow");
        QTest::addColumn<int>("keptCol");
        QTest::addColumn<int>("mapRow");
        QTest::addColumn<int>("mapCol");
        QTest::addColumn<int>("tile");
        QTest::addColumn<int>("cellRow");
        QTest::addColumn<int>("cellCol");
        // 1x2: map (5, 30) is in the right tile (col 30 / 24 = 1), cell (5, 6).
        QTest::newRow("1x2 right tile") << 0 << 5 << 30 << 5 << 30 << 1 << 5 << 6;
        QTest::newRow("1x2 left tile last cell") << 0 << 23 << 23 << 23 << 23 << 0 << 23 << 23;
        // 2x2 with rows removed: kept row 0 is map row 6 (tile 0, cell row 6); kept row 35 col 47 is map (41, 47)
        // = tile 3 (bottom right), cell (17, 23); kept row 18 = map row 24 starts the bottom tiles.
        QTest::newRow("2x2 first kept cell") << 1 << 0 << 0 << 6 << 0 << 0 << 6 << 0;
        QTest::newRow("2x2 last kept cell") << 1 << 35 << 47 << 41 << 47 << 3 << 17 << 23;
        QTest::newRow("2x2 bottom-left tile") << 1 << 18 << 10 << 24 << 10 << 2 << 0 << 10;
        // 3x1 with cols removed: kept col 0 is map col 3; kept row 50 is in the third tile (row 50 / 24 = 2).
        QTest::newRow("3x1 third tile") << 2 << 50 << 0 << 50 << 3 << 2 << 2 << 3;
        QTest::newRow("3x1 last kept col") << 2 << 0 << 17 << 0 << 20 << 0 << 0 << 20;
    }

    void hotToken() {
        QFETCH(int, layoutId);
        QFETCH(int, keptRow);
        QFETCH(int, keptCol);
        QFETCH(int, mapRow);
        QFETCH(int, mapCol);
        QFETCH(int, tile);
        QFETCH(int, cellRow);
        QFETCH(int, cellCol);
        const ImageLayout l = layoutId == 0 ? wide1x2() : layoutId == 1 ? square2x2() : tall3x1();
        auto map = projectImageAttention(l, hot(l, gridToken(l, keptRow, keptCol)));
        QVERIFY2(map.isOk(), map.status().toString().c_str());
        QCOMPARE(map->gridMass, 1.0);
        QCOMPARE(map->baseMass, 0.0);
        QCOMPARE(map->newlineMass, 0.0);
        int hotCells = 0;
        for (int r = 0; r < map->mapRows; ++r)
            for (int c = 0; c < map->mapCols; ++c)
                if (map->grid[static_cast<std::size_t>(r * map->mapCols + c)] != 0) {
                    ++hotCells;
                    QCOMPARE(r, mapRow);
                    QCOMPARE(c, mapCol);
                }
        QCOMPARE(hotCells, 1);
        const TileCell tc = tileCellOf(l, mapRow, mapCol);
        QCOMPARE(tc.tile, tile);
        QCOMPARE(tc.row, cellRow);
        QCOMPARE(tc.col, cellCol);

        // The heatmap at the image point in the middle of the cell's rectangle is hot, and only there.
        const ImageRect rect = gridCellRect(l, mapRow, mapCol);
        QVERIFY(rect.width > 0 && rect.height > 0);
        auto heat = renderAttentionHeatmap(l, *map, HeatmapParts::GridOnly, l.imageWidth, l.imageHeight);
        QVERIFY(heat.isOk());
        const int px = static_cast<int>(rect.x + rect.width / 2), py = static_cast<int>(rect.y + rect.height / 2);
        QCOMPARE((*heat)[static_cast<std::size_t>(py * l.imageWidth + px)], 1.0f);
        double total = 0;
        for (float v : *heat) total += v;
        // Every hot pixel lies inside the rectangle (one pixel of slack for centres on its border).
        for (int y = 0; y < l.imageHeight; ++y)
            for (int x = 0; x < l.imageWidth; ++x)
                if ((*heat)[static_cast<std::size_t>(y * l.imageWidth + x)] != 0)
                    QVERIFY(x >= rect.x - 1 && x <= rect.x + rect.width && y >= rect.y - 1 && y <= rect.y + rect.height);
        QVERIFY(total >= 0.5 * rect.width * rect.height);
    }

    // Hand-computed pixel rectangles: 2x2 map (6, 0) starts at canvas y 84 = the top of the picture.
    void cellRects() {
        const ImageLayout l = square2x2();
        ImageRect r = gridCellRect(l, 6, 0);
        QVERIFY(near(r.x, 0) && near(r.y, 0));
        QVERIFY(near(r.width, 14.0 * 640 / 672) && near(r.height, 14.0 * 480 / 504));
        r = gridCellRect(l, 0, 0);  // entirely in the top padding: empty after clipping
        QVERIFY(near(r.height, 0));
        const ImageLayout t = tall3x1();
        r = gridCellRect(t, 0, 3);  // canvas x 42..56 -> image x 0..14*200/252
        QVERIFY(near(r.x, 0) && near(r.width, 14.0 * 200 / 252));
        r = baseCellRect(l, 23, 23);
        QVERIFY(near(r.x, 640.0 * 23 / 24) && near(r.y, 480.0 * 23 / 24) && near(r.width, 640.0 / 24));
    }

    void newlineAndBase() {
        const ImageLayout l = square2x2();
        auto map = projectImageAttention(l, hot(l, gridToken(l, 3, l.unpaddedCols)));  // newline after kept row 3
        QVERIFY(map.isOk());
        QCOMPARE(map->newlineMass, 1.0);
        QCOMPARE(map->gridMass, 0.0);
        QCOMPARE(map->newline[3], 1.0f);
        map = projectImageAttention(l, hot(l, 24 * 5 + 7));  // base cell (5, 7)
        QVERIFY(map.isOk());
        QCOMPARE(map->baseMass, 1.0);
        QCOMPARE(map->base[24 * 5 + 7], 1.0f);
        auto heat = renderAttentionHeatmap(l, *map, HeatmapParts::BaseOnly, 24, 24);  // one pixel per base cell
        QVERIFY(heat.isOk());
        QCOMPARE((*heat)[24 * 5 + 7], 1.0f);
        QCOMPARE((*heat)[24 * 5 + 8], 0.0f);
    }

    void badInput() {
        const ImageLayout l = square2x2();
        QVERIFY(!projectImageAttention(l, std::vector<float>(100)).isOk());
        auto map = projectImageAttention(l, hot(l, 0));
        QVERIFY(map.isOk());
        QVERIFY(!renderAttentionHeatmap(l, *map, HeatmapParts::GridOnly, 0, 10).isOk());
        QVERIFY(!renderAttentionHeatmap(l, *map, HeatmapParts::GridOnly, kMaxHeatmapSide + 1, 10).isOk());
        QVERIFY(!renderAttentionHeatmap(wide1x2(), *map, HeatmapParts::GridOnly, 10, 10).isOk());  // other layout
    }
};

QTEST_GUILESS_MAIN(TestAttentionMap)
#include "tst_attentionmap.moc"
