// `batch`: one prompt over a folder (or list) of images with a local model or an OpenAI-compatible
// endpoint, one JSON line per image in --out, resumable (batchjob.h). The local runner is here; the
// endpoint runner is batchendpoint.cpp. Ctrl+C: the current item finishes and is written, then the run
// stops (exit 1, "rerun to resume"); a second Ctrl+C stops at once without writing the current item.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "backends.h"
#include "batchjob.h"
#include "commands.h"
#include "common.h"
#include "enginesetup.h"
#include "imagedecoder.h"
#include "llava/engine.h"

namespace cli {
namespace {

std::vector<OptionSpec> batchOptions() {
    std::vector<OptionSpec> options = {
        modelOption(),
        {"endpoint", ValueKind::Value, "URL", "OpenAI-compatible server instead of --model (e.g. http://127.0.0.1:8080)"},
        {"api-key", ValueKind::Value, "KEY", "with --endpoint: sent as \"Authorization: Bearer KEY\""},
        {"model-name", ValueKind::Value, "ID", "with --endpoint: the model to ask for (default: the first it lists)"},
        {"concurrency", ValueKind::Value, "N", "with --endpoint: requests in flight (default 1)"},
        {"timeout", ValueKind::Value, "S", "with --endpoint: seconds per request (default 600)"},
        {"images", ValueKind::Value, "DIR|LIST", "a folder of images, or a text file with one image path per line"},
        {"prompt", ValueKind::Value, "TEXT", "the question asked about every image"},
        {"out", ValueKind::Value, "FILE", "results, one JSON line per image (appended; reruns resume)"},
    };
    for (const OptionSpec& o : samplingOptionSpecs()) options.push_back(o);
    for (const OptionSpec& o : engineOptionSpecs()) options.push_back(o);
    return options;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli batch (--model DIR | --endpoint URL [--concurrency N]) --images DIR|LIST\n"
                 "                              --prompt TEXT --out results.jsonl [sampling options]\n\n"
                 "Asks one question about every image and appends one JSON line per image to --out: file, sha256,\n"
                 "settings, answer, finish_reason, tokens, timings, error. A rerun skips images whose line is\n"
                 "already there with the same sha256 and settings (prompt, model, sampling), so an interrupted\n"
                 "run (Ctrl+C, kill, power loss) resumes where it stopped; each line is written with one write\n"
                 "and fsync. Sampling defaults to greedy (--temperature 0). Ctrl+C stops after the current\n"
                 "image; twice stops at once.\n\nOptions:\n"
              << formatOptions(batchOptions());
}

nlohmann::json localLine(const std::string& file, const std::string& sha, const std::string& settings,
                         const std::string& answer, const llava::GenerationStats& s, double totalMs) {
    const int prompt = s.textTokens + s.imageTokens;
    const bool stop = s.stopReason == llava::StopReason::Eos || s.stopReason == llava::StopReason::StopString;
    return {{"file", file},
            {"sha256", sha},
            {"settings", settings},
            {"answer", answer},
            {"finish_reason", stop ? "stop" : "length"},
            {"tokens", {{"prompt", prompt}, {"image", s.imageTokens}, {"text", s.textTokens}, {"completion", s.generatedTokens}}},
            {"timings",
             {{"total_ms", totalMs},
              {"image_encode_ms", s.imageEncodeMs},
              {"prefill_ms", s.prefillMs},
              {"ttft_ms", s.timeToFirstTokenMs},
              {"decode_tok_per_s", s.decodeTokPerS}}},
            {"error", nullptr}};
}

nlohmann::json errorLine(const std::string& file, const std::string& sha, const std::string& settings,
                         const std::string& error) {
    return {{"file", file},  {"sha256", sha}, {"settings", settings}, {"answer", nullptr},
            {"tokens", nullptr}, {"timings", nullptr}, {"error", error}};
}

llava::Status runLocal(llava::Engine& engine, const BatchJob& job, ResultsFile& results) {
    BatchProgress progress(static_cast<int>(job.items.size()));
    for (const BatchItem& item : job.items) {
        if (g_batchStop.load() > 0) break;
        auto read = readAndHash(item.file);
        if (!read) {  // unreadable file: an error line (no hash to resume by, so "" is its hash)
            if (results.done(item.file, "", job.settingsId)) {
                progress.itemSkipped();
                continue;
            }
            LLAVA_TRY(results.append(errorLine(item.file, "", job.settingsId, read.status().message())));
            progress.itemFinished(item.file, false);
            continue;
        }
        const auto& [sha, bytes] = *read;
        if (results.done(item.file, sha, job.settingsId)) {
            progress.itemSkipped();
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        auto image = imageio::decodeImageBytes(QByteArray::fromStdString(bytes), QString::fromStdString(item.file));
        if (!image) {
            LLAVA_TRY(results.append(errorLine(item.file, sha, job.settingsId, image.status().message())));
            progress.itemFinished(item.file, false);
            continue;
        }
        std::string answer;
        engine.session().clear();
        auto stats = engine.session().reply(
            {job.prompt, {std::move(*image)}}, job.sampling,
            [&](const llava::TokenEvent& e) {
                answer += e.piece;
                return true;
            },
            [] { return g_batchStop.load() > 1; });
        if (g_batchStop.load() > 1) break;  // stopped mid-item: nothing is written for it
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        const nlohmann::json line = stats ? localLine(item.file, sha, job.settingsId, answer, *stats, ms)
                                          : errorLine(item.file, sha, job.settingsId, oneLine(stats.status().message()));
        LLAVA_TRY(results.append(line));
        progress.itemFinished(item.file, stats.isOk());
    }
    progress.finish();
    if (g_batchStop.load() > 0)
        return llava::makeError(llava::ErrorCode::Cancelled, "interrupted; rerun the same command to resume");
    return llava::Status::ok();
}

}  // namespace

llava::Status runBatch(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, batchOptions(), 0));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    const auto model = args.value("model");
    const auto endpoint = args.value("endpoint");
    if (model.has_value() == endpoint.has_value())
        return llava::makeError(llava::ErrorCode::InvalidArgument, "give exactly one of --model DIR and --endpoint URL");
    for (const char* required : {"images", "prompt", "out"})
        if (!args.has(required))
            return llava::makeError(llava::ErrorCode::InvalidArgument, std::string("missing --") + required);
    if (model)
        for (const char* endpointOnly : {"api-key", "model-name", "concurrency", "timeout"})
            if (args.has(endpointOnly))
                return llava::makeError(llava::ErrorCode::InvalidArgument,
                                        std::string("--") + endpointOnly + " needs --endpoint");
    llava::SamplingParams greedy;
    greedy.temperature = 0;
    BatchJob job;
    LLAVA_ASSIGN_OR_RETURN(job.sampling, readSamplingOptions(args, greedy));
    job.prompt = *args.value("prompt");
    LLAVA_ASSIGN_OR_RETURN(job.items, listBatchImages(*args.value("images")));

    EndpointOptions remote;
    std::string modelId;
    if (endpoint) {
        remote.url = *endpoint;
        remote.apiKey = args.value("api-key").value_or("");
        remote.modelId = args.value("model-name").value_or("");
        if (const auto v = args.value("concurrency")) {
            LLAVA_ASSIGN_OR_RETURN(remote.concurrency, parseIntOption("concurrency", *v, 1, 256));
        }
        if (const auto v = args.value("timeout")) {
            LLAVA_ASSIGN_OR_RETURN(remote.timeoutSeconds, parseIntOption("timeout", *v, 1, 86400));
        }
        LLAVA_ASSIGN_OR_RETURN(modelId, resolveEndpointModel(remote));
        remote.modelId = modelId;
    } else {
        modelId = std::filesystem::path(*model).filename().string();
    }
    job.settingsId = batchSettingsId(batchSettingsJson(job.prompt, modelId, job.sampling));

    LLAVA_ASSIGN_OR_RETURN(ResultsFile results, ResultsFile::open(*args.value("out")));
    if (results.cutTornLine()) std::cerr << "batch: cut an incomplete last line from " << *args.value("out") << "\n";
    if (results.unreadableLines() > 0)
        std::cerr << "batch: ignoring " << results.unreadableLines() << " unreadable lines in " << *args.value("out") << "\n";
    std::cerr << "batch: " << job.items.size() << " images, model \"" << modelId << "\", settings " << job.settingsId << "\n";
    installBatchSignalHandler();
    if (endpoint) return runBatchOnEndpoint(remote, job, results);

    LLAVA_ASSIGN_OR_RETURN(llava::EngineOptions engineOptions, readEngineOptions(args));
    const llava::BackendRegistry registry = makeBackendRegistry();
    engineOptions.registry = &registry;
    LLAVA_ASSIGN_OR_RETURN(std::unique_ptr<llava::Engine> engine, llava::Engine::load(*model, engineOptions));
    reportBackend(engine->backendReport(), engine->reference());
    return runLocal(*engine, job, results);
}

}  // namespace cli
