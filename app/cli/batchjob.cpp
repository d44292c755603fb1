// See batchjob.h: the work list, the results file and the progress line.
#include "batchjob.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace cli {

std::atomic<int> g_batchStop{0};

namespace {

void onBatchSigint(int) {
    const int level = g_batchStop.fetch_add(1) + 1;
    const char* message = level == 1 ? "\nstopping after the current item (Ctrl+C again to stop now)\n" : "\nstopping now\n";
    [[maybe_unused]] const auto n = write(STDERR_FILENO, message, std::strlen(message));
}

bool isImageName(const QString& name) {
    static const QStringList kSuffixes = {"png", "jpg", "jpeg", "webp", "bmp", "gif"};
    return kSuffixes.contains(QFileInfo(name).suffix().toLower());
}

std::string sha256Hex(const QByteArray& bytes) {
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex().toStdString();
}

llava::Status ioError(const std::string& path, const std::string& what) {
    return llava::makeError(llava::ErrorCode::IoError, path + ": " + what + ": " + std::strerror(errno));
}

std::string duration(double seconds) {
    char text[32];
    const long s = static_cast<long>(seconds + 0.5);
    if (s >= 3600) std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
    return text;
}

}  // namespace

void installBatchSignalHandler() {
    struct sigaction action {};
    action.sa_handler = onBatchSigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // a result line's write() is never cut short by Ctrl+C
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

llava::Result<std::vector<BatchItem>> listBatchImages(const std::string& imagesArg) {
    const QString arg = QString::fromStdString(imagesArg);
    const QFileInfo info(arg);
    if (!info.exists()) return llava::makeError(llava::ErrorCode::NotFound, imagesArg + ": no such folder or list file");
    std::vector<BatchItem> items;
    if (info.isDir()) {
        const QDir dir(arg);
        for (const QString& name : dir.entryList(QDir::Files | QDir::Readable, QDir::Name))
            if (isImageName(name)) items.push_back({(arg + QLatin1Char('/') + name).toStdString()});
        if (items.empty())
            return llava::makeError(llava::ErrorCode::NotFound,
                                    imagesArg + ": no image files (png, jpg, jpeg, webp, bmp, gif) in this folder");
        return items;
    }
    QFile list(arg);
    if (!list.open(QIODevice::ReadOnly | QIODevice::Text))
        return llava::makeError(llava::ErrorCode::IoError, imagesArg + ": cannot open: " + list.errorString().toStdString());
    const QDir base = info.absoluteDir();
    int lineNo = 0;
    while (!list.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(list.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) continue;
        const QString path = QDir::isAbsolutePath(line) ? line : base.filePath(line);
        items.push_back({path.toStdString()});
    }
    if (items.empty()) return llava::makeError(llava::ErrorCode::NotFound, imagesArg + ": the list has no image paths");
    return items;
}

llava::Result<std::pair<std::string, std::string>> readAndHash(const std::string& path) {
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly))
        return llava::makeError(llava::ErrorCode::IoError, path + ": cannot open: " + file.errorString().toStdString());
    const QByteArray bytes = file.readAll();
    if (file.error() != QFileDevice::NoError)
        return llava::makeError(llava::ErrorCode::IoError, path + ": read failed: " + file.errorString().toStdString());
    return std::pair<std::string, std::string>(sha256Hex(bytes), bytes.toStdString());
}

nlohmann::json batchSettingsJson(const std::string& prompt, const std::string& modelId, const llava::SamplingParams& s) {
    return {{"prompt", prompt},           {"model", modelId},        {"temperature", s.temperature},
            {"top_p", s.topP},            {"top_k", s.topK},         {"min_p", s.minP},
            {"repeat_penalty", s.repetitionPenalty},                 {"max_new_tokens", s.maxNewTokens},
            {"seed", s.seed}};
}

std::string batchSettingsId(const nlohmann::json& settings) {
    const std::string canonical = settings.dump();  // nlohmann sorts object keys: canonical
    return sha256Hex(QByteArray::fromStdString(canonical)).substr(0, 16);
}

// ---- ResultsFile ----

llava::Result<ResultsFile> ResultsFile::open(const std::string& path) {
    ResultsFile out;
    out.m_path = path;
    out.m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (out.m_fd < 0) return ioError(path, "cannot open the results file");
    struct stat st {};
    if (fstat(out.m_fd, &st) != 0) return ioError(path, "cannot stat");
    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        const ssize_t n = pread(out.m_fd, text.data() + got, text.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return ioError(path, "cannot read");
        got += static_cast<std::size_t>(n);
    }
    const std::size_t lastNewline = text.rfind('\n');
    const std::size_t complete = lastNewline == std::string::npos ? 0 : lastNewline + 1;
    if (complete < text.size()) {  // a torn last line: cut it so the next append starts on a fresh line
        if (ftruncate(out.m_fd, static_cast<off_t>(complete)) != 0) return ioError(path, "cannot cut a torn last line");
        out.m_cutTorn = true;
        text.resize(complete);
    }
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        const std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("file") || !j["file"].is_string() || !j.contains("sha256") ||
            !j["sha256"].is_string() || !j.contains("settings") || !j["settings"].is_string()) {
            ++out.m_unreadable;
            continue;
        }
        out.m_done.emplace(j["file"].get<std::string>(), j["sha256"].get<std::string>(), j["settings"].get<std::string>());
    }
    if (lseek(out.m_fd, 0, SEEK_END) < 0) return ioError(path, "cannot seek");
    return out;
}

ResultsFile::ResultsFile(ResultsFile&& other) noexcept
    : m_fd(other.m_fd), m_path(std::move(other.m_path)), m_done(std::move(other.m_done)),
      m_unreadable(other.m_unreadable), m_cutTorn(other.m_cutTorn) {
    other.m_fd = -1;
}

ResultsFile::~ResultsFile() {
    if (m_fd >= 0) ::close(m_fd);
}

bool ResultsFile::done(const std::string& file, const std::string& sha256, const std::string& settings) const {
    return m_done.count({file, sha256, settings}) != 0;
}

llava::Status ResultsFile::append(const nlohmann::json& line) {
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    const off_t before = lseek(m_fd, 0, SEEK_END);
    ssize_t n;
    do n = ::write(m_fd, text.data(), text.size());
    while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(text.size())) {
        // A short write (disk full): take the partial line back so the file stays whole lines.
        const int saved = errno;
        if (before >= 0 && ftruncate(m_fd, before) != 0) {}
        errno = saved;
        return ioError(m_path, "cannot write a result line");
    }
    if (fsync(m_fd) != 0) return ioError(m_path, "fsync failed");
    m_done.emplace(line.value("file", ""), line.value("sha256", ""), line.value("settings", ""));
    return llava::Status::ok();
}

// ---- BatchProgress ----

BatchProgress::BatchProgress(int total) : m_total(total), m_tty(isatty(STDERR_FILENO) != 0) {}

void BatchProgress::itemFinished(const std::string& file, bool ok) {
    (ok ? m_ok : m_errors) += 1;
    draw(file);
}

void BatchProgress::draw(const std::string& file) {
    const int done = m_ok + m_errors + m_skipped;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    const int processed = m_ok + m_errors;
    const double perItem = processed > 0 ? elapsed / processed : 0;
    const double eta = perItem * std::max(0, m_total - done);
    char stats[160];
    std::snprintf(stats, sizeof stats, "%d/%d  ok %d  err %d  skipped %d  %.1f s/img  ETA %s", done, m_total, m_ok,
                  m_errors, m_skipped, perItem, duration(eta).c_str());
    if (!m_tty) {
        std::cerr << stats << "  " << file << "\n";
        return;
    }
    constexpr int kWidth = 24;
    const int filled = m_total > 0 ? kWidth * done / m_total : kWidth;
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<std::size_t>(kWidth - filled - 1), ' ');
    std::cerr << "\r[" << bar << "] " << stats << "   " << std::flush;
}

void BatchProgress::finish() {
    if (m_tty) std::cerr << "\n";
    std::cerr << "batch: " << m_ok << " answered, " << m_errors << " errors, " << m_skipped
              << " skipped (already in the results file) of " << m_total << "\n";
}

}  // namespace cli
