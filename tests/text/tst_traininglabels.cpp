// Training labels against the ORIGINAL LLaVA code: tests/fixtures/golden/labels/training_labels.json holds what
// llava-torch 1.2.2.post1's llava/train/train.py preprocess() returned (tests/reference/gen_labels.py) for
// multi-turn conversations, every template, with and without images, legacy and non-legacy tokenizers,
// including the cases where the original code masks everything ("tokenization mismatch").
// Guards against: a mask boundary off by one (BOS, "[/INST] ", "ASSISTANT: ", separators), a wrong
// legacy correction, a message not stripped as preprocess_multimodal does, a lost mismatch.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <map>
#include <memory>

#include "llava/prompt.h"
#include "llava/traininglabels.h"
#include "testtokenizers.h"

using namespace llava;
using Ids = std::vector<int>;

namespace {

Ids toIds(const QJsonValue& value) {
    Ids ids;
    for (const auto& v : value.toArray()) ids.push_back(v.toInt());
    return ids;
}

// First differing position as text, for a readable failure.
QString firstDifference(const Ids& a, const Ids& b) {
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        const QString x = i < a.size() ? QString::number(a[i]) : QStringLiteral("<end>");
        const QString y = i < b.size() ? QString::number(b[i]) : QStringLiteral("<end>");
        if (x != y) return QStringLiteral("position %1: ours %2, ORIG %3 (sizes %4 / %5)").arg(i).arg(x, y).arg(a.size()).arg(b.size());
    }
    return {};
}

}  // namespace

class TstTrainingLabels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void golden_data();
    void golden();
    void expandImages();
    void badInput_data();
    void badInput();

private:
    const Tokenizer& tokenizer(const QString& name, bool addBos) const {
        return *m_tokenizers.at(name.toStdString() + (addBos ? "" : "-nobos"));
    }
    QJsonObject m_golden;
    std::map<std::string, std::unique_ptr<Tokenizer>> m_tokenizers;
    QTemporaryDir m_noBosDir;
};

void TstTrainingLabels::initTestCase() {
    QFile file(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/golden/labels/training_labels.json"));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    QJsonParseError error;
    m_golden = QJsonDocument::fromJson(file.readAll(), &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QVERIFY(m_golden["cases"].toArray().size() >= 30);
    // A tokenizer_config.json with add_bos_token false (the Yi/34b setting the golden used).
    QVERIFY(m_noBosDir.isValid());
    QFile config(m_noBosDir.filePath(QStringLiteral("tokenizer_config.json")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write("{\"add_bos_token\": false}\n");
    config.close();
    const std::pair<const char*, llavatest::TokenizerModelFile> models[] = {
        {"mistral", llavatest::kMistral}, {"llama2", llavatest::kLlama2}, {"yi", llavatest::kYi}};
    for (const auto& [name, model] : models) {
        for (bool addBos : {true, false}) {
            auto tok = llavatest::loadVerified(model);
            QVERIFY2(tok.isOk(), tok.status().toString().c_str());
            if (!addBos) QVERIFY(tok->applyTokenizerConfig(m_noBosDir.path().toStdString()).isOk());
            m_tokenizers[std::string(name) + (addBos ? "" : "-nobos")] = std::make_unique<Tokenizer>(std::move(tok).value());
        }
    }
}

void TstTrainingLabels::golden_data() {
    QTest::addColumn<QJsonObject>("c");
    for (const auto& v : m_golden["cases"].toArray()) {
        const QJsonObject o = v.toObject();
        QTest::newRow(qPrintable(o["name"].toString())) << o;
    }
}

// Reference: llava.train.train.preprocess (ORIG) on the same conversation and tokenizer.
void TstTrainingLabels::golden() {
    QFETCH(QJsonObject, c);
    std::vector<TrainingTurn> turns;
    for (const auto& t : c["turns"].toArray()) {
        const QJsonObject o = t.toObject();
        turns.push_back({o["role"].toString() == QLatin1String("human") ? ChatRole::User : ChatRole::Assistant,
                         o["text"].toString().toStdString(), o["images"].toInt()});
    }
    TrainingLabelOptions options;
    options.templateName = c["template"].toString().toStdString();
    options.systemPrompt = c["system"].toString().toStdString();
    options.legacy = c["legacy"].toBool() ? TokenizerLegacy::Yes : TokenizerLegacy::No;
    options.modelMaxLength = c["model_max_length"].toInt();
    const Tokenizer& tok = tokenizer(c["tokenizer"].toString(), c["add_bos"].toBool());
    auto result = computeTrainingLabels(tok, turns, options);
    QVERIFY2(result.isOk(), result.status().toString().c_str());
    QCOMPARE(QString::fromStdString(result->preprocess), c["preprocess"].toString());
    QCOMPARE(result->hasImage, c["has_image"].toBool());
    if (c["conversation"].isString()) QCOMPARE(QString::fromStdString(result->conversation), c["conversation"].toString());
    const Ids ids = toIds(c["input_ids"]), labels = toIds(c["labels"]);
    QVERIFY2(result->ids == ids, qPrintable(QStringLiteral("ids ") + firstDifference(result->ids, ids)));
    QVERIFY2(result->labels == labels, qPrintable(QStringLiteral("labels ") + firstDifference(result->labels, labels)));
    QCOMPARE(result->mismatch, c["mismatch"].toBool());
    if (result->mismatch) {
        QCOMPARE(result->mismatchCurLen, c["mismatch_lengths"].toArray()[0].toInt());
        QCOMPARE(result->mismatchTotalLen, c["mismatch_lengths"].toArray()[1].toInt());
    }
    QCOMPARE(result->learnedCount(), c["learned"].toInt());
}

// ORIG llava_arch.prepare_inputs_labels_for_multimodal: each -200 becomes N rows of IGNORE_INDEX, then the
// sequence is cut at tokenizer_model_max_length. Hand-computed.
void TstTrainingLabels::expandImages() {
    TrainingLabels labels;
    labels.ids = {1, 5, kImagePlaceholderId, 7, 8, kImagePlaceholderId, 9};
    labels.labels = {kIgnoreIndex, kIgnoreIndex, kIgnoreIndex, 7, kIgnoreIndex, kIgnoreIndex, 9};
    auto expanded = expandTrainingLabels(labels, {3, 2}, 32000);
    QVERIFY(expanded.isOk());
    QCOMPARE(expanded->ids, (Ids{1, 5, 32000, 32000, 32000, 7, 8, 32000, 32000, 9}));
    QCOMPARE(expanded->labels, (Ids{-100, -100, -100, -100, -100, 7, -100, -100, -100, 9}));
    auto cut = expandTrainingLabels(labels, {3, 2}, 32000, 6);
    QVERIFY(cut.isOk());
    QCOMPARE(cut->labels, (Ids{-100, -100, -100, -100, -100, 7}));
    QVERIFY(!expandTrainingLabels(labels, {3}, 32000).isOk());      // count mismatch
    QVERIFY(!expandTrainingLabels(labels, {3, 0}, 32000).isOk());   // empty image
}

void TstTrainingLabels::badInput_data() {
    QTest::addColumn<QString>("templateName");
    QTest::addColumn<int>("shape");
    QTest::newRow("unknown template") << QStringLiteral("nope") << 0;
    QTest::newRow("ends with user") << QStringLiteral("llava_v1") << 1;
    QTest::newRow("assistant first") << QStringLiteral("llava_v1") << 2;
    QTest::newRow("two images in a message") << QStringLiteral("llava_v1") << 3;
    QTest::newRow("literal <image> in text") << QStringLiteral("llava_v1") << 4;
    QTest::newRow("empty message") << QStringLiteral("llava_v1") << 5;
    QTest::newRow("plain without image") << QStringLiteral("plain") << 6;
    QTest::newRow("empty conversation") << QStringLiteral("llava_v1") << 7;
}

void TstTrainingLabels::badInput() {
    QFETCH(QString, templateName);
    QFETCH(int, shape);
    const TrainingTurn q{ChatRole::User, "q", 0}, a{ChatRole::Assistant, "a", 0};
    std::vector<TrainingTurn> turns = {q, a};
    switch (shape) {
    case 1: turns = {q}; break;
    case 2: turns = {a, q}; break;
    case 3: turns[0].images = 2; break;
    case 4: turns[0].text = "see <image> here"; break;
    case 5: turns[1].text.clear(); break;
    case 7: turns.clear(); break;
    default: break;
    }
    TrainingLabelOptions options;
    options.templateName = templateName.toStdString();
    auto result = computeTrainingLabels(tokenizer(QStringLiteral("llama2"), true), turns, options);
    QVERIFY(!result.isOk());
    QVERIFY(!result.status().message().empty());
}

QTEST_GUILESS_MAIN(TstTrainingLabels)
#include "tst_traininglabels.moc"
