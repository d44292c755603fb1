// Attention capture (LlavaModel::setAttentionCapture) against HF transformers output_attentions=True with eager
// attention (tests/fixtures/golden/attention, made by tests/reference/gen_attention.py, fp32 CPU): every layer and
// head of the tiny mistral -hf fixture for four query positions (BOS, an image position, the first text after the
// image, the last prompt position). Tolerance |a - b| <= 1e-5 (probabilities; fp32 engine vs fp32 reference)
// with an F32 KV cache. With the F16 cache the CPU backend keeps by default for these 16-bit weights, capture
// reads the 16-bit keys the model attended with (attentioncapture.cpp widens them on the host): its rows must
// equal the F32-cache rows and HF within 5e-4 (fp16 rounding of k moves each score by <= ~2^-12 |q||k| scale,
// and the layers before feed the rounding forward; measured 1.2e-4).
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
const QString kName = QStringLiteral("llava-v1.6-mistral-tiny-hf__landscape_640x480");

// Largest |a - b| over every captured row (rows of equal length required).
double worstDifference(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
    if (a.size() != b.size()) return INFINITY;
    double worst = 0;
    for (std::size_t r = 0; r < a.size(); ++r) {
        if (a[r].size() != b[r].size()) return INFINITY;
        for (std::size_t j = 0; j < a[r].size(); ++j) worst = std::max(worst, std::fabs(double(a[r][j]) - b[r][j]));
    }
    return worst;
}

// The golden's prompt through the tiny mistral -hf model with the KV cache in `kvCache`, capturing the golden's
// query positions. Empty capture (and a failed QVERIFY) on error.
void runCapture(KvCacheFormat kvCache, StorageFormat expected, AttentionCapture* capture, int* promptLength) {
    auto attention = SafetensorsFile::open((kRoot + "/tests/fixtures/golden/attention/" + kName + ".safetensors").toStdString());
    QVERIFY2(attention.isOk(), attention.status().toString().c_str());
    auto golden = SafetensorsFile::open((kRoot + "/tests/fixtures/golden/" + kName + ".safetensors").toStdString());
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
    *promptLength = static_cast<int>(ids.size());
    auto backend = createCpuBackend(2);
    auto model = LlavaModel::create(*backend, **checkpoint, WeightPrecision::AsStored, static_cast<int>(ids.size()) + 8, {},
                                    {}, nullptr, kvCache);
    QVERIFY2(model.isOk(), model.status().toString().c_str());
    QCOMPARE((*model)->kvCacheFormat(), expected);
    auto merged = (*model)->encodeImage(pre->pixels, *layout, {});
    QVERIFY(merged.isOk());

    for (auto p : goldenValues<std::int64_t>(*attention, "positions")) capture->positions.push_back(static_cast<int>(p));
    QCOMPARE(capture->positions.size(), std::size_t(4));
    (*model)->setAttentionCapture(capture);
    QVERIFY((*model)->prefill(ids, {ImageSlot{slot, *merged}}, 0, {}).isOk());
    (*model)->setAttentionCapture(nullptr);
}

}  // namespace

class TestAttentionParity : public QObject {
    Q_OBJECT
private slots:
    void eagerAttentionRows_data() {
        QTest::addColumn<bool>("f16Cache");
        QTest::newRow("kv f32") << false;
        QTest::newRow("kv f16") << true;
    }
    void eagerAttentionRows() {
        QFETCH(bool, f16Cache);
        AttentionCapture capture;
        int T = 0;
        runCapture(f16Cache ? KvCacheFormat::Auto : KvCacheFormat::F32, f16Cache ? StorageFormat::F16 : StorageFormat::F32,
                   &capture, &T);
        if (QTest::currentTestFailed()) return;
        auto attention = SafetensorsFile::open((kRoot + "/tests/fixtures/golden/attention/" + kName + ".safetensors").toStdString());
        QVERIFY(attention.isOk());
        auto checkpoint = Checkpoint::open((kRoot + "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf").toStdString());
        QVERIFY(checkpoint.isOk());
        const ModelConfig& config = (*checkpoint)->config();

        const auto ref = goldenValues<float>(*attention, "rows");  // (P, L, H, T)
        const int L = config.text.nLayers, H = config.text.nHeads;
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
        const double tolerance = f16Cache ? 5e-4 : 1e-5;
        QVERIFY2(worst <= tolerance, qPrintable(QString::number(worst)));
    }

    // Capture from the F16 cache equals capture from the F32 cache within the F16 tolerance above, and differs
    // from it (the 16-bit keys really were read, not an F32 copy).
    void f16CacheRowsMatchF32CacheRows() {
        AttentionCapture f32, f16;
        int T = 0;
        runCapture(KvCacheFormat::F32, StorageFormat::F32, &f32, &T);
        runCapture(KvCacheFormat::F16, StorageFormat::F16, &f16, &T);
        if (QTest::currentTestFailed()) return;
        QVERIFY(!f32.rows.empty());
        const double worst = worstDifference(f16.rows, f32.rows);
        qInfo("F16 vs F32 cache capture: max abs diff %.3g", worst);
        QVERIFY2(worst <= 5e-4, qPrintable(QString::number(worst)));
        QVERIFY(worst > 0);
    }
};

QTEST_GUILESS_MAIN(TestAttentionParity)
#include "tst_attentionparity.moc"
