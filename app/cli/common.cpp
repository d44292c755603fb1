// See common.h.
#include "common.h"

#include <QString>


namespace cli {

OptionSpec modelOption() {
    return {"model", ValueKind::Value, "DIR", "model folder (config.json, shards, tokenizer.model)"};
}
OptionSpec presetOption() {
    return {"preset", ValueKind::Value, "NAME", "built-in config without weights (see 'presets' below)"};
}
OptionSpec referenceOption() {
    return {"reference", ValueKind::Value, "REF",
            "original | transformers (default: the checkpoint layout's reference)"};
}
OptionSpec exifOption() {
    return {"exif-transpose", ValueKind::Flag, "", "apply EXIF orientation like transformers' load_image"};
}

llava::Result<ModelSource> resolveModel(const ParsedArgs& args) {
    const auto dir = args.value("model");
    const auto preset = args.value("preset");
    if (dir && preset) return llava::makeError(llava::ErrorCode::InvalidArgument, "give --model or --preset, not both");
    if (!dir && !preset)
        return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --model DIR or --preset NAME");
    ModelSource source;
    if (preset) {
        LLAVA_ASSIGN_OR_RETURN(source.config, llava::loadPreset(*preset));
        source.label = *preset + " (preset)";
        return source;
    }
    const std::filesystem::path path(*dir);
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec))
        return llava::makeError(llava::ErrorCode::NotFound, *dir + ": not a folder");
    LLAVA_ASSIGN_OR_RETURN(source.config, llava::loadModelConfig(path));
    source.dir = path;
    source.label = *dir;
    return source;
}

llava::Result<llava::Reference> resolveReference(const ParsedArgs& args, const llava::ModelConfig& config) {
    const auto text = args.value("reference");
    if (!text) return config.defaultReference;
    llava::Reference reference{};
    if (!llava::parseReference(*text, &reference))
        return llava::makeError(llava::ErrorCode::InvalidArgument,
                                "--reference: \"" + *text + "\" is not original or transformers");
    return reference;
}

llava::Reference otherReference(llava::Reference reference) {
    return reference == llava::Reference::Original ? llava::Reference::Transformers : llava::Reference::Original;
}

llava::Result<llava::RgbImage> loadImage(const std::string& path, imageio::ExifTranspose exif) {
    return imageio::decodeImageFile(QString::fromStdString(path), exif);
}

imageio::ExifTranspose exifFrom(const ParsedArgs& args) {
    return args.has("exif-transpose") ? imageio::ExifTranspose::On : imageio::ExifTranspose::Off;
}

llava::Result<std::optional<llava::Tokenizer>> loadTokenizerFor(const ParsedArgs& args, const ModelSource* model) {
    std::filesystem::path path;
    if (auto file = args.value("tokenizer")) {
        path = *file;
    } else if (model && model->dir && std::filesystem::exists(*model->dir / "tokenizer.model")) {
        path = *model->dir / "tokenizer.model";
    } else {
        return std::optional<llava::Tokenizer>{};
    }
    LLAVA_ASSIGN_OR_RETURN(llava::Tokenizer tokenizer, llava::Tokenizer::loadFile(path));
    if (model && model->dir) LLAVA_TRY(tokenizer.applyTokenizerConfig(*model->dir));
    return std::optional<llava::Tokenizer>(std::move(tokenizer));
}

int imageTokenIdFor(const llava::ModelConfig& config, const llava::Tokenizer& tokenizer) {
    return config.imageTokenId >= 0 ? config.imageTokenId : tokenizer.vocabSize();
}

std::string oneLine(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\n') out += "; ";
        else if (c != '\r') out += c;
    }
    return out;
}

}  // namespace cli
