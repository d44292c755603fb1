// tst_inferencecontroller: the worker/controller threading contract with FakeChatEngine — signal order
// (started -> tokens -> finished), cancel stops within a few tokens and the UI is idle at once,
// destroying the controller mid-generation neither hangs nor crashes (shutdown order bug class).
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include "support/fakechatengine.h"
#include "inference/inferencecontroller.h"
#include "inspector/inspectorgeometry.h"

class TstInferenceController : public QObject {
    Q_OBJECT
private slots:
    void signalOrder();
    void cancelIsImmediate();
    void shutdownDuringGeneration();
    void loadFailureHasHint();
    void inspectorGeometryMatchesCore();
};

static std::unique_ptr<InferenceController> makeController(FakeEngineScript script) {
    auto c = std::make_unique<InferenceController>(std::make_unique<FakeChatEngine>(script));
    QSignalSpy loaded(c.get(), &InferenceController::loadFinished);
    c->loadModel(LoadRequest{});
    if (!loaded.wait(5000)) qWarning("load did not finish");
    return c;
}

void TstInferenceController::signalOrder() {
    auto c = makeController({});
    QStringList order;
    QString text;
    connect(c.get(), &InferenceController::generationStarted, this, [&] { order << "started"; });
    connect(c.get(), &InferenceController::tokensGenerated, this, [&](quint64, const QString& t) {
        if (order.isEmpty() || order.last() != "tokens") order << "tokens";
        text += t;
    });
    QSignalSpy finished(c.get(), &InferenceController::generationFinished);
    connect(c.get(), &InferenceController::generationFinished, this, [&] { order << "finished"; });
    GenerationRequest request;
    request.text = QStringLiteral("hi");
    const quint64 id = c->generate(request);
    QVERIFY(c->isGenerating());
    QVERIFY(finished.wait(5000));
    QCOMPARE(finished.first().at(0).toULongLong(), id);
    QCOMPARE(order, (QStringList{"started", "tokens", "finished"}));
    QCOMPARE(text, QStringLiteral("Hello, world!"));
    QVERIFY(!c->isGenerating());
}

void TstInferenceController::cancelIsImmediate() {
    FakeEngineScript script;
    script.pieces = QStringList(1000, QStringLiteral("x"));
    script.tokenDelay = std::chrono::milliseconds(5);
    auto c = makeController(script);
    QSignalSpy started(c.get(), &InferenceController::generationStarted);
    QSignalSpy stopped(c.get(), &InferenceController::generationStopped);
    c->generate(GenerationRequest{});
    QVERIFY(started.wait(5000));
    QElapsedTimer timer;
    timer.start();
    c->cancel();
    QVERIFY(!c->isGenerating());  // the UI is idle at once
    QVERIFY(stopped.wait(5000));
    QVERIFY2(timer.elapsed() < 500, qPrintable(QString::number(timer.elapsed())));
    const auto stats = stopped.first().at(1).value<llava::GenerationStats>();
    QCOMPARE(stats.stopReason, llava::StopReason::Cancelled);
    QVERIFY(stats.generatedTokens < 1000);
}

void TstInferenceController::shutdownDuringGeneration() {
    FakeEngineScript script;
    script.pieces = QStringList(100000, QStringLiteral("y"));
    auto c = makeController(script);
    QSignalSpy started(c.get(), &InferenceController::generationStarted);
    c->generate(GenerationRequest{});
    QVERIFY(started.wait(5000));
    QElapsedTimer timer;
    timer.start();
    c.reset();  // cancel -> quit -> wait
    QVERIFY(timer.elapsed() < 2000);
}

void TstInferenceController::loadFailureHasHint() {
    FakeEngineScript script;
    script.failLoad = QStringLiteral("config.json: not found");
    InferenceController c(std::make_unique<FakeChatEngine>(script));
    QSignalSpy failed(&c, &InferenceController::loadFailed);
    c.loadModel(LoadRequest{});
    QVERIFY(failed.wait(5000));
    QVERIFY(!failed.first().at(0).toString().isEmpty());
    QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("config.json")));
}

void TstInferenceController::inspectorGeometryMatchesCore() {
    llava::ModelConfig config;
    config.gridPinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    auto layout = llava::computeImageLayout(1920, 1080, config, llava::Reference::Original);
    QVERIFY(layout.isOk());
    const InspectorGeometry g = inspectorGeometry(*layout);
    QCOMPARE(g.canvas, QRect(0, 0, layout->canvasWidth, layout->canvasHeight));
    QCOMPARE(g.tiles.size(), layout->gridCols * layout->gridRows);
    QCOMPARE(g.tiles.last().bottomRight(), QPoint(layout->canvasWidth - 1, layout->canvasHeight - 1));
    QCOMPARE(g.image, QRect(layout->padLeft, layout->padTop, layout->resizedWidth, layout->resizedHeight));
    QCOMPARE(g.kept.height(), layout->unpaddedRows * 14);
    QCOMPARE(g.kept.width(), layout->unpaddedCols * 14);
    const auto strip = tokenStrip(5, *layout, 13, false);
    int total = 0;
    for (const auto& s : strip) total += s.count;
    QCOMPARE(total, 5 + layout->imageTokens + 13);  // docs/spec.md §5.5: 1920x1080 -> 1948 image tokens
    QCOMPARE(layout->imageTokens, 1948);
}

QTEST_MAIN(TstInferenceController)
#include "tst_inferencecontroller.moc"
