// `preprocess`: run the image pipeline (docs/spec.md §4) and write what the vision tower would see:
// every crop as a PNG (uint8, before normalisation; base first, then tiles row-major, names sort in
// that order) and the normalised tensor as raw little-endian float32 with a JSON sidecar.
#include <bit>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <QImage>
#include <QString>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "llava/preprocess.h"
#include "rgbconvert.h"

namespace cli {
namespace {

const std::vector<OptionSpec>& preprocessOptions() {
    static const std::vector<OptionSpec> kOptions = {
        {"image", ValueKind::Value, "FILE", "image to preprocess"},
        modelOption(),
        presetOption(),
        referenceOption(),
        exifOption(),
        {"out", ValueKind::Value, "DIR", "output folder (created when missing)"},
    };
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli preprocess --image FILE (--model DIR | --preset NAME)\n"
                 "                                   [--reference original|transformers] [--exif-transpose] --out DIR\n\n"
                 "Writes crop-00-base.png, crop-01-tile-r0c0.png, ... (uint8 crops before normalisation),\n"
                 "pixel_values.f32 (float32 little-endian, shape [crops, 3, 336, 336], RGB planes) and\n"
                 "pixel_values.json (shape, dtype, mean, std, layout).\n\nOptions:\n"
              << formatOptions(preprocessOptions());
}

std::string twoDigits(int n) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%02d", n);
    return buffer;
}

// crop-00-base.png, then crop-NN-tile-rRcC.png in row-major order (zero-padded so names sort).
std::vector<std::string> cropFileNames(const llava::ImageLayout& layout) {
    std::vector<std::string> names{"crop-00-base.png"};
    for (int r = 0; r < layout.gridRows; ++r)
        for (int c = 0; c < layout.gridCols; ++c)
            names.push_back("crop-" + twoDigits(static_cast<int>(names.size())) + "-tile-r" + std::to_string(r) + "c" +
                            std::to_string(c) + ".png");
    return names;
}

llava::Status writePng(const llava::RgbImage& crop, const std::filesystem::path& path) {
    if (!imageio::toQImage(crop).save(QString::fromStdString(path.string()), "PNG"))
        return llava::makeError(llava::ErrorCode::IoError, path.string() + ": cannot write PNG");
    return llava::Status::ok();
}

llava::Status writeFloats(const std::vector<float>& values, const std::filesystem::path& path) {
    static_assert(std::endian::native == std::endian::little, "pixel_values.f32 is written as native floats");
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * sizeof(float)));
    file.close();
    if (!file) return llava::makeError(llava::ErrorCode::IoError, path.string() + ": cannot write");
    return llava::Status::ok();
}

llava::Status writeText(const std::string& text, const std::filesystem::path& path) {
    std::ofstream file(path, std::ios::trunc);
    file << text;
    file.close();
    if (!file) return llava::makeError(llava::ErrorCode::IoError, path.string() + ": cannot write");
    return llava::Status::ok();
}

nlohmann::json sidecar(const llava::PreprocessedImage& p, const llava::VisionConfig& vision, llava::Reference reference,
                       const std::vector<std::string>& names) {
    const llava::ImageLayout& l = p.layout;
    return {{"file", "pixel_values.f32"},
            {"shape", {static_cast<int>(p.crops.size()), 3, vision.imageSize, vision.imageSize}},
            {"dtype", "float32"},
            {"byte_order", "little"},
            {"layout", "NCHW: crop, channel (R,G,B), row, column; crop 0 = base, then tiles row-major"},
            {"normalisation", "(u8 / 255 - mean[c]) / std[c], float32"},
            {"mean", vision.imageMean},
            {"std", vision.imageStd},
            {"reference", std::string(llava::referenceName(reference))},
            {"image", {l.imageWidth, l.imageHeight}},
            {"canvas", {l.canvasWidth, l.canvasHeight}},
            {"grid", {l.gridCols, l.gridRows}},
            {"resized", {l.resizedWidth, l.resizedHeight}},
            {"padding", {l.padLeft, l.padTop}},
            {"crops", names}};
}

}  // namespace

llava::Status runPreprocess(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, preprocessOptions(), 0));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    const auto imagePath = args.value("image");
    const auto outDir = args.value("out");
    if (!imagePath) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --image FILE");
    if (!outDir) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --out DIR");
    LLAVA_ASSIGN_OR_RETURN(ModelSource model, resolveModel(args));
    LLAVA_ASSIGN_OR_RETURN(llava::Reference reference, resolveReference(args, model.config));
    LLAVA_ASSIGN_OR_RETURN(llava::RgbImage image, loadImage(*imagePath, exifFrom(args)));
    LLAVA_ASSIGN_OR_RETURN(llava::ImageLayout layout,
                           llava::computeImageLayout(image.width, image.height, model.config, reference));
    LLAVA_ASSIGN_OR_RETURN(llava::PreprocessedImage result,
                           llava::preprocessImage(image, layout, model.config.vision));

    const std::filesystem::path dir(*outDir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        return llava::makeError(llava::ErrorCode::IoError, *outDir + ": cannot create folder" +
                                                               (ec ? " (" + ec.message() + ")" : std::string()));
    const std::vector<std::string> names = cropFileNames(result.layout);
    if (names.size() != result.crops.size())
        return llava::makeError(llava::ErrorCode::Internal, "crop count does not match the grid");
    for (std::size_t i = 0; i < names.size(); ++i) LLAVA_TRY(writePng(result.crops[i], dir / names[i]));
    LLAVA_TRY(writeFloats(result.pixels, dir / "pixel_values.f32"));
    LLAVA_TRY(writeText(sidecar(result, model.config.vision, reference, names).dump(2) + "\n", dir / "pixel_values.json"));

    std::cout << "image    " << image.width << "x" << image.height << " (" << llava::referenceName(reference) << ")\n"
              << "canvas   " << layout.canvasWidth << "x" << layout.canvasHeight << ", grid " << layout.gridCols << "x"
              << layout.gridRows << ", resized " << layout.resizedWidth << "x" << layout.resizedHeight << "\n";
    for (const std::string& name : names) std::cout << "wrote    " << (dir / name).string() << "\n";
    std::cout << "wrote    " << (dir / "pixel_values.f32").string() << " [" << names.size() << ", 3, "
              << model.config.vision.imageSize << ", " << model.config.vision.imageSize << "] float32\n"
              << "wrote    " << (dir / "pixel_values.json").string() << "\n";
    return llava::Status::ok();
}

}  // namespace cli
