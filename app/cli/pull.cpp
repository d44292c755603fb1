// `pull REPO [--revision R]`: downloads a model into the Hugging Face hub cache (hub::HubDownloader) with
// a progress bar on stderr; Ctrl+C cancels (the partial file stays and the next pull resumes it). Prints
// the snapshot folder on stdout when done.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <unistd.h>

#include <QEventLoop>
#include <QTimer>

#include "args.h"
#include "commands.h"
#include "hubdownloader.h"

namespace cli {
namespace {

std::atomic<bool> g_pullCancel{false};
void onPullSigint(int) { g_pullCancel.store(true); }

const std::vector<OptionSpec>& pullOptions() {
    static const std::vector<OptionSpec> kOptions = {
        {"revision", ValueKind::Value, "R", "branch, tag or commit (default main)"},
        {"cache-dir", ValueKind::Value, "DIR", "hub cache to write (default: $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)"},
    };
    return kOptions;
}

std::string humanBytes(double bytes) {
    char text[32];
    if (bytes >= double(1ll << 30)) std::snprintf(text, sizeof text, "%.2f GiB", bytes / double(1ll << 30));
    else std::snprintf(text, sizeof text, "%.1f MiB", bytes / double(1 << 20));
    return text;
}

std::string duration(double seconds) {
    if (seconds < 0) return "--:--";
    const long s = static_cast<long>(seconds + 0.5);
    char text[32];
    if (s >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
    return text;
}

// "[##########----------]  48% 1.20 GiB/2.50 GiB  35.2 MiB/s  ETA 0:37  file 3/9 model-00001-of-00002.safetensors"
std::string progressLine(const hub::DownloadProgress& p) {
    constexpr int kWidth = 24;
    const double fraction = p.total.totalBytes > 0 ? double(p.total.doneBytes) / double(p.total.totalBytes) : 0.0;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar = "[" + std::string(std::size_t(filled), '#') + std::string(std::size_t(kWidth - filled), '-') + "]";
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(fraction * 100.0));
    return bar + " " + pct + " " + humanBytes(double(p.total.doneBytes)) + "/" + humanBytes(double(p.total.totalBytes)) +
           "  " + humanBytes(p.total.bytesPerSecond) + "/s  ETA " + duration(p.total.etaSeconds) + "  file " +
           std::to_string(p.fileIndex + 1) + "/" + std::to_string(p.fileCount) + " " + p.file.toStdString() + " (" +
           humanBytes(double(p.current.doneBytes)) + "/" + humanBytes(double(p.current.totalBytes)) + ")";
}

}  // namespace

llava::Status runPull(const Args& argv) {
    LLAVA_ASSIGN_OR_RETURN(ParsedArgs args, parseArgs(argv, pullOptions(), 1));
    if (args.has("help")) {
        std::cout << "Usage: llava-insight-cli pull REPO [--revision R] [--cache-dir DIR]\n\n"
                     "Downloads the files this app needs (config, tokenizer, processor config, safetensors shards and\n"
                     "index) of a Hugging Face model repository into the hub cache, shared with transformers.\n"
                     "Resumes interrupted downloads; verifies every LFS file's sha256 before it is used.\n"
                     "Environment: HF_ENDPOINT (mirror), HF_TOKEN or the token file of `huggingface-cli login`\n"
                     "(gated repos), http_proxy / https_proxy / no_proxy. Supported repositories:\n";
        for (const QString& repo : hub::supportedRepositories()) std::cout << "  " << repo.toStdString() << "\n";
        std::cout << "\nOptions:\n" << formatOptions(pullOptions());
        return llava::Status::ok();
    }
    if (args.positional().empty()) return llava::makeError(llava::ErrorCode::InvalidArgument, "missing REPO (e.g. llava-hf/llava-v1.6-mistral-7b-hf)");
    hub::HubConfig config = hub::hubConfigFromEnvironment(llava::processEnvironment());
    if (auto dir = args.value("cache-dir")) config.cacheDir = QString::fromStdString(*dir);
    const QString repo = QString::fromStdString(args.positional()[0]);
    const QString revision = QString::fromStdString(args.value("revision").value_or("main"));

    hub::HubDownloader downloader(config);
    const bool tty = isatty(STDERR_FILENO) != 0;
    QEventLoop loop;
    QString result, error;
    bool cancelled = false;
    int lastFile = -1;
    QObject::connect(&downloader, &hub::HubDownloader::progressChanged, &loop, [&](const hub::DownloadProgress& p) {
        if (tty) std::cerr << "\r" << progressLine(p) << "\x1b[K" << std::flush;
        else if (p.fileIndex != lastFile || p.total.doneBytes == p.total.totalBytes) std::cerr << progressLine(p) << "\n";
        lastFile = p.fileIndex;
    });
    QObject::connect(&downloader, &hub::HubDownloader::messageLogged, &loop, [&](const QString& m) {
        std::cerr << (tty ? "\r\x1b[K" : "") << m.toStdString() << "\n";
    });
    QObject::connect(&downloader, &hub::HubDownloader::finished, &loop, [&](const QString& dir) {
        result = dir;
        loop.quit();
    });
    QObject::connect(&downloader, &hub::HubDownloader::failed, &loop, [&](const QString& e) {
        error = e;
        loop.quit();
    });
    QObject::connect(&downloader, &hub::HubDownloader::cancelled, &loop, [&] {
        cancelled = true;
        loop.quit();
    });
    struct sigaction action {};
    action.sa_handler = onPullSigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (g_pullCancel.load()) downloader.cancel();
    });
    poll.start(100);
    std::cerr << "pulling " << repo.toStdString() << "@" << revision.toStdString() << " from "
              << config.endpoint.toString().toStdString() << " into " << config.cacheDir.toStdString()
              << (config.token.isEmpty() ? "" : " (token from " + config.tokenSource.toStdString() + ")") << "\n";
    downloader.start(repo, revision);
    if (downloader.isRunning()) loop.exec();
    if (tty) std::cerr << "\n";
    if (cancelled)
        return llava::makeError(llava::ErrorCode::Cancelled, "cancelled; run the same pull again to resume");
    if (!error.isEmpty()) return llava::makeError(llava::ErrorCode::IoError, error.toStdString());
    std::cout << result.toStdString() << "\n";
    std::cerr << "done; chat with: llava-insight-cli chat --model " << result.toStdString() << "\n";
    return llava::Status::ok();
}

}  // namespace cli
