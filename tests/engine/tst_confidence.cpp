// Token confidence (SamplingParams::logprobs -> TokenEvent::confidence) against HF transformers:
// tests/fixtures/golden/logprobs/logprobs.json (tests/reference/gen_logprobs.py) holds
//  * "greedy": 32 greedy steps of the tiny -hf models with generate(output_logits/output_scores): the chosen
//    token's log-probability and the 8 most likely ids per step;
//  * "warpers": HF's RepetitionPenalty/Temperature/TopK/TopP/MinP processors applied to a golden row of logits.
// Tolerance for log-probabilities: |a - b| <= 1e-4 + 1e-3 |ref|, the logits tolerance of the parity tests
// (fp32 engine vs fp32 reference; a log-softmax moves each value by the same logsumexp, so the logits'
// error carries over). Guards against: a probability from the wrong distribution (raw vs processed),
// renormalisation missing after top-k/top-p, the penalty applied after the history grew, greedy's device
// shortcut skipping the confidence, a removed token reported as possible.
#include <QtTest>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <cstring>
#include <limits>

#include "fixtureimage.h"
#include "llava/engine.h"
#include "llava/safetensors.h"
#include "llava/sampler.h"

using namespace llava;
using test::loadFixtureRgb;

namespace {

const QString kRoot = QStringLiteral(LLAVA_SOURCE_DIR);

bool close(double got, double ref) { return std::fabs(got - ref) <= 1e-4 + 1e-3 * std::fabs(ref); }

QJsonObject loadGolden() {
    QFile file(kRoot + "/tests/fixtures/golden/logprobs/logprobs.json");
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

std::vector<float> logitsLast(const QString& goldenName, int nVocabText) {
    auto file = SafetensorsFile::open((kRoot + "/tests/fixtures/golden/" + goldenName + ".safetensors").toStdString());
    if (!file.isOk()) return {};
    const TensorView* v = file->find("logits_last");
    if (!v) return {};
    std::vector<float> out(static_cast<std::size_t>(nVocabText));
    std::memcpy(out.data(), v->data, out.size() * sizeof(float));
    return out;
}

}  // namespace

class TestConfidence : public QObject {
    Q_OBJECT
    QJsonObject m_golden;

private slots:
    void initTestCase() {
        m_golden = loadGolden();
        QVERIFY2(!m_golden.isEmpty(), "tests/fixtures/golden/logprobs/logprobs.json missing or malformed");
    }

    // Hand-computed: logits (2, 1, 0, -1).
    void handComputed() {
        const std::vector<float> logits = {2, 1, 0, -1};
        const double lseAll = std::log(std::exp(2.0) + std::exp(1.0) + 1.0 + std::exp(-1.0));
        SamplingParams greedy;
        greedy.temperature = 0;
        auto c = Sampler(greedy).confidence(logits, {}, 1, 3);
        QCOMPARE(c.chosen.id, 1);
        QVERIFY(std::fabs(c.chosen.logprob - (1 - lseAll)) < 1e-12);
        QVERIFY(std::fabs(c.chosen.rawLogprob - (1 - lseAll)) < 1e-12);
        QCOMPARE(c.top.size(), std::size_t(3));
        QCOMPARE(c.top[0].id, 0);
        QCOMPARE(c.top[2].id, 2);

        SamplingParams topK;  // T = 0.5, top-2: kept {0, 1} renormalised on logits / T
        topK.temperature = 0.5f;
        topK.topK = 2;
        c = Sampler(topK).confidence(logits, {}, 0, 4);
        const double lseKept = std::log(std::exp(4.0) + std::exp(2.0));
        QVERIFY(std::fabs(c.chosen.logprob - (4 - lseKept)) < 1e-12);
        QVERIFY(std::fabs(c.top[1].logprob - (2 - lseKept)) < 1e-12);
        QVERIFY(std::isinf(c.top[2].logprob) && c.top[2].logprob < 0);  // removed by top-k
        QVERIFY(std::fabs(c.top[2].rawLogprob - (0 - lseAll)) < 1e-12);  // still has its model probability

        SamplingParams ties;  // equal logits: lower id first
        ties.temperature = 0;
        c = Sampler(ties).confidence(std::vector<float>{1, 3, 3, 0}, {}, 1, 2);
        QCOMPARE(c.top[0].id, 1);
        QCOMPARE(c.top[1].id, 2);

        SamplingParams penalty;  // repetition penalty 2 on id 0 (logit 2 -> 1): tie with id 1, lower id first
        penalty.temperature = 0;
        penalty.repetitionPenalty = 2.0f;
        c = Sampler(penalty).confidence(logits, std::vector<std::int32_t>{0}, 0, 2);
        const double lsePen = std::log(2 * std::exp(1.0) + 1.0 + std::exp(-1.0));
        QVERIFY(std::fabs(c.chosen.logprob - (1 - lsePen)) < 1e-12);
        QVERIFY(std::fabs(c.chosen.rawLogprob - (2 - lseAll)) < 1e-12);
    }

    void warpers_data() {
        QTest::addColumn<QJsonObject>("w");
        int row = 0;
        for (const auto& v : m_golden["warpers"].toArray()) {
            const QJsonObject o = v.toObject();
            const QJsonObject s = o["settings"].toObject();
            const QString name = QStringLiteral("%1 #%2 T%3 k%4 p%5 minp%6 rep%7")
                                     .arg(o["name"].toString().section("__", 0, 0))
                                     .arg(row++)
                                     .arg(s["temperature"].toDouble())
                                     .arg(s["top_k"].toInt())
                                     .arg(s["top_p"].toDouble())
                                     .arg(s["min_p"].toDouble())
                                     .arg(s["repetition_penalty"].toDouble());
            QTest::newRow(qPrintable(name)) << o;
        }
    }

    // Reference: HF LogitsProcessorList (penalty, temperature, top-k, top-p, min-p) on the same logits row.
    void warpers() {
        QFETCH(QJsonObject, w);
        const QJsonObject s = w["settings"].toObject();
        const QJsonArray ids = w["top_ids"].toArray();
        const int nVocabText = w["name"].toString().contains("34b") ? 64000 : 32000;
        const std::vector<float> logits = logitsLast(w["name"].toString(), nVocabText);
        QVERIFY(!logits.empty());
        std::vector<std::int32_t> recent;
        for (const auto& r : w["recent"].toArray()) recent.push_back(r.toInt());
        SamplingParams p;
        p.temperature = static_cast<float>(s["temperature"].toDouble());
        p.topK = s["top_k"].toInt();
        p.topP = static_cast<float>(s["top_p"].toDouble());
        p.minP = static_cast<float>(s["min_p"].toDouble());
        p.repetitionPenalty = static_cast<float>(s["repetition_penalty"].toDouble());
        p.repetitionWindow = 0;  // HF penalises every earlier id
        const Sampler sampler(p);
        const TokenConfidence c = sampler.confidence(logits, recent, ids[0].toInt(), static_cast<int>(ids.size()));
        QCOMPARE(c.top.size(), static_cast<std::size_t>(ids.size()));
        // The kept set: every id with a finite log-probability (a kept id whose probability underflows a
        // float must stay finite: HF keeps all 32000 at T = 0.2).
        const TokenConfidence all = sampler.confidence(logits, recent, ids[0].toInt(), static_cast<int>(logits.size()));
        QCOMPARE(static_cast<int>(std::count_if(all.top.begin(), all.top.end(), [](const TokenLogprob& t) {
                     return std::isfinite(t.logprob);
                 })),
                 w["kept"].toInt());
        for (int i = 0; i < ids.size(); ++i) {
            const TokenLogprob& t = c.top[static_cast<std::size_t>(i)];
            QCOMPARE(t.id, ids[i].toInt());
            const QJsonValue ref = w["top_logprobs"].toArray()[i];
            if (ref.isNull()) {
                QVERIFY2(std::isinf(t.logprob), qPrintable(QStringLiteral("id %1 should be removed").arg(t.id)));
            } else {
                QVERIFY2(close(t.logprob, ref.toDouble()),
                         qPrintable(QStringLiteral("id %1 logprob %2 vs HF %3").arg(t.id).arg(t.logprob).arg(ref.toDouble())));
            }
            QVERIFY(close(t.rawLogprob, w["top_raw_logprobs"].toArray()[i].toDouble()));
        }
    }

    void greedyEngine_data() {
        QTest::addColumn<QJsonObject>("g");
        for (const auto& v : m_golden["greedy"].toArray()) QTest::newRow(qPrintable(v.toObject()["name"].toString())) << v.toObject();
    }

    // Reference: HF generate(do_sample=False, output_logits=True) on the same model, image and prompt.
    void greedyEngine() {
        QFETCH(QJsonObject, g);
        const QString folder = g["model_folder"].toString();
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.contextLength = 4096;
        options.kvCache = KvCacheFormat::F32;  // the fp32 reference path: the logits tolerance above assumes it
        options.tokenizerPath = std::string(LLAVA_SHARED_DIR "/assets/tokenizers/") +
                                (folder.contains("vicuna") ? "llama-2.model" : "mistral-7b-v0.1.model");
        auto engine = Engine::load((kRoot + "/" + folder).toStdString(), options);
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        SamplingParams sampling;
        sampling.temperature = 0;
        sampling.maxNewTokens = 32;
        sampling.logprobs = 8;
        sampling.stopStrings = {};
        std::vector<TokenEvent> events;
        const UserMessage message{"What is in this picture?", {loadFixtureRgb(kRoot + "/" + g["image"].toString())}};
        auto stats = (*engine)->session().reply(message, sampling, [&](const TokenEvent& e) {
            if (e.id >= 0) events.push_back(e);
            return true;
        }, {});
        QVERIFY2(stats.isOk(), stats.status().toString().c_str());
        const QJsonArray steps = g["steps"].toArray();
        // A stop string may end the reply early; every streamed token is compared.
        QVERIFY(!events.empty());
        QVERIFY(events.size() <= static_cast<std::size_t>(steps.size()));
        double worst = 0;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const QJsonObject step = steps[static_cast<int>(i)].toObject();
            const TokenEvent& e = events[i];
            QVERIFY2(e.confidence.has_value(), "logprobs asked for but no confidence on the event");
            QCOMPARE(e.id, step["id"].toInt());
            QCOMPARE(e.confidence->chosen.id, e.id);
            worst = std::max(worst, std::fabs(e.confidence->chosen.logprob - step["logprob"].toDouble()));
            QVERIFY2(close(e.confidence->chosen.logprob, step["logprob"].toDouble()),
                     qPrintable(QStringLiteral("step %1: logprob %2 vs HF %3").arg(i).arg(e.confidence->chosen.logprob).arg(step["logprob"].toDouble())));
            // Greedy has no warper: the processed distribution is the raw one.
            QCOMPARE(e.confidence->chosen.logprob, e.confidence->chosen.rawLogprob);
            const QJsonArray topIds = step["top_ids"].toArray(), topLp = step["top_logprobs"].toArray();
            QCOMPARE(e.confidence->top.size(), static_cast<std::size_t>(topIds.size()));
            for (int k = 0; k < topIds.size(); ++k) {
                const TokenLogprob& t = e.confidence->top[static_cast<std::size_t>(k)];
                QVERIFY(close(t.logprob, topLp[k].toDouble()));
                if (t.id != topIds[k].toInt()) {  // only a near tie may swap neighbours
                    const double here = topLp[k].toDouble();
                    const bool tie = (k > 0 && close(here, topLp[k - 1].toDouble())) ||
                                     (k + 1 < topIds.size() && close(here, topLp[k + 1].toDouble()));
                    QVERIFY2(tie, qPrintable(QStringLiteral("step %1 rank %2: id %3 vs HF %4").arg(i).arg(k).arg(t.id).arg(topIds[k].toInt())));
                }
                QVERIFY(!t.token.empty() || t.id < 3);
            }
        }
        qInfo("%zu steps, chosen-token logprob max abs err %.3g", events.size(), worst);
    }

    // Without logprobs nothing is attached (and greedy stays on the device path).
    void offByDefault() {
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.tokenizerPath = LLAVA_SHARED_DIR "/assets/tokenizers/mistral-7b-v0.1.model";
        auto engine = Engine::load((kRoot + "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf").toStdString(), options);
        QVERIFY2(engine.isOk(), engine.status().toString().c_str());
        SamplingParams sampling;
        sampling.temperature = 0;
        sampling.maxNewTokens = 4;
        int withConfidence = 0, tokens = 0;
        auto stats = (*engine)->session().reply({"Hi", {}}, sampling, [&](const TokenEvent& e) {
            tokens += e.id >= 0;
            withConfidence += e.confidence.has_value();
            return true;
        }, {});
        QVERIFY(stats.isOk());
        QVERIFY(tokens > 0);
        QCOMPARE(withConfidence, 0);
    }
};

QTEST_GUILESS_MAIN(TestConfidence)
#include "tst_confidence.moc"
