// NaN/Inf in the weights must stop a reply with a named error, never stream garbage with success (the
// defect: NaN weights gave an empty reply or "VVVV" and exit 0). Copies of the tiny HF fixture
// (tests/fixtures/models/llava-v1.6-mistral-tiny-hf, F16) get single elements overwritten in the
// safetensors bytes; each case asserts the stage the error names, which is where the corrupt tensor sits:
//   * a NaN in llm.layers.1.mlp.down_proj          -> prefill fails, "decoder layer 1 ... .mlp"
//   * +Inf in one row of llm.embed_tokens (a token the clean model generates first, not in the prompt)
//                                                   -> prefill is clean, the decode step fails at "the token
//                                                      embedding", for greedy on the backend and for host logits
//   * a NaN in vision.encoder.layers.1.self_attn.q_proj -> image encoding fails, "CLIP layer 1 ... .self_attn"
//   * EngineOptions::checkWeights names the tensor, the kind and (row, column) at load; off, the load succeeds.
#include <QtTest>

#include <cmath>
#include <cstring>

#include "llava/checkpoint.h"
#include "llava/engine.h"
#include "llava/preprocess.h"
#include "llava/safetensors.h"
#include "llava/weights.h"
#include "model/llavamodel.h"
#include "text/testtokenizers.h"

using namespace llava;

namespace {

const QString kFixture = QStringLiteral(LLAVA_SOURCE_DIR "/tests/fixtures/models/llava-v1.6-mistral-tiny-hf");
// The fixture's mistral prompt without the image: "[INST] What is in this picture? [/INST]" ids (README).
const std::vector<std::int32_t> kPrompt = {1, 733, 16289, 28793, 3195, 349, 297, 456, 5754, 28804, 733, 28748, 16289, 28793};

constexpr std::uint16_t kF16Nan = 0x7E00, kF16PosInf = 0x7C00;

bool copyFolder(const QString& from, const QString& to) {
    if (!QDir().mkpath(to)) return false;
    for (const QFileInfo& entry : QDir(from).entryInfoList(QDir::Files | QDir::NoDotAndDotDot))
        if (!QFile::copy(entry.filePath(), to + QLatin1Char('/') + entry.fileName())) return false;
    return true;
}

// Overwrites elements [first, first + count) of the F16 tensor `canonical` in whichever shard of `dir`
// holds it. Returns an empty string or what went wrong.
QString poke(const QString& dir, const std::string& canonical, std::int64_t first, std::int64_t count, std::uint16_t bits) {
    const std::string fileName = fileTensorName(canonical, CheckpointLayout::HfLegacy);
    for (const QFileInfo& shard : QDir(dir).entryInfoList({"*.safetensors"}, QDir::Files)) {
        QFile file(shard.filePath());
        if (!file.open(QIODevice::ReadWrite)) return "cannot open " + shard.filePath();
        QByteArray bytes = file.readAll();
        auto header = parseSafetensorsBytes(std::as_bytes(std::span(bytes.constData(), std::size_t(bytes.size()))),
                                            shard.fileName().toStdString());
        if (!header.isOk()) return QString::fromStdString(header.status().toString());
        for (const SafetensorsEntry& e : header->tensors) {
            if (e.name != fileName) continue;
            if (e.dtype != DType::F16) return "not F16";
            for (std::int64_t i = first; i < first + count; ++i) {
                const std::uint64_t at = header->dataOffset + e.begin + std::uint64_t(i) * 2;
                if (at + 2 > header->dataOffset + e.end) return "element out of range";
                std::memcpy(bytes.data() + at, &bits, 2);
            }
            file.seek(0);
            if (file.write(bytes) != bytes.size()) return "short write";
            return {};
        }
    }
    return QString::fromStdString("tensor " + fileName + " not found");
}

struct Loaded {
    std::unique_ptr<Checkpoint> checkpoint;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<LlavaModel> model;
};

Loaded loadModel(const QString& dir) {
    Loaded l;
    auto checkpoint = Checkpoint::open(dir.toStdString());
    if (!checkpoint.isOk()) qFatal("%s", checkpoint.status().toString().c_str());
    l.checkpoint = std::move(*checkpoint);
    l.backend = createCpuBackend(2);
    auto model = LlavaModel::create(*l.backend, *l.checkpoint, WeightPrecision::AsStored, 3000, {});
    if (!model.isOk()) qFatal("%s", model.status().toString().c_str());
    l.model = std::move(*model);
    return l;
}

std::int32_t argmax(const std::vector<float>& logits, int nValid) {
    return static_cast<std::int32_t>(std::max_element(logits.begin(), logits.begin() + nValid) - logits.begin());
}

bool contains(const Status& s, const char* text) { return s.message().find(text) != std::string::npos; }

}  // namespace

class TestNonFinite : public QObject {
    Q_OBJECT
private slots:
    void init() { QVERIFY(m_dir.isValid()); }

    void nanInDecoderLayerStopsPrefill() {
        const QString dir = m_dir.filePath("down-nan");
        QVERIFY(copyFolder(kFixture, dir));
        QCOMPARE(poke(dir, "llm.layers.1.mlp.down_proj.weight", 3 * 64 + 5, 1, kF16Nan), QString());
        Loaded l = loadModel(dir);
        const Status s = l.model->prefill(kPrompt, {}, 0, {});
        qInfo("%s", s.toString().c_str());
        QCOMPARE(s.code(), ErrorCode::Internal);
        QVERIFY2(contains(s, "non-finite logits"), s.message().c_str());
        QVERIFY2(contains(s, "in prefill"), s.message().c_str());
        QVERIFY2(contains(s, "after decoder layer 1 (llm.layers.1.post_attention_layernorm, .mlp)"), s.message().c_str());
    }

    void infInEmbeddingRowStopsDecode() {
        // The clean model's first greedy token after the prompt; its embedding row is then made +Inf.
        const Loaded clean = loadModel(kFixture);
        QVERIFY(clean.model->prefill(kPrompt, {}, 0, {}).isOk());
        const int nValid = clean.model->config().text.nVocabText, d = clean.model->config().text.dModel;
        const std::int32_t next = argmax(clean.model->logits(), nValid);
        QVERIFY(std::find(kPrompt.begin(), kPrompt.end(), next) == kPrompt.end());
        QVERIFY(clean.model->decode(next, int(kPrompt.size())).isOk());  // the clean step is fine

        const QString dir = m_dir.filePath("embed-inf");
        QVERIFY(copyFolder(kFixture, dir));
        QCOMPARE(poke(dir, "llm.embed_tokens.weight", std::int64_t(next) * d, d, kF16PosInf), QString());
        Loaded l = loadModel(dir);
        QVERIFY(l.model->prefill(kPrompt, {}, 0, {}).isOk());  // the bad row is not in the prompt
        const auto greedy = l.model->decodeGreedy(next, int(kPrompt.size()), nValid);
        QVERIFY(!greedy.isOk());
        qInfo("greedy: %s", greedy.status().toString().c_str());
        QVERIFY2(contains(greedy.status(), "non-finite logits (the greedy choice"), greedy.status().message().c_str());
        QVERIFY2(contains(greedy.status(), "after the token embedding (llm.embed_tokens.weight)"),
                 greedy.status().message().c_str());
        const Status host = l.model->decode(next, int(kPrompt.size()));
        qInfo("host logits: %s", host.toString().c_str());
        QCOMPARE(host.code(), ErrorCode::Internal);
        QVERIFY2(contains(host, "in decode: first non-finite value (+Inf) after the token embedding"), host.message().c_str());
    }

    void nanInClipLayerStopsImageEncoding() {
        const QString dir = m_dir.filePath("clip-nan");
        QVERIFY(copyFolder(kFixture, dir));
        QCOMPARE(poke(dir, "vision.encoder.layers.1.self_attn.q_proj.weight", 7, 1, kF16Nan), QString());
        Loaded l = loadModel(dir);
        const ModelConfig& config = l.model->config();
        RgbImage image = RgbImage::black(336, 336);
        AnyresParams params;
        params.candidates = candidateResolutions(config, Reference::Transformers);
        params.reference = Reference::Transformers;
        auto layout = computeImageLayout(image.width, image.height, params);
        QVERIFY(layout.isOk());
        auto pre = preprocessImage(image, *layout, config.vision);
        QVERIFY(pre.isOk());
        auto merged = l.model->encodeImage(pre->pixels, *layout, {});
        QVERIFY(!merged.isOk());
        qInfo("%s", merged.status().toString().c_str());
        QVERIFY2(contains(merged.status(), "non-finite image features"), merged.status().message().c_str());
        QVERIFY2(contains(merged.status(), "after CLIP layer 1 (vision.encoder.layers.1.self_attn)"),
                 merged.status().message().c_str());
    }

    void checkWeightsNamesTheTensorAtLoad() {
        const QString dir = m_dir.filePath("scan");
        QVERIFY(copyFolder(kFixture, dir));
        QCOMPARE(poke(dir, "llm.layers.1.mlp.down_proj.weight", 3 * 64 + 5, 2, kF16Nan), QString());
        EngineOptions options;
        options.backend = BackendKind::Cpu;
        options.threads = 2;
        options.contextLength = 256;
        options.tokenizerPath = llavatest::tokenizerPath(llavatest::kMistral).toStdString();
        options.checkWeights = true;
        std::vector<std::string> stages;
        auto failed = Engine::load(dir.toStdString(), options, [&](std::uint64_t, std::uint64_t, std::string_view stage) {
            if (stages.empty() || stages.back() != stage) stages.emplace_back(stage);
            return true;
        });
        QVERIFY(!failed.isOk());
        qInfo("%s", failed.status().toString().c_str());
        QCOMPARE(failed.status().code(), ErrorCode::ParseError);
        QVERIFY2(contains(failed.status(), "weight llm.layers.1.mlp.down_proj.weight F16 [32, 64] holds NaN at row 3, "
                                           "column 5 (2 non-finite elements in this tensor)"),
                 failed.status().message().c_str());
        QVERIFY(std::find(stages.begin(), stages.end(), "check-weights") != stages.end());
        QVERIFY(std::find(stages.begin(), stages.end(), "weights") == stages.end());  // stopped before uploading

        options.checkWeights = false;  // opt-in: the same folder loads without it (and fails at the first reply)
        auto loaded = Engine::load(dir.toStdString(), options);
        QVERIFY2(loaded.isOk(), loaded.isOk() ? "" : loaded.status().toString().c_str());
        SamplingParams greedy;
        greedy.temperature = 0;
        greedy.maxNewTokens = 4;
        auto reply = (*loaded)->session().reply({"What is in this picture?", {}}, greedy, {}, {});
        QVERIFY(!reply.isOk());
        QVERIFY2(contains(reply.status(), "after decoder layer 1"), reply.status().message().c_str());

        options.checkWeights = true;  // the clean fixture passes the scan
        auto clean = Engine::load(kFixture.toStdString(), options);
        QVERIFY2(clean.isOk(), clean.isOk() ? "" : clean.status().toString().c_str());
    }

    void firstNonFiniteFindsEachKind() {
        std::vector<float> v(100, 1.0f);
        QCOMPARE(firstNonFinite(v), std::int64_t(-1));
        v[70] = -INFINITY;
        v[90] = NAN;
        QCOMPARE(firstNonFinite(v), std::int64_t(70));
        v[10] = NAN;
        QCOMPARE(firstNonFinite(v), std::int64_t(10));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestNonFinite)
#include "tst_nonfinite.moc"
