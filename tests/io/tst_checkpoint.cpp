// Checkpoint::open on tiny checkpoints written at test time in all three layouts (names spelled in
// iotestutil.h from docs/spec.md §2.4): layout detection, canonical lookups returning the bytes
// that were written, single-file and sharded folders, and problems reported by tensor name.
#include <QtTest>

#include "iotestutil.h"
#include "llava/checkpoint.h"
#include "llava/weights.h"

using namespace llava;
using iotest::Naming;

Q_DECLARE_METATYPE(Naming)

namespace {

// Index of a file tensor in tinyTensors(naming): its bytes were filled with (index + 1).
int indexOf(const std::vector<iotest::NamedShape>& tensors, const std::string& name) {
    for (std::size_t i = 0; i < tensors.size(); ++i)
        if (tensors[i].name == name) return int(i);
    return -1;
}

std::string errorOf(const Result<std::unique_ptr<Checkpoint>>& r) { return r.isOk() ? "" : r.status().message(); }

}  // namespace

class TestCheckpoint : public QObject {
    Q_OBJECT
private slots:
    void opensEveryLayout_data() {
        QTest::addColumn<Naming>("naming");
        QTest::addColumn<int>("shards");
        QTest::addColumn<int>("layout");
        QTest::newRow("original, single file") << Naming::Original << 1 << int(CheckpointLayout::Original);
        QTest::newRow("original, 3 shards") << Naming::Original << 3 << int(CheckpointLayout::Original);
        QTest::newRow("llava-hf, 2 shards") << Naming::HfLegacy << 2 << int(CheckpointLayout::HfLegacy);
        QTest::newRow("re-saved, single file") << Naming::HfResaved << 1 << int(CheckpointLayout::HfResaved);
        QTest::newRow("re-saved, 4 shards") << Naming::HfResaved << 4 << int(CheckpointLayout::HfResaved);
    }
    void opensEveryLayout() {
        QFETCH(Naming, naming);
        QFETCH(int, shards);
        QFETCH(int, layout);
        QTemporaryDir dir;
        auto tensors = iotest::tinyTensors(naming);
        auto records = iotest::makeRecords(tensors);
        Status w = writeModelFolder(dir.path().toStdString(), iotest::tinyConfig(naming == Naming::Original),
                                    records.records, shards);
        QVERIFY2(w.isOk(), w.toString().c_str());

        auto r = Checkpoint::open(dir.path().toStdString());
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const Checkpoint& ckpt = **r;
        QCOMPARE(int(ckpt.config().layout), layout);
        QCOMPARE(ckpt.config().text.dModel, 16);
        QCOMPARE(ckpt.config().vision.dVision, 8);

        // Canonical name -> the file tensor of docs/spec.md §2.4's table, checked through its fill byte.
        struct Pair { const char* canonical; std::string orig, legacy, resaved; };
        const Pair pairs[] = {
            {"llm.lm_head.weight", "lm_head.weight", "language_model.lm_head.weight", "lm_head.weight"},
            {"llm.layers.1.mlp.down_proj.weight", "model.layers.1.mlp.down_proj.weight",
             "language_model.model.layers.1.mlp.down_proj.weight", "model.language_model.layers.1.mlp.down_proj.weight"},
            {"vision.encoder.layers.0.self_attn.q_proj.bias",
             "model.vision_tower.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.bias",
             "vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.bias",
             "model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.bias"},
            {"projector.linear_2.weight", "model.mm_projector.2.weight", "multi_modal_projector.linear_2.weight",
             "model.multi_modal_projector.linear_2.weight"},
            {"image_newline", "model.image_newline", "image_newline", "model.image_newline"},
        };
        for (const Pair& p : pairs) {
            const std::string& file = naming == Naming::Original ? p.orig : naming == Naming::HfLegacy ? p.legacy : p.resaved;
            int index = indexOf(tensors, file);
            QVERIFY2(index >= 0, file.c_str());
            const TensorView* t = ckpt.find(p.canonical);
            QVERIFY2(t, p.canonical);
            QCOMPARE(t->name, std::string(p.canonical));
            QCOMPARE(t->dtype, DType::F16);
            QCOMPARE(t->shape, tensors[std::size_t(index)].shape);
            QCOMPARE(std::size_t(t->elementCount()) * 2, t->byteSize);
            QCOMPARE(std::to_integer<int>(t->data[0]), (index + 1) & 0xff);
            QCOMPARE(std::to_integer<int>(t->data[t->byteSize - 1]), (index + 1) & 0xff);
        }
        QVERIFY(ckpt.find("llm.layers.2.input_layernorm.weight") == nullptr);  // only 2 LLM layers
        std::uint64_t total = 0;
        for (const auto& t : tensors) {
            std::uint64_t n = 2;
            for (auto d : t.shape) n *= std::uint64_t(d);
            total += n;
        }
        QCOMPARE(ckpt.totalTensorBytes(), total);
    }

    // The CLIP layer after the selected feature layer (layer 2 of 3 here) and post_layernorm are never
    // run, so checkpoints stripped of them still open (docs/spec.md §3.2; llama.cpp stores 23 of 24 blocks).
    void unusedVisionTensorsAreOptional() {
        auto tensors = iotest::tinyTensors(Naming::HfLegacy);
        std::erase_if(tensors, [](const iotest::NamedShape& t) {
            return t.name.find("encoder.layers.2.") != std::string::npos || t.name.find("post_layernorm") != std::string::npos;
        });
        tensors.push_back({"language_model.model.layers.0.self_attn.rotary_emb.inv_freq", {4}});  // ignored buffer
        tensors.push_back({"vision_tower.vision_model.embeddings.position_ids", {1, 5}});
        QTemporaryDir dir;
        auto records = iotest::makeRecords(tensors);
        QVERIFY(writeModelFolder(dir.path().toStdString(), iotest::tinyConfig(false), records.records, 1).isOk());
        auto r = Checkpoint::open(dir.path().toStdString());
        QVERIFY2(r.isOk(), errorOf(r).c_str());
        QVERIFY((*r)->find("vision.encoder.layers.2.mlp.fc1.weight") == nullptr);
        QVERIFY((*r)->find("vision.encoder.layers.1.mlp.fc1.weight") != nullptr);
    }

    // Every problem is listed at once, each with the file name and expected vs actual.
    void problemsAreReportedByName() {
        auto tensors = iotest::tinyTensors(Naming::Original);
        std::erase_if(tensors, [](const iotest::NamedShape& t) { return t.name == "model.norm.weight"; });
        for (auto& t : tensors)
            if (t.name == "model.mm_projector.0.weight") t.shape = {16, 9};
        tensors.push_back({"model.layers.0.self_attn.q_proj.bias", {16}});
        QTemporaryDir dir;
        auto records = iotest::makeRecords(tensors);
        QVERIFY(writeModelFolder(dir.path().toStdString(), iotest::tinyConfig(true), records.records, 2).isOk());
        auto r = Checkpoint::open(dir.path().toStdString());
        QVERIFY(!r.isOk());
        const std::string msg = r.status().message();
        QVERIFY2(msg.find("3 weight problem(s)") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("missing llm.norm.weight: (model.norm.weight) expected F16/BF16/F32 [16]") != std::string::npos,
                 msg.c_str());
        QVERIFY2(msg.find("wrong shape model.mm_projector.0.weight: expected F16/BF16/F32 [16, 8] got [16, 9]") !=
                     std::string::npos, msg.c_str());
        QVERIFY2(msg.find("unexpected model.layers.0.self_attn.q_proj.bias") != std::string::npos, msg.c_str());
    }

    void wrongDtypeIsReported() {
        auto tensors = iotest::tinyTensors(Naming::HfResaved);
        auto records = iotest::makeRecords(tensors);
        std::vector<std::byte> i8(16);
        for (auto& rec : records.records)
            if (rec.name == "model.image_newline") { rec.dtype = DType::I8; rec.bytes = i8; }
        QTemporaryDir dir;
        QVERIFY(writeModelFolder(dir.path().toStdString(), iotest::tinyConfig(false), records.records, 1).isOk());
        auto r = Checkpoint::open(dir.path().toStdString());
        QVERIFY(!r.isOk());
        QCOMPARE(r.status().code(), ErrorCode::ShapeMismatch);
        QVERIFY2(r.status().message().find("wrong dtype model.image_newline: expected F16/BF16/F32 [16] got I8") !=
                     std::string::npos, r.status().message().c_str());
    }

    void configAndTensorLayoutsMustAgree() {
        auto records = iotest::makeRecords(iotest::tinyTensors(Naming::HfLegacy));
        QTemporaryDir dir;
        QVERIFY(writeModelFolder(dir.path().toStdString(), iotest::tinyConfig(true), records.records, 1).isOk());
        auto r = Checkpoint::open(dir.path().toStdString());
        QVERIFY(!r.isOk());
        QVERIFY2(r.status().message().find("config.json is in the original format but the tensor names are llava-hf") !=
                     std::string::npos, r.status().message().c_str());
    }

    // The weight table itself at real size (preset): 7B Mistral has 32 * 9 + 3 LLM tensors,
    // 5 + 24 * 16 + 2 CLIP tensors, 4 projector tensors and image_newline (docs/spec.md §2.4).
    void tableSizeForMistralPreset() {
        auto c = loadPreset("llava-v1.6-mistral-7b");
        QVERIFY(c.isOk());
        auto table = buildWeightTable(*c);
        QCOMPARE(table.size(), std::size_t(32 * 9 + 3 + 5 + 24 * 16 + 2 + 4 + 1));
        int optional = 0;
        for (const auto& w : table) {
            if (w.requirement == WeightRequirement::Optional) ++optional;
            if (w.name == "llm.layers.0.self_attn.k_proj.weight") QCOMPARE(w.shape, (Shape{1024, 4096}));
            if (w.name == "llm.layers.31.mlp.down_proj.weight") QCOMPARE(w.shape, (Shape{4096, 14336}));
            if (w.name == "vision.embeddings.position_embedding.weight") QCOMPARE(w.shape, (Shape{577, 1024}));
            if (w.name == "vision.embeddings.patch_embedding.weight") QCOMPARE(w.shape, (Shape{1024, 3, 14, 14}));
            if (w.name == "projector.linear_1.weight") QCOMPARE(w.shape, (Shape{4096, 1024}));
        }
        QCOMPARE(optional, 16 + 2);  // CLIP layer 23 and post_layernorm
        QCOMPARE(fileTensorName("vision.pre_layrnorm.weight", CheckpointLayout::Original),
                 std::string("model.vision_tower.vision_tower.vision_model.pre_layrnorm.weight"));
        QCOMPARE(canonicalTensorName("language_model.lm_head.weight", CheckpointLayout::HfLegacy).value_or(""),
                 std::string("llm.lm_head.weight"));
    }
};

QTEST_GUILESS_MAIN(TestCheckpoint)
#include "tst_checkpoint.moc"
