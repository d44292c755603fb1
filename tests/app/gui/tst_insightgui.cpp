// tst_insightgui: the insight features of the desktop app (issue 12, issue 9 viewer), each against values
// computed independently:
//  - hovering a word of an answer shows the probability core reported for that token: the app's run (the
//    real LlavaChatEngine on the demo model inside MainWindow) is compared with a separate llava::Engine run
//    of the same message (greedy, logprobs 5), token by token; shading marks exactly the tokens below 50 %;
//  - the stage timeline has one row per core stage, with GB/s = bytes / ms / 1e6 and bars placed by start;
//    on the CPU backend each rate is shown next to this machine's ceiling (fraction = rate / ceiling), with
//    hand-computed texts for made-up stages and ceilings, and no ceiling (none invented) without them;
//  - the image viewer: fit, 100 %, wheel zoom around the cursor, drag panning, the tile overlay mapped into
//    picture pixels (hand-computed for 640x480, docs/spec.md §5.5);
//  - inspector hover: a tile's highlighted token count equals the docs/spec.md §5.5 table (H' x W' split over the
//    tiles by hand), and hovering those tokens in the strip highlights the tile (the reverse);
//  - the attention heatmap of an answer token equals core's explainAnswer run separately (1e-6), and a newer
//    explain request supersedes an older one (latest wins).
#include <QAbstractTextDocumentLayout>
#include <QCheckBox>
#include <QDockWidget>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTextBrowser>
#include <QToolButton>
#include <QToolTip>

#include "chat/chatcontroller.h"
#include "chat/chatmodel.h"
#include "chat/chatstore.h"
#include "chat/chatview.h"
#include "chat/confidencetext.h"
#include "chat/conversationstore.h"
#include "chat/messagewidget.h"
#include "chat/stagechart.h"
#include "imagedecoder.h"
#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "inspector/inspectorgeometry.h"
#include "inspector/labellane.h"
#include "text/testtokenizers.h"
#include "inspector/inspectorwidget.h"
#include "llava/explain.h"
#include "mainwindow.h"
#include "statuspanel.h"
#include "viewer/imagecanvas.h"
#include "viewer/imageviewer.h"
#include "viewer/viewercontroller.h"

namespace {
constexpr int kNewTokens = 8;
const QString kQuestion = QStringLiteral("What is in this picture?");

QImage gradient(int w, int h) {
    QImage image(w, h, QImage::Format_RGB32);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) image.setPixel(x, y, qRgb(x * 255 / w, y * 255 / h, (x * 7 + y * 3) % 256));
    return image;
}

AppSettings demoSettings() {
    AppSettings s;
    s.backend = QStringLiteral("cpu");
    s.threads = 2;
    s.maxNewTokens = kNewTokens;
    s.temperature = 0;
    return s;
}

MainWindowOptions demoOptions(const QString& dir) {
    MainWindowOptions o;
    o.dataDir = dir;
    o.openSample = false;
    o.engineFactory = [] { return std::make_unique<LlavaChatEngine>(); };
    return o;
}

// The same message through core directly: greedy, logprobs 5, the app's context length.
std::vector<llava::TokenConfidence> coreConfidences(const QString& modelDir, const QString& imagePath) {
    llava::EngineOptions options;
    options.backend = llava::BackendKind::Cpu;
    options.threads = 2;
    options.contextLength = AppSettings{}.contextLength;
    auto engine = llava::Engine::load(modelDir.toStdString(), options, {});
    if (!engine.isOk()) return {};
    auto image = imageio::decodeImageFile(imagePath);
    if (!image.isOk()) return {};
    llava::SamplingParams sampling;
    sampling.temperature = 0;
    sampling.maxNewTokens = kNewTokens;
    sampling.logprobs = 5;
    std::vector<llava::TokenConfidence> out;
    llava::UserMessage message{kQuestion.toStdString(), {*image}};
    auto stats = (*engine)->session().reply(message, sampling, [&](const llava::TokenEvent& e) {
        if (e.confidence) out.push_back(*e.confidence);
        return true;
    }, {});
    return stats.isOk() ? out : std::vector<llava::TokenConfidence>{};
}

// The viewport point over the first character of a token's first document run.
std::optional<QPoint> pointOverToken(MessageWidget* w, int token) {
    const auto runs = w->confidence().documentRanges(token);
    if (runs.isEmpty()) return std::nullopt;
    QTextCursor a(w->body()->document()), b(w->body()->document());
    a.setPosition(runs.front().first);
    b.setPosition(runs.front().first + 1);
    const QRect ra = w->body()->cursorRect(a), rb = w->body()->cursorRect(b);
    if (rb.top() != ra.top() || rb.x() <= ra.x()) return std::nullopt;  // wrapped: skip this token
    return QPoint((ra.x() + rb.x()) / 2, ra.center().y());
}
}  // namespace

class TstInsightGui : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void hoverShowsCoreProbability();
    void shadingMarksUnsureTokens();
    void reopenedAnswerKeepsConfidence();
    void stageTimelineFollowsStats();
    void stageChartShowsCeilings();
    void explainHeatmapEqualsCore();
    void explainLatestRequestWins();
    void viewerZoomPanAndTiles();
    void tileStripHover_data();
    void tileStripHover();
    void labelLaneEqualsOriginalCode_data();
    void labelLaneEqualsOriginalCode();
    void labelLaneFollowsTheChat();

private:
    MessageWidget* answerWidget() const { return m_window->chatView()->widgetForRow(1); }

    QTemporaryDir m_data;
    std::unique_ptr<MainWindow> m_window;
    QString m_image;
    std::vector<llava::TokenConfidence> m_core;
};

void TstInsightGui::initTestCase() {
    qputenv("LLAVA_NO_DIALOGS", "1");
    m_window = std::make_unique<MainWindow>(demoSettings(), demoOptions(m_data.path()));
    m_window->resize(1280, 820);
    m_window->show();
    QSignalSpy loaded(m_window->controller(), &InferenceController::loadFinished);
    m_window->loadModel(m_data.filePath(QStringLiteral("demo-model")), true);
    QVERIFY(loaded.wait(120000));
    auto stored = m_window->store()->files().importImage(gradient(640, 480));
    QVERIFY(stored.isOk());
    m_image = *stored;
    m_window->send(kQuestion, {m_image});
    QVERIFY(QTest::qWaitFor([&] { return !m_window->chatController()->isBusy(); }, 120000));
    QCOMPARE(m_window->chatModel()->rowCount(), 2);
    m_core = coreConfidences(m_data.filePath(QStringLiteral("demo-model")), m_image);
    QVERIFY(!m_core.empty());
}

void TstInsightGui::cleanupTestCase() { m_window.reset(); }

void TstInsightGui::hoverShowsCoreProbability() {
    const ChatMessage& answer = m_window->chatModel()->message(1);
    QCOMPARE(answer.tokens.size(), qsizetype(m_core.size()));
    MessageWidget* w = answerWidget();
    QVERIFY(w);
    int hovered = 0;
    for (int k = 0; k < int(m_core.size()); ++k) {
        // The stored values are core's (same model, same prompt): ids equal, probabilities within float noise.
        QCOMPARE(answer.tokens[k].chosen.id, m_core[size_t(k)].chosen.id);
        QCOMPARE(answer.tokens[k].top.size(), qsizetype(m_core[size_t(k)].top.size()));
        const auto point = pointOverToken(w, k);
        if (!point) continue;
        QTest::mouseMove(w->body()->viewport(), *point);
        QTRY_COMPARE(w->hoveredToken(), k);
        const double expected = std::exp(m_core[size_t(k)].chosen.logprob);
        QVERIFY2(std::abs(answer.tokens[k].chosen.probability() - expected) <= 1e-6,
                 qPrintable(QStringLiteral("token %1: %2 vs core %3").arg(k).arg(answer.tokens[k].chosen.probability()).arg(expected)));
        QVERIFY2(QToolTip::text().contains(formatProbability(expected).toHtmlEscaped()), qPrintable(QToolTip::text()));
        for (const llava::TokenLogprob& alt : m_core[size_t(k)].top)
            QVERIFY2(QToolTip::text().contains(formatProbability(std::exp(alt.logprob)).toHtmlEscaped()), qPrintable(QToolTip::text()));
        ++hovered;
    }
    QVERIFY2(hovered >= 3, qPrintable(QStringLiteral("only %1 tokens could be hovered").arg(hovered)));
}

void TstInsightGui::shadingMarksUnsureTokens() {
    m_window->chatView()->shadingAction()->setChecked(true);
    MessageWidget* w = answerWidget();
    int checked = 0;
    for (int k = 0; k < int(m_core.size()); ++k) {
        const auto runs = w->confidence().documentRanges(k);
        if (runs.isEmpty()) continue;
        QTextCursor c(w->body()->document());
        c.setPosition(runs.front().first + 1);  // the format of the character before the cursor
        const bool shaded = c.charFormat().background().style() != Qt::NoBrush;
        QCOMPARE(shaded, std::exp(m_core[size_t(k)].chosen.logprob) < kUnsureProbability);
        ++checked;
    }
    QVERIFY(checked >= 3);
    m_window->chatView()->shadingAction()->setChecked(false);
    QTextCursor c(answerWidget()->body()->document());
    c.setPosition(1);
    QCOMPARE(c.charFormat().background().style(), Qt::NoBrush);
}

// What the user sees after closing and reopening the app: the chat file the app wrote, read by a fresh
// ChatStore, shown in a new bubble.
void TstInsightGui::reopenedAnswerKeepsConfidence() {
    const ChatMessage& live = m_window->chatModel()->message(1);
    QCOMPARE(live.tokens.size(), qsizetype(m_core.size()));
    std::optional<ChatMessage> reopened;
    QVERIFY(QTest::qWaitFor([&] {
        for (const Conversation& c : ChatStore(m_data.path()).loadAll().conversations)
            if (c.messages.size() == 2 && c.messages[1].tokens.size() == live.tokens.size()) reopened = c.messages[1];
        return reopened.has_value();
    }, 10000));
    QCOMPARE(reopened->text, live.text);
    // The answer's bubble now shows the message as read from disk (the view rebuilds bubbles the same way
    // when a chat is opened).
    MessageWidget& w = *answerWidget();
    const auto liveRanges = [&] {
        QList<QList<QPair<int, int>>> out;
        for (int k = 0; k < int(m_core.size()); ++k) out << w.confidence().documentRanges(k);
        return out;
    }();
    const QString statsText = m_window->chatModel()->data(m_window->chatModel()->index(1), ChatModel::StatsTextRole).toString();
    w.setMessage(*reopened, statsText);
    int hovered = 0;
    for (int k = 0; k < int(m_core.size()); ++k) {
        QCOMPARE(w.confidence().documentRanges(k), liveRanges[k]);
        const auto point = pointOverToken(&w, k);
        if (!point) continue;
        QTest::mouseMove(w.body()->viewport(), *point);
        QTRY_COMPARE(w.hoveredToken(), k);
        QCOMPARE(QToolTip::text(), confidenceCard(live.tokens[k]));
        QVERIFY(QToolTip::text().contains(formatProbability(std::exp(m_core[size_t(k)].chosen.logprob)).toHtmlEscaped()));
        ++hovered;
    }
    QVERIFY2(hovered >= 3, qPrintable(QStringLiteral("only %1 tokens could be hovered").arg(hovered)));
    w.setConfidenceShading(true);
    int checked = 0;
    for (int k = 0; k < int(m_core.size()); ++k) {
        const auto runs = w.confidence().documentRanges(k);
        if (runs.isEmpty()) continue;
        QTextCursor c(w.body()->document());
        c.setPosition(runs.front().first + 1);
        QCOMPARE(c.charFormat().background().style() != Qt::NoBrush, std::exp(m_core[size_t(k)].chosen.logprob) < kUnsureProbability);
        ++checked;
    }
    QVERIFY(checked >= 3);
    w.setConfidenceShading(false);
    w.setMessage(live, statsText);
}

void TstInsightGui::stageTimelineFollowsStats() {
    const ChatMessage& answer = m_window->chatModel()->message(1);
    QVERIFY(answer.hasStats && !answer.stats.stages.empty());
    MessageWidget* w = answerWidget();
    QVERIFY(w->timelineButton()->isVisible());
    QVERIFY(!w->stageChart()->isVisible());
    w->timelineButton()->click();
    QVERIFY(w->stageChart()->isVisible());
    const QList<StageRow> rows = w->stageChart()->rows();
    QCOMPARE(rows.size(), qsizetype(answer.stats.stages.size()));
    double total = 0;
    for (const auto& s : answer.stats.stages) total = std::max(total, s.startMs + s.ms);
    for (int i = 0; i < rows.size(); ++i) {
        const llava::StageTiming& s = answer.stats.stages[size_t(i)];
        QVERIFY(rows[i].label.startsWith(QString::fromStdString(s.name)));
        if (s.ms > 0) QCOMPARE(rows[i].gbPerS, s.bytes / (s.ms * 1e-3) / 1e9);
        if (s.ms > 0) QCOMPARE(rows[i].gflopPerS, s.flops / (s.ms * 1e-3) / 1e9);
        if (i > 0 && s.startMs > answer.stats.stages[size_t(i - 1)].startMs)
            QVERIFY(w->stageChart()->barRect(i).left() >= w->stageChart()->barRect(i - 1).left());
    }
    QCOMPARE(w->stageChart()->totalMs(), total);
    // The demo model ran on the CPU backend: the answer carries the ceilings, and the rows are fractions of them.
    QVERIFY(answer.stats.ceilings.has_value());
    const llava::MachineCeilings& c = *answer.stats.ceilings;
    QVERIFY(c.copyGBs > 0 && c.gemmGflops > 0);
    QCOMPARE(c.threads, 2);
    int fractions = 0;
    for (const StageRow& r : rows) {
        QCOMPARE(r.bandwidthFraction.has_value(), r.gbPerS > 0);
        QCOMPARE(r.flopsFraction.has_value(), r.gflopPerS > 0);
        if (r.bandwidthFraction) QCOMPARE(*r.bandwidthFraction, r.gbPerS / c.copyGBs);
        if (r.flopsFraction) QCOMPARE(*r.flopsFraction, r.gflopPerS / c.gemmGflops);
        if (r.bandwidthFraction) {
            QVERIFY2(w->stageChart()->valueText(r).contains(QStringLiteral(" of ")), qPrintable(w->stageChart()->valueText(r)));
            ++fractions;
        }
    }
    QVERIFY(fractions >= 3);
    QVERIFY2(w->stageChart()->footerText().contains(QString::number(c.copyGBs, 'f', 1)), qPrintable(w->stageChart()->footerText()));
    // Cached for the next run (QStandardPaths cache folder), exactly these values.
    QFile cache(machineCeilingsCacheFile());
    QVERIFY2(cache.open(QIODevice::ReadOnly), qPrintable(cache.fileName()));
    const auto stored = llava::ceilingsFromJson(cache.readAll().toStdString());
    QVERIFY(stored.isOk());
    QVERIFY(stored->copyGBs == c.copyGBs && stored->gemmGflops == c.gemmGflops && stored->measuredAt == c.measuredAt);
    w->timelineButton()->click();
}

// Made-up stages and ceilings, texts by hand: 0.123 GB in 10 ms = 12.3 GB/s of 24.6 = 50 %; 0.8 GFLOP in
// 10 ms = 80 GFLOP/s of 110 = 72.7 % -> "73 %"; a stage far below its ceiling keeps a decimal ("0.4 %").
void TstInsightGui::stageChartShowsCeilings() {
    llava::StageTiming decode;
    decode.name = std::string(llava::kStageDecodeSteady);
    decode.ms = 10;
    decode.items = 5;
    decode.bytes = 0.123e9;
    decode.flops = 0.8e9;
    llava::StageTiming merge;
    merge.name = std::string(llava::kStageMerge);
    merge.startMs = 10;
    merge.ms = 100;
    merge.bytes = 0.01e9;  // 0.1 GB/s: 0.4 % of 24.6
    llava::MachineCeilings ceilings;
    ceilings.copyGBs = 24.6;
    ceilings.gemmGflops = 110;
    ceilings.threads = 4;
    ceilings.cpu = "Test CPU";
    ceilings.measuredAt = "2026-12-03T17:00:00Z";
    StageChart chart;
    chart.resize(900, 200);
    chart.setStages({decode, merge}, ceilings);
    QCOMPARE(chart.valueText(chart.rows()[0]), QStringLiteral("10.0 ms  12.3 GB/s of 24.6 (50 %)  80.0 GFLOP/s of 110.0 (73 %)"));
    QCOMPARE(chart.valueText(chart.rows()[1]), QStringLiteral("100.0 ms  0.10 GB/s of 24.6 (0.4 %)"));
    QVERIFY(!chart.rows()[1].flopsFraction);
    QVERIFY(chart.footerText().contains(QStringLiteral("copy 24.6 GB/s, GEMM 110.0 GFLOP/s (4 threads, Test CPU, measured 2026-12-03)")));
    // Without ceilings (another backend): rates alone, and the footer says there are none.
    chart.setStages({decode, merge});
    QCOMPARE(chart.valueText(chart.rows()[0]), QStringLiteral("10.0 ms  12.3 GB/s  80.0 GFLOP/s"));
    QVERIFY(!chart.rows()[0].bandwidthFraction && !chart.rows()[0].flopsFraction);
    QVERIFY(chart.footerText().contains(QStringLiteral("No machine ceilings")));
}

void TstInsightGui::explainHeatmapEqualsCore() {
    ViewerController* vc = m_window->viewerController();
    QSignalSpy finished(m_window->controller(), &InferenceController::explainFinished);
    vc->explainAnswerToken(1, 1);
    QVERIFY(vc->viewer() && vc->viewer()->isVisible());
    QVERIFY(finished.wait(120000));
    QVERIFY(QTest::qWaitFor([&] { return vc->viewer()->explanation().has_value(); }, 1000));
    const ExplainResult shown = *vc->viewer()->explanation();
    QCOMPARE(shown.firstToken, 1);
    QCOMPARE(shown.lastToken, 1);

    llava::EngineOptions options;
    options.backend = llava::BackendKind::Cpu;
    options.threads = 2;
    auto engine = llava::Engine::load(m_data.filePath(QStringLiteral("demo-model")).toStdString(), options, {});
    QVERIFY(engine.isOk());
    auto image = imageio::decodeImageFile(m_image);
    QVERIFY(image.isOk());
    llava::SamplingParams sampling;
    sampling.temperature = 0;
    sampling.maxNewTokens = int(m_core.size());
    llava::ExplainOptions eo;
    eo.firstToken = eo.lastToken = 1;
    auto core = llava::explainAnswer(**engine, {kQuestion.toStdString(), {*image}}, sampling, eo);
    QVERIFY2(core.isOk(), core.isOk() ? "" : core.status().message().c_str());
    QCOMPARE(shown.map.grid.size(), core->map.grid.size());
    QCOMPARE(shown.map.base.size(), core->map.base.size());
    for (size_t i = 0; i < core->map.grid.size(); ++i) QVERIFY(std::abs(shown.map.grid[i] - core->map.grid[i]) <= 1e-6);
    for (size_t i = 0; i < core->map.base.size(); ++i) QVERIFY(std::abs(shown.map.base[i] - core->map.base[i]) <= 1e-6);
    QVERIFY(std::abs(shown.massImage - core->massImage) <= 1e-6);
    QVERIFY(std::abs(shown.massAnswer - core->massAnswer) <= 1e-6);
    QCOMPARE(shown.answerText, QString::fromStdString(core->answerText));
    // The summary states the split; the slider drives the overlay's opacity.
    QVERIFY(vc->viewer()->attentionSummary()->text().contains(QString::number((core->map.baseMass + core->map.gridMass + core->map.newlineMass) * 100, 'f', 1)));
    vc->viewer()->opacitySlider()->setValue(25);
    QCOMPARE(vc->viewer()->canvas()->heatmapOpacity(), 0.25);
}

void TstInsightGui::explainLatestRequestWins() {
    InferenceController* c = m_window->controller();
    QSignalSpy finished(c, &InferenceController::explainFinished);
    ExplainRequest request;
    request.imagePath = m_image;
    request.prompt = kQuestion;
    request.sampling.temperature = 0;
    request.sampling.maxNewTokens = int(m_core.size());
    request.firstToken = request.lastToken = 0;
    c->explain(request);
    request.firstToken = request.lastToken = 2;
    const quint64 second = c->explain(request);
    QVERIFY(finished.wait(120000));
    QTest::qWait(200);
    QCOMPARE(finished.size(), 1);
    const auto result = finished.first().first().value<ExplainResult>();
    QCOMPARE(result.id, second);
    QCOMPARE(result.firstToken, 2);
}

void TstInsightGui::viewerZoomPanAndTiles() {
    auto config = llava::loadPreset("llava-v1.6-mistral-7b");
    QVERIFY(config.isOk());
    auto layout = llava::computeImageLayout(640, 480, *config, llava::Reference::Original);
    QVERIFY(layout.isOk());
    ImageViewer viewer;
    viewer.resize(900, 680);
    viewer.show();
    viewer.showImage(m_image, *layout, 336, 24);
    QVERIFY(QTest::qWaitForWindowExposed(&viewer));
    ImageCanvas* canvas = viewer.canvas();
    canvas->fit();
    QVERIFY(std::abs(canvas->scale() - std::min(canvas->width() / 640.0, canvas->height() / 480.0) * 0.96) < 1e-9);
    // Wheel: one notch zooms 1.25x and keeps the picture point under the cursor.
    const QPointF cursor(canvas->width() * 0.3, canvas->height() * 0.4);
    const double before = canvas->scale();
    const QPointF imagePoint = (cursor - canvas->imageToWidget({0, 0})) / before;
    QWheelEvent wheel(cursor, canvas->mapToGlobal(cursor), {}, {0, 120}, Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(canvas, &wheel);
    QVERIFY(std::abs(canvas->scale() - before * 1.25) < 1e-9);
    QVERIFY((canvas->imageToWidget(imagePoint) - cursor).manhattanLength() < 1e-6);
    // Drag: the picture follows the mouse.
    const QPointF origin = canvas->imageToWidget({0, 0});
    QTest::mousePress(canvas, Qt::LeftButton, {}, QPoint(200, 200));
    QMouseEvent move(QEvent::MouseMove, QPointF(230, 190), canvas->mapToGlobal(QPointF(230, 190)), Qt::NoButton, Qt::LeftButton, {});
    QApplication::sendEvent(canvas, &move);
    QTest::mouseRelease(canvas, Qt::LeftButton, {}, QPoint(230, 190));
    QVERIFY((canvas->imageToWidget({0, 0}) - (origin + QPointF(30, -10))).manhattanLength() < 1e-6);
    canvas->actualSize();
    QCOMPARE(canvas->scale(), 1.0);
    // Tiles: 640x480 -> canvas 672x672 (2x2), resized 672x504 at pad top 84 (docs/spec.md §5.5). Tile 4 starts at
    // canvas (336, 336) = picture ((336 - 0) * 640/672, (336 - 84) * 480/504) = (320, 240).
    viewer.layoutToggle()->setChecked(true);
    QVERIFY(canvas->layoutVisible());
    // Fit with the overlay shows the whole 672x672 canvas: 640 x (672 * 480/504 = 640) picture pixels.
    canvas->fit();
    QVERIFY(std::abs(canvas->scale() - std::min(canvas->width(), canvas->height()) / 640.0 * 0.96) < 1e-9);
    const QRectF tile4 = canvas->canvasToImage(QRectF(336, 336, 336, 336));
    QVERIFY(std::abs(tile4.x() - 320) < 1e-9 && std::abs(tile4.y() - 240) < 1e-9);
    QVERIFY(std::abs(tile4.width() - 320) < 1e-9 && std::abs(tile4.height() - 320) < 1e-9);
    QSignalSpy inspect(&viewer, &ImageViewer::showInInspectorRequested);
    viewer.findChildren<QPushButton*>().at(2)->click();  // Fit, 100 %, Show in inspector
    QCOMPARE(inspect.size(), 1);
    QCOMPARE(inspect.first().first().toString(), m_image);
}

void TstInsightGui::tileStripHover_data() {
    QTest::addColumn<QSize>("size");
    QTest::addColumn<QList<int>>("perTile");  // grid tokens per tile, from H' x W' of docs/spec.md §5.5 by hand
    // 640x480: 2x2, kept rows 6..42 of 48 -> 18 rows in each tile row x 24 cols.
    QTest::newRow("640x480") << QSize(640, 480) << QList<int>{432, 432, 432, 432};
    // 1920x1080: 2x2, H' = 28 (rows 10..38): 14 rows above and below the middle.
    QTest::newRow("1920x1080") << QSize(1920, 1080) << QList<int>{336, 336, 336, 336};
    // 800x200: 3x1, H' = 18 (rows 3..21) x 24 cols per tile.
    QTest::newRow("800x200") << QSize(800, 200) << QList<int>{432, 432, 432};
    // 480x640: 2x2, W' = 36 (cols 6..42): 24 rows x 18 cols in each tile.
    QTest::newRow("480x640") << QSize(480, 640) << QList<int>{432, 432, 432, 432};
}

void TstInsightGui::tileStripHover() {
    QFETCH(QSize, size);
    QFETCH(QList<int>, perTile);
    auto config = llava::loadPreset("llava-v1.6-mistral-7b");
    QVERIFY(config.isOk());
    InspectorWidget w;
    w.setModelConfig(*config);
    w.setImage(QStringLiteral("x.png"), size);
    w.resize(520, 760);
    w.grab();  // paints: the hit areas are where things were drawn
    int total = 0;
    for (int crop = 0; crop <= perTile.size(); ++crop) {
        const auto centre = w.cropCentre(crop);
        QVERIFY(centre);
        w.hoverAt(*centre);
        QCOMPARE(w.hoveredCrop(), crop);
        int count = 0;
        for (const TokenRun& run : w.highlightedTokens()) count += run.count;
        QCOMPARE(count, crop == 0 ? 576 : perTile[crop - 1]);
        if (crop > 0) total += count;
        // The reverse: pointing at the tile's first and last tokens in the strip highlights the tile.
        const QList<TokenRun> runs = w.highlightedTokens();
        w.hoverAt(QPointF(-1, -1));
        QCOMPARE(w.hoveredCrop(), -1);
        for (int position : {runs.front().begin, runs.back().begin + runs.back().count - 1}) {
            w.grab();
            const auto p = w.stripPoint(position);
            QVERIFY(p);
            w.hoverAt(*p);
            QCOMPARE(w.hoveredCrop(), crop);
        }
    }
    const auto l = w.layout(w.preferredReference());
    QCOMPARE(total, l->unpaddedRows * l->unpaddedCols);
}

void TstInsightGui::labelLaneEqualsOriginalCode_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("one image") << QStringLiteral("mistral_instruct/one_image");
    QTest::newRow("three turns") << QStringLiteral("mistral_instruct/multi_turn_image");
    QTest::newRow("text only") << QStringLiteral("mistral_instruct/text_only");
}

// The lane against the golden the original llava/train/train.py produced (tests/reference/gen_labels.py):
// each -200 of its input_ids stands for the image's kImageTokens masked positions.
void TstInsightGui::labelLaneEqualsOriginalCode() {
    QFETCH(QString, name);
    constexpr int kImageTokens = 2340;
    QFile file(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/golden/labels/training_labels.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonObject golden;
    for (const QJsonValue& c : QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("cases")).toArray())
        if (c.toObject().value(QStringLiteral("name")).toString() == name) golden = c.toObject();
    QVERIFY(!golden.isEmpty());
    QList<ChatMessage> messages;
    for (const QJsonValue& t : golden.value(QStringLiteral("turns")).toArray()) {
        ChatMessage m;
        m.role = t[QStringLiteral("role")].toString() == QStringLiteral("human") ? MessageRole::User : MessageRole::Assistant;
        m.text = t[QStringLiteral("text")].toString();
        for (int i = 0; i < t[QStringLiteral("images")].toInt(); ++i) m.images << QStringLiteral("image.png");
        messages << m;
    }
    std::vector<int> expected;  // true = learned, per expanded position
    for (const QJsonValue& v : golden.value(QStringLiteral("labels")).toArray()) expected.push_back(v.toInt() != -100);
    const QJsonArray ids = golden.value(QStringLiteral("input_ids")).toArray();
    for (qsizetype i = ids.size() - 1; i >= 0; --i)  // expand each image placeholder
        if (ids[i].toInt() == -200) expected.insert(expected.begin() + i, kImageTokens - 1, 0);
    auto tokenizer = llavatest::loadVerified(llavatest::kMistral);
    QVERIFY(tokenizer.isOk());
    const LabelLane lane = computeLabelLane(*tokenizer, "mistral_instruct", messages, {}, {kImageTokens}, -200);
    QVERIFY2(lane.problem.isEmpty(), qPrintable(lane.problem));
    QCOMPARE(lane.preprocess, golden.value(QStringLiteral("preprocess")).toString());
    QCOMPARE(lane.learned, golden.value(QStringLiteral("learned")).toInt());
    std::vector<int> shown;
    for (const LabelRun& run : lane.runs) shown.insert(shown.end(), size_t(run.count), run.learned ? 1 : 0);
    QCOMPARE(shown, expected);
}

void TstInsightGui::labelLaneFollowsTheChat() {
    // The demo chat has one answered exchange: the lane shows it (or names why it cannot).
    QTRY_VERIFY(!m_window->inspector()->labelLane().isEmpty() || !m_window->inspector()->labelLane().problem.isEmpty());
    const LabelLane& lane = m_window->inspector()->labelLane();
    if (lane.isEmpty()) QFAIL(qPrintable(lane.problem));
    const ModelInfo& model = *m_window->statusPanel()->model();
    auto l = llava::computeImageLayout(640, 480, model.config, model.reference);
    QVERIFY(l.isOk());
    QVERIFY(lane.masked >= l->imageTokens);  // every image position is masked
    QCOMPARE(lane.learned + lane.masked, [&] {  // the runs cover the training sequence once
        int n = 0;
        for (const LabelRun& run : lane.runs) n += run.count;
        return n;
    }());
}

QTEST_MAIN(TstInsightGui)
#include "tst_insightgui.moc"
