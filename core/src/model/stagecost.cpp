// See stagecost.h for what is counted.
#include "model/stagecost.h"

namespace llava {
namespace {

constexpr double kF32 = 4;

double clipLayerFlops(const VisionConfig& v, double tokens) {
    const double d = v.dVision, f = v.dFfn;
    return 2 * tokens * (4 * d * d + 2 * d * f)  // q, k, v, out; fc1, fc2
           + 2 * 2 * tokens * tokens * d;        // scores and weighted values over all heads
}

}  // namespace

double clipFlops(const ModelConfig& config, std::int64_t crops) {
    const VisionConfig& v = config.vision;
    const double tokens = v.nPatches() + 1.0;
    const double patchEmbed = 2.0 * v.nPatches() * (3.0 * v.patchSize * v.patchSize) * v.dVision;
    return static_cast<double>(crops) * (patchEmbed + v.layersToRun() * clipLayerFlops(v, tokens));
}

double clipBytes(const ModelConfig& config, const StageCosts& costs, std::int64_t crops) {
    const VisionConfig& v = config.vision;
    const double pixels = 3.0 * v.imageSize * v.imageSize * kF32;
    const double rows = (v.nPatches() + 1.0) * v.dVision * kF32;
    // Per layer: the rows in and out, plus the FFN's wider intermediate written and read.
    const double perLayer = 2 * rows + 2 * (v.nPatches() + 1.0) * v.dFfn * kF32;
    return costs.clipWeightBytes + static_cast<double>(crops) * (pixels + v.layersToRun() * perLayer);
}

double projectorFlops(const ModelConfig& config, std::int64_t crops) {
    const double rows = static_cast<double>(crops) * config.vision.nPatches();
    const double dV = config.vision.dVision, d = config.text.dModel;
    return 2 * rows * (dV * d + d * d);
}

double projectorBytes(const ModelConfig& config, const StageCosts& costs, std::int64_t crops) {
    const double rows = static_cast<double>(crops) * config.vision.nPatches();
    return costs.projectorWeightBytes + rows * (config.vision.dVision + 2.0 * config.text.dModel) * kF32;
}

double mergeBytes(const ModelConfig& config, std::int64_t imageTokens, std::int64_t crops) {
    // Reads every projected patch row once, writes every merged row once.
    return (static_cast<double>(crops) * config.vision.nPatches() + static_cast<double>(imageTokens)) *
           config.text.dModel * kF32;
}

double decoderFlops(const ModelConfig& config, std::int64_t rows, std::int64_t position, bool withHead) {
    const TextConfig& t = config.text;
    const double d = t.dModel, q = double(t.nHeads) * t.headDim, kv = double(t.nKvHeads) * t.headDim, f = t.dFfn;
    const double n = static_cast<double>(rows), p = static_cast<double>(position);
    const double linear = 2 * n * (d * q + 2 * d * kv + q * d + 3 * d * f);
    // Row i (0-based) attends to p + i + 1 keys: sum = n p + n (n + 1) / 2; scores + values = 2 * 2 per key.
    const double keys = n * p + n * (n + 1) / 2;
    const double attention = 2 * 2 * q * keys;
    const double head = withHead ? 2.0 * d * t.nVocab : 0.0;
    return t.nLayers * (linear + attention) + head;
}

double decoderBytes(const ModelConfig& config, const StageCosts& costs, std::int64_t rows, std::int64_t position,
                    bool withHead) {
    const TextConfig& t = config.text;
    const double n = static_cast<double>(rows), p = static_cast<double>(position);
    const double kvRow = 2.0 * t.nKvHeads * t.headDim * costs.kvBytesPerValue;  // k and v of one position, one layer
    // Attention reads keys/values up to the last row's position (the rows of a pass share the reads).
    const double kv = t.nLayers * kvRow * ((p + n) + n);  // read p + n rows, write n rows
    const double activations = t.nLayers * n * (4.0 * t.dModel + 2.0 * t.dFfn) * kF32;
    const double head = withHead ? costs.lmHeadBytes + t.nVocab * kF32 : 0.0;
    return costs.llmLayerWeightBytes + n * costs.embedRowBytes + kv + activations + head;
}

}  // namespace llava
