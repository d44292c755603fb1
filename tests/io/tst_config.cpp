// Config loaders for the three layouts and the presets. Expected values are hand-copied from
// docs/spec.md §2.2 / §2.3 / §6.6 and from the transformers class defaults (MistralConfig,
// LlamaConfig, CLIPVisionConfig) that llava-hf configs rely on by omitting fields.
#include <QtTest>

#include "llava/checkpointwriter.h"
#include "llava/modelconfig.h"

using namespace llava;

namespace {

// The real llava-hf/llava-v1.6-mistral-7b-hf config (text_config omits hidden_size, layers, heads:
// they equal MistralConfig defaults). Pinpoints as stored: HF reads them as (height, width).
const char* kHfMistral = R"({
  "architectures": ["LlavaNextForConditionalGeneration"], "ignore_index": -100,
  "image_grid_pinpoints": [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
  "image_token_index": 32000, "model_type": "llava_next", "projector_hidden_act": "gelu",
  "text_config": {"_name_or_path": "mistralai/Mistral-7B-Instruct-v0.2", "architectures": ["MistralForCausalLM"],
    "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
    "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": null,
    "torch_dtype": "bfloat16", "vocab_size": 32064},
  "torch_dtype": "float16", "transformers_version": "4.39.0.dev0", "use_image_newline_parameter": true,
  "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
    "model_type": "clip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 24,
    "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
  "vision_feature_layer": -2, "vision_feature_select_strategy": "default"})";

// llava-hf vicuna-7b style: a llama text_config that omits everything equal to LlamaConfig defaults.
const char* kHfVicuna = R"({
  "architectures": ["LlavaNextForConditionalGeneration"], "image_token_index": 32000, "model_type": "llava_next",
  "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
    "max_position_embeddings": 4096, "model_type": "llama", "pad_token_id": 0, "rms_norm_eps": 1e-05,
    "torch_dtype": "float16", "vocab_size": 32064},
  "torch_dtype": "float16", "use_image_newline_parameter": true,
  "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
    "model_type": "clip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 24,
    "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
  "vision_feature_layer": -2, "vision_feature_select_strategy": "default"})";

// llava-hf 34b: Yi LLM (docs/spec.md §2.3, §2.6: 64000 + 3 added tokens rounded up to 64064).
const char* kHf34b = R"({
  "architectures": ["LlavaNextForConditionalGeneration"], "image_token_index": 64000, "model_type": "llava_next",
  "text_config": {"_name_or_path": "NousResearch/Nous-Hermes-2-Yi-34B", "architectures": ["LlamaForCausalLM"],
    "hidden_size": 7168, "intermediate_size": 20480, "max_position_embeddings": 4096, "model_type": "llama",
    "num_attention_heads": 56, "num_hidden_layers": 60, "num_key_value_heads": 8, "pad_token_id": 0,
    "rms_norm_eps": 1e-05, "rope_theta": 5000000.0, "vocab_size": 64064},
  "torch_dtype": "float16",
  "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
    "model_type": "clip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 24,
    "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
  "vision_feature_layer": -2, "vision_feature_select_strategy": "default"})";

// The public llava-v1.6-vicuna-7b config.json (docs/spec.md §2.2), trimmed to the fields that matter.
const char* kOrigVicuna = R"({
  "architectures": ["LlavaLlamaForCausalLM"], "model_type": "llava", "hidden_size": 4096,
  "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
  "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "vocab_size": 32000,
  "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "tie_word_embeddings": false,
  "image_aspect_ratio": "anyres", "image_crop_resolution": 224, "image_split_resolution": 224,
  "image_grid_pinpoints": [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
  "mm_hidden_size": 1024, "mm_patch_merge_type": "spatial_unpad", "mm_projector_type": "mlp2x_gelu",
  "mm_use_im_patch_token": false, "mm_use_im_start_end": false, "mm_vision_select_feature": "patch",
  "mm_vision_select_layer": -2, "mm_vision_tower": "openai/clip-vit-large-patch14-336",
  "tokenizer_model_max_length": 4096, "tokenizer_padding_side": "right", "torch_dtype": "bfloat16",
  "transformers_version": "4.36.2", "unfreeze_mm_vision_tower": true, "use_mm_proj": true})";

void checkClipL336(const VisionConfig& v) {
    QCOMPARE(v.imageSize, 336);
    QCOMPARE(v.patchSize, 14);
    QCOMPARE(v.dVision, 1024);
    QCOMPARE(v.dFfn, 4096);
    QCOMPARE(v.nHeads, 16);
    QCOMPARE(v.nLayers, 24);
    QCOMPARE(v.layerNormEps, 1e-5f);
    QCOMPARE(v.selectLayer, -2);
    QCOMPARE(v.layersToRun(), 23);  // docs/spec.md §3.2: layers 0..22
    QVERIFY(v.dropCls);
}

using Pairs = std::vector<std::array<int, 2>>;

}  // namespace

class TestConfig : public QObject {
    Q_OBJECT
private slots:
    void hfMistralFillsDefaults() {
        auto r = parseModelConfig(kHfMistral, "llava-v1.6-mistral-7b-hf");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const ModelConfig& c = *r;
        QCOMPARE(c.layout, CheckpointLayout::HfLegacy);
        QCOMPARE(c.defaultReference, Reference::Transformers);
        checkClipL336(c.vision);
        const TextConfig& t = c.text;
        QCOMPARE(t.family, LlmFamily::Mistral);
        QCOMPARE(t.dModel, 4096);     // MistralConfig default (omitted)
        QCOMPARE(t.nLayers, 32);      // default
        QCOMPARE(t.nHeads, 32);       // default
        QCOMPARE(t.nKvHeads, 8);
        QCOMPARE(t.headDim, 128);
        QCOMPARE(t.dFfn, 14336);
        QCOMPARE(t.nVocab, 32064);
        QCOMPARE(t.nVocabText, 32000);
        QCOMPARE(t.rmsNormEps, 1e-5f);
        QCOMPARE(t.ropeTheta, 1e6);
        QCOMPARE(t.maxPositions, 32768);
        QCOMPARE(t.bosId, 1);
        QCOMPARE(t.eosId, 2);
        QCOMPARE(t.tieWordEmbeddings, false);
        QCOMPARE(c.dProjector, 4096);
        QCOMPARE(c.imageTokenId, 32000);
        QCOMPARE(c.templateName, std::string("mistral_instruct"));
        QCOMPARE(c.torchDtype, std::string("float16"));
        QCOMPARE(c.gridPinpoints, (Pairs{{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}}));
    }

    void hfVicunaUsesLlamaDefaults() {
        auto r = parseModelConfig(kHfVicuna, "llava-v1.6-vicuna-7b-hf");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const TextConfig& t = r->text;
        QCOMPARE(t.family, LlmFamily::Llama);
        QCOMPARE(t.dModel, 4096);
        QCOMPARE(t.dFfn, 11008);      // LlamaConfig default, differs from Mistral's 14336
        QCOMPARE(t.nKvHeads, 32);     // Llama: num_key_value_heads None -> num_attention_heads
        QCOMPARE(t.ropeTheta, 10000.0);
        QCOMPARE(t.maxPositions, 4096);
        QCOMPARE(t.nVocab, 32064);
        QCOMPARE(t.nVocabText, 32000);
        QCOMPARE(r->templateName, std::string("llava_v1"));
        // The pinpoints were omitted: LlavaNextConfig's default list.
        QCOMPARE(r->gridPinpoints.size(), std::size_t(5));
    }

    void hf34bIsYi() {
        auto r = parseModelConfig(kHf34b, "some-folder");  // the name does not say 34b: vocab decides
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const TextConfig& t = r->text;
        QCOMPARE(t.family, LlmFamily::Yi);
        QCOMPARE(t.dModel, 7168);
        QCOMPARE(t.nLayers, 60);
        QCOMPARE(t.nHeads, 56);
        QCOMPARE(t.nKvHeads, 8);
        QCOMPARE(t.headDim, 128);
        QCOMPARE(t.dFfn, 20480);
        QCOMPARE(t.ropeTheta, 5e6);
        QCOMPARE(t.nVocab, 64064);
        QCOMPARE(t.nVocabText, 64000);
        QCOMPARE(r->imageTokenId, 64000);
        QCOMPARE(r->dProjector, 7168);
        QCOMPARE(r->templateName, std::string("chatml_direct"));
    }

    void hfVisionDefaultsAreClipBase() {
        // A vision_config without sizes means CLIPVisionConfig defaults (ViT-B/32 @224), not CLIP-L.
        // (Pinpoints must then be multiples of its 224-px tile: the 336-based HF default would be refused.)
        auto r = parseModelConfig(R"({"model_type": "llava_next", "image_grid_pinpoints": [[224, 448], [448, 224]],
            "vision_config": {"model_type": "clip_vision_model"}})", "x");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(r->vision.dVision, 768);
        QCOMPARE(r->vision.dFfn, 3072);
        QCOMPARE(r->vision.nLayers, 12);
        QCOMPARE(r->vision.nHeads, 12);
        QCOMPARE(r->vision.imageSize, 224);
        QCOMPARE(r->vision.patchSize, 32);
        // And no vision_config at all means LlavaNextConfig's CLIP-L/336 default.
        auto d = parseModelConfig(R"({"model_type": "llava_next"})", "x");
        QVERIFY2(d.isOk(), d.status().toString().c_str());
        checkClipL336(d->vision);
    }

    // Newer transformers write "dtype" instead of "torch_dtype"; re-saved folders share the HF config.
    void newerDtypeSpelling() {
        auto r = parseModelConfig(R"({"model_type": "llava_next", "dtype": "bfloat16"})", "resaved");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(r->torchDtype, std::string("bfloat16"));
    }

    void originalVicuna() {
        auto r = parseModelConfig(kOrigVicuna, "llava-v1.6-vicuna-7b");
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const ModelConfig& c = *r;
        QCOMPARE(c.layout, CheckpointLayout::Original);
        QCOMPARE(c.defaultReference, Reference::Original);
        checkClipL336(c.vision);
        QCOMPARE(c.text.family, LlmFamily::Llama);
        QCOMPARE(c.text.nKvHeads, 32);
        QCOMPARE(c.text.dFfn, 11008);
        QCOMPARE(c.text.nVocab, 32000);
        QCOMPARE(c.text.nVocabText, 32000);
        QCOMPARE(c.text.rmsNormEps, 1e-5f);
        QCOMPARE(c.imageTokenId, -200);
        QCOMPARE(c.tokenizerMaxLength, 4096);
        QCOMPARE(c.torchDtype, std::string("bfloat16"));
        QCOMPARE(c.templateName, std::string("llava_v1"));
    }

    void presets_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("family");
        QTest::addColumn<int>("dModel");
        QTest::addColumn<int>("nLayers");
        QTest::addColumn<int>("nHeads");
        QTest::addColumn<int>("nKvHeads");
        QTest::addColumn<int>("dFfn");
        QTest::addColumn<int>("nVocab");
        QTest::addColumn<double>("ropeTheta");
        QTest::addColumn<int>("maxPositions");
        QTest::addColumn<QString>("templateName");
        // Values: docs/spec.md §2.7 (mistral, vicuna-7b, 34b); vicuna-13b = Llama-2-13B shapes.
        QTest::newRow("spec: mistral-7b") << "llava-v1.6-mistral-7b" << int(LlmFamily::Mistral) << 4096 << 32 << 32
                                          << 8 << 14336 << 32000 << 1e6 << 32768 << "mistral_instruct";
        QTest::newRow("spec: vicuna-7b") << "llava-v1.6-vicuna-7b" << int(LlmFamily::Llama) << 4096 << 32 << 32 << 32
                                         << 11008 << 32000 << 1e4 << 4096 << "llava_v1";
        QTest::newRow("llama2-13b: vicuna-13b") << "llava-v1.6-vicuna-13b" << int(LlmFamily::Llama) << 5120 << 40
                                                << 40 << 40 << 13824 << 32000 << 1e4 << 4096 << "llava_v1";
        QTest::newRow("spec: 34b") << "llava-v1.6-34b" << int(LlmFamily::Yi) << 7168 << 60 << 56 << 8 << 20480
                                   << 64000 << 5e6 << 4096 << "chatml_direct";
    }
    void presets() {
        QFETCH(QString, name);
        QFETCH(int, family);
        QFETCH(int, dModel);
        QFETCH(int, nLayers);
        QFETCH(int, nHeads);
        QFETCH(int, nKvHeads);
        QFETCH(int, dFfn);
        QFETCH(int, nVocab);
        QFETCH(double, ropeTheta);
        QFETCH(int, maxPositions);
        QFETCH(QString, templateName);
        auto names = presetNames();
        QVERIFY(std::find(names.begin(), names.end(), name.toStdString()) != names.end());
        auto r = loadPreset(name.toStdString());
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        const ModelConfig& c = *r;
        QCOMPARE(c.name, name.toStdString());
        QCOMPARE(c.layout, CheckpointLayout::Original);
        QCOMPARE(int(c.text.family), family);
        QCOMPARE(c.text.dModel, dModel);
        QCOMPARE(c.dProjector, dModel);
        QCOMPARE(c.text.nLayers, nLayers);
        QCOMPARE(c.text.nHeads, nHeads);
        QCOMPARE(c.text.nKvHeads, nKvHeads);
        QCOMPARE(c.text.headDim, 128);
        QCOMPARE(c.text.dFfn, dFfn);
        QCOMPARE(c.text.nVocab, nVocab);
        QCOMPARE(c.text.nVocabText, nVocab);
        QCOMPARE(c.text.ropeTheta, ropeTheta);
        QCOMPARE(c.text.rmsNormEps, 1e-5f);
        QCOMPARE(c.text.maxPositions, maxPositions);
        QCOMPARE(QString::fromStdString(c.templateName), templateName);
        checkClipL336(c.vision);
        QCOMPARE(c.gridPinpoints, (Pairs{{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}}));
    }

    void unknownPresetNamesTheKnownOnes() {
        auto r = loadPreset("llava-v2");
        QVERIFY(!r.isOk());
        QCOMPARE(r.status().code(), ErrorCode::InvalidArgument);
        QVERIFY(r.status().message().find("llava-v1.6-34b") != std::string::npos);
    }

    // docs/spec.md §4.2: ORIG iterates pairs as (w, h), HF as (h, w); results are (w, h) in iteration order.
    void candidateOrder() {
        auto c = loadPreset("llava-v1.6-mistral-7b");
        QVERIFY(c.isOk());
        QCOMPARE(candidateResolutions(*c, Reference::Original),
                 (Pairs{{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}}));
        QCOMPARE(candidateResolutions(*c, Reference::Transformers),
                 (Pairs{{672, 336}, {336, 672}, {672, 672}, {336, 1008}, {1008, 336}}));
    }

    // docs/spec.md §6.6: conversation mode from the model name, first match wins.
    void templateAutoChoice_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("modelType");
        QTest::addColumn<QString>("expected");
        QTest::newRow("mistral name") << "llava-v1.6-mistral-7b" << "llava_mistral" << "mistral_instruct";
        QTest::newRow("mistral wins over v1") << "my-v1-Mistral-copy" << "llava" << "mistral_instruct";
        QTest::newRow("v1.6-34b") << "llava-v1.6-34b" << "llava" << "chatml_direct";
        QTest::newRow("vicuna v1") << "llava-v1.6-vicuna-13b" << "llava" << "llava_v1";
        QTest::newRow("no hint, mistral arch") << "my-model" << "llava_mistral" << "mistral_instruct";
    }
    void templateAutoChoice() {
        QFETCH(QString, name);
        QFETCH(QString, modelType);
        QFETCH(QString, expected);
        std::string json = kOrigVicuna;
        json.replace(json.find("\"model_type\": \"llava\""), 21, "\"model_type\": \"" + modelType.toStdString() + "\"");
        if (modelType == "llava_mistral")
            json.replace(json.find("LlavaLlamaForCausalLM"), 21, "LlavaMistralForCausalLM");
        auto r = parseModelConfig(json, name.toStdString());
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(QString::fromStdString(r->templateName), expected);
    }

    void loadFromFolderUsesFolderName() {
        QTemporaryDir dir;
        QString sub = dir.filePath("llava-v1.6-34b");
        QVERIFY(QDir().mkpath(sub));
        QFile f(sub + "/config.json");
        QVERIFY(f.open(QIODevice::WriteOnly));
        std::string json = kOrigVicuna;
        json.replace(json.find("\"vocab_size\": 32000"), 19, "\"vocab_size\": 64000");
        f.write(json.c_str());
        f.close();
        auto r = loadModelConfig((sub + "/").toStdString());
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(r->name, std::string("llava-v1.6-34b"));
        QCOMPARE(r->text.family, LlmFamily::Yi);
        QCOMPARE(r->templateName, std::string("chatml_direct"));
    }

    // serializeModelConfig (used by the demo-model generator) must produce configs our parser reads
    // back to the same sizes, in both layouts, including a non-CLIP-L tower (vision_config extension).
    void serializeRoundTrip_data() {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<int>("layout");
        QTest::addColumn<bool>("tinyVision");
        for (const std::string& name : presetNames()) {
            QTest::newRow((name + " original").c_str()) << QString::fromStdString(name) << int(CheckpointLayout::Original) << false;
            QTest::newRow((name + " hf").c_str()) << QString::fromStdString(name) << int(CheckpointLayout::HfLegacy) << false;
        }
        QTest::newRow("tiny tower original") << "llava-v1.6-vicuna-7b" << int(CheckpointLayout::Original) << true;
        QTest::newRow("tiny tower hf") << "llava-v1.6-mistral-7b" << int(CheckpointLayout::HfResaved) << true;
    }
    void serializeRoundTrip() {
        QFETCH(QString, preset);
        QFETCH(int, layout);
        QFETCH(bool, tinyVision);
        auto in = loadPreset(preset.toStdString());
        QVERIFY(in.isOk());
        ModelConfig c = *in;
        if (tinyVision) {
            c.vision.dVision = 8; c.vision.dFfn = 16; c.vision.nHeads = 2; c.vision.nLayers = 3;
            c.vision.imageSize = 28; c.vision.patchSize = 14;
        }
        std::string json = serializeModelConfig(c, CheckpointLayout(layout));
        auto out = parseModelConfig(json, c.name);
        QVERIFY2(out.isOk(), (out.status().toString() + "\n" + json).c_str());
        const TextConfig &a = c.text, &b = out->text;
        QCOMPARE(b.family, a.family);
        QCOMPARE(b.dModel, a.dModel);
        QCOMPARE(b.nLayers, a.nLayers);
        QCOMPARE(b.nHeads, a.nHeads);
        QCOMPARE(b.nKvHeads, a.nKvHeads);
        QCOMPARE(b.headDim, a.headDim);
        QCOMPARE(b.dFfn, a.dFfn);
        QCOMPARE(b.nVocab, a.nVocab);
        QCOMPARE(b.rmsNormEps, a.rmsNormEps);
        QCOMPARE(b.ropeTheta, a.ropeTheta);
        QCOMPARE(b.maxPositions, a.maxPositions);
        QCOMPARE(b.eosId, a.eosId);
        QCOMPARE(out->vision.dVision, c.vision.dVision);
        QCOMPARE(out->vision.nLayers, c.vision.nLayers);
        QCOMPARE(out->vision.imageSize, c.vision.imageSize);
        QCOMPARE(out->vision.layersToRun(), c.vision.layersToRun());
        QCOMPARE(out->gridPinpoints, c.gridPinpoints);
        QCOMPARE(out->templateName, c.templateName);
        QCOMPARE(out->layout == CheckpointLayout::Original, layout == int(CheckpointLayout::Original));
    }

    // llava-hf folders carry image_mean/image_std in preprocessor_config.json; without one the CLIP
    // constants of docs/spec.md §4.5 apply.
    void preprocessorConfigOverridesNormalisation() {
        QTemporaryDir dir;
        QFile f(dir.filePath("config.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(kHfMistral);
        f.close();
        auto plain = loadModelConfig(dir.path().toStdString());
        QVERIFY2(plain.isOk(), plain.status().toString().c_str());
        QCOMPARE(plain->vision.imageMean[0], 0.48145466f);
        QCOMPARE(plain->vision.imageStd[2], 0.27577711f);
        QFile p(dir.filePath("preprocessor_config.json"));
        QVERIFY(p.open(QIODevice::WriteOnly));
        p.write(R"({"image_mean": [0.5, 0.25, 0.125], "image_std": [2, 4, 8], "crop_size": {"height": 336, "width": 336}})");
        p.close();
        auto r = loadModelConfig(dir.path().toStdString());
        QVERIFY2(r.isOk(), r.status().toString().c_str());
        QCOMPARE(r->vision.imageMean, (std::array<float, 3>{0.5f, 0.25f, 0.125f}));
        QCOMPARE(r->vision.imageStd, (std::array<float, 3>{2.0f, 4.0f, 8.0f}));
    }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
