// `explain`: where the answer looked. Answers --prompt about one --image (greedy by default), re-runs the
// prompt + answer with attention capture for the chosen answer tokens (llava/explain.h, CPU backend), and
// writes the attention on the image as a heatmap PNG over the picture and/or the numbers per patch as JSON.
#include <algorithm>
#include <iostream>

#include <QImage>
#include <QPainter>

#include <nlohmann/json.hpp>

#include "backends.h"
#include "commands.h"
#include "common.h"
#include "llava/explain.h"

namespace cli {
namespace {

const std::vector<OptionSpec>& explainOptions() {
    static const std::vector<OptionSpec> kOptions = {
        modelOption(),
        {"image", ValueKind::Value, "FILE", "the image (exactly one)"},
        {"prompt", ValueKind::Value, "TEXT", "the question"},
        {"token", ValueKind::Value, "N", "explain answer token N (0-based; default: the whole answer)"},
        {"span", ValueKind::Value, "A:B", "explain answer tokens A..B (inclusive)"},
        {"layers", ValueKind::Value, "A:B", "average decoder layers A..B (default: all)"},
        {"max-new-tokens", ValueKind::Value, "N", "answer length limit (default 64)"},
        {"tokenizer", ValueKind::Value, "FILE", "sentencepiece model (default: <model>/tokenizer.model)"},
        {"threads", ValueKind::Value, "N", "CPU threads (default: all)"},
        {"out", ValueKind::Value, "FILE", "write the heatmap over the image as PNG"},
        {"json", ValueKind::Flag, "", "print the numbers (mass split, 24x24 base map, stitched grid map, newlines)"},
        exifOption(),
    };
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli explain --model DIR --image FILE --prompt TEXT [--token N | --span A:B]\n"
                 "                                [--layers A:B] [--out heatmap.png] [--json]\n\n"
                 "Answers greedily, then shows where the chosen answer tokens attended: the attention of the\n"
                 "position that predicted each token, averaged over heads, the chosen layers and tokens, split\n"
                 "into prompt text, image and earlier answer text, and the image part mapped back through the\n"
                 "anyres layout (base 24x24 overview over the whole picture; grid cells through unpadding to\n"
                 "their place; newline tokens apart). CPU backend only.\n\nOptions:\n"
              << formatOptions(explainOptions());
}

llava::Result<std::pair<int, int>> parseRange(const std::string& option, const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos)
        return llava::makeError(llava::ErrorCode::InvalidArgument, "--" + option + ": \"" + text + "\" is not A:B");
    LLAVA_ASSIGN_OR_RETURN(int a, parseIntOption(option, text.substr(0, colon), 0, 1 << 20));
    LLAVA_ASSIGN_OR_RETURN(int b, parseIntOption(option, text.substr(colon + 1), 0, 1 << 20));
    if (b < a) return llava::makeError(llava::ErrorCode::InvalidArgument, "--" + option + ": " + text + " is empty");
    return std::pair<int, int>{a, b};
}

// The picture with the heatmap (grid + base) over it: red, alpha proportional to the value / max.
llava::Status writeHeatmap(const std::string& path, const llava::RgbImage& image, const llava::AttentionExplanation& e) {
    const int side = std::max(image.width, image.height);
    const double scale = side > 1024 ? 1024.0 / side : 1.0;
    const int w = std::max(1, static_cast<int>(image.width * scale)), h = std::max(1, static_cast<int>(image.height * scale));
    LLAVA_ASSIGN_OR_RETURN(std::vector<float> heat,
                           llava::renderAttentionHeatmap(e.layout, e.map, llava::HeatmapParts::GridAndBase, w, h));
    const float maxValue = std::max(1e-30f, *std::max_element(heat.begin(), heat.end()));
    QImage picture(image.pixels.data(), image.width, image.height, static_cast<qsizetype>(image.rowBytes()),
                   QImage::Format_RGB888);
    QImage out = picture.scaled(w, h, Qt::IgnoreAspectRatio, Qt::SmoothTransformation).convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < h; ++y) {
        auto* row = reinterpret_cast<QRgb*>(out.scanLine(y));
        for (int x = 0; x < w; ++x) {
            const double a = 0.75 * heat[static_cast<std::size_t>(y) * w + x] / maxValue;
            const QRgb p = row[x];
            row[x] = qRgb(static_cast<int>(qRed(p) * (1 - a) + 255 * a), static_cast<int>(qGreen(p) * (1 - a)),
                          static_cast<int>(qBlue(p) * (1 - a)));
        }
    }
    if (!out.save(QString::fromStdString(path), "PNG"))
        return llava::makeError(llava::ErrorCode::IoError, path + ": cannot write PNG");
    return llava::Status::ok();
}

}  // namespace

llava::Status runExplain(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, explainOptions(), 0));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    for (const char* required : {"model", "image", "prompt"})
        if (!args.has(required)) return llava::makeError(llava::ErrorCode::InvalidArgument, std::string("missing --") + required);
    if (!args.has("out") && !args.has("json"))
        return llava::makeError(llava::ErrorCode::InvalidArgument, "nothing to write: give --out FILE and/or --json");
    if (args.has("token") && args.has("span"))
        return llava::makeError(llava::ErrorCode::InvalidArgument, "give --token or --span, not both");
    llava::ExplainOptions explain;
    if (auto t = args.value("token")) {
        LLAVA_ASSIGN_OR_RETURN(explain.firstToken, parseIntOption("token", *t, 0, 1 << 20));
        explain.lastToken = explain.firstToken;
    }
    if (auto s = args.value("span")) {
        LLAVA_ASSIGN_OR_RETURN(auto range, parseRange("span", *s));
        explain.firstToken = range.first;
        explain.lastToken = range.second;
    }
    if (auto l = args.value("layers")) {
        LLAVA_ASSIGN_OR_RETURN(auto range, parseRange("layers", *l));
        explain.firstLayer = range.first;
        explain.lastLayer = range.second;
    }
    llava::SamplingParams sampling;
    sampling.temperature = 0;
    sampling.maxNewTokens = 64;
    if (auto n = args.value("max-new-tokens")) {
        LLAVA_ASSIGN_OR_RETURN(sampling.maxNewTokens, parseIntOption("max-new-tokens", *n, 1, 1 << 16));
    }
    llava::EngineOptions options;
    options.backend = llava::BackendKind::Cpu;
    if (auto n = args.value("threads")) {
        LLAVA_ASSIGN_OR_RETURN(options.threads, parseIntOption("threads", *n, 0, 1024));
    }
    if (auto v = args.value("tokenizer")) options.tokenizerPath = *v;
    const llava::BackendRegistry registry = makeBackendRegistry();
    options.registry = &registry;
    LLAVA_ASSIGN_OR_RETURN(llava::RgbImage image, loadImage(*args.value("image"), exifFrom(args)));
    LLAVA_ASSIGN_OR_RETURN(std::unique_ptr<llava::Engine> engine, llava::Engine::load(*args.value("model"), options));
    LLAVA_ASSIGN_OR_RETURN(llava::AttentionExplanation e,
                           llava::explainAnswer(*engine, {*args.value("prompt"), {image}}, sampling, explain));
    if (auto out = args.value("out")) LLAVA_TRY(writeHeatmap(*out, image, e));
    if (args.has("json")) {
        const llava::ImageAttentionMap& m = e.map;
        nlohmann::json tiles = nlohmann::json::array();  // mass per tile, row-major
        std::vector<double> tileMass(static_cast<std::size_t>(e.layout.gridCols * e.layout.gridRows), 0.0);
        for (int r = 0; r < m.mapRows; ++r)
            for (int c = 0; c < m.mapCols; ++c)
                tileMass[static_cast<std::size_t>(llava::tileCellOf(e.layout, r, c, m.baseSide).tile)] +=
                    m.grid[static_cast<std::size_t>(r) * m.mapCols + c];
        nlohmann::json out = {
            {"answer", e.answerText},
            {"answer_ids", e.answerIds},
            {"tokens", {explain.firstToken, explain.lastToken < 0 ? static_cast<int>(e.answerIds.size()) - 1 : explain.lastToken}},
            {"prompt_length", e.promptLength},
            {"image_begin", e.imageBegin},
            {"mass", {{"prompt_text_before_image", e.massTextBefore}, {"image", e.massImage},
                      {"image_base", m.baseMass}, {"image_grid", m.gridMass}, {"image_newlines", m.newlineMass},
                      {"prompt_text_after_image", e.massTextAfter}, {"answer_text", e.massAnswer}}},
            {"grid", {e.layout.gridRows, e.layout.gridCols}},
            {"tile_mass", tileMass},
            {"base_24x24", m.base},
            {"map_rows", m.mapRows},
            {"map_cols", m.mapCols},
            {"map", m.grid},
            {"newlines", m.newline},
        };
        std::cout << out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    return llava::Status::ok();
}

}  // namespace cli
