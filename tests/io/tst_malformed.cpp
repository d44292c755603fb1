// The malformed-input suite: one named row per defect in safetensors files, shard indexes and
// config.json, each of which must be rejected (never crash) with its own specific message.
// The expected substrings are written by hand from the rule each row breaks.
#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <set>

#include "iotestutil.h"
#include "llava/checkpoint.h"
#include "llava/modelconfig.h"
#include "llava/safetensors.h"

using namespace llava;

namespace {

enum class Input { Safetensors, Index, Config };

// A valid original-layout config (docs/spec.md §2.2 vicuna-7b values) that rows mutate one field of.
QJsonObject baseConfig() {
    const char* text = R"({"architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava", "hidden_size": 4096,
      "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
      "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "vocab_size": 32000,
      "image_aspect_ratio": "anyres",
      "image_grid_pinpoints": [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
      "mm_hidden_size": 1024, "mm_patch_merge_type": "spatial_unpad", "mm_projector_type": "mlp2x_gelu",
      "mm_use_im_start_end": false, "mm_vision_select_feature": "patch", "mm_vision_select_layer": -2,
      "mm_vision_tower": "openai/clip-vit-large-patch14-336"})";
    return QJsonDocument::fromJson(text).object();
}
QByteArray configWith(const QString& key, const QJsonValue& value) {
    QJsonObject o = baseConfig();
    if (value.isUndefined()) o.remove(key); else o[key] = value;
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
QByteArray hfConfigWith(const QString& key, const QJsonValue& value) {
    QJsonObject o{{"model_type", "llava_next"}, {"text_config", QJsonObject{{"model_type", "mistral"}}}};
    o[key] = value;
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}
QByteArray st(const std::string& header, std::size_t dataBytes = 16) {
    auto bytes = iotest::rawSafetensors(header, dataBytes);
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size()));
}
QByteArray stLength(std::uint64_t lengthField, const std::string& header = "{}") {
    auto bytes = iotest::rawSafetensors(header, 0, lengthField);
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), qsizetype(bytes.size()));
}
std::string tensor(const std::string& name, const std::string& dtype, const std::string& shape, const std::string& offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

Status runParser(Input input, const QByteArray& bytes) {
    switch (input) {
    case Input::Safetensors:
        return parseSafetensorsBytes(std::as_bytes(std::span(bytes.constData(), std::size_t(bytes.size()))), "bad.safetensors")
            .status();
    case Input::Index:
        return parseShardIndex(std::string_view(bytes.constData(), std::size_t(bytes.size())), "index.json").status();
    case Input::Config:
        return parseModelConfig(bytes.toStdString(), "bad-model").status();
    }
    return Status::ok();
}

}  // namespace

Q_DECLARE_METATYPE(Input)

// Folder-level defects: the files are fine one by one, the folder is not.
enum class Folder { NoConfig, NoWeights, EmptyShard, ShardIsDirectory, MissingShard, TensorInTwoShards,
                    TensorNotInIndex, IndexNamesWrongShard, IndexTensorAbsent, NoLlmTensors, BadPreprocessorStd };
Q_DECLARE_METATYPE(Folder)

namespace {
// One malformed input and the message fragment that only its defect produces.
struct Row {
    QString name;
    Input input = Input::Safetensors;
    QByteArray bytes;
    QString expected;
    Row& operator<<(Input i) { input = i; return *this; }
    Row& operator<<(const QByteArray& b) { bytes = b; return *this; }
    Row& operator<<(const char* e) { expected = QString::fromUtf8(e); return *this; }
};
struct Rows {
    std::vector<Row> list;
    Row& newRow(const char* name) { list.push_back({QString::fromUtf8(name), Input::Safetensors, {}, {}}); return list.back(); }
};

Rows buildRows() {
    Rows rows;
        const auto S = Input::Safetensors;
        const auto I = Input::Index;
        const auto C = Input::Config;
        const std::string ok8 = tensor("a", "F32", "[2]", "[0,8]");
        // -- safetensors: framing
        rows.newRow("st: file shorter than the length prefix") << S << QByteArray("\x02\x00\x00", 3)
                                                                 << "too small for the 8-byte header length";
        rows.newRow("st: header length beyond the file") << S << stLength(1000) << "header length 1000 exceeds file size";
        rows.newRow("st: header length above the 100 MB cap") << S << stLength(200ull << 20) << "exceeds the cap of";
        // -- safetensors: JSON
        rows.newRow("st: header is not JSON") << S << st("{nope}") << "invalid literal";
        rows.newRow("st: header truncated inside a string") << S << st("{\"a") << "missing closing quote";
        rows.newRow("st: header is an array") << S << st("[1,2]") << "header must be a JSON object, got array";
        rows.newRow("st: duplicate tensor name") << S << st("{" + ok8 + "," + tensor("a", "F32", "[2]", "[8,16]") + "}")
                                                   << "duplicate key \"a\"";
        rows.newRow("st: invalid UTF-8 in a name") << S << st("{\"\xff\":{}}") << "ill-formed UTF-8";
        rows.newRow("st: nesting 100 levels deep") << S << st(std::string(100, '[') + std::string(100, ']'))
                                                     << "nesting deeper than 64 levels";
        // -- safetensors: entries
        rows.newRow("st: entry is not an object") << S << st("{\"a\":5}") << "\"a\": entry must be an object";
        rows.newRow("st: dtype missing") << S << st("{\"a\":{\"shape\":[],\"data_offsets\":[0,0]}}") << "missing string \"dtype\"";
        rows.newRow("st: unknown dtype") << S << st("{" + tensor("a", "F7", "[2]", "[0,8]") + "}") << "unknown dtype \"F7\"";
        rows.newRow("st: shape missing") << S << st("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}") << "missing array \"shape\"";
        rows.newRow("st: negative dimension") << S << st("{" + tensor("a", "F32", "[-2]", "[0,8]") + "}")
                                                << "negative value -2 in shape";
        rows.newRow("st: fractional dimension") << S << st("{" + tensor("a", "F32", "[2.5]", "[0,8]") + "}")
                                                  << "shape must hold integers, got number";
        rows.newRow("st: element count overflows") << S << st("{" + tensor("a", "F32", "[4294967296,4294967296]", "[0,8]") + "}")
                                                     << "element count overflows 64 bits";
        rows.newRow("st: byte size overflows") << S << st("{" + tensor("a", "F32", "[4611686018427387904]", "[0,8]") + "}")
                                                 << "byte size overflows 64 bits";
        rows.newRow("st: data_offsets with 3 values") << S << st("{" + tensor("a", "F32", "[2]", "[0,8,9]") + "}")
                                                        << "\"data_offsets\" must be an array of 2 integers";
        rows.newRow("st: negative offset") << S << st("{" + tensor("a", "F32", "[2]", "[-8,0]") + "}")
                                             << "negative value -8 in data_offsets";
        rows.newRow("st: begin after end") << S << st("{" + tensor("a", "F32", "[0]", "[8,0]") + "}") << "begin 8 > end 0";
        rows.newRow("st: offsets beyond the data region") << S << st("{" + tensor("a", "F32", "[2]", "[12,20]") + "}")
                                                            << "end 20 is beyond the data region of 16 bytes";
        rows.newRow("st: byte size != dtype size x elements") << S << st("{" + tensor("a", "F32", "[2]", "[0,4]") + "}")
                                                                << "byte size 4 != 8 expected for F32 [2]";
        rows.newRow("st: overlapping tensors") << S << st("{" + ok8 + "," + tensor("b", "F16", "[4]", "[4,12]") + "}")
                                                 << "\"a\" and \"b\" overlap";
        rows.newRow("st: __metadata__ not an object") << S << st("{\"__metadata__\":[]}") << "__metadata__ must be an object";
        rows.newRow("st: __metadata__ value not a string") << S << st("{\"__metadata__\":{\"n\":1}}")
                                                             << "__metadata__ value of \"n\" must be a string";
        // -- shard index
        rows.newRow("index: not JSON") << I << QByteArray("{\"weight_map\":") << "unexpected end of input";
        rows.newRow("index: no weight_map") << I << QByteArray("{\"metadata\":{}}") << "missing \"weight_map\"";
        rows.newRow("index: weight_map is a list") << I << QByteArray("{\"weight_map\":[]}") << "\"weight_map\" must be an object";
        rows.newRow("index: shard is not a string") << I << QByteArray("{\"weight_map\":{\"a\":3}}") << "must name a shard file";
        rows.newRow("index: shard path leaves the folder") << I << QByteArray("{\"weight_map\":{\"a\":\"../x.safetensors\"}}")
                                                             << "is not a plain file name";
        rows.newRow("index: tensor listed twice") << I << QByteArray("{\"weight_map\":{\"w\":\"s\",\"w\":\"t\"}}")
                                                    << "duplicate key \"w\"";
        // -- config.json
        rows.newRow("config: not an object") << C << QByteArray("[]") << "config.json: must be a JSON object";
        rows.newRow("config: model_type missing") << C << configWith("model_type", QJsonValue::Undefined)
                                                    << "missing string \"model_type\"";
        rows.newRow("config: unknown model_type") << C << configWith("model_type", "llava_qwen")
                                                    << "model_type \"llava_qwen\" is not supported";
        rows.newRow("config: unknown architecture") << C << configWith("architectures", QJsonArray{"LlavaQwenForCausalLM"})
                                                      << "architecture \"LlavaQwenForCausalLM\" is not supported";
        rows.newRow("config: linear projector (default)") << C << configWith("mm_projector_type", QJsonValue::Undefined)
                                                            << "mm_projector_type \"linear\" is not supported (supported: mlp2x_gelu)";
        rows.newRow("config: flat merge") << C << configWith("mm_patch_merge_type", "flat")
                                            << "mm_patch_merge_type \"flat\" is not supported";
        rows.newRow("config: pad aspect ratio") << C << configWith("image_aspect_ratio", "pad")
                                                  << "image_aspect_ratio \"pad\" is not supported";
        rows.newRow("config: cls_patch feature") << C << configWith("mm_vision_select_feature", "cls_patch")
                                                   << "mm_vision_select_feature \"cls_patch\" is not supported";
        rows.newRow("config: other vision tower") << C << configWith("mm_vision_tower", "google/siglip-so400m")
                                                    << "mm_vision_tower \"google/siglip-so400m\" is not supported";
        rows.newRow("config: im_start_end tokens") << C << configWith("mm_use_im_start_end", true)
                                                     << "mm_use_im_start_end \"true\" is not supported";
        rows.newRow("config: mm_hidden_size mismatch") << C << configWith("mm_hidden_size", 768) << "mm_hidden_size \"768\"";
        rows.newRow("config: hidden_size is a string") << C << configWith("hidden_size", "4096")
                                                         << "\"hidden_size\" must be an integer, got string";
        rows.newRow("config: vocab_size beyond int") << C << configWith("vocab_size", QJsonValue(qint64(10000000000)))
                                                       << "is out of the 32-bit integer range";
        rows.newRow("config: zero layers") << C << configWith("num_hidden_layers", 0) << "num_hidden_layers = 0 is outside 1..512";
        rows.newRow("config: heads not a multiple of kv heads") << C << configWith("num_key_value_heads", 5)
                                                                  << "is not a multiple of num_key_value_heads 5";
        rows.newRow("config: pinpoint not a pair") << C << configWith("image_grid_pinpoints", QJsonArray{QJsonArray{336}})
                                                     << "is not a pair of positive integers";
        rows.newRow("config: pinpoints missing") << C << configWith("image_grid_pinpoints", QJsonValue::Undefined)
                                                   << "missing \"image_grid_pinpoints\"";
        // 1e308 is inf as fp32: every RMSNorm output was 0 and the reply one token repeated, with exit 0.
        rows.newRow("config: rms_norm_eps 1e308") << C << configWith("rms_norm_eps", 1e308)
                                                    << "rms_norm_eps inf is outside (0, 1]";
        rows.newRow("config: rms_norm_eps 10") << C << configWith("rms_norm_eps", 10.0)
                                                 << "rms_norm_eps 10.000000 is outside (0, 1]";
        rows.newRow("config: rope scaling") << C << configWith("rope_scaling", QJsonObject{{"type", "linear"}})
                                              << "rope_scaling";
        rows.newRow("config: duplicate key") << C << QByteArray("{\"model_type\":\"llava\",\"hidden_size\":1,\"hidden_size\":2}")
                                               << "duplicate key \"hidden_size\"";
        rows.newRow("hf config: qwen2 text model") << C << hfConfigWith("text_config", QJsonObject{{"model_type", "qwen2"}})
                                                     << "text_config model_type \"qwen2\" is not supported";
        rows.newRow("hf config: multi-layer features") << C << hfConfigWith("vision_feature_layer", QJsonArray{-2, -5})
                                                         << "vision_feature_layer \"[-2,-5]\" is not supported";
        rows.newRow("hf config: full feature strategy") << C << hfConfigWith("vision_feature_select_strategy", "full")
                                                          << "vision_feature_select_strategy \"full\" is not supported";
        rows.newRow("hf config: siglip tower") << C << hfConfigWith("vision_config", QJsonObject{{"model_type", "siglip_vision_model"}})
                                                 << "model_type \"siglip_vision_model\" is not supported";
        rows.newRow("hf config: feature layer outside the tower") << C << hfConfigWith("vision_feature_layer", -30)
                                                                    << "vision feature layer -30 does not select";
        return rows;
}

}  // namespace

class TestMalformed : public QObject {
    Q_OBJECT
private slots:
    void rejected_data() {
        QTest::addColumn<Input>("input");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        for (const Row& r : buildRows().list) QTest::newRow(r.name.toUtf8().constData()) << r.input << r.bytes << r.expected;
    }

    void rejected() {
        QFETCH(Input, input);
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        Status s = runParser(input, bytes);
        QVERIFY2(!s.isOk(), "accepted a malformed input");
        QVERIFY2(s.message().find(expected.toStdString()) != std::string::npos,
                 ("message was: " + s.message()).c_str());
    }

    void folderRejected_data() {
        QTest::addColumn<Folder>("defect");
        QTest::addColumn<QString>("expected");
        QTest::newRow("folder: no config.json") << Folder::NoConfig << "config.json: No such file or directory";
        QTest::newRow("folder: no weights") << Folder::NoWeights
                                            << "neither model.safetensors.index.json nor model.safetensors found";
        QTest::newRow("folder: empty shard file") << Folder::EmptyShard << "file of 0 bytes is too small";
        QTest::newRow("folder: shard is a directory") << Folder::ShardIsDirectory << "is not a regular file";
        QTest::newRow("folder: index names a missing shard") << Folder::MissingShard
                                                             << "lists shard \"model-00002-of-00002.safetensors\" but";
        QTest::newRow("folder: tensor in two shards") << Folder::TensorInTwoShards
                                                      << "\"model.norm.weight\" is stored in two shards";
        QTest::newRow("folder: tensor missing from the index") << Folder::TensorNotInIndex
                                                               << "is not listed in model.safetensors.index.json";
        QTest::newRow("folder: index names the wrong shard") << Folder::IndexNamesWrongShard
                                                             << "but model.safetensors.index.json says";
        QTest::newRow("folder: indexed tensor absent from its shard") << Folder::IndexTensorAbsent
                                                                      << "but that shard does not contain it";
        QTest::newRow("folder: no LLM tensor names") << Folder::NoLlmTensors << "cannot tell the checkpoint layout";
        QTest::newRow("folder: zero image_std") << Folder::BadPreprocessorStd << "\"image_std\" entry 0 is not valid";
    }
    void folderRejected() {
        QFETCH(Folder, defect);
        QFETCH(QString, expected);
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        const std::string s1 = "model-00001-of-00002.safetensors", s2 = "model-00002-of-00002.safetensors";
        const std::string index = dir + "/model.safetensors.index.json";
        std::vector<std::byte> four(4, std::byte{1});
        const TensorRecord norm{"model.norm.weight", DType::F32, {1}, four};
        const TensorRecord embed{"model.embed_tokens.weight", DType::F32, {1}, four};
        if (defect != Folder::NoConfig) iotest::writeFile(tmp.filePath("config.json"), iotest::tinyConfig(true));
        switch (defect) {
        case Folder::NoConfig:
        case Folder::NoWeights: break;
        case Folder::EmptyShard: iotest::writeFile(tmp.filePath("model.safetensors"), std::string()); break;
        case Folder::ShardIsDirectory: QVERIFY(QDir().mkpath(tmp.filePath("model.safetensors"))); break;
        case Folder::MissingShard:
            QVERIFY(writeSafetensors(dir + "/" + s1, {norm}).isOk());
            QVERIFY(writeShardIndex(index, {{norm.name, s1}, {embed.name, s2}}, 8).isOk());
            break;
        case Folder::TensorInTwoShards:
            QVERIFY(writeSafetensors(dir + "/" + s1, {norm}).isOk());
            QVERIFY(writeSafetensors(dir + "/" + s2, {norm, embed}).isOk());
            QVERIFY(writeShardIndex(index, {{norm.name, s1}, {embed.name, s2}}, 8).isOk());
            break;
        case Folder::TensorNotInIndex:
            QVERIFY(writeSafetensors(dir + "/" + s1, {norm, embed}).isOk());
            QVERIFY(writeShardIndex(index, {{norm.name, s1}}, 4).isOk());
            break;
        case Folder::IndexNamesWrongShard:
            QVERIFY(writeSafetensors(dir + "/" + s1, {norm}).isOk());
            QVERIFY(writeSafetensors(dir + "/" + s2, {embed}).isOk());
            QVERIFY(writeShardIndex(index, {{norm.name, s2}, {embed.name, s1}}, 8).isOk());
            break;
        case Folder::IndexTensorAbsent:
            QVERIFY(writeSafetensors(dir + "/" + s1, {norm}).isOk());
            QVERIFY(writeSafetensors(dir + "/" + s2, {}).isOk());
            QVERIFY(writeShardIndex(index, {{norm.name, s1}, {embed.name, s2}}, 8).isOk());
            break;
        case Folder::NoLlmTensors:
            QVERIFY(writeSafetensors(dir + "/model.safetensors", {{"foo.bar", DType::F32, {1}, four}}).isOk());
            break;
        case Folder::BadPreprocessorStd:
            iotest::writeFile(tmp.filePath("preprocessor_config.json"), std::string(R"({"image_std": [0.5, 0, 0.5]})"));
            break;
        }
        auto r = Checkpoint::open(dir);
        QVERIFY2(!r.isOk(), "accepted a malformed folder");
        QVERIFY2(r.status().message().find(expected.toStdString()) != std::string::npos,
                 ("message was: " + r.status().message()).c_str());
    }

    // Every row's message is its own: no two defects collapse into one generic error.
    void messagesAreDistinct() {
        auto rows = buildRows().list;
        QVERIFY(rows.size() >= 20);
        std::set<std::string> messages;
        for (const Row& r : rows) {
            std::string m = runParser(r.input, r.bytes).message();
            QVERIFY2(messages.insert(m).second, ("two defects share the message: " + m).c_str());
            // The row's own fragment matches no other row's message.
            for (const Row& other : rows) {
                if (&other == &r) continue;
                std::string om = runParser(other.input, other.bytes).message();
                QVERIFY2(om.find(r.expected.toStdString()) == std::string::npos,
                         (r.name + " fragment also matches " + other.name).toUtf8().constData());
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestMalformed)
#include "tst_malformed.moc"
