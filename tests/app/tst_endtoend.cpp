// tst_endtoend: one conversation with the built-in demo model (random weights) through the real stack:
// LlavaChatEngine (writes the demo model, llava::Engine on the CPU backend) inside InferenceWorker on
// its QThread, driven by InferenceController exactly as the main window does. Checks: load progress and
// ModelInfo, a message with an image streams tokens and finishes with stats (TTFT, tok/s, image tokens
// == planImage/computeImageLayout), greedy decoding is deterministic across a cleared session, a second
// turn continues the cached session, cancel stops a long answer, a chat continued after another chat
// used the session is restored (earlier answers + the first message's image file) and answers exactly as
// the live session did, and the chat's system prompt reaches the prompt.
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "imagedecoder.h"
#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "inspector/promptcounter.h"
#include "llava/anyres.h"
#include "llava/demomodel.h"
#include "support/chatmessages.h"
#include "support/demoload.h"

namespace {

llava::RgbImage gradientImage(int width, int height) {
    llava::RgbImage image = llava::RgbImage::black(width, height);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            std::uint8_t* px = &image.pixels[size_t(y * width + x) * 3];
            px[0] = std::uint8_t(x * 255 / width);
            px[1] = std::uint8_t(y * 255 / height);
            px[2] = std::uint8_t((x + y) % 256);
        }
    return image;
}

struct Answer {
    QString text;
    llava::GenerationStats stats;
    int contextUsed = 0;
    int tokenSignals = 0;
    bool ok = false;
};

Answer ask(InferenceController& c, GenerationRequest request) {
    Answer a;
    QSignalSpy finished(&c, &InferenceController::generationFinished);
    QSignalSpy failed(&c, &InferenceController::generationFailed);
    auto conn = QObject::connect(&c, &InferenceController::tokensGenerated, [&](quint64, const QString& t) {
        a.text += t;
        ++a.tokenSignals;
    });
    c.generate(std::move(request));
    a.ok = finished.wait(120000);
    QObject::disconnect(conn);
    if (!failed.isEmpty()) qWarning("failed: %s %s", qPrintable(failed.first().at(1).toString()), qPrintable(failed.first().at(2).toString()));
    if (a.ok) {
        a.stats = finished.first().at(1).value<llava::GenerationStats>();
        a.contextUsed = finished.first().at(2).toInt();
    }
    return a;
}

// The gradient as a file, as the chat store keeps an attachment: the worker decodes it.
QString gradientFile(const QString& dir) {
    const QString path = dir + QStringLiteral("/llava-e2e-gradient-%1.png").arg(QCoreApplication::applicationPid());
    if (!QFile::exists(path)) {
        const llava::RgbImage rgb = gradientImage(160, 120);
        QImage(rgb.pixels.data(), rgb.width, rgb.height, rgb.width * 3, QImage::Format_RGB888).save(path);
    }
    return path;
}

using apptest::message;

GenerationRequest firstMessage() {
    GenerationRequest r;
    r.conversationId = QStringLiteral("chat-1");
    r.text = QStringLiteral("What is shown in this image?");
    r.imagePaths << gradientFile(QDir::tempPath());
    r.sampling.temperature = 0;  // greedy
    r.sampling.maxNewTokens = 12;
    return r;
}

}  // namespace

class TstEndToEnd : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void conversation();
    void cancelStopsLongAnswer();
    void exactTextCountsMatchEngine();
    void restoredChatContinuesExactly();
    void missingImageOfRestoredChatFails();
    void systemPromptReachesEngine();
    void unansweredTurnKeepsItsPlace();

private:
    QTemporaryDir m_data;
    std::unique_ptr<InferenceController> m_controller;
    ModelInfo m_info;
};

void TstEndToEnd::initTestCase() {
    QVERIFY(m_data.isValid());
    m_controller = std::make_unique<InferenceController>(std::make_unique<LlavaChatEngine>());
    QSignalSpy progress(m_controller.get(), &InferenceController::loadProgressChanged);
    const QString failed = apptest::loadDemoModel(*m_controller, m_data.path(), 4096, &m_info);
    QVERIFY2(failed.isEmpty(), qPrintable(failed));
    QVERIFY(!progress.isEmpty());
    QVERIFY(m_info.randomWeights);
    QVERIFY(m_info.name.contains(QStringLiteral("random weights")));
    QCOMPARE(m_info.backend, QStringLiteral("cpu"));
    QVERIFY(m_info.contextLimit > 0);
    QVERIFY(m_info.weightBytes > 0);
    QVERIFY(!m_info.config.gridPinpoints.empty());
    QVERIFY(QFileInfo::exists(m_data.filePath(QStringLiteral("demo-model/tokenizer.model"))));
}

void TstEndToEnd::conversation() {
    const Answer first = ask(*m_controller, firstMessage());
    QVERIFY(first.ok);
    QVERIFY(first.tokenSignals > 0);
    QVERIFY(first.stats.generatedTokens > 0 && first.stats.generatedTokens <= 12);
    QVERIFY(first.stats.timeToFirstTokenMs > 0);
    QVERIFY(first.stats.decodeTokPerS > 0 || first.stats.generatedTokens == 1);
    auto layout = llava::computeImageLayout(160, 120, m_info.config, m_info.reference);
    QVERIFY(layout.isOk());
    QCOMPARE(first.stats.imageTokens, layout->imageTokens);
    QVERIFY(first.contextUsed >= first.stats.imageTokens + first.stats.textTokens);

    // Greedy: the same message in a fresh session gives the same answer.
    m_controller->clearSession();
    const Answer again = ask(*m_controller, firstMessage());
    QVERIFY(again.ok);
    QCOMPARE(again.text, first.text);
    QCOMPARE(again.stats.generatedTokens, first.stats.generatedTokens);

    // A second turn continues the cached session: only its new tokens are prefilled.
    GenerationRequest second;
    second.conversationId = QStringLiteral("chat-1");
    second.history << message(MessageRole::User, firstMessage().text, firstMessage().imagePaths)
                   << message(MessageRole::Assistant, again.text);
    second.text = QStringLiteral("And the colours?");
    second.sampling.temperature = 0;
    second.sampling.maxNewTokens = 8;
    const Answer next = ask(*m_controller, second);
    QVERIFY(next.ok);
    QCOMPARE(next.stats.imageTokens, first.stats.imageTokens);  // the first message's image is still in the prompt
    QVERIFY(next.contextUsed > again.contextUsed);
    // The image is not prefilled again (the cached prefix is reused; the random answer may re-tokenize
    // differently, so a few of its tokens can be run again).
    QVERIFY(next.stats.textTokens < first.stats.textTokens + first.stats.generatedTokens + 40);
    QVERIFY(next.contextUsed - again.contextUsed < 100);
}

void TstEndToEnd::cancelStopsLongAnswer() {
    m_controller->clearSession();
    GenerationRequest r = firstMessage();
    r.conversationId = QStringLiteral("chat-2");
    r.sampling.maxNewTokens = 100000;
    QSignalSpy stopped(m_controller.get(), &InferenceController::generationStopped);
    QSignalSpy tokens(m_controller.get(), &InferenceController::tokensGenerated);
    m_controller->generate(r);
    QVERIFY(tokens.wait(60000));
    m_controller->cancel();
    QVERIFY(!m_controller->isGenerating());
    QVERIFY(stopped.wait(10000));
    const auto stats = stopped.first().at(1).value<llava::GenerationStats>();
    QCOMPARE(stats.stopReason, llava::StopReason::Cancelled);
}

void TstEndToEnd::exactTextCountsMatchEngine() {
    // The inspector's exact counts (tokenizer + template + buildPrompt) equal the engine's textTokens.
    auto tokenizer = PromptCounter::loadTokenizer(m_info.modelDir);
    QVERIFY2(tokenizer.isOk(), tokenizer.isOk() ? "" : tokenizer.status().message().c_str());
    const PromptCounter counter(m_info.config, *tokenizer);
    QVERIFY(counter.exact());
    const TextTokenCounts counts = counter.count(firstMessage().text);
    QVERIFY(!counts.estimated);
    QVERIFY(counts.before > 0 && counts.after > 0);
    m_controller->clearSession();
    GenerationRequest r = firstMessage();
    r.conversationId = QStringLiteral("chat-3");
    r.sampling.maxNewTokens = 1;
    const Answer a = ask(*m_controller, r);
    QVERIFY(a.ok);
    QCOMPARE(a.stats.textTokens, counts.before + counts.after);

    const PromptCounter estimate(m_info.config, nullptr);
    QVERIFY(estimate.count(firstMessage().text).estimated);
}

void TstEndToEnd::restoredChatContinuesExactly() {
    // The first message's image as the chat store keeps it: a file, decoded as MainWindow does.
    const QString imagePath = m_data.filePath(QStringLiteral("chat-r-image.png"));
    const llava::RgbImage rgb = gradientImage(160, 120);
    QImage file(rgb.pixels.data(), rgb.width, rgb.height, rgb.width * 3, QImage::Format_RGB888);
    QVERIFY(file.save(imagePath));

    m_controller->clearSession();
    GenerationRequest first = firstMessage();
    first.conversationId = QStringLiteral("chat-r");
    first.imagePaths = {imagePath};
    const Answer a1 = ask(*m_controller, first);
    QVERIFY(a1.ok);
    GenerationRequest second;
    second.conversationId = QStringLiteral("chat-r");
    second.history << message(MessageRole::User, first.text, {imagePath}) << message(MessageRole::Assistant, a1.text);
    second.text = QStringLiteral("And the colours?");
    second.sampling.temperature = 0;
    second.sampling.maxNewTokens = 8;
    const Answer live = ask(*m_controller, second);
    QVERIFY(live.ok);

    // Another chat takes the session, then chat-r goes on: the engine sees a different history and restores.
    m_controller->clearSession();
    GenerationRequest other;
    other.conversationId = QStringLiteral("chat-other");
    other.text = QStringLiteral("Something else entirely.");
    other.sampling.maxNewTokens = 4;
    QVERIFY(ask(*m_controller, other).ok);
    m_controller->clearSession();

    const Answer restored = ask(*m_controller, second);
    QVERIFY(restored.ok);
    QCOMPARE(restored.text, live.text);
    QCOMPARE(restored.stats.generatedTokens, live.stats.generatedTokens);
    QCOMPARE(restored.stats.imageTokens, a1.stats.imageTokens);
    QCOMPARE(restored.contextUsed, live.contextUsed);
    QVERIFY(restored.stats.imageEncodeMs > 0);  // the image came back from its file

    // The restored chat is now cached: a third message only prefills its own tokens.
    GenerationRequest third = second;
    third.history << message(MessageRole::User, second.text) << message(MessageRole::Assistant, restored.text);
    third.text = QStringLiteral("Thanks.");
    const Answer next = ask(*m_controller, third);
    QVERIFY(next.ok);
    QCOMPARE(next.stats.imageEncodeMs, 0.0);
    QVERIFY(next.contextUsed - restored.contextUsed < 100);
}

void TstEndToEnd::missingImageOfRestoredChatFails() {
    m_controller->clearSession();
    GenerationRequest r;
    r.conversationId = QStringLiteral("chat-missing");
    const QString missing = m_data.filePath(QStringLiteral("deleted.png"));
    r.history << message(MessageRole::User, QStringLiteral("What is this?"), {missing})
              << message(MessageRole::Assistant, QStringLiteral("A gradient."));
    r.text = QStringLiteral("More?");
    r.sampling.maxNewTokens = 2;
    QSignalSpy failed(m_controller.get(), &InferenceController::generationFailed);
    m_controller->generate(r);
    QVERIFY(failed.wait(30000));
    QVERIFY2(failed.first().at(2).toString().contains(missing), qPrintable(failed.first().at(2).toString()));
}

void TstEndToEnd::systemPromptReachesEngine() {
    auto tokenizer = PromptCounter::loadTokenizer(m_info.modelDir);
    QVERIFY(tokenizer.isOk());
    const PromptCounter counter(m_info.config, *tokenizer);
    const QString system = QStringLiteral("You answer in one short sentence.");
    const TextTokenCounts counts = counter.count(firstMessage().text, system);
    QVERIFY(counts.before + counts.after > counter.count(firstMessage().text).before + counter.count(firstMessage().text).after);
    m_controller->clearSession();
    GenerationRequest r = firstMessage();
    r.conversationId = QStringLiteral("chat-system");
    r.systemPrompt = system;
    r.sampling.maxNewTokens = 1;
    const Answer a = ask(*m_controller, r);
    QVERIFY(a.ok);
    QCOMPARE(a.stats.textTokens, counts.before + counts.after);
}

void TstEndToEnd::unansweredTurnKeepsItsPlace() {
    // A user message left without an answer (the app was killed while answering) stays a turn of its
    // own: the next reply sees both earlier questions and the first one's image, exactly as if the lost
    // answer had been empty. (Pairing messages two by two used to drop both earlier turns: image and text.)
    const QString image = gradientFile(QDir::tempPath());
    GenerationRequest withGap;
    withGap.conversationId = QStringLiteral("chat-gap");
    withGap.history << message(MessageRole::User, QStringLiteral("What is this?"), {image})
                    << message(MessageRole::User, QStringLiteral("Describe the colours in detail, please."));
    withGap.text = QStringLiteral("Thanks.");
    withGap.sampling.temperature = 0;
    withGap.sampling.maxNewTokens = 2;
    m_controller->clearSession();
    const Answer gap = ask(*m_controller, withGap);
    QVERIFY(gap.ok);

    GenerationRequest explicitEmpty = withGap;
    explicitEmpty.conversationId = QStringLiteral("chat-gap-explicit");
    explicitEmpty.history.clear();
    explicitEmpty.history << message(MessageRole::User, QStringLiteral("What is this?"), {image})
                          << message(MessageRole::Assistant, QString())
                          << message(MessageRole::User, QStringLiteral("Describe the colours in detail, please."))
                          << message(MessageRole::Assistant, QString());
    m_controller->clearSession();
    const Answer reference = ask(*m_controller, explicitEmpty);
    QVERIFY(reference.ok);
    QCOMPARE(gap.stats.imageTokens, reference.stats.imageTokens);
    QVERIFY(gap.stats.imageTokens > 0);
    QCOMPARE(gap.stats.textTokens, reference.stats.textTokens);
    QCOMPARE(gap.text, reference.text);
}

QTEST_MAIN(TstEndToEnd)
#include "tst_endtoend.moc"
