// `inspect`: the anyres geometry of one image size under a model's config (docs/spec.md §4.2-§5.4), both
// references compared, and optionally the token layout of a prompt rendered with the chat template.
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "layoutjson.h"
#include "llava/chattemplate.h"
#include "llava/prompt.h"

namespace cli {
namespace {

const std::vector<OptionSpec>& inspectOptions() {
    static const std::vector<OptionSpec> kOptions = {
        modelOption(),
        presetOption(),
        {"image", ValueKind::Value, "FILE", "image to inspect (decoded fully, like PIL)"},
        {"image-size", ValueKind::Value, "WxH", "inspect a size without an image, e.g. 1000x750"},
        {"tokenizer", ValueKind::Value, "FILE", "sentencepiece model (default: <model>/tokenizer.model)"},
        {"prompt", ValueKind::Value, "TEXT", "question; prints the token layout of the rendered prompt"},
        {"template", ValueKind::Value, "NAME", "chat template (default: the model's)"},
        referenceOption(),
        exifOption(),
        {"json", ValueKind::Flag, "", "print one JSON object instead of text"},
    };
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli inspect (--model DIR | --preset NAME) (--image FILE | --image-size WxH)\n"
                 "                                [--tokenizer FILE] [--prompt TEXT] [--template NAME]\n"
                 "                                [--reference original|transformers] [--exif-transpose] [--json]\n\n"
                 "Shows how LLaVA-NeXT turns an image into tokens: chosen canvas and tile grid, resized size and\n"
                 "padding, crops, the unpadded feature map, newline and image token counts. When the original\n"
                 "(haotian-liu) and transformers references disagree, both counts are shown.\n\n"
                 "Options:\n"
              << formatOptions(inspectOptions()) << "\nPresets:";
    for (const std::string& name : llava::presetNames()) std::cout << " " << name;
    std::cout << "\n";
}

struct PromptReport {
    std::string templateName;
    std::string rendered;
    llava::PromptTokens tokens;
};

llava::Result<std::pair<int, int>> imageSize(const ParsedArgs& args) {
    const auto file = args.value("image");
    const auto size = args.value("image-size");
    if (file && size) return llava::makeError(llava::ErrorCode::InvalidArgument, "give --image or --image-size, not both");
    if (size) return parseSizeOption("image-size", *size);
    if (!file) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --image FILE or --image-size WxH");
    LLAVA_ASSIGN_OR_RETURN(llava::RgbImage image, loadImage(*file, exifFrom(args)));
    return std::pair<int, int>{image.width, image.height};
}

llava::Result<std::optional<PromptReport>> buildPromptReport(const ParsedArgs& args, const ModelSource& model,
                                                             int imageTokens) {
    const auto prompt = args.value("prompt");
    if (!prompt) return std::optional<PromptReport>{};
    LLAVA_ASSIGN_OR_RETURN(std::optional<llava::Tokenizer> tokenizer, loadTokenizerFor(args, &model));
    if (!tokenizer)
        return llava::makeError(llava::ErrorCode::InvalidArgument,
                                "--prompt needs a tokenizer: pass --tokenizer FILE (the preset has no tokenizer.model)");
    PromptReport report;
    report.templateName = args.value("template").value_or(model.config.templateName);
    LLAVA_ASSIGN_OR_RETURN(llava::ChatTemplateInfo info, llava::findChatTemplate(report.templateName));
    report.templateName = info.name;
    LLAVA_ASSIGN_OR_RETURN(report.rendered,
                           llava::renderChat(info.name, {{llava::ChatRole::User, *prompt}}, llava::RenderOptions{}));
    llava::PromptOptions options;
    options.addBos = tokenizer->defaultAddBos();
    options.imageTokenId = imageTokenIdFor(model.config, *tokenizer);
    LLAVA_ASSIGN_OR_RETURN(report.tokens, llava::buildPrompt(*tokenizer, report.rendered, {imageTokens}, options));
    return std::optional<PromptReport>(std::move(report));
}

std::string layoutText(const llava::PromptTokens& tokens) {
    std::string out;
    for (const llava::PromptSegment& s : tokens.segments) {
        if (!out.empty()) out += " + ";
        out += (s.kind == llava::SegmentKind::Text ? "text " : "image ") + std::to_string(s.length);
    }
    return out;
}

std::string escaped(const std::string& text) {
    std::string out;
    for (char c : text) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
}

void printText(const ModelSource& model, llava::Reference reference, const llava::ImageLayout& l,
               const llava::ImageLayout& other, const std::optional<PromptReport>& prompt) {
    const int grid = l.unpaddedRows * l.unpaddedCols;
    std::cout << "model          " << model.label << "\n"
              << "image          " << l.imageWidth << "x" << l.imageHeight << "\n"
              << "reference      " << llava::referenceName(reference) << "\n"
              << "canvas         " << l.canvasWidth << "x" << l.canvasHeight << "\n"
              << "grid           " << l.gridCols << "x" << l.gridRows << " (cols x rows)\n"
              << "resized        " << l.resizedWidth << "x" << l.resizedHeight << "\n"
              << "padding        left " << l.padLeft << ", top " << l.padTop << ", right " << l.padRight
              << ", bottom " << l.padBottom << "\n"
              << "crops          " << l.cropCount() << " (1 base 336x336 + " << l.gridCols * l.gridRows
              << " tiles, row-major)\n"
              << "feature map    " << l.mapRows << "x" << l.mapCols << " (rows x cols)\n"
              << "unpadded map   " << l.unpaddedRows << "x" << l.unpaddedCols << " (H' x W')\n"
              << "kept rows      [" << l.keptRowBegin << ", " << l.keptRowEnd << ")\n"
              << "kept cols      [" << l.keptColBegin << ", " << l.keptColEnd << ")\n"
              << "newlines       " << l.newlineTokens << "\n"
              << "image tokens   " << l.imageTokens << " (" << l.baseTokens << " base + " << grid << " grid + "
              << l.newlineTokens << " newlines)\n";
    if (other.imageTokens != l.imageTokens)
        std::cout << "references differ: " << llava::referenceName(otherReference(reference)) << " gives "
                  << other.imageTokens << " image tokens (grid " << other.gridCols << "x" << other.gridRows
                  << ", unpadded " << other.unpaddedRows << "x" << other.unpaddedCols << ")\n";
    else
        std::cout << "references agree: " << llava::referenceName(otherReference(reference)) << " also gives "
                  << other.imageTokens << "\n";
    if (!prompt) return;
    std::cout << "template       " << prompt->templateName << "\n"
              << "prompt         \"" << escaped(prompt->rendered) << "\"\n"
              << "layout         " << layoutText(prompt->tokens) << "\n"
              << "text tokens    " << prompt->tokens.nTextTokens << "\n"
              << "total tokens   " << prompt->tokens.totalLength() << "\n";
}

void printJson(const ModelSource& model, llava::Reference reference, const llava::ImageLayout& l,
               const llava::ImageLayout& other, const std::optional<PromptReport>& prompt) {
    nlohmann::json out = server::inspectJson(model.config.name, reference, l, other);
    if (prompt) {
        out["template"] = prompt->templateName;
        out["rendered_prompt"] = prompt->rendered;
        out["layout"] = prompt->tokens.layout();
        out["text_tokens"] = prompt->tokens.nTextTokens;
        out["total_tokens"] = prompt->tokens.totalLength();
        out["ids"] = prompt->tokens.origIds;
    } else {
        out["total_tokens"] = l.imageTokens;
    }
    std::cout << out.dump(2) << "\n";
}

}  // namespace

llava::Status runInspect(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, inspectOptions(), 0));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    LLAVA_ASSIGN_OR_RETURN(ModelSource model, resolveModel(args));
    LLAVA_ASSIGN_OR_RETURN(llava::Reference reference, resolveReference(args, model.config));
    LLAVA_ASSIGN_OR_RETURN(auto size, imageSize(args));
    LLAVA_ASSIGN_OR_RETURN(llava::ImageLayout layout,
                           llava::computeImageLayout(size.first, size.second, model.config, reference));
    LLAVA_ASSIGN_OR_RETURN(llava::ImageLayout other, llava::computeImageLayout(size.first, size.second, model.config,
                                                                               otherReference(reference)));
    LLAVA_ASSIGN_OR_RETURN(std::optional<PromptReport> prompt, buildPromptReport(args, model, layout.imageTokens));
    if (args.has("json")) printJson(model, reference, layout, other, prompt);
    else printText(model, reference, layout, other, prompt);
    return llava::Status::ok();
}

}  // namespace cli
