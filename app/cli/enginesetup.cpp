// See enginesetup.h.
#include "enginesetup.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "backends.h"
#include "common.h"

namespace cli {
namespace {

template <typename T, typename Parse>
llava::Status setIfGiven(const ParsedArgs& args, const char* name, T& target, Parse parse) {
    const auto text = args.value(name);
    if (!text) return llava::Status::ok();
    auto parsed = parse(name, *text);
    if (!parsed) return parsed.status();
    target = static_cast<T>(*parsed);
    return llava::Status::ok();
}

auto doubleIn(double lo, double hi) {
    return [lo, hi](const std::string& name, const std::string& text) { return parseDoubleOption(name, text, lo, hi); };
}
auto intIn(int lo, int hi) {
    return [lo, hi](const std::string& name, const std::string& text) { return parseIntOption(name, text, lo, hi); };
}

std::string mib(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

}  // namespace

std::vector<OptionSpec> engineOptionSpecs() {
    return {
        {"backend", ValueKind::Value, "B", "cpu | cuda | auto (default auto)"},
        {"threads", ValueKind::Value, "N", "CPU threads (default: all usable; more are clamped to them)"},
        {"precision", ValueKind::Value, "P", "weights: as-stored | f16 | f32 | q8 | q4 (default as-stored)"},
        {"context", ValueKind::Value, "N", "context length in tokens (default 4096)"},
        {"kv-cache", ValueKind::Value, "F", "KV cache: auto | f16 | f32 (default auto: f16 for 16-bit or quantised weights, else f32)"},
        {"template", ValueKind::Value, "NAME", "chat template (default: the model's)"},
        {"tokenizer", ValueKind::Value, "FILE", "sentencepiece model (default: <model>/tokenizer.model)"},
        {"no-weight-cache", ValueKind::Flag, "", "q8/q4: quantise at load without reading or writing the weight cache"},
        referenceOption(),
    };
}

std::vector<OptionSpec> samplingOptionSpecs() {
    return {
        {"temperature", ValueKind::Value, "T", "sampling temperature, 0 = greedy"},
        {"top-p", ValueKind::Value, "P", "nucleus sampling (default 1 = off)"},
        {"top-k", ValueKind::Value, "K", "keep the K most likely tokens (default 0 = off)"},
        {"min-p", ValueKind::Value, "P", "drop tokens below P * p_max (default 0 = off)"},
        {"repeat-penalty", ValueKind::Value, "R", "repetition penalty (default 1 = off)"},
        {"max-new-tokens", ValueKind::Value, "N", "answer length limit (default 512)"},
        {"seed", ValueKind::Value, "S", "sampling seed (default 0)"},
    };
}

llava::Result<llava::EngineOptions> readEngineOptions(const ParsedArgs& args) {
    llava::EngineOptions e;
    LLAVA_TRY(setIfGiven(args, "backend", e.backend, [](const std::string&, const std::string& t) {
        return parseBackendKind(t);
    }));
    LLAVA_TRY(setIfGiven(args, "threads", e.threads, intIn(0, 1024)));
    if (const auto text = args.value("precision")) {
        if (!llava::parseWeightPrecision(*text, &e.precision))
            return llava::makeError(llava::ErrorCode::InvalidArgument,
                                    "--precision: \"" + *text + "\" is not as-stored, f16, f32, q8 or q4");
    }
    LLAVA_TRY(setIfGiven(args, "context", e.contextLength, intIn(16, 1 << 20)));
    if (const auto text = args.value("kv-cache")) {
        if (!llava::parseKvCacheFormat(*text, &e.kvCache))
            return llava::makeError(llava::ErrorCode::InvalidArgument, "--kv-cache: \"" + *text + "\" is not auto, f16 or f32");
    }
    if (const auto text = args.value("reference")) {
        llava::Reference reference{};
        if (!llava::parseReference(*text, &reference))
            return llava::makeError(llava::ErrorCode::InvalidArgument,
                                    "--reference: \"" + *text + "\" is not original or transformers");
        e.reference = reference;
    }
    if (auto v = args.value("template")) e.templateName = *v;
    if (auto v = args.value("tokenizer")) e.tokenizerPath = *v;
    readWeightCacheOptions(args, e);
    return e;
}

void readWeightCacheOptions(const ParsedArgs& args, llava::EngineOptions& e) {
    // q8/q4 weights are cached beside the model (docs/weight-cache.md); a read-only model folder uses
    // $XDG_CACHE_HOME/llava-insight/weights (or ~/.cache/...).
    e.weightCache = !args.has("no-weight-cache");
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) e.weightCacheDir = std::filesystem::path(xdg) / "llava-insight" / "weights";
    else if (const char* home = std::getenv("HOME"); home && *home) e.weightCacheDir = std::filesystem::path(home) / ".cache" / "llava-insight" / "weights";
}

llava::Result<llava::SamplingParams> readSamplingOptions(const ParsedArgs& args, llava::SamplingParams s) {
    LLAVA_TRY(setIfGiven(args, "temperature", s.temperature, doubleIn(0, 100)));
    LLAVA_TRY(setIfGiven(args, "top-p", s.topP, doubleIn(0, 1)));
    LLAVA_TRY(setIfGiven(args, "top-k", s.topK, intIn(0, 1 << 20)));
    LLAVA_TRY(setIfGiven(args, "min-p", s.minP, doubleIn(0, 1)));
    LLAVA_TRY(setIfGiven(args, "repeat-penalty", s.repetitionPenalty, doubleIn(0.01, 100)));
    LLAVA_TRY(setIfGiven(args, "max-new-tokens", s.maxNewTokens, intIn(1, 1 << 20)));
    LLAVA_TRY(setIfGiven(args, "seed", s.seed, [](const std::string& n, const std::string& t) {
        return parseUnsignedOption(n, t);
    }));
    return s;
}

void reportBackend(const llava::BackendReport& r, llava::Reference reference) {
    std::cerr << "backend: " << r.name << (r.device.empty() ? "" : " (" + r.device + ")") << ", weights "
              << llava::weightPrecisionName(r.precision) << ", reference " << llava::referenceName(reference)
              << "\n";
    if (!r.fallbackReason.empty()) std::cerr << "backend fallback: " << oneLine(r.fallbackReason) << "\n";
    if (!r.notice.empty()) std::cerr << "backend note: " << oneLine(r.notice) << "\n";
    if (!r.selfCheckReport.empty() && !r.fallbackReason.empty())
        std::cerr << "CUDA self-check report (attach it to a bug report):\n" << r.selfCheckReport << "\n";
    if (!r.weightCache.empty()) std::cerr << "weight cache: " << oneLine(r.weightCache) << "\n";
    const llava::BackendMemory& m = r.memory;
    std::cerr << "memory: weights " << mib(m.weightBytes)
              << (m.mappedWeightBytes ? " + " + mib(m.mappedWeightBytes) + " read in place from the files" : "")
              << ", KV cache " << mib(m.kvCacheBytes) << " (" << llava::storageFormatName(r.kvCacheFormat) << ")"
              << ", scratch " << mib(m.scratchBytes);
    if (m.deviceTotalBytes) std::cerr << "; device " << mib(m.deviceFreeBytes) << " free of " << mib(m.deviceTotalBytes);
    std::cerr << "\n";
}

}  // namespace cli
