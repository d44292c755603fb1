// Quantised weights (--precision q8 / q4) on the CPU backend vs the HF-transformers fixtures
// (tests/fixtures/golden, fp32 reference with the same F16 weights). Guards the defect where every 2-D
// tensor, the token embedding included, was quantised and embed() refused the table ("embed: quantised
// table"), so q8/q4 failed at the first prompt; and that quantisation stays within its error budget.
//
// Bounds (NMSE = sum (x - ref)^2 / sum ref^2, over all logits of the last prompt position and over the
// merged image features):
//   q8: int8 per output channel, scale = max|w| / 127, so each weight is off by at most scale / 2 and the
//       rounding error has variance scale^2 / 12. For the fixtures' Gaussian-like rows (32..64 columns,
//       max|w| ~ 2.5 sigma) that is a relative weight NMSE of (2.5 / 127)^2 / 12 = 3e-5 per matrix. The
//       errors of ~10 matrices in sequence (CLIP 3 layers x 6, projector 2, decoder 2 layers x 7 + head)
//       add roughly, so the output NMSE is expected around 1e-4..1e-3; the bound is 5e-3 (measured values
//       are printed; the 16 fixtures measure 5e-5..2e-4 for logits, 7e-5..1.4e-4 for image features).
//       Greedy tokens: identical to HF's 32 until the first step whose HF top-1/top-2 margin (greedy_margin)
//       is a tie at this precision: below 2 x the largest logit error measured at the last prompt position
//       (two logits each off by at most that much can swap only if their gap is below twice it). Measured
//       on the CPU, q8: all 32 identical on 9 of the 16 files (34b x3, both landscape mistral, ORIG mistral
//       wide16x9, vicuna landscape x2, ORIG vicuna small); 7 diverge at steps 2..24 where HF's margin is
//       0.004..0.035, far below the max logit error of 0.15..0.19 that q8 leaves on these fixtures (the
//       34b/vicuna ones: 0.12..0.15). After a divergence the continuations differ (another prefix), so
//       agreement is counted up to the first divergence.
//   q4: int4 groups of 128 columns; matrices whose column count is not a multiple of 128 fall back to q8
//       (planWeightUpload). Every matrix of these fixtures has 8..64 columns, so q4 runs as q8 here: the
//       test asserts that (same bounds, same tokens) and says so; the q4 kernels themselves are tested on
//       128-column matrices in tst_cpubackend (hand-worked Q4 bytes; matmul vs the dequantised matrix).
#include <QtTest>
#include <QImage>

#include <cmath>
#include <map>

#include "goldencase.h"
#include "goldenfixtures.h"
#include "llava/anyres.h"
#include "llava/checkpoint.h"
#include "llava/preprocess.h"
#include "llava/safetensors.h"
#include "llava/selfcheck.h"
#include "model/llavamodel.h"

using namespace llava;
using test::goldenValues;

namespace {

const QString kRoot = QStringLiteral(LLAVA_SOURCE_DIR);
constexpr double kQuantNmse = 5e-3;

double maxAbs(std::span<const float> got, std::span<const float> ref) {
    double worst = got.size() == ref.size() ? 0.0 : INFINITY;
    for (std::size_t i = 0; i < ref.size() && i < got.size(); ++i)
        worst = std::max(worst, std::fabs(double(got[i]) - ref[i]));  // NaN leaves it at 0: NMSE catches NaN
    return worst;
}

}  // namespace

class TestQuantParity : public QObject {
    Q_OBJECT
private slots:
    void fixtures_data() {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<int>("precision");
        const QDir dir(kRoot + "/tests/fixtures/golden");
        const auto files = dir.entryList({"*.safetensors"}, QDir::Files, QDir::Name);
        if (files.isEmpty()) QFAIL("no golden fixtures in tests/fixtures/golden");
        for (const auto& f : files) {
            QTest::newRow(qPrintable("q8 " + f)) << dir.filePath(f) << int(WeightPrecision::Q8);
            QTest::newRow(qPrintable("q4 " + f)) << dir.filePath(f) << int(WeightPrecision::Q4);
        }
    }
    void fixtures() {
        QFETCH(QString, fixture);
        QFETCH(int, precision);
        const auto wp = static_cast<WeightPrecision>(precision);
        auto opened = test::openGoldenCase(kRoot, fixture);
        QVERIFY2(opened.isOk(), opened.status().toString().c_str());
        const test::GoldenCase& c = *opened;
        const ModelConfig& config = c.checkpoint->config();

        const auto ids64 = goldenValues<std::int64_t>(c.golden, "input_ids");
        auto backend = createCpuBackend(2);
        auto model = LlavaModel::create(*backend, *c.checkpoint, wp,
                                        static_cast<int>(ids64.size()) + c.layout.imageTokens + 40, {});
        QVERIFY2(model.isOk(), model.status().toString().c_str());
        auto merged = (*model)->encodeImage(c.pre.pixels, c.layout, {});
        QVERIFY2(merged.isOk(), merged.status().toString().c_str());
        const double featuresNmse = nmse(*merged, goldenValues<float>(c.golden, "image_features"));

        const auto [ids, slot] = test::spliceGoldenIds(c);
        QVERIFY(slot >= 0);
        const Status prefilled = (*model)->prefill(ids, {ImageSlot{slot, *merged}}, 0, {});
        QVERIFY2(prefilled.isOk(), prefilled.toString().c_str());
        const auto logitsRef = goldenValues<float>(c.golden, "logits_last");
        const double logitsNmse = nmse(std::span((*model)->logits()).first(logitsRef.size()), logitsRef);
        const double logitsMaxAbs = maxAbs(std::span((*model)->logits()).first(logitsRef.size()), logitsRef);

        const auto greedyRef = goldenValues<std::int64_t>(c.golden, "greedy_tokens");
        const auto margins = goldenValues<float>(c.golden, "greedy_margin");
        const int nValid = config.text.nVocabText;
        int position = static_cast<int>(ids.size()), agree = 0, firstDiff = -1;
        for (std::size_t step = 0; step < greedyRef.size(); ++step) {
            const auto& l = (*model)->logits();
            const auto id = static_cast<std::int32_t>(std::max_element(l.begin(), l.begin() + nValid) - l.begin());
            if (id == greedyRef[step] && firstDiff < 0) ++agree;
            else if (firstDiff < 0) firstDiff = static_cast<int>(step);
            QVERIFY((*model)->decode(id, position++).isOk());
        }
        const double nearTie = 2.0 * logitsMaxAbs;
        qInfo("%s: image features NMSE %.3g, last logits NMSE %.3g (max abs %.3g), greedy %d/%zu identical%s",
              weightPrecisionName(wp).data(), featuresNmse, logitsNmse, logitsMaxAbs, agree, greedyRef.size(),
              firstDiff < 0 ? "" : qPrintable(QString(" (first difference at step %1, HF margin %2)")
                                                  .arg(firstDiff)
                                                  .arg(double(margins.at(static_cast<std::size_t>(firstDiff))))));
        QVERIFY2(featuresNmse <= kQuantNmse, "image features beyond the quantisation bound");
        QVERIFY2(logitsNmse <= kQuantNmse, "logits beyond the quantisation bound");
        if (firstDiff >= 0) {
            const double margin = margins.at(static_cast<std::size_t>(firstDiff));
            QVERIFY2(margin < nearTie, qPrintable(QString("greedy token %1 differs from HF at a margin of %2, not a near-tie "
                                                          "(bound 2 x max logit error = %3)")
                                                      .arg(firstDiff)
                                                      .arg(margin)
                                                      .arg(nearTie)));
        }

        // The weights really were quantised (not silently kept as stored), the token embedding included;
        // the position embedding (only ever added) was not.
        QVERIFY2(backend->info().memory.weightBytes > 0, "no converted weights: quantisation did not happen");
        const TensorView* posEmb = c.checkpoint->find("vision.embeddings.position_embedding.weight");
        QVERIFY(posEmb);
        auto plan = planWeightUpload(*posEmb, wp, "test");
        QVERIFY(plan.isOk());
        QCOMPARE(plan->target, plan->stored);
        auto embedPlan = planWeightUpload(*c.checkpoint->find("llm.embed_tokens.weight"), wp, "test");
        QVERIFY(embedPlan.isOk());
        QCOMPARE(embedPlan->target, StorageFormat::Q8PerChannel);  // d = 32 or 8: q4 falls back to q8 (see top)
    }
};

QTEST_GUILESS_MAIN(TestQuantParity)
#include "tst_quantparity.moc"
