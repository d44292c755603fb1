// computeImageLayout against (1) the hand-checked tables of docs/spec.md §5.5, every ORIG != HF row included,
// and (2) thousands of sizes (tiny, extreme aspects, up to 65536 per side) from layout_ref.py, an
// independent Python implementation of the spec formulas run with Debian's /usr/bin/python3.
// Guards against: tie-break order, float32 instead of double, round vs trunc, pad split, overflow.
#include <QtTest>

#include "llava/anyres.h"
#include "vision/visiontestutil.h"

using llava::Reference;

class TestAnyres : public QObject {
    Q_OBJECT
private slots:
    void specTable_data();
    void specTable();
    void matchesPythonReference();
    void degenerateMaps();
    void fromModelConfig_data();
    void fromModelConfig();
    void rejectsBadInput();
};

void TestAnyres::specTable_data() {
    QTest::addColumn<int>("w");
    QTest::addColumn<int>("h");
    QTest::addColumn<bool>("hf");
    QTest::addColumn<int>("cw");
    QTest::addColumn<int>("ch");
    QTest::addColumn<int>("nw");  // -1: not given by the spec table
    QTest::addColumn<int>("nh");
    QTest::addColumn<int>("padL");
    QTest::addColumn<int>("padT");
    QTest::addColumn<int>("rowsKept");
    QTest::addColumn<int>("colsKept");
    QTest::addColumn<int>("tokens");
    // docs/spec.md §5.5 worked examples (ORIG arithmetic; HF identical unless noted).
    for (bool hf : {false, true}) {
        const char* f = hf ? "hf" : "orig";
        QTest::addRow("640x480 %s", f) << 640 << 480 << hf << 672 << 672 << 672 << 504 << 0 << 84 << 36 << 48 << 2340;
        QTest::addRow("1000x750 ceil-505 %s", f) << 1000 << 750 << hf << 672 << 672 << 672 << 505 << 0 << 83 << 36 << 48 << 2340;
        QTest::addRow("480x640 %s", f) << 480 << 640 << hf << 672 << 672 << 504 << 672 << 84 << 0 << 48 << 36 << 2352;
        QTest::addRow("1920x1080 odd-p %s", f) << 1920 << 1080 << hf << 672 << 672 << 672 << 378 << 0 << 147 << 28 << 48 << 1948;
        QTest::addRow("800x200 %s", f) << 800 << 200 << hf << 1008 << 336 << 1008 << 252 << 0 << 42 << 18 << 72 << 1890;
        QTest::addRow("200x800 %s", f) << 200 << 800 << hf << 336 << 1008 << 252 << 1008 << 42 << 0 << 72 << 18 << 1944;
        QTest::addRow("672x672 %s", f) << 672 << 672 << hf << 672 << 672 << 672 << 672 << 0 << 0 << 48 << 48 << 2928;
        QTest::addRow("1024x1024 %s", f) << 1024 << 1024 << hf << 672 << 672 << 672 << 672 << 0 << 0 << 48 << 48 << 2928;
        QTest::addRow("radar 1024x899 %s", f) << 1024 << 899 << hf << 672 << 672 << 672 << 590 << 0 << 41 << 42 << 48 << 2634;
        QTest::addRow("1100x808 %s", f) << 1100 << 808 << hf << 672 << 672 << -1 << -1 << -1 << -1 << -1 << -1 << 2340;
    }
    // Tie-break rows (docs/spec.md §4.2): ORIG 1 col x 2 rows, HF 2 cols x 1 row.
    QTest::newRow("336x336 orig") << 336 << 336 << false << 336 << 672 << 336 << 336 << 0 << 168 << 24 << 24 << 1176;
    QTest::newRow("336x336 hf") << 336 << 336 << true << 672 << 336 << 336 << 336 << 168 << 0 << 24 << 24 << 1176;
    QTest::newRow("200x300 orig") << 200 << 300 << false << 336 << 672 << -1 << -1 << -1 << -1 << 36 << 24 << 1476;
    QTest::newRow("200x300 hf ceil-225") << 200 << 300 << true << 672 << 336 << 225 << 336 << -1 << -1 << 24 << 16 << 984;
    QTest::newRow("300x200 orig") << 300 << 200 << false << 336 << 672 << -1 << -1 << -1 << -1 << 16 << 24 << 976;
    QTest::newRow("300x200 hf") << 300 << 200 << true << 672 << 336 << -1 << -1 << -1 << -1 << 24 << 36 << 1464;
    QTest::newRow("320x240 orig") << 320 << 240 << false << 336 << 672 << -1 << -1 << -1 << -1 << -1 << -1 << 1026;
    QTest::newRow("320x240 hf") << 320 << 240 << true << 672 << 336 << -1 << -1 << -1 << -1 << -1 << -1 << 1368;
    // Rounding rows (docs/spec.md §5.2): ORIG int() vs HF int(round(x, 7)).
    QTest::newRow("205x656 orig trunc") << 205 << 656 << false << 336 << 672 << -1 << -1 << -1 << -1 << 48 << 14 << 1296;
    QTest::newRow("205x656 hf round7") << 205 << 656 << true << 336 << 672 << -1 << -1 << -1 << -1 << 48 << 16 << 1392;
    QTest::newRow("656x205 orig") << 656 << 205 << false << -1 << -1 << -1 << -1 << -1 << -1 << -1 << -1 << 1262;
    QTest::newRow("656x205 hf") << 656 << 205 << true << -1 << -1 << -1 << -1 << -1 << -1 << -1 << -1 << 1360;
    for (auto [w, h] : {std::pair{205, 984}, std::pair{220, 1056}, std::pair{235, 1128}}) {
        QTest::addRow("%dx%d orig", w, h) << w << h << false << 336 << 1008 << -1 << -1 << -1 << -1 << 72 << 14 << 1656;
        QTest::addRow("%dx%d hf", w, h) << w << h << true << 336 << 1008 << -1 << -1 << -1 << -1 << 72 << 16 << 1800;
    }
    QTest::newRow("47x1128 orig") << 47 << 1128 << false << -1 << -1 << -1 << -1 << -1 << -1 << -1 << 2 << 792;
    QTest::newRow("47x1128 hf") << 47 << 1128 << true << -1 << -1 << -1 << -1 << -1 << -1 << -1 << 4 << 936;
    for (auto [w, h] : {std::pair{1408, 792}, std::pair{704, 396}, std::pair{752, 423}, std::pair{1504, 846}}) {
        QTest::addRow("%dx%d orig", w, h) << w << h << false << 672 << 672 << -1 << -1 << -1 << -1 << 26 << 48 << 1850;
        QTest::addRow("%dx%d hf", w, h) << w << h << true << 672 << 672 << -1 << -1 << -1 << -1 << 28 << 48 << 1948;
    }
}

void TestAnyres::specTable() {
    QFETCH(int, w);
    QFETCH(int, h);
    QFETCH(bool, hf);
    QFETCH(int, cw);
    QFETCH(int, ch);
    QFETCH(int, nw);
    QFETCH(int, nh);
    QFETCH(int, padL);
    QFETCH(int, padT);
    QFETCH(int, rowsKept);
    QFETCH(int, colsKept);
    QFETCH(int, tokens);
    auto r = llava::computeImageLayout(w, h, visiontest::paramsFor(hf ? Reference::Transformers : Reference::Original));
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    const llava::ImageLayout& l = *r;
    auto check = [](int got, int want) { return want < 0 || got == want; };
    QVERIFY(check(l.canvasWidth, cw) && check(l.canvasHeight, ch));
    QCOMPARE(l.gridCols * 336, l.canvasWidth);
    QCOMPARE(l.gridRows * 336, l.canvasHeight);
    QVERIFY2(check(l.resizedWidth, nw) && check(l.resizedHeight, nh),
             qPrintable(QString("resized %1x%2").arg(l.resizedWidth).arg(l.resizedHeight)));
    QVERIFY(check(l.padLeft, padL) && check(l.padTop, padT));
    QCOMPARE(l.padLeft + l.resizedWidth + l.padRight, l.canvasWidth);
    QCOMPARE(l.padTop + l.resizedHeight + l.padBottom, l.canvasHeight);
    QVERIFY2(check(l.unpaddedRows, rowsKept) && check(l.unpaddedCols, colsKept),
             qPrintable(QString("unpadded %1x%2").arg(l.unpaddedRows).arg(l.unpaddedCols)));
    QCOMPARE(l.imageTokens, tokens);
    QCOMPARE(l.newlineTokens, l.unpaddedRows);
    QCOMPARE(l.cropCount(), 1 + l.gridCols * l.gridRows);
}

void TestAnyres::matchesPythonReference() {
    QByteArray out;
    QVERIFY2(visiontest::runPython(visiontest::scriptPath("layout_ref.py"), {}, &out),
             "layout_ref.py must run with /usr/bin/python3");
    const QList<QByteArray> lines = out.split('\n');
    int checked = 0, mismatches = 0;
    for (const QByteArray& line : lines) {
        const QList<QByteArray> f = line.split(' ');
        if (f.size() != 18) continue;
        const int w = f[0].toInt(), h = f[1].toInt();
        const bool hf = f[2] == "hf";
        auto r = llava::computeImageLayout(w, h, visiontest::paramsFor(hf ? Reference::Transformers : Reference::Original));
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const llava::ImageLayout& l = *r;
        const int got[15] = {l.canvasWidth, l.canvasHeight, l.gridCols, l.gridRows, l.resizedWidth,
                             l.resizedHeight, l.padLeft, l.padTop, l.mapRows, l.mapCols, l.keptRowBegin,
                             l.keptRowEnd, l.keptColBegin, l.keptColEnd, l.imageTokens};
        bool same = true;
        for (int i = 0; i < 15; ++i) same = same && got[i] == f[3 + i].toInt();
        if (!same && ++mismatches <= 10) qWarning("mismatch for %s", line.constData());
        ++checked;
    }
    QVERIFY2(checked > 20000, qPrintable(QString("only %1 reference rows parsed").arg(checked)));
    QCOMPARE(mismatches, 0);
}

void TestAnyres::degenerateMaps() {
    // docs/spec.md §5.2: zero-width / zero-height unpadded maps are legal, not errors.
    auto tall = llava::computeImageLayout(1, 1000, visiontest::paramsFor(Reference::Original));
    QVERIFY(tall.isOk());
    QCOMPARE(tall->unpaddedCols, 0);
    QCOMPARE(tall->unpaddedRows, 72);
    QCOMPARE(tall->imageTokens, 576 + 72);
    auto wide = llava::computeImageLayout(1000, 10, visiontest::paramsFor(Reference::Transformers));
    QVERIFY(wide.isOk());
    QCOMPARE(wide->unpaddedRows, 0);
    QCOMPARE(wide->imageTokens, 576);
    // Largest accepted size: W*H = 2^32 must not overflow the efficiency product.
    auto huge = llava::computeImageLayout(llava::kMaxImageSide, llava::kMaxImageSide, visiontest::paramsFor(Reference::Original));
    QVERIFY(huge.isOk());
    QCOMPARE(huge->imageTokens, 2928);
}

void TestAnyres::fromModelConfig_data() {
    QTest::addColumn<int>("w");
    QTest::addColumn<int>("h");
    QTest::addColumn<bool>("hf");
    QTest::addColumn<int>("tokens");
    // docs/spec.md §5.5 rows where the flavours differ: the config's pinpoint order must reach the tie-break.
    QTest::newRow("300x200 orig") << 300 << 200 << false << 976;
    QTest::newRow("300x200 hf") << 300 << 200 << true << 1464;
    QTest::newRow("205x656 orig") << 205 << 656 << false << 1296;
    QTest::newRow("205x656 hf") << 205 << 656 << true << 1392;
    QTest::newRow("1920x1080 orig") << 1920 << 1080 << false << 1948;
}

void TestAnyres::fromModelConfig() {
    QFETCH(int, w);
    QFETCH(int, h);
    QFETCH(bool, hf);
    QFETCH(int, tokens);
    llava::ModelConfig config;  // v1.6 pinpoints exactly as config.json stores them
    config.gridPinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    auto r = llava::computeImageLayout(w, h, config, hf ? Reference::Transformers : Reference::Original);
    QVERIFY2(r.isOk(), r.status().toString().c_str());
    QCOMPARE(r->imageTokens, tokens);
    const llava::AnyresParams p = llava::anyresParams(config, Reference::Original);
    QCOMPARE(p.tileSize, 336);
    QCOMPARE(p.patchesPerSide, 24);
}

void TestAnyres::rejectsBadInput() {
    const auto p = visiontest::paramsFor(Reference::Original);
    QCOMPARE(llava::computeImageLayout(0, 5, p).status().code(), llava::ErrorCode::InvalidArgument);
    QCOMPARE(llava::computeImageLayout(5, -1, p).status().code(), llava::ErrorCode::InvalidArgument);
    QCOMPARE(llava::computeImageLayout(llava::kMaxImageSide + 1, 5, p).status().code(), llava::ErrorCode::InvalidArgument);
    llava::AnyresParams empty = p;
    empty.candidates.clear();
    QCOMPARE(llava::computeImageLayout(5, 5, empty).status().code(), llava::ErrorCode::InvalidArgument);
    llava::AnyresParams odd = p;
    odd.candidates = {{500, 336}};
    QCOMPARE(llava::computeImageLayout(5, 5, odd).status().code(), llava::ErrorCode::InvalidArgument);
}

QTEST_GUILESS_MAIN(TestAnyres)
#include "tst_anyres.moc"
