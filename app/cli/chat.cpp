// `chat`: one answer (--prompt) or an interactive chat on stdin, streaming text to stdout.
// Ctrl+C: a SIGINT handler sets an atomic flag that the engine's cancel predicate polls, stopping the
// current answer; at the input prompt a second Ctrl+C exits. Diagnostics (backend, stats) go to stderr.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "backends.h"
#include "commands.h"
#include "common.h"
#include "enginesetup.h"
#include "llava/engine.h"
#include "llava/machineceilings.h"
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

// The shared sampling and engine rows (enginesetup.h) in chat's --help order, plus chat's own.
std::vector<OptionSpec> makeChatOptions() {
    std::vector<OptionSpec> options = {
        modelOption(),
        {"image", ValueKind::Value, "FILE", "image for the message (repeatable; interactive: the first)", true},
        {"prompt", ValueKind::Value, "TEXT", "answer this one question and exit (else: interactive)"},
    };
    for (OptionSpec o : samplingOptionSpecs()) {
        if (o.name == "temperature") o.help += " (default 0.2)";
        options.push_back(o);
    }
    for (const OptionSpec& o : engineOptionSpecs()) {
        options.push_back(o);
        if (o.name != "precision") continue;
        options.push_back({"check-weights", ValueKind::Flag, "", "scan every weight for NaN/Inf at load (names the first bad tensor)"});
        options.push_back({"no-selfcheck", ValueKind::Flag, "", "use CUDA without comparing its ops with the CPU first (benchmarks)"});
    }
    const OptionSpec own[] = {
        exifOption(),
        {"json", ValueKind::Flag, "", "with --prompt: print one JSON object (text, tokens, stats, stages, ceilings)"},
        {"logprobs", ValueKind::Value, "N",
         "with --json: each token's log-probability and its N most likely alternatives (0-20, default 0 = off)"},
        {"plan-only", ValueKind::Flag, "", "print the memory plan (weights per precision, KV cache, scratch vs free memory) and exit"},
        {"ignore-memory-plan", ValueKind::Flag, "", "load even when the memory plan says the precision does not fit"},
    };
    options.insert(options.end(), std::begin(own), std::end(own));
    return options;
}

const std::vector<OptionSpec>& chatOptions() {
    static const std::vector<OptionSpec> kOptions = makeChatOptions();
    return kOptions;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli chat --model DIR [--image FILE]... [--prompt TEXT] [sampling options]\n"
                 "                             [--backend cpu|cuda|auto] [--threads N] [--precision P] [--json]\n\n"
                 "Without --prompt: interactive chat on stdin. Commands: /image PATH (attach to the next\n"
                 "message; any message may have images, --image ones go with the first), /clear, /quit.\n"
                 "Text is text: a typed \"<image>\" is sent as those characters. A message that cannot fit\n"
                 "in the context is refused before its images are encoded, with the token counts.\n"
                 "Ctrl+C stops the current answer; Ctrl+C twice at the prompt exits.\n\nBefore loading, the memory plan (weights at\n"
                 "the chosen precision + KV cache for --context + scratch) is checked against free RAM (free VRAM on\n"
                 "CUDA); a load that cannot fit is refused with the numbers and the precision that would fit.\n\n"
                 "--json adds \"stages\" (the answer's waterfall with achieved GB/s and GFLOP/s) and, on the CPU backend,\n"
                 "\"ceilings\": this machine's copy bandwidth and GEMM peak with --threads, measured once (under a second)\n"
                 "and cached in $XDG_CACHE_HOME/llava-insight/machine-ceilings.json (or ~/.cache/...); each stage then has\n"
                 "bandwidth_fraction / flops_fraction of them. CUDA ceilings are not measured (\"ceilings\": null).\n\nOptions:\n"
              << formatOptions(chatOptions());
}

struct ChatSetup {
    llava::EngineOptions engine;
    llava::SamplingParams sampling;
};

llava::Result<ChatSetup> readSetup(const ParsedArgs& args) {
    ChatSetup setup;
    LLAVA_ASSIGN_OR_RETURN(setup.sampling, readSamplingOptions(args, llava::SamplingParams{}));
    if (const auto text = args.value("logprobs")) {
        LLAVA_ASSIGN_OR_RETURN(setup.sampling.logprobs, parseIntOption("logprobs", *text, 0, 20));
    }
    LLAVA_ASSIGN_OR_RETURN(setup.engine, readEngineOptions(args));
    setup.engine.checkWeights = args.has("check-weights");
    if (args.has("no-selfcheck")) setup.engine.selfCheck = llava::SelfCheck::Skip;
    return setup;
}

nlohmann::json statsJson(const llava::GenerationStats& s) {
    return {{"image_encode_ms", s.imageEncodeMs},   {"prefill_ms", s.prefillMs},
            {"prefill_tok_per_s", s.prefillTokPerS}, {"decode_tok_per_s", s.decodeTokPerS},
            {"ttft_ms", s.timeToFirstTokenMs},       {"image_tokens", s.imageTokens},
            {"text_tokens", s.textTokens},           {"generated_tokens", s.generatedTokens},
            {"images_encoded", s.imagesEncoded},     {"prefill_tokens", s.prefillTokens},
            {"stop_reason", std::string(llava::stopReasonName(s.stopReason))}};
}

struct DecodedImage {
    double ms = 0;        // file read + decode
    double bytes = 0;     // file bytes read + RGB bytes written
};

// The answer's waterfall: the CLI's own image decoding first, then core's stages (llava/stages.h); times
// are relative to the start of image decoding. gb_per_s / gflop_per_s: the stage's estimated bytes / FLOPs
// over its wall time; with this machine's ceilings, bandwidth_fraction = gb_per_s / copy_gb_s (stages that
// moved bytes) and flops_fraction = gflop_per_s / gemm_gflop_s (stages that computed).
nlohmann::json stagesJson(const std::vector<DecodedImage>& decoded, const std::vector<llava::StageTiming>& stages,
                          const std::optional<llava::MachineCeilings>& ceilings) {
    nlohmann::json out = nlohmann::json::array();
    double offset = 0;
    auto add = [&out, &ceilings](const std::string& name, int index, double start, double ms, std::int64_t items,
                                 std::int64_t position, double bytes, double flops) {
        const double s = ms / 1000.0;
        const double gbs = s > 0 ? bytes / s / 1e9 : 0.0, gflops = s > 0 ? flops / s / 1e9 : 0.0;
        nlohmann::json stage = {{"name", name},   {"index", index},         {"start_ms", start},
                                {"ms", ms},       {"items", items},         {"position", position},
                                {"bytes", bytes}, {"flops", flops},
                                {"gb_per_s", gbs}, {"gflop_per_s", gflops}};
        if (ceilings && s > 0 && bytes > 0) stage["bandwidth_fraction"] = gbs / ceilings->copyGBs;
        if (ceilings && s > 0 && flops > 0) stage["flops_fraction"] = gflops / ceilings->gemmGflops;
        out.push_back(std::move(stage));
    };
    for (std::size_t i = 0; i < decoded.size(); ++i) {
        add("image.decode", static_cast<int>(i), offset, decoded[i].ms, 1, 0, decoded[i].bytes, 0.0);
        offset += decoded[i].ms;
    }
    for (const llava::StageTiming& t : stages)
        add(t.name, t.index, offset + t.startMs, t.ms, t.items, t.position, t.bytes, t.flops);
    return out;
}

// $XDG_CACHE_HOME/llava-insight/machine-ceilings.json, else ~/.cache/llava-insight/... (as the weight cache).
std::filesystem::path ceilingsCacheFile() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "llava-insight" / "machine-ceilings.json";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".cache" / "llava-insight" / "machine-ceilings.json";
    return {};
}

// The CPU backend's ceilings (measured once per CPU and thread count, then read from the cache); none for
// CUDA (its device bandwidth is not measured) or when measuring failed. *note says why there are none.
std::optional<llava::MachineCeilings> ceilingsFor(const llava::BackendReport& report, int requestedThreads, std::string* note) {
    if (report.name != "cpu") {
        *note = "not measured for the " + report.name + " backend (only the CPU's ceilings are measured)";
        return std::nullopt;
    }
    const std::filesystem::path file = ceilingsCacheFile();
    if (file.empty()) {  // no HOME: measured for this run only
        auto measured = llava::measureMachineCeilings(requestedThreads);
        *note = measured.isOk() ? "not cached (neither XDG_CACHE_HOME nor HOME is set)" : "not measured: " + measured.status().message();
        return measured.isOk() ? std::optional<llava::MachineCeilings>(*measured) : std::nullopt;
    }
    auto cached = llava::cachedMachineCeilings(file, requestedThreads);
    if (!cached.isOk()) {
        *note = "not measured: " + cached.status().message();
        return std::nullopt;
    }
    *note = cached->cacheNote;
    return cached->ceilings;
}

nlohmann::json ceilingsJson(const std::optional<llava::MachineCeilings>& c) {
    if (!c) return nullptr;
    return {{"copy_gb_s", c->copyGBs}, {"gemm_gflop_s", c->gemmGflops}, {"threads", c->threads}, {"cpu", c->cpu},
            {"measured_at", c->measuredAt}};
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
    std::vector<llava::TokenConfidence> confidence;  // one per token when SamplingParams::logprobs > 0
    llava::GenerationStats stats;
};

// A log-probability for JSON: -inf (a token the sampling filters removed) has no JSON number -> null.
nlohmann::json logprobJson(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

nlohmann::json logprobEntry(const llava::TokenLogprob& t) {
    std::vector<int> bytes(t.token.begin(), t.token.end());
    for (int& b : bytes) b &= 0xff;
    return {{"token", t.token}, {"id", t.id}, {"logprob", logprobJson(t.logprob)},
            {"raw_logprob", logprobJson(t.rawLogprob)}, {"bytes", bytes}};
}

// OpenAI's chat-completions shape: {"content": [{token, logprob, bytes, top_logprobs: [...]}, ...]}, plus
// "id" and "raw_logprob" (the model's own probability before temperature/top-k/top-p) in every entry.
nlohmann::json logprobsJson(const std::vector<llava::TokenConfidence>& confidence) {
    nlohmann::json content = nlohmann::json::array();
    for (const llava::TokenConfidence& c : confidence) {
        nlohmann::json entry = logprobEntry(c.chosen);
        entry["top_logprobs"] = nlohmann::json::array();
        for (const llava::TokenLogprob& t : c.top) entry["top_logprobs"].push_back(logprobEntry(t));
        content.push_back(std::move(entry));
    }
    return {{"content", std::move(content)}};
}

// One reply; streams pieces to stdout unless `quiet`.
llava::Result<Answer> answer(llava::Engine& engine, const llava::UserMessage& message,
                             const llava::SamplingParams& sampling, bool quiet) {
    Answer result;
    g_cancel.store(false);
    g_generating.store(true);
    auto onToken = [&](const llava::TokenEvent& event) {
        result.tokens.push_back(event.id);
        if (event.confidence) result.confidence.push_back(*event.confidence);
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
                                                       imageio::ExifTranspose exif,
                                                       std::vector<DecodedImage>* timings = nullptr) {
    std::vector<llava::RgbImage> images;
    for (const std::string& path : paths) {
        const auto begin = std::chrono::steady_clock::now();
        LLAVA_ASSIGN_OR_RETURN(llava::RgbImage image, loadImage(path, exif));
        if (timings) {
            std::error_code ec;
            const auto fileBytes = std::filesystem::file_size(path, ec);
            timings->push_back({std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count(),
                                (ec ? 0.0 : static_cast<double>(fileBytes)) + static_cast<double>(image.rowBytes()) * image.height});
        }
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
                std::cerr << "(image attached to the next message; " << pending.size() << " pending)\n";
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
    const llava::MemoryPlan plan = planFor(entry, target, options.contextLength, options.precision, options.kvCache);
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
    if (args.has("logprobs") && !args.has("json"))
        return llava::makeError(llava::ErrorCode::InvalidArgument, "--logprobs needs --json");
    LLAVA_ASSIGN_OR_RETURN(ChatSetup setup, readSetup(args));
    const imageio::ExifTranspose exif = exifFrom(args);
    std::vector<DecodedImage> decoded;
    LLAVA_ASSIGN_OR_RETURN(std::vector<llava::RgbImage> images, loadImages(args.values("image"), exif, &decoded));

    const llava::BackendRegistry registry = makeBackendRegistry();
    setup.engine.registry = &registry;
    LLAVA_TRY(checkMemoryPlan(args, *modelDir, setup.engine, registry));
    if (args.has("ignore-memory-plan")) setup.engine.memoryCheck = llava::MemoryCheck::Skip;
    if (args.has("plan-only")) return llava::Status::ok();
    LLAVA_ASSIGN_OR_RETURN(std::unique_ptr<llava::Engine> engine, llava::Engine::load(*modelDir, setup.engine));
    reportBackend(engine->backendReport(), engine->reference());

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
        std::string ceilingsNote;
        const auto ceilings = ceilingsFor(report, setup.engine.threads, &ceilingsNote);
        nlohmann::json out = {{"text", result.text},
                              {"tokens", result.tokens},
                              {"stats", statsJson(result.stats)},
                              {"stages", stagesJson(decoded, result.stats.stages, ceilings)},
                              {"ceilings", ceilingsJson(ceilings)},
                              {"backend", report.name},
                              {"fallback_reason", report.fallbackReason},
                              {"backend_notice", report.notice},
                              {"self_check_report", report.selfCheckReport},
                              {"weight_cache", report.weightCache}};
        if (!ceilingsNote.empty()) out["ceilings_note"] = ceilingsNote;
        if (setup.sampling.logprobs > 0) out["logprobs"] = logprobsJson(result.confidence);
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        std::cout << "\n" << std::flush;
        printStatsLine(result.stats);
    }
    return llava::Status::ok();
}

}  // namespace cli
