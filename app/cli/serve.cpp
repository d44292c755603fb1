// `serve`: the loaded model behind an OpenAI-compatible HTTP API (app/server), until Ctrl+C / SIGTERM.
// Prints "listening on http://HOST:PORT" on stdout once the socket is bound (with --port 0 the OS picks
// the port; scripts read it from that line); diagnostics go to stderr.
#include <QCoreApplication>
#include <QHostAddress>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "apiserver.h"
#include "backends.h"
#include "commands.h"
#include "common.h"
#include "enginesetup.h"

namespace cli {
namespace {

std::atomic<bool> g_stop{false};
void onStopSignal(int) { g_stop.store(true); }

std::vector<OptionSpec> serveOptions() {
    std::vector<OptionSpec> options = {
        modelOption(),
        {"host", ValueKind::Value, "ADDR", "address to bind (default 127.0.0.1; others need --api-key)"},
        {"port", ValueKind::Value, "N", "TCP port (default 8080; 0 = any free port, printed on stdout)"},
        {"api-key", ValueKind::Value, "KEY", "require \"Authorization: Bearer KEY\" on /v1/* (default: none)"},
        {"model-name", ValueKind::Value, "ID", "model id clients send (default: the model folder's name)"},
        {"queue", ValueKind::Value, "N", "requests that may wait while one generates (default 8; more -> 429)"},
        {"max-body-mb", ValueKind::Value, "MB", "largest request body (default 32)"},
        {"max-images", ValueKind::Value, "N", "images per request (default 8)"},
        {"max-image-pixels", ValueKind::Value, "N", "declared width x height per image (default 50000000)"},
        {"allow-image-urls", ValueKind::Flag, "", "fetch http(s) image URLs for clients (default: refused, offline)"},
    };
    for (const OptionSpec& o : engineOptionSpecs()) options.push_back(o);
    for (OptionSpec o : samplingOptionSpecs()) {
        o.help += " [request default]";
        options.push_back(o);
    }
    return options;
}

void printHelp() {
    std::cout << "Usage: llava-insight-cli serve --model DIR [--host 127.0.0.1] [--port 8080] [--api-key KEY]\n\n"
                 "Serves the model over an OpenAI-compatible HTTP API: POST /v1/chat/completions (text and\n"
                 "image_url parts with data: URLs, stream: true as server-sent events), GET /v1/models,\n"
                 "GET /health, and POST /v1/inspect (the anyres layout of an image, as 'inspect --json').\n"
                 "One generation runs at a time; --queue more wait, others get 429 with Retry-After.\n"
                 "A client that disconnects stops its generation at the next token. Ctrl+C stops the server.\n"
                 "See docs/serving.md.\n\nOptions:\n"
              << formatOptions(serveOptions());
}

llava::Result<QHostAddress> parseHost(const std::string& text) {
    if (text == "localhost") return QHostAddress(QHostAddress::LocalHost);
    QHostAddress address;
    if (!address.setAddress(QString::fromStdString(text)))
        return llava::makeError(llava::ErrorCode::InvalidArgument, "--host: \"" + text + "\" is not an IP address");
    return address;
}

struct ServeConfig {
    QHostAddress host{QHostAddress::LocalHost};
    quint16 port = 8080;
    server::ApiServerOptions api;
    int queue = 8;
};

llava::Result<ServeConfig> readServeConfig(const ParsedArgs& args, const std::filesystem::path& modelDir) {
    ServeConfig c;
    if (const auto host = args.value("host")) {
        LLAVA_ASSIGN_OR_RETURN(c.host, parseHost(*host));
    }
    if (const auto port = args.value("port")) {
        LLAVA_ASSIGN_OR_RETURN(int p, parseIntOption("port", *port, 0, 65535));
        c.port = static_cast<quint16>(p);
    }
    c.api.apiKey = args.value("api-key").value_or("");
    if (!c.host.isLoopback() && c.api.apiKey.empty())
        return llava::makeError(llava::ErrorCode::InvalidArgument,
                                "--host " + c.host.toString().toStdString() +
                                    " is reachable from other machines: give --api-key KEY (or bind to 127.0.0.1)");
    c.api.modelId = args.value("model-name").value_or(modelDir.filename().string());
    if (c.api.modelId.empty()) c.api.modelId = std::filesystem::absolute(modelDir).parent_path().filename().string();
    if (const auto v = args.value("queue")) {
        LLAVA_ASSIGN_OR_RETURN(c.queue, parseIntOption("queue", *v, 0, 4096));
    }
    if (const auto v = args.value("max-body-mb")) {
        LLAVA_ASSIGN_OR_RETURN(int mb, parseIntOption("max-body-mb", *v, 1, 4096));
        c.api.http.limits.maxBodyBytes = static_cast<std::size_t>(mb) * 1024 * 1024;
    }
    if (const auto v = args.value("max-images")) {
        LLAVA_ASSIGN_OR_RETURN(c.api.limits.maxImages, parseIntOption("max-images", *v, 0, 1024));
    }
    if (const auto v = args.value("max-image-pixels")) {
        LLAVA_ASSIGN_OR_RETURN(unsigned long long n, parseUnsignedOption("max-image-pixels", *v));
        c.api.maxImagePixels = static_cast<std::int64_t>(std::min<unsigned long long>(n, 1ULL << 40));
    }
    c.api.limits.allowImageUrls = args.has("allow-image-urls");
    LLAVA_ASSIGN_OR_RETURN(c.api.defaults, readSamplingOptions(args, llava::SamplingParams{}));
    c.api.fingerprint = std::string("llava-insight-") + LLAVA_VERSION_STRING;
    return c;
}

}  // namespace

llava::Status runServe(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, serveOptions(), 0));
    if (args.has("help")) {
        printHelp();
        return llava::Status::ok();
    }
    const auto modelDir = args.value("model");
    if (!modelDir) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing --model DIR");
    LLAVA_ASSIGN_OR_RETURN(ServeConfig config, readServeConfig(args, std::filesystem::path(*modelDir)));
    LLAVA_ASSIGN_OR_RETURN(llava::EngineOptions engineOptions, readEngineOptions(args));

    // The engine is loaded on the inference thread, which then owns it.
    const llava::BackendRegistry registry = makeBackendRegistry();
    engineOptions.registry = &registry;
    const std::filesystem::path dir(*modelDir);
    LLAVA_ASSIGN_OR_RETURN(std::unique_ptr<server::InferenceQueue> queue,
                           server::InferenceQueue::start([&] { return llava::Engine::load(dir, engineOptions); },
                                                         config.queue));
    reportBackend(queue->backendReport(), queue->reference());

    server::ApiServer api(config.api, std::move(queue));
    QString error;
    if (!api.listen(config.host, config.port, &error))
        return llava::makeError(llava::ErrorCode::IoError, "cannot listen on " + config.host.toString().toStdString() +
                                                               ":" + std::to_string(config.port) + ": " +
                                                               error.toStdString());
    const QString host = config.host.protocol() == QAbstractSocket::IPv6Protocol
                             ? "[" + config.host.toString() + "]"
                             : config.host.toString();
    std::cout << "listening on http://" << host.toStdString() << ":" << api.port() << std::endl;
    std::cerr << "model \"" << config.api.modelId << "\"; POST /v1/chat/completions, GET /v1/models, GET /health"
              << (config.api.apiKey.empty() ? "" : " (API key required)") << "; Ctrl+C stops\n";

    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, [] {
        if (g_stop.load()) QCoreApplication::quit();
    });
    poll.start(100);
    QCoreApplication::exec();
    std::cerr << "stopping: cancelling running requests\n";
    return llava::Status::ok();
}

}  // namespace cli
