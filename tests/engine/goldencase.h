// One golden file of tests/fixtures/golden opened with what it was made from: its metadata names the model
// folder, the image and the reference flavour (tests/reference/gen_fixtures.py); the image is laid out and
// preprocessed the way that reference does. Shared by the parity tests (CPU fp32, q8/q4). Header-only,
// test code only (Qt: the image is read by fixtureimage.h).
#pragma once

#include <QString>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fixtureimage.h"
#include "goldenfixtures.h"
#include "llava/anyres.h"
#include "llava/checkpoint.h"
#include "llava/preprocess.h"
#include "llava/safetensors.h"

namespace llava::test {

struct GoldenCase {
    SafetensorsFile golden;
    std::unique_ptr<Checkpoint> checkpoint;
    Reference reference = Reference::Original;
    ImageLayout layout;
    PreprocessedImage pre;
};

// root: the source tree (LLAVA_SOURCE_DIR); file: a golden .safetensors file.
inline Result<GoldenCase> openGoldenCase(const QString& root, const QString& file) {
    LLAVA_ASSIGN_OR_RETURN(SafetensorsFile golden, SafetensorsFile::open(file.toStdString()));
    std::map<std::string, std::string> meta(golden.metadata().begin(), golden.metadata().end());
    LLAVA_ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint,
                           Checkpoint::open((root + "/" + QString::fromStdString(meta["model_folder"])).toStdString()));
    const Reference reference = meta["flavour"] == "hf" ? Reference::Transformers : Reference::Original;
    const RgbImage image = loadFixtureRgb(root + "/" + QString::fromStdString(meta["image"]));
    AnyresParams params;
    params.candidates = candidateResolutions(checkpoint->config(), reference);
    params.reference = reference;
    LLAVA_ASSIGN_OR_RETURN(ImageLayout layout, computeImageLayout(image.width, image.height, params));
    LLAVA_ASSIGN_OR_RETURN(PreprocessedImage pre, preprocessImage(image, layout, checkpoint->config().vision));
    return GoldenCase{std::move(golden), std::move(checkpoint), reference, std::move(layout), std::move(pre)};
}

// The golden prompt ids as the model consumes them: ORIG's one -200 becomes layout.imageTokens rows of -1,
// HF's run of imageTokenId becomes -1 each (the rows the image features are uploaded into); `slot` is the
// first image row, -1 when the prompt has no image.
struct SplicedIds {
    std::vector<std::int32_t> ids;
    int slot = -1;
};
inline SplicedIds spliceGoldenIds(const GoldenCase& c) {
    SplicedIds out;
    for (const std::int64_t id : goldenValues<std::int64_t>(c.golden, "input_ids")) {
        if (id == -200 || id == c.checkpoint->config().imageTokenId) {
            if (out.slot < 0) out.slot = static_cast<int>(out.ids.size());
            if (id == -200) out.ids.insert(out.ids.end(), static_cast<std::size_t>(c.layout.imageTokens), -1);
            else out.ids.push_back(-1);
        } else {
            out.ids.push_back(static_cast<std::int32_t>(id));
        }
    }
    return out;
}

}  // namespace llava::test
