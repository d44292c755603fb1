// tst_contextplan: the context meter's numbers (ChatEngine::plan through InferenceController, what
// ContextPlanner shows) against what the engine then really does with the same conversation. The
// reference is the reply itself: a chat restored into a fresh session prefills its whole prompt, so
// GenerationStats::prefillTokens is the conversation's token count and GenerationStats::imageTokens
// the sum over every image of every turn (issue 9 item 4: the meter counted only the last image).
// Cases: 1, 2 and 3 images spread over turns; a message too long for the context is refused by the
// engine with exactly the numbers the plan gave before Send.
#include <QDir>
#include <numeric>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "llava/anyres.h"
#include "support/chatmessages.h"
#include "support/demoload.h"

namespace {

QString imageFile(const QString& dir, int width, int height) {
    const QString path = dir + QStringLiteral("/plan-%1x%2.png").arg(width).arg(height);
    QImage image(width, height, QImage::Format_RGB888);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) image.setPixel(x, y, qRgb(x % 256, y % 256, (x * y) % 256));
    image.save(path);
    return path;
}

using apptest::message;

struct Planned {
    llava::ContextPlan plan;
    QString error;
};

Planned planOf(InferenceController& c, const GenerationRequest& request) {
    QSignalSpy planned(&c, &InferenceController::contextPlanned);
    const quint64 id = c.requestPlan(request);
    while (true) {
        if (planned.isEmpty() && !planned.wait(60000)) return {{}, QStringLiteral("timeout")};
        const QList<QVariant> args = planned.takeFirst();
        if (args.at(0).toULongLong() == id) return {args.at(1).value<llava::ContextPlan>(), args.at(2).toString()};
    }
}

}  // namespace

class TstContextPlan : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void planEqualsWhatTheReplyProcesses_data();
    void planEqualsWhatTheReplyProcesses();
    void tooLongIsRefusedWithThePlannedNumbers();
    void coalescedRequestsAnswerTheLatest();

private:
    GenerationRequest request(const QString& chatId, const QList<ChatMessage>& history, const QString& text,
                              const QStringList& images) const;
    QTemporaryDir m_data;
    std::unique_ptr<InferenceController> m_controller;
    ModelInfo m_info;
};

void TstContextPlan::initTestCase() {
    QVERIFY(m_data.isValid());
    m_controller = std::make_unique<InferenceController>(std::make_unique<LlavaChatEngine>());
    // three full-grid images (2928 tokens each) fit in 16384
    const QString failed = apptest::loadDemoModel(*m_controller, m_data.path(), 16384, &m_info);
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
}

GenerationRequest TstContextPlan::request(const QString& chatId, const QList<ChatMessage>& history, const QString& text,
                                          const QStringList& images) const {
    GenerationRequest r;
    r.conversationId = chatId;
    r.history = history;
    r.text = text;
    r.imagePaths = images;
    r.sampling.temperature = 0;
    r.sampling.maxNewTokens = 2;
    return r;
}

void TstContextPlan::planEqualsWhatTheReplyProcesses_data() {
    QTest::addColumn<int>("turnsBefore");   // earlier exchanges, each with one image
    QTest::addColumn<int>("imagesNow");     // images of the new message
    QTest::newRow("1 image, first message") << 0 << 1;
    QTest::newRow("2 images in one message") << 0 << 2;
    QTest::newRow("image in turn 1, text now") << 1 << 0;
    QTest::newRow("images in turns 1 and 2, one now") << 2 << 1;
}

void TstContextPlan::planEqualsWhatTheReplyProcesses() {
    QFETCH(int, turnsBefore);
    QFETCH(int, imagesNow);
    const QStringList sizes[] = {{imageFile(m_data.path(), 1408, 792)}, {imageFile(m_data.path(), 640, 480)},
                                 {imageFile(m_data.path(), 300, 900)}};
    QList<ChatMessage> history;
    int next = 0;
    for (int t = 0; t < turnsBefore; ++t) {
        history << message(MessageRole::User, QStringLiteral("Turn %1: what is this?").arg(t + 1), sizes[next++]);
        history << message(MessageRole::Assistant, QStringLiteral("An answer with some words %1.").arg(t + 1));
    }
    QStringList now;
    for (int i = 0; i < imagesNow; ++i) now << sizes[next++ % 3];
    const QString chat = QStringLiteral("plan-%1-%2").arg(turnsBefore).arg(imagesNow);
    const GenerationRequest r = request(chat, history, QStringLiteral("And now, compare them."), now);

    const Planned planned = planOf(*m_controller, r);
    QVERIFY2(planned.error.isEmpty(), qPrintable(planned.error));
    const llava::ContextPlan& plan = planned.plan;
    QCOMPARE(int(plan.imageTokens.size()), turnsBefore + imagesNow);
    QCOMPARE(plan.messageImages, imagesNow);
    QCOMPARE(plan.contextLimit, m_info.contextLimit);
    QVERIFY(plan.fits());
    QCOMPARE(plan.earlierTokens > 0, turnsBefore > 0);

    QSignalSpy finished(m_controller.get(), &InferenceController::generationFinished);
    m_controller->generate(r);
    QVERIFY(finished.wait(120000));
    const auto stats = finished.first().at(1).value<llava::GenerationStats>();
    // The plan restored this chat into the session without prefilling it: the reply prefills it all.
    QCOMPARE(stats.prefillTokens, plan.conversationTokens);
    QCOMPARE(stats.imageTokens, std::accumulate(plan.imageTokens.begin(), plan.imageTokens.end(), 0));
    QCOMPARE(stats.imagesEncoded, turnsBefore + imagesNow);
    // Each image's count is the anyres plan of its size (docs/spec.md), independent of the session.
    for (int i = 0; i < turnsBefore + imagesNow; ++i) {
        const QImage image(i < turnsBefore ? sizes[i].first() : now[i - turnsBefore]);
        auto layout = llava::computeImageLayout(image.width(), image.height(), m_info.config, m_info.reference);
        QVERIFY(layout.isOk());
        QCOMPARE(plan.imageTokens[size_t(i)], layout->imageTokens);
    }
}

void TstContextPlan::tooLongIsRefusedWithThePlannedNumbers() {
    // Enough 1600x1200 images to exceed 4096 tokens whatever the demo model's grid is.
    const QString big = imageFile(m_data.path(), 1600, 1200);
    QStringList images;
    llava::ContextPlan plan;
    for (int n = 1; n <= 12; ++n) {
        images << big;
        const Planned planned = planOf(*m_controller, request(QStringLiteral("too-long"), {}, QStringLiteral("Describe."), images));
        QVERIFY2(planned.error.isEmpty(), qPrintable(planned.error));
        plan = planned.plan;
        if (!plan.fits()) break;
    }
    QVERIFY2(!plan.fits(), "12 large images still fit the demo model's context");
    QSignalSpy failed(m_controller.get(), &InferenceController::generationFailed);
    m_controller->generate(request(QStringLiteral("too-long"), {}, QStringLiteral("Describe."), images));
    QVERIFY(failed.wait(60000));
    const QString details = failed.first().at(1).toString() + failed.first().at(2).toString();
    QVERIFY2(details.contains(QStringLiteral("needs %1 tokens").arg(plan.messageTokens())), qPrintable(details));
    QVERIFY2(details.contains(QStringLiteral("at least %1 tokens").arg(plan.neededTokens())), qPrintable(details));
}

void TstContextPlan::coalescedRequestsAnswerTheLatest() {
    QSignalSpy planned(m_controller.get(), &InferenceController::contextPlanned);
    quint64 last = 0;
    for (int i = 0; i < 5; ++i)
        last = m_controller->requestPlan(request(QStringLiteral("typing"), {}, QString(i + 1, QLatin1Char('a')), {}));
    while (planned.isEmpty() || planned.last().at(0).toULongLong() != last) QVERIFY(planned.wait(30000));
    // One ran when the first arrived, the latest waited; the three in between were never computed.
    QCOMPARE(planned.size(), 2);
}

QTEST_GUILESS_MAIN(TstContextPlan)
#include "tst_contextplan.moc"
