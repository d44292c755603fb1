// tst_fixturechat: the tiny HF-reference checkpoints of tests/fixtures through the real app stack
// (InferenceController -> InferenceWorker on its QThread -> LlavaChatEngine -> llava::Engine, CPU), loaded
// as "Open model folder…" does (MainWindow::loadModel: a LoadRequest for the folder, randomWeights false,
// reference left to the model's default). The folder is copied into a temporary directory with the
// shared Mistral tokenizer (sha256 checked) as tokenizer.model, then the fixture's message (the image
// landscape_640x480.png decoded as MainWindow decodes attachments, "What is in this picture?", no
// system prompt, rendered by the folder's mistral_instruct template) is answered greedily with 32 new
// tokens. The streamed text must equal the sentencepiece decode of the greedy tokens transformers
// recorded in golden/manifest.json for that (folder, image), and the image must take 2340 tokens.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

#include "imagedecoder.h"
#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "text/testtokenizers.h"

namespace {

const QString kFixtures = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures");
constexpr const char* kImage = "landscape_640x480";
constexpr int kMaxNewTokens = 32;
constexpr int kImageTokens = 2340;

bool copyFolder(const QString& from, const QString& to) {
    if (!QDir().mkpath(to)) return false;
    const QDir src(from);
    for (const QFileInfo& entry : src.entryInfoList(QDir::Files | QDir::NoDotAndDotDot))
        if (!QFile::copy(entry.filePath(), to + QLatin1Char('/') + entry.fileName())) return false;
    return true;
}

struct Expected {
    std::vector<int> greedyTokens;
    int imageTokens = 0;
    int seqLen = 0;
    QString prompt;
    QString template_;
};

bool readManifest(const QString& folder, Expected* out, QString* problem) {
    QFile file(kFixtures + QStringLiteral("/golden/manifest.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        *problem = QStringLiteral("cannot open ") + file.fileName();
        return false;
    }
    const QJsonObject files = QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("files")).toObject();
    const QString key = folder + QStringLiteral("__") + QLatin1String(kImage) + QStringLiteral(".safetensors");
    const QJsonObject entry = files.value(key).toObject();
    if (entry.isEmpty()) {
        *problem = QStringLiteral("no manifest entry ") + key;
        return false;
    }
    for (const QJsonValue& v : entry.value(QStringLiteral("greedy_tokens")).toArray()) out->greedyTokens.push_back(v.toInt());
    out->imageTokens = entry.value(QStringLiteral("n_image_tokens")).toInt();
    out->seqLen = entry.value(QStringLiteral("seq_len")).toInt();
    out->prompt = entry.value(QStringLiteral("prompt")).toString();
    out->template_ = entry.value(QStringLiteral("template")).toString();
    return true;
}

}  // namespace

class TstFixtureChat : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void greedyMatchesTransformers_data();
    void greedyMatchesTransformers();

private:
    QTemporaryDir m_dir;
    std::optional<llava::Tokenizer> m_tokenizer;
};

void TstFixtureChat::initTestCase() {
    QVERIFY(m_dir.isValid());
    auto tokenizer = llavatest::loadVerified(llavatest::kMistral);  // checks the sha256 first
    QVERIFY2(tokenizer.isOk(), tokenizer.isOk() ? "" : tokenizer.status().message().c_str());
    m_tokenizer.emplace(std::move(*tokenizer));
}

void TstFixtureChat::greedyMatchesTransformers_data() {
    QTest::addColumn<QString>("folder");
    QTest::newRow("hf") << QStringLiteral("llava-v1.6-mistral-tiny-hf");
    QTest::newRow("orig") << QStringLiteral("llava-v1.6-mistral-tiny");
}

void TstFixtureChat::greedyMatchesTransformers() {
    QFETCH(QString, folder);
    QElapsedTimer timer;
    timer.start();

    Expected expected;
    QString problem;
    QVERIFY2(readManifest(folder, &expected, &problem), qPrintable(problem));
    QCOMPARE(int(expected.greedyTokens.size()), kMaxNewTokens);
    QCOMPARE(expected.imageTokens, kImageTokens);
    // The message below renders to exactly the fixture's prompt with this template (README "Prompts").
    QCOMPARE(expected.template_, QStringLiteral("mistral_instruct"));
    QCOMPARE(expected.prompt, QStringLiteral("[INST] <image>\nWhat is in this picture? [/INST]"));

    // The model folder as a user would have it: the checkpoint plus its tokenizer.model.
    const QString modelDir = m_dir.filePath(folder);
    QVERIFY(copyFolder(kFixtures + QStringLiteral("/models/") + folder, modelDir));
    QVERIFY(QFile::copy(llavatest::tokenizerPath(llavatest::kMistral), modelDir + QStringLiteral("/tokenizer.model")));

    // MainWindow::loadModel(dir, false) with the default settings, backend forced to the CPU.
    InferenceController controller(std::make_unique<LlavaChatEngine>());
    QSignalSpy loaded(&controller, &InferenceController::loadFinished);
    QSignalSpy loadFailed(&controller, &InferenceController::loadFailed);
    LoadRequest load;
    load.modelDir = modelDir;
    load.randomWeights = false;
    load.backend = llava::BackendKind::Cpu;
    load.threads = 2;
    load.contextLength = 4096;
    controller.loadModel(load);
    QVERIFY2(loaded.wait(60000) || !loadFailed.isEmpty(), "load timed out");
    QVERIFY2(loadFailed.isEmpty(), qPrintable(loadFailed.isEmpty() ? QString()
                                                                    : loadFailed.first().at(0).toString() + QStringLiteral(": ") +
                                                                          loadFailed.first().at(1).toString()));
    const ModelInfo info = loaded.first().at(0).value<ModelInfo>();
    QVERIFY(!info.randomWeights);
    QCOMPARE(info.backend, QStringLiteral("cpu"));
    QCOMPARE(info.name, folder);

    // The fixture's image as a file, as the chat store hands an attachment over: the worker decodes it.
    const QString imagePath = kFixtures + QStringLiteral("/images/") + QLatin1String(kImage) + QStringLiteral(".png");
    auto image = imageio::decodeImageFile(imagePath);
    QVERIFY2(image.isOk(), image.isOk() ? "" : image.status().message().c_str());
    QCOMPARE(image->width, 640);
    QCOMPARE(image->height, 480);

    GenerationRequest request;
    request.conversationId = QStringLiteral("fixture-") + folder;
    request.text = QStringLiteral("What is in this picture?");
    request.imagePaths << imagePath;
    request.sampling.temperature = 0;  // greedy
    request.sampling.maxNewTokens = kMaxNewTokens;

    QString text;
    int tokenSignals = 0;
    QSignalSpy finished(&controller, &InferenceController::generationFinished);
    QSignalSpy failed(&controller, &InferenceController::generationFailed);
    auto conn = QObject::connect(&controller, &InferenceController::tokensGenerated, [&](quint64, const QString& t) {
        text += t;
        ++tokenSignals;
    });
    controller.generate(std::move(request));
    const bool done = finished.wait(60000) || !failed.isEmpty();
    QObject::disconnect(conn);
    QVERIFY2(failed.isEmpty(), qPrintable(failed.isEmpty() ? QString()
                                                           : failed.first().at(1).toString() + QStringLiteral(": ") +
                                                                 failed.first().at(2).toString()));
    QVERIFY2(done, "generation timed out");
    const auto stats = finished.first().at(1).value<llava::GenerationStats>();
    QVERIFY(tokenSignals > 0);

    QCOMPARE(stats.imageTokens, kImageTokens);
    QCOMPARE(stats.generatedTokens, kMaxNewTokens);
    QCOMPARE(stats.stopReason, llava::StopReason::MaxTokens);
    // The engine's ids are not exposed above the core: compare the streamed text with the sentencepiece
    // decode of transformers' greedy ids (with the same number of tokens generated).
    const QString reference = QString::fromStdString(m_tokenizer->decode(expected.greedyTokens));
    QVERIFY(!reference.isEmpty());
    QCOMPARE(text, reference);
    // Prompt text tokens (BOS included): the fixture's spliced sequence minus the image run.
    QCOMPARE(stats.textTokens, expected.seqLen - expected.imageTokens);
    qInfo("%s: %d text + %d image tokens, %.0f ms image encode, %lld ms in all", qPrintable(folder), stats.textTokens,
          stats.imageTokens, stats.imageEncodeMs, static_cast<long long>(timer.elapsed()));
}

QTEST_MAIN(TstFixtureChat)
#include "tst_fixturechat.moc"
