// Helpers shared by the llava-insight-cli subcommands: model/preset resolution, reference choice,
// image decoding, tokenizer loading and error-line formatting. No output happens here.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "imagedecoder.h"
#include "llava/anyres.h"
#include "llava/image.h"
#include "llava/modelconfig.h"
#include "llava/status.h"
#include "llava/tokenizer.h"

namespace cli {

struct ModelSource {
    llava::ModelConfig config;
    std::optional<std::filesystem::path> dir;  // set for --model, empty for --preset
    std::string label;                          // "llava-v1.6-mistral-7b (preset)" / folder path
};

// The option rows every model-aware command shares.
OptionSpec modelOption();
OptionSpec presetOption();
OptionSpec referenceOption();
OptionSpec exifOption();

// Exactly one of --model DIR / --preset NAME.
llava::Result<ModelSource> resolveModel(const ParsedArgs& args);
// --reference original|transformers, else the checkpoint layout's default.
llava::Result<llava::Reference> resolveReference(const ParsedArgs& args, const llava::ModelConfig& config);
llava::Reference otherReference(llava::Reference reference);

// Full decode (like PIL open + convert('RGB')); errors name the file.
llava::Result<llava::RgbImage> loadImage(const std::string& path, imageio::ExifTranspose exif);
// --exif-transpose given?
imageio::ExifTranspose exifFrom(const ParsedArgs& args);

// --tokenizer FILE, else <model dir>/tokenizer.model when it exists; nullopt when neither is available.
// The model folder's tokenizer_config.json is applied when there is a model folder.
llava::Result<std::optional<llava::Tokenizer>> loadTokenizerFor(const ParsedArgs& args, const ModelSource* model);

// HF image token id used to expand "<image>" (ORIG checkpoints splice -200 instead; the layout is the same).
int imageTokenIdFor(const llava::ModelConfig& config, const llava::Tokenizer& tokenizer);

// One line: newlines in core messages become "; ".
std::string oneLine(const std::string& text);

}  // namespace cli
