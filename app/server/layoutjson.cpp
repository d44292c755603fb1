// See layoutjson.h.
#include "layoutjson.h"

namespace server {

nlohmann::json imageLayoutJson(const llava::ImageLayout& l) {
    return {{"image", {l.imageWidth, l.imageHeight}},
            {"canvas", {l.canvasWidth, l.canvasHeight}},
            {"grid", {l.gridCols, l.gridRows}},
            {"resized", {l.resizedWidth, l.resizedHeight}},
            {"padding", {l.padLeft, l.padTop}},
            {"padding_right_bottom", {l.padRight, l.padBottom}},
            {"crops", l.cropCount()},
            {"feature_map", {l.mapRows, l.mapCols}},
            {"unpadded", {l.unpaddedRows, l.unpaddedCols}},
            {"kept_rows", {l.keptRowBegin, l.keptRowEnd}},
            {"kept_cols", {l.keptColBegin, l.keptColEnd}},
            {"base_tokens", l.baseTokens},
            {"newline_tokens", l.newlineTokens},
            {"image_tokens", l.imageTokens}};
}

nlohmann::json inspectJson(const std::string& modelName, llava::Reference reference, const llava::ImageLayout& layout,
                           const llava::ImageLayout& other) {
    const llava::Reference otherReference =
        reference == llava::Reference::Original ? llava::Reference::Transformers : llava::Reference::Original;
    nlohmann::json out = imageLayoutJson(layout);
    out["model"] = modelName;
    out["reference"] = std::string(llava::referenceName(reference));
    out["references_differ"] = other.imageTokens != layout.imageTokens;
    nlohmann::json otherJson = imageLayoutJson(other);
    otherJson["reference"] = std::string(llava::referenceName(otherReference));
    out["other_reference"] = otherJson;
    return out;
}

}  // namespace server
