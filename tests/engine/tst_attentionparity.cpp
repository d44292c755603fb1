// Attention capture (LlavaModel::setAttentionCapture) against HF transformers output_attentions=True with eager
// attention (tests/fixtures/golden/attention, made by tests/reference/gen_attention.py, fp32 CPU): every layer and
// head of the tiny mistral -hf fixture for four query positions (BOS, an image position, the first text after the
// image, the last prompt position). Tolerance |a - b| <= 1e-5 (probabilities; fp32 engine vs fp32 reference).
// Guards against: the wrong KV head for a query head (GQA), RoPE missing from the captured q or k, a row
// shifted by one position, the causal cut, rows of positions outside the pass.
#include <QtTest>
#include <QImage>

#include <cmath>
#include <cstring>

#include "fixtureimage.h"
#include "goldenfixtures.h"
#include "llava/anyres.h"
#include "llava/checkpoint.h"
#include "llava/preprocess.h"
#include "llava/safetensors.h"
#include "model/llavamodel.h"

using namespace llava;
using test::goldenValues;
using test::loadFixtureRgb;

namespace {

const QString kRoot = QStringLiteral(LLAVA_SOURCE_DIR);

}  // namespace

class TestAttentionParity : public QObject {
    Q_OBJECT
private slots:
    void eagerAttentionRows() {
        const QString name = QStringLiteral("llava-v1.6-mistral-tiny-hf__landscape_640x480");
        auto attention = SafetensorsFile::open((kRoot + "/tests/fixtures/golden/attention/" + name + ".safetensors").toStdString());
        QVERIFY2(attention.isOk(), attention.status().toString().c_str());
        auto golden = SafetensorsFile::open((kRoot + "/tests/fixtures/golden/" + name + ".safetensors").toStdString());
        QVERIFY(golden.isOk());
        auto checkpoint = Checkpoint::open((kRoot + "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf").toStdString());
        QVERIFY2(checkpoint.isOk(), checkpoint.status().toString().c_str());
        const ModelConfig& config = (*checkpoint)->config();

        const RgbImage image = loadFixtureRgb(kRoot + "/tests/fixtures/images/landscape_640x480.png");
        auto layout = computeImageLayout(image.width, image.height, config, Reference::Transformers);
        QVERIFY(layout.isOk());
        auto pre = preprocessImage(image, *layout, config.vision);
        QVERIFY(pre.isOk());
        const auto ids64 = goldenValues<std::int64_t>(*golden, "input_ids");
        std::vector<std::int32_t> ids;
        int slot = -1;
        for (auto id : ids64) {
            if (id == config.imageTokenId && slot < 0) slot = static_cast<int>(ids.size());
            ids.push_back(id == config.imageTokenId ? -1 : static_cast<std::int32_t>(id));
        }
        auto backend = createCpuBackend(2);
        auto model = LlavaModel::create(*backend, **checkpoint, WeightPrecision::AsStored, static_cast<int>(ids.size()) + 8, {});
        QVERIFY2(model.isOk(), model.status().toString().c_str());
        auto merged = (*model)->encodeImage(pre->pixels, *layout, {});
        QVERIFY(merged.isOk());

        AttentionCapture capture;
        for (auto p : goldenValues<std::int64_t>(*attention, "positions")) capture.positions.push_back(static_cast<int>(p));
        QCOMPARE(capture.positions.size(), std::size_t(4));
        (*model)->setAttentionCapture(&capture);
        QVERIFY((*model)->prefill(ids, {ImageSlot{slot, *merged}}, 0, {}).isOk());
        (*model)->setAttentionCapture(nullptr);

        const auto ref = goldenValues<float>(*attention, "rows");  // (P, L, H, T)
        const int L = config.text.nLayers, H = config.text.nHeads, T = static_cast<int>(ids.size());
        QCOMPARE(ref.size(), capture.positions.size() * std::size_t(L) * H * T);
        QCOMPARE(capture.rows.size(), capture.positions.size() * std::size_t(L) * H);
        double worst = 0;
        for (std::size_t i = 0; i < capture.positions.size(); ++i)
            for (int l = 0; l < L; ++l)
                for (int h = 0; h < H; ++h) {
                    const auto& row = capture.rows[(i * L + l) * H + h];
                    QCOMPARE(static_cast<int>(row.size()), capture.positions[i] + 1);
                    const float* r = ref.data() + ((i * L + l) * H + h) * std::size_t(T);
                    for (std::size_t j = 0; j < row.size(); ++j) worst = std::max(worst, std::fabs(double(row[j]) - r[j]));
                }
        qInfo("max abs err %.3g over %zu rows", worst, capture.rows.size());
        QVERIFY2(worst <= 1e-5, qPrintable(QString::number(worst)));
    }
};

QTEST_GUILESS_MAIN(TestAttentionParity)
#include "tst_attentionparity.moc"
