// `chat`: one answer (--prompt) or an interactive chat on stdin, streaming text to stdout.
// Ctrl+C: a SIGINT handler sets an atomic flag that the engine's cancel predicate polls, stopping the
// current answer; at the input prompt a second Ctrl+C exits. Diagnostics (backend, stats) go to stderr.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "backends.h"
#include "commands.h"
#include "common.h"
#include "llava/engine.h"
#include "llava/memoryplan.h"
#include "llava/modellibrary.h"
#include "llava/weights.h"
#include "memorycheck.h"

namespace cli {
namespace {

std::atomic<bool> g_cancel{false};
std::atomic<bool> g_generating{false};
std::atomic<int> g_promptInterrupts{0};

void onSigint(int) {
    if (g_generating.load()) {
        g_cancel.store(true);
        return;
    }
    if (g_promptInterrupts.fetch_add(1) >= 1) _exit(130);
    const char message[] = "\n(press Ctrl+C again to quit, or type /quit)\n> ";
    [[maybe_unused]] const auto written = write(STDERR_FILENO, message, sizeof message - 1);
}

const std::vector<OptionSpec>& chatOptions() {
    static const std::vector<OptionSpec> kOptions = {
        modelOption(),
        {"image", ValueKind::Value, "FILE", "image for the first message (repeatable)", true},
        {"prompt", ValueKind::Value, "TEXT", "answer this one question and exit (else: interactive)"},
        {"temperature", ValueKind::Value, "T", "sampling temperature, 0 = greedy (default 0.2)"},
        {"top-p", ValueKind::Value, "P", "nucleus sampling (default 1 = off)"},
        {"top-k", ValueKind::Value, "K", "keep the K most likely tokens (default 0 = off)"},
        {"min-p", ValueKind::Value, "P", "drop tokens below P * p_max (default 0 = off)"},
        {"repeat-penalty", ValueKind::Value, "R", "repetition penalty (default 1 = off)"},
        {"max-new-tokens", ValueKind::Value, "N", "answer length limit (default 512)"},
        {"seed", ValueKind::Value, "S", "sampling seed (default 0)"},
        {"backend", ValueKind::Value, "B", "cpu | cuda | auto (default auto)"},
        {"threads", ValueKind::Value, "N", "CPU threads (default: all)"},
        {"precision", ValueKind::Value, "P", "weights: as-stored | f16 | f32 | q8 | q4 (default as-stored)"},
        {"context", ValueKind::Value, "N", "context length in tokens (default 4096)"},
        {"template", ValueKind::Value, "NAME", "chat template (default: the model's)"},
        {"tokenizer", ValueKind::Value, "FILE", "sentencepiece model (default: <model>/tokenizer.model)"},
        referenceOption(),
        exifOption(),
        {"json", ValueKind::Flag, "", "with --prompt: print one JSON object (text, tokens, stats)"},
        {"plan-only", ValueKind::Flag, "", "print the memory plan (weights per precision, KV cache, scratch vs free memory) and exit"},
        {"ignore-memory-plan", ValueKind::Flag, "", "load even when the memory plan says the precision does not fit"},
    };
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli chat --model DIR [--image FILE]... [--prompt TEXT] [sampling options]\n"
                 "                             [--backend cpu|cuda|auto] [--threads N] [--precision P] [--json]\n\n"
                 "Without --prompt: interactive chat on stdin. Commands: /image PATH (attach to the next\n"
                 "message; images go into the first message of a chat), /clear, /quit. Ctrl+C stops the\n"
                 "current answer; Ctrl+C twice at the prompt exits.\n\nBefore loading, the memory plan (weights at\n"
                 "the chosen precision + KV cache for --context + scratch) is checked against free RAM (free VRAM on\n"
                 "CUDA); a load that cannot fit is refused with the numbers and the precision that would fit.\n\nOptions:\n"
              << formatOptions(chatOptions());
}

struct ChatSetup {
    llava::EngineOptions engine;
    llava::SamplingParams sampling;
};

// Applies `parse` to the option's value when it was given; otherwise leaves `target` as is.
template <typename T, typename Parse>
llava::Status setIfGiven(const ParsedArgs& args, const char* name, T& target, Parse parse) {
    const auto text = args.value(name);
    if (!text) return llava::Status::ok();
    auto parsed = parse(name, *text);
    if (!parsed) return parsed.status();
    target = static_cast<T>(*parsed);
    return llava::Status::ok();
}

llava::Result<llava::Reference> parseReferenceOption(const std::string&, const std::string& text) {
    llava::Reference reference{};
    if (!llava::parseReference(text, &reference))
        return llava::makeError(llava::ErrorCode::InvalidArgument,
                                "--reference: \"" + text + "\" is not original or transformers");
    return reference;
}

llava::Result<llava::WeightPrecision> parsePrecisionOption(const std::string&, const std::string& text) {
    llava::WeightPrecision precision{};
    if (!llava::parseWeightPrecision(text, &precision))
        return llava::makeError(llava::ErrorCode::InvalidArgument,
                                "--precision: \"" + text + "\" is not as-stored, f16, f32, q8 or q4");
    return precision;
}

auto doubleIn(double lo, double hi) {
    return [lo, hi](const std::string& name, const std::string& text) { return parseDoubleOption(name, text, lo, hi); };
}
auto intIn(int lo, int hi) {
    return [lo, hi](const std::string& name, const std::string& text) { return parseIntOption(name, text, lo, hi); };
}

llava::Result<ChatSetup> readSetup(const ParsedArgs& args) {
    ChatSetup setup;
    llava::SamplingParams& s = setup.sampling;
    LLAVA_TRY(setIfGiven(args, "temperature", s.temperature, doubleIn(0, 100)));
    LLAVA_TRY(setIfGiven(args, "top-p", s.topP, doubleIn(0, 1)));
    LLAVA_TRY(setIfGiven(args, "top-k", s.topK, intIn(0, 1 << 20)));
    LLAVA_TRY(setIfGiven(args, "min-p", s.minP, doubleIn(0, 1)));
    LLAVA_TRY(setIfGiven(args, "repeat-penalty", s.repetitionPenalty, doubleIn(0.01, 100)));
    LLAVA_TRY(setIfGiven(args, "max-new-tokens", s.maxNewTokens, intIn(1, 1 << 20)));
    LLAVA_TRY(setIfGiven(args, "seed", s.seed, [](const std::string& n, const std::string& t) {
        return parseUnsignedOption(n, t);
    }));
    llava::EngineOptions& e = setup.engine;
    LLAVA_TRY(setIfGiven(args, "backend", e.backend, [](const std::string&, const std::string& t) {
        return parseBackendKind(t);
    }));
    LLAVA_TRY(setIfGiven(args, "threads", e.threads, intIn(0, 1024)));
    LLAVA_TRY(setIfGiven(args, "precision", e.precision, parsePrecisionOption));
    LLAVA_TRY(setIfGiven(args, "context", e.contextLength, intIn(16, 1 << 20)));
    if (args.has("reference")) {
        llava::Reference reference{};
        LLAVA_TRY(setIfGiven(args, "reference", reference, parseReferenceOption));
        e.reference = reference;
    }
    if (auto v = args.value("template")) e.templateName = *v;
    if (auto v = args.value("tokenizer")) e.tokenizerPath = *v;
    return setup;
}

std::string mib(std::uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

void reportBackend(const llava::Engine& engine) {
    const llava::BackendReport r = engine.backendReport();
    std::cerr << "backend: " << r.name << (r.device.empty() ? "" : " (" + r.device + ")") << ", weights "
              << llava::weightPrecisionName(r.precision) << ", reference " << llava::referenceName(engine.reference())
              << "\n";
    if (!r.fallbackReason.empty()) std::cerr << "backend fallback: " << oneLine(r.fallbackReason) << "\n";
    const llava::BackendMemory& m = r.memory;
    std::cerr << "memory: weights " << mib(m.weightBytes)
              << (m.mappedWeightBytes ? " + " + mib(m.mappedWeightBytes) + " read in place from the files" : "")
              << ", KV cache " << mib(m.kvCacheBytes) << ", scratch " << mib(m.scratchBytes);
    if (m.deviceTotalBytes) std::cerr << "; device " << mib(m.deviceFreeBytes) << " free of " << mib(m.deviceTotalBytes);
    std::cerr << "\n";
}

nlohmann::json statsJson(const llava::GenerationStats& s) {
    return {{"image_encode_ms", s.imageEncodeMs},   {"prefill_ms", s.prefillMs},
            {"prefill_tok_per_s", s.prefillTokPerS}, {"decode_tok_per_s", s.decodeTokPerS},
            {"ttft_ms", s.timeToFirstTokenMs},       {"image_tokens", s.imageTokens},
            {"text_tokens", s.textTokens},           {"generated_tokens", s.generatedTokens},
            {"stop_reason", std::string(llava::stopReasonName(s.stopReason))}};
}

void printStatsLine(const llava::GenerationStats& s) {
    std::cerr << "[" << s.generatedTokens << " tokens, stop " << llava::stopReasonName(s.stopReason) << ", image "
              << s.imageTokens << " tok in " << static_cast<int>(s.imageEncodeMs) << " ms, prefill "
              << static_cast<int>(s.prefillTokPerS) << " tok/s, decode " << static_cast<int>(s.decodeTokPerS)
              << " tok/s]\n";
}

struct Answer {
    std::string text;
    std::vector<int> tokens;
    llava::GenerationStats stats;
};

// One reply; streams pieces to stdout unless `quiet`.
llava::Result<Answer> answer(llava::Engine& engine, const llava::UserMessage& message,
                             const llava::SamplingParams& sampling, bool quiet) {
    Answer result;
    g_cancel.store(false);
    g_generating.store(true);
    auto onToken = [&](const llava::TokenEvent& event) {
        result.tokens.push_back(event.id);
        result.text += event.piece;
        if (!quiet) std::cout << event.piece << std::flush;
        return true;
    };
    auto stats = engine.session().reply(message, sampling, onToken, [] { return g_cancel.load(); });
    g_generating.store(false);
    if (!stats) return stats.status();
    result.stats = *stats;
    return result;
}

llava::Result<std::vector<llava::RgbImage>> loadImages(const std::vector<std::string>& paths,
                                                       imageio::ExifTranspose exif) {
    std::vector<llava::RgbImage> images;
    for (const std::string& path : paths) {
        LLAVA_ASSIGN_OR_RETURN(llava::RgbImage image, loadImage(path, exif));
        images.push_back(std::move(image));
    }
    return images;
}

llava::Status interactive(llava::Engine& engine, const llava::SamplingParams& sampling,
                          std::vector<llava::RgbImage> pending, imageio::ExifTranspose exif) {
    std::cerr << "interactive chat: /image PATH, /clear, /quit; Ctrl+C stops an answer\n";
    std::string line;
    while (true) {
        std::cerr << "> " << std::flush;
        if (!std::getline(std::cin, line)) break;
        g_promptInterrupts.store(0);
        if (line == "/quit" || line == "/exit") break;
        if (line == "/clear") {
            engine.session().clear();
            pending.clear();
            std::cerr << "(chat cleared)\n";
            continue;
        }
        if (line.rfind("/image ", 0) == 0) {
            auto image = loadImage(line.substr(7), exif);
            if (!image) {
                std::cerr << "error: " << oneLine(image.status().message()) << "\n";
            } else {
                pending.push_back(std::move(image).value());
                std::cerr << "(image attached to the next message)\n";
            }
            continue;
        }
        if (line.empty()) continue;
        llava::UserMessage message{line, std::move(pending)};
        pending.clear();
        auto result = answer(engine, message, sampling, false);
        std::cout << "\n" << std::flush;
        if (!result) std::cerr << "error: " << oneLine(result.status().message()) << "\n";
        else printStatsLine(result->stats);
    }
    return llava::Status::ok();
}

// The memory plan before the load: printed with --plan-only, otherwise a precision that cannot fit is refused
// (never an OOM kill) unless --ignore-memory-plan.
llava::Status checkMemoryPlan(const ParsedArgs& args, const std::string& modelDir, const llava::EngineOptions& options,
                              const llava::BackendRegistry& registry) {
    const llava::LibraryEntry entry = llava::inspectModelFolder(modelDir, llava::LibrarySource::Recent);
    if (!entry.config) {
        if (args.has("plan-only"))
            return llava::makeError(llava::ErrorCode::NotFound,
                                    "cannot plan " + modelDir + ": " + (entry.problems.empty() ? "" : entry.problems[0]));
        return llava::Status::ok();  // Engine::load reports the folder's problem
    }
    const PlanTarget target = planTarget(registry, options.backend);
    const llava::MemoryPlan plan = planFor(entry, target, options.contextLength, options.precision);
    if (args.has("plan-only")) {
        std::cout << entry.name << " (" << (entry.layout ? llava::layoutName(*entry.layout) : "unknown layout") << ", "
                  << (entry.storedDtype.empty() ? "unknown dtype" : entry.storedDtype) << ", template "
                  << entry.templateName << ")\n"
                  << llava::formatMemoryPlan(plan);
        return llava::Status::ok();
    }
    if (args.has("ignore-memory-plan")) return llava::Status::ok();
    const llava::Status fits = llava::checkPlanFits(plan, options.precision);
    if (fits.isOk()) return fits;
    return llava::makeError(fits.code(), fits.message() + " (use --precision, a smaller --context, or --ignore-memory-plan)");
}

}  // namespace

llava::Status runChat(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, chatOptions(), 0));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    const auto modelDir = args.value("model");
    if (!modelDir) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --model DIR");
    if (args.has("json") && !args.has("prompt"))
        return llava::makeError(llava::ErrorCode::InvalidArgument, "--json needs --prompt");
    LLAVA_ASSIGN_OR_RETURN(ChatSetup setup, readSetup(args));
    const imageio::ExifTranspose exif = exifFrom(args);
    LLAVA_ASSIGN_OR_RETURN(std::vector<llava::RgbImage> images, loadImages(args.values("image"), exif));

    const llava::BackendRegistry registry = makeBackendRegistry();
    setup.engine.registry = &registry;
    LLAVA_TRY(checkMemoryPlan(args, *modelDir, setup.engine, registry));
    if (args.has("ignore-memory-plan")) setup.engine.memoryCheck = llava::MemoryCheck::Skip;
    if (args.has("plan-only")) return llava::Status::ok();
    LLAVA_ASSIGN_OR_RETURN(std::unique_ptr<llava::Engine> engine, llava::Engine::load(*modelDir, setup.engine));
    reportBackend(*engine);

    struct sigaction action {};
    action.sa_handler = onSigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);

    const auto prompt = args.value("prompt");
    if (!prompt) return interactive(*engine, setup.sampling, std::move(images), exif);

    const bool json = args.has("json");
    LLAVA_ASSIGN_OR_RETURN(Answer result, answer(*engine, {*prompt, std::move(images)}, setup.sampling, json));
    if (json) {
        const llava::BackendReport report = engine->backendReport();
        nlohmann::json out = {{"text", result.text},
                              {"tokens", result.tokens},
                              {"stats", statsJson(result.stats)},
                              {"backend", report.name},
                              {"fallback_reason", report.fallbackReason}};
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << "\n" << std::flush;
        printStatsLine(result.stats);
    }
    return llava::Status::ok();
}

}  // namespace cli
