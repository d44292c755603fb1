// tst_inspector: the inspector follows the active model or preset, not a hard-coded config. For every
// built-in preset and a set of image sizes the widget's layouts equal core's computeImageLayout for both
// references, both panels are shown exactly when ORIG and HF differ (1408x792 on the mistral preset),
// and the drawn geometry matches the layout. The main window (fake engine) switches the inspector to a
// preset from the Models menu and marks its text counts as estimates.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "support/fakechatengine.h"
#include "inspector/inspectorgeometry.h"
#include "inspector/inspectorwidget.h"
#include "llava/anyres.h"
#include "mainwindow.h"

class TstInspector : public QObject {
    Q_OBJECT
private slots:
    void presetLayoutsMatchCore_data();
    void presetLayoutsMatchCore();
    void wideImageShowsBothReferences();
    void shortenedLinesKeepTheirText();
    void mainWindowInspectsPreset();
};

void TstInspector::presetLayoutsMatchCore_data() {
    QTest::addColumn<QString>("preset");
    QTest::addColumn<QSize>("size");
    const QList<QSize> sizes{{1408, 792}, {1920, 1080}, {336, 336}, {800, 1200}, {4032, 3024}, {100, 1000}};
    for (const std::string& name : llava::presetNames())
        for (const QSize& s : sizes)
            QTest::addRow("%s %dx%d", name.c_str(), s.width(), s.height()) << QString::fromStdString(name) << s;
}

void TstInspector::presetLayoutsMatchCore() {
    QFETCH(QString, preset);
    QFETCH(QSize, size);
    auto config = llava::loadPreset(preset.toStdString());
    QVERIFY(config.isOk());
    InspectorWidget w;
    w.setModelConfig(*config);
    w.setImage(QStringLiteral("x.png"), size);
    for (llava::Reference r : {llava::Reference::Original, llava::Reference::Transformers}) {
        auto expected = llava::computeImageLayout(size.width(), size.height(), *config, r);
        QVERIFY(expected.isOk());
        const auto shown = w.layout(r);
        QVERIFY(shown.has_value());
        QCOMPARE(shown->canvasWidth, expected->canvasWidth);
        QCOMPARE(shown->canvasHeight, expected->canvasHeight);
        QCOMPARE(shown->resizedWidth, expected->resizedWidth);
        QCOMPARE(shown->resizedHeight, expected->resizedHeight);
        QCOMPARE(shown->unpaddedRows, expected->unpaddedRows);
        QCOMPARE(shown->unpaddedCols, expected->unpaddedCols);
        QCOMPARE(shown->imageTokens, expected->imageTokens);
        const InspectorGeometry g = inspectorGeometry(*shown, config->vision.imageSize, config->vision.patchesPerSide());
        QCOMPARE(g.tiles.size(), expected->gridCols * expected->gridRows);
        QCOMPARE(g.image, QRect(expected->padLeft, expected->padTop, expected->resizedWidth, expected->resizedHeight));
    }
    const auto o = w.layout(llava::Reference::Original), h = w.layout(llava::Reference::Transformers);
    if (o->imageTokens != h->imageTokens) QVERIFY(w.showsBothReferences());
    w.resize(520, 640);
    w.grab();  // paints without crashing for every preset/size
}

void TstInspector::wideImageShowsBothReferences() {
    auto config = llava::loadPreset("llava-v1.6-mistral-7b");
    QVERIFY(config.isOk());
    InspectorWidget w;
    w.setModelConfig(*config);
    w.setImage(QStringLiteral("wide.png"), QSize(1408, 792));
    QVERIFY(w.showsBothReferences());
    w.setTextTokens(5, 13, false);
    QCOMPARE(w.totalPromptTokens(), 5 + 13 + w.layout(w.preferredReference())->imageTokens);
}

void TstInspector::mainWindowInspectsPreset() {
    QTemporaryDir data;
    MainWindowOptions options;
    options.dataDir = data.path();
    options.engineFactory = [] { return std::make_unique<FakeChatEngine>(FakeEngineScript{}); };
    MainWindow window(AppSettings{}, options);
    // The sample image is attached on a first start: the inspector already has a layout.
    QTRY_VERIFY(window.inspector()->layout(llava::Reference::Original).has_value());
    QVERIFY(window.inspector()->textEstimated());
    window.inspectPreset(QStringLiteral("llava-v1.6-34b"));
    QCOMPARE(window.inspector()->modelConfig().name, std::string("llava-v1.6-34b"));
    QVERIFY(window.inspector()->source().contains(QStringLiteral("llava-v1.6-34b")));
    QVERIFY(window.inspector()->textEstimated());
    auto config = llava::loadPreset("llava-v1.6-34b");
    const auto shown = window.inspector()->layout(llava::Reference::Original);
    auto expected = llava::computeImageLayout(1024, 768, *config, llava::Reference::Original);
    QCOMPARE(shown->imageTokens, expected->imageTokens);
}

// Issue 9 item 8: no line is cut without its whole text at hand (the tooltip over it), and the panel of
// the flavour in use is marked.
void TstInspector::shortenedLinesKeepTheirText() {
    auto config = llava::loadPreset("llava-v1.6-mistral-7b");
    QVERIFY(config.isOk());
    InspectorWidget w;
    w.setModelConfig(*config);
    w.setSource(QStringLiteral("preset llava-v1.6-mistral-7b · text tokens estimated (a long source line to shorten)"));
    w.setTextTokens(5, 11, true);
    w.setContext(0, 4096);
    w.setImage(QStringLiteral("x.png"), QSize(1408, 792));  // ORIG and HF differ: two panels
    QVERIFY(w.showsBothReferences());
    w.resize(380, 700);
    (void)w.grab();
    const QStringList narrow = w.shortenedLines();
    QVERIFY2(!narrow.isEmpty(), "at 380 px some line must be shortened");
    // Whole texts, not the elided ones: the layout line ends with its total.
    bool layoutLine = false;
    for (const QString& line : narrow) {
        QVERIFY2(!line.contains(QChar(0x2026)), qPrintable(line));
        if (line.startsWith(QStringLiteral("Prompt layout:"))) layoutLine = line.endsWith(QStringLiteral("tokens"));
    }
    QVERIFY2(layoutLine, qPrintable(narrow.join(QLatin1Char('\n'))));
    w.resize(1600, 900);
    (void)w.grab();
    QVERIFY2(w.shortenedLines().isEmpty(), qPrintable(w.shortenedLines().join(QLatin1Char('\n'))));
}

QTEST_MAIN(TstInspector)
#include "tst_inspector.moc"
