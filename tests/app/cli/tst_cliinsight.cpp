// The insight outputs of llava-insight-cli end to end (QProcess): `tokenize --labels` against the ORIGINAL
// LLaVA train.py golden, `chat --json --logprobs N` against HF transformers' greedy log-probabilities, and the
// shape of `chat --json`'s "stages". Guards against: the CLI passing other options than the core test does
// (template, image turn, legacy flag), logprobs in another shape than OpenAI's, stages missing from JSON,
// machine ceilings missing, measured again on every run, or fractions that are not achieved / ceiling.
#include <QtTest>

#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QJsonArray>

#include <cmath>

#include "clitestutil.h"
#include "text/testtokenizers.h"

using clitest::runCli;

namespace {

const QString kTinyHf = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");
const QString kTinyImage = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/images/landscape_640x480.png");

QJsonObject readJson(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
}

QJsonObject goldenCase(const QString& name) {
    const QJsonObject golden = readJson(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/golden/labels/training_labels.json"));
    for (const auto& v : golden["cases"].toArray())
        if (v.toObject()["name"].toString() == name) return v.toObject();
    return {};
}

}  // namespace

class TstCliInsight : public QObject {
    Q_OBJECT

private slots:
    void labels_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("tokenizer");
        QTest::newRow("mistral multi-turn image") << "mistral_instruct/multi_turn_image" << llavatest::tokenizerPath(llavatest::kMistral);
        QTest::newRow("vicuna non-legacy") << "llava_v1/multi_turn_image_nonlegacy" << llavatest::tokenizerPath(llavatest::kLlama2);
        QTest::newRow("separator in answer (all masked)") << "llava_v1/answer_contains_separator"
                                                          << llavatest::tokenizerPath(llavatest::kLlama2);
    }

    // Reference: llava.train.train.preprocess (tests/reference/gen_labels.py).
    void labels() {
        QFETCH(QString, name);
        QFETCH(QString, tokenizer);
        const QJsonObject c = goldenCase(name);
        QVERIFY2(!c.isEmpty(), qPrintable(name));
        QStringList args{"tokenize", "--tokenizer", tokenizer, "--template", c["template"].toString(), "--labels", "--json"};
        const QJsonArray turns = c["turns"].toArray();
        args << "--images" << QString::number(turns[0].toObject()["images"].toInt());
        if (!c["legacy"].toBool()) args << "--non-legacy";
        for (const auto& t : turns) args << t.toObject()["text"].toString();
        const auto run = runCli(args);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject out = clitest::parseJson(run.out);
        QCOMPARE(out["ids"].toArray(), c["input_ids"].toArray());
        QCOMPARE(out["labels"].toArray(), c["labels"].toArray());
        QCOMPARE(out["preprocess"].toString(), c["preprocess"].toString());
        QCOMPARE(out["mismatch"].isNull(), !c["mismatch"].toBool());
        QCOMPARE(out["pieces"].toArray().size(), out["ids"].toArray().size());
    }

    // Reference: HF generate(output_logits=True) (tests/reference/gen_logprobs.py), same tolerance as the logits.
    void chatLogprobsAndStages() {
        // The ceilings cache goes to a fresh folder: the first run measures, the second reads the file.
        QTemporaryDir cache;
        QVERIFY(cache.isValid());
        const QByteArray oldCache = qgetenv("XDG_CACHE_HOME");
        qputenv("XDG_CACHE_HOME", cache.path().toUtf8());
        auto restore = qScopeGuard([&] {
            if (oldCache.isEmpty()) qunsetenv("XDG_CACHE_HOME");
            else qputenv("XDG_CACHE_HOME", oldCache);
        });
        const QJsonObject golden = readJson(QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/golden/logprobs/logprobs.json"));
        const QJsonArray steps = golden["greedy"].toArray()[0].toObject()["steps"].toArray();
        QVERIFY(steps.size() >= 8);
        const auto run = runCli({"chat", "--model", kTinyHf, "--tokenizer", llavatest::tokenizerPath(llavatest::kMistral),
                                 "--temperature", "0", "--max-new-tokens", "8", "--backend", "cpu", "--threads", "2",
                                 "--image", kTinyImage, "--prompt", "What is in this picture?", "--json", "--logprobs", "3"},
                                {}, 300000);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject json = clitest::parseJson(run.out);
        const QJsonArray content = json["logprobs"].toObject()["content"].toArray();
        QCOMPARE(content.size(), 8);
        for (int i = 0; i < content.size(); ++i) {
            const QJsonObject e = content[i].toObject(), step = steps[i].toObject();
            QCOMPARE(e["id"].toInt(), step["id"].toInt());
            const double ref = step["logprob"].toDouble();
            QVERIFY(std::fabs(e["logprob"].toDouble() - ref) <= 1e-4 + 1e-3 * std::fabs(ref));
            QCOMPARE(e["raw_logprob"].toDouble(), e["logprob"].toDouble());  // greedy: nothing warps
            QVERIFY(e["token"].isString() && e["bytes"].isArray());
            const QJsonArray top = e["top_logprobs"].toArray();
            QCOMPARE(top.size(), 3);
            QCOMPARE(top[0].toObject()["id"].toInt(), step["top_ids"].toArray()[0].toInt());
        }
        // Stages: the CLI's image decode first, then core's stages; prefill rows cover the prompt once.
        const QJsonArray stages = json["stages"].toArray();
        QVERIFY(stages.size() >= 7);
        QCOMPARE(stages[0].toObject()["name"].toString(), QStringLiteral("image.decode"));
        int prefillRows = 0;
        QStringList names;
        for (const auto& s : stages) {
            const QJsonObject o = s.toObject();
            names << o["name"].toString();
            for (const char* key : {"index", "start_ms", "ms", "items", "position", "bytes", "flops", "gb_per_s", "gflop_per_s"})
                QVERIFY2(o.contains(key), key);
            if (o["name"].toString() == QLatin1String("prefill.chunk")) prefillRows += o["items"].toInt();
        }
        const QJsonObject stats = json["stats"].toObject();
        QCOMPARE(prefillRows, stats["image_tokens"].toInt() + stats["text_tokens"].toInt());
        for (const char* name : {"preprocess", "clip", "projector", "merge", "decode.first", "decode.steady"})
            QVERIFY2(names.contains(QLatin1String(name)), name);

        // Ceilings (CPU backend, --threads 2): present, positive, and every fraction is achieved / ceiling.
        const QJsonObject ceilings = json["ceilings"].toObject();
        QVERIFY2(!ceilings.isEmpty(), run.out.left(2000).constData());
        const double copy = ceilings["copy_gb_s"].toDouble(), gemm = ceilings["gemm_gflop_s"].toDouble();
        QVERIFY(copy > 0 && std::isfinite(copy));
        QVERIFY(gemm > 0 && std::isfinite(gemm));
        QCOMPARE(ceilings["threads"].toInt(), 2);
        QVERIFY(!ceilings["cpu"].toString().isEmpty());
        QVERIFY(!ceilings["measured_at"].toString().isEmpty());
        int withBandwidth = 0, withFlops = 0;
        for (const auto& s : stages) {
            const QJsonObject o = s.toObject();
            const bool moved = o["ms"].toDouble() > 0 && o["bytes"].toDouble() > 0;
            const bool computed = o["ms"].toDouble() > 0 && o["flops"].toDouble() > 0;
            QCOMPARE(o.contains("bandwidth_fraction"), moved);
            QCOMPARE(o.contains("flops_fraction"), computed);
            if (moved) {
                const double expected = o["gb_per_s"].toDouble() / copy;
                QVERIFY(std::fabs(o["bandwidth_fraction"].toDouble() - expected) <= 1e-12 * std::max(1.0, expected));
                ++withBandwidth;
            }
            if (computed) {
                const double expected = o["gflop_per_s"].toDouble() / gemm;
                QVERIFY(std::fabs(o["flops_fraction"].toDouble() - expected) <= 1e-12 * std::max(1.0, expected));
                ++withFlops;
            }
        }
        QVERIFY(withBandwidth >= 5 && withFlops >= 4);
        QVERIFY(QFile::exists(cache.filePath(QStringLiteral("llava-insight/machine-ceilings.json"))));
        // Measured once: a second run reads the cached values (same measured_at, same numbers).
        const auto again = runCli({"chat", "--model", kTinyHf, "--tokenizer", llavatest::tokenizerPath(llavatest::kMistral),
                                   "--temperature", "0", "--max-new-tokens", "2", "--backend", "cpu", "--threads", "2",
                                   "--prompt", "Hi", "--json"},
                                  {}, 300000);
        QVERIFY2(again.exitCode == 0, again.err.constData());
        const QJsonObject cached = clitest::parseJson(again.out)["ceilings"].toObject();
        QCOMPARE(cached, ceilings);
        const auto help = runCli({"chat", "--help"});
        QVERIFY(help.out.contains("machine-ceilings.json") && help.out.contains("bandwidth_fraction"));
    }

    // explain: the JSON's mass split sums to 1 and its image parts to the image mass; the PNG is the picture's size.
    // (The numbers themselves are checked against HF eager attention in tst_explain / tst_attentionparity.)
    void explainWritesJsonAndPng() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString png = dir.filePath(QStringLiteral("heat.png"));
        const auto run = runCli({"explain", "--model", kTinyHf, "--tokenizer", llavatest::tokenizerPath(llavatest::kMistral),
                                 "--image", kTinyImage, "--prompt", "What is in this picture?", "--span", "0:1",
                                 "--max-new-tokens", "3", "--threads", "2", "--out", png, "--json"},
                                {}, 300000);
        QVERIFY2(run.exitCode == 0, run.err.constData());
        const QJsonObject json = clitest::parseJson(run.out);
        const QJsonObject mass = json["mass"].toObject();
        const double total = mass["prompt_text_before_image"].toDouble() + mass["image"].toDouble() +
                             mass["prompt_text_after_image"].toDouble() + mass["answer_text"].toDouble();
        QVERIFY2(std::fabs(total - 1.0) < 1e-5, qPrintable(QString::number(total)));
        QVERIFY(std::fabs(mass["image_base"].toDouble() + mass["image_grid"].toDouble() + mass["image_newlines"].toDouble() -
                          mass["image"].toDouble()) < 1e-6);
        QCOMPARE(json["base_24x24"].toArray().size(), 576);
        QCOMPARE(json["map"].toArray().size(), json["map_rows"].toInt() * json["map_cols"].toInt());
        QCOMPARE(json["tile_mass"].toArray().size(), 4);  // 640x480: 2x2 grid
        QCOMPARE(json["tokens"].toArray()[1].toInt(), 1);
        const QImage image(png);
        QCOMPARE(image.size(), QSize(640, 480));
        const auto help = runCli({"explain", "--help"});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains("Usage: llava-insight-cli explain"));
        const auto nothing = runCli({"explain", "--model", kTinyHf, "--image", kTinyImage, "--prompt", "x"});
        QCOMPARE(nothing.exitCode, 1);
    }

    void logprobsNeedsJson() {
        const auto run = runCli({"chat", "--model", kTinyHf, "--prompt", "hi", "--logprobs", "2"});
        QCOMPARE(run.exitCode, 1);
        QVERIFY(run.err.contains("--logprobs needs --json"));
    }
};

QTEST_GUILESS_MAIN(TstCliInsight)
#include "tst_cliinsight.moc"
