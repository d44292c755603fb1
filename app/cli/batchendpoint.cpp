// `batch --endpoint URL`: each image is POSTed to URL/v1/chat/completions (OpenAI format, image as a
// base64 data: URL, non-streaming), at most --concurrency at a time, with QNetworkAccessManager on the
// CLI's event loop. Which answers become lines (batchjob.h):
//   200                     -> the answer line
//   400 / 413 / 415 / 422   -> an error line (the image or request is at fault; a rerun skips it)
//   429 / 503               -> retried after Retry-After (at most kMaxAttempts times), nothing written
//   anything else, network  -> the run stops without writing that image (a rerun retries it)
#include <QBuffer>
#include <QCoreApplication>
#include <QEventLoop>
#include <QImageReader>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include <chrono>
#include <iostream>
#include <memory>

#include "batchjob.h"
#include "common.h"
#include "imagedecoder.h"

namespace cli {
namespace {

constexpr int kMaxAttempts = 30;

QUrl apiUrl(const std::string& base, const char* path) {
    QString url = QString::fromStdString(base);
    while (url.endsWith(QLatin1Char('/'))) url.chop(1);
    if (!url.endsWith(QLatin1String("/v1"))) url += QLatin1String("/v1");
    return QUrl(url + QLatin1String(path));
}

QNetworkRequest makeRequest(const QUrl& url, const EndpointOptions& options) {
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    request.setTransferTimeout(options.timeoutSeconds * 1000);
    if (!options.apiKey.empty())
        request.setRawHeader("Authorization", QByteArray("Bearer ") + QByteArray::fromStdString(options.apiKey));
    return request;
}

// "data:image/png;base64,..." ; formats the server may not take (BMP, GIF) are sent as lossless PNG.
llava::Result<std::string> dataUrl(const std::string& bytes, const std::string& file) {
    QByteArray data = QByteArray::fromStdString(bytes);
    QBuffer buffer(&data);
    buffer.open(QIODevice::ReadOnly);
    QByteArray format = QImageReader::imageFormat(&buffer);
    if (format != "png" && format != "jpeg" && format != "webp") {
        LLAVA_ASSIGN_OR_RETURN(QImage image, imageio::readImageBytes(data, QString::fromStdString(file)));
        QByteArray png;
        QBuffer out(&png);
        out.open(QIODevice::WriteOnly);
        if (!image.save(&out, "PNG")) return llava::makeError(llava::ErrorCode::IoError, file + ": cannot convert to PNG");
        data = png;
        format = "png";
    }
    return "data:image/" + format.toStdString() + ";base64," + data.toBase64().toStdString();
}

std::string errorMessage(const QByteArray& body) {
    const auto j = nlohmann::json::parse(body.toStdString(), nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
        j["error"]["message"].is_string())
        return j["error"]["message"].get<std::string>();
    return body.left(200).toStdString();
}

class EndpointRunner {
public:
    EndpointRunner(const EndpointOptions& options, const BatchJob& job, ResultsFile& results)
        : m_options(options), m_job(job), m_results(results), m_progress(static_cast<int>(job.items.size())) {}

    llava::Status run() {
        QTimer poll;
        QObject::connect(&poll, &QTimer::timeout, [this] {
            if (g_batchStop.load() > 1) {
                m_fatal = llava::makeError(llava::ErrorCode::Cancelled, "stopped; rerun the same command to resume");
                m_loop.quit();
            } else {
                fill();
            }
        });
        poll.start(100);
        fill();
        if (m_inFlight > 0 || m_retrying > 0) m_loop.exec();
        m_progress.finish();
        if (!m_fatal.isOk()) return m_fatal;
        if (g_batchStop.load() > 0)
            return llava::makeError(llava::ErrorCode::Cancelled, "interrupted; rerun the same command to resume");
        return llava::Status::ok();
    }

private:
    struct Pending {
        std::string file, sha, body;
        int attempt = 0;
        std::chrono::steady_clock::time_point t0;
    };

    bool stopping() const { return g_batchStop.load() > 0 || !m_fatal.isOk(); }

    void maybeQuit() {
        if (m_inFlight == 0 && m_retrying == 0 && (stopping() || m_next >= m_job.items.size())) m_loop.quit();
    }

    void fail(llava::Status status) {
        if (m_fatal.isOk()) m_fatal = std::move(status);
    }

    void fill() {
        while (!stopping() && m_inFlight + m_retrying < m_options.concurrency && m_next < m_job.items.size()) {
            const BatchItem& item = m_job.items[m_next++];
            auto pending = prepare(item);
            if (pending) send(std::move(*pending));
        }
        maybeQuit();
    }

    // Reads, hashes, skips or writes an error line; returns the request to send otherwise.
    std::optional<std::shared_ptr<Pending>> prepare(const BatchItem& item) {
        auto read = readAndHash(item.file);
        if (!read) {
            if (m_results.done(item.file, "", m_job.settingsId)) return m_progress.itemSkipped(), std::nullopt;
            writeLine(errorLine(item.file, "", read.status().message()), false, item.file);
            return std::nullopt;
        }
        auto p = std::make_shared<Pending>();
        p->file = item.file;
        p->sha = read->first;
        if (m_results.done(p->file, p->sha, m_job.settingsId)) return m_progress.itemSkipped(), std::nullopt;
        auto url = dataUrl(read->second, item.file);
        if (!url) {
            writeLine(errorLine(p->file, p->sha, url.status().message()), false, p->file);
            return std::nullopt;
        }
        const llava::SamplingParams& s = m_job.sampling;
        nlohmann::json body = {
            {"model", m_options.modelId},
            {"messages", {{{"role", "user"},
                           {"content", {{{"type", "image_url"}, {"image_url", {{"url", *url}}}},
                                        {{"type", "text"}, {"text", m_job.prompt}}}}}}},
            {"temperature", s.temperature},
            {"top_p", s.topP},
            {"max_tokens", s.maxNewTokens},
            {"seed", s.seed},
            {"stream", false}};
        if (s.topK > 0) body["top_k"] = s.topK;
        if (s.minP > 0) body["min_p"] = s.minP;
        if (s.repetitionPenalty != 1.0f) body["repetition_penalty"] = s.repetitionPenalty;
        p->body = body.dump();
        p->t0 = std::chrono::steady_clock::now();
        return p;
    }

    void send(std::shared_ptr<Pending> p) {
        ++m_inFlight;
        QNetworkReply* reply = m_net.post(makeRequest(apiUrl(m_options.url, "/chat/completions"), m_options),
                                          QByteArray::fromStdString(p->body));
        QObject::connect(reply, &QNetworkReply::finished, [this, reply, p] {
            reply->deleteLater();
            --m_inFlight;
            onReply(reply, p);
            fill();
        });
    }

    void onReply(QNetworkReply* reply, const std::shared_ptr<Pending>& p) {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        if (status == 429 || status == 503) {
            if (++p->attempt >= kMaxAttempts)
                return fail(llava::makeError(llava::ErrorCode::IoError, "the endpoint stayed busy (" +
                                                                            std::to_string(status) + ") for " + p->file));
            bool ok = false;
            const int after = reply->rawHeader("Retry-After").toInt(&ok);
            ++m_retrying;
            QTimer::singleShot(std::clamp(ok ? after : 1, 1, 60) * 1000, [this, p] {
                --m_retrying;
                if (stopping()) return maybeQuit();
                send(p);
            });
            return;
        }
        if (status == 400 || status == 413 || status == 415 || status == 422) {
            writeLine(errorLine(p->file, p->sha, "HTTP " + std::to_string(status) + ": " + errorMessage(body)), false, p->file);
            return;
        }
        if (status != 200) {
            const std::string what = status == 0 ? reply->errorString().toStdString()
                                                  : "HTTP " + std::to_string(status) + ": " + errorMessage(body);
            return fail(llava::makeError(llava::ErrorCode::IoError, "endpoint request for " + p->file + " failed: " + what +
                                                                        "; nothing written for it, rerun to resume"));
        }
        const auto j = nlohmann::json::parse(body.toStdString(), nullptr, false);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - p->t0).count();
        if (j.is_discarded() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
            return fail(llava::makeError(llava::ErrorCode::ParseError, "the endpoint's answer for " + p->file +
                                                                           " is not a chat.completion object"));
        const nlohmann::json& choice = j["choices"][0];
        const nlohmann::json usage = j.value("usage", nlohmann::json::object());
        const nlohmann::json details = usage.value("prompt_tokens_details", nlohmann::json::object());
        nlohmann::json line = {
            {"file", p->file},
            {"sha256", p->sha},
            {"settings", m_job.settingsId},
            {"answer", choice.contains("message") ? choice["message"].value("content", "") : ""},
            {"finish_reason", choice.value("finish_reason", "")},
            {"tokens",
             {{"prompt", usage.value("prompt_tokens", 0)},
              {"image", details.value("image_tokens", nlohmann::json())},
              {"text", details.value("text_tokens", nlohmann::json())},
              {"completion", usage.value("completion_tokens", 0)}}},
            {"timings", {{"total_ms", ms}}},
            {"error", nullptr}};
        writeLine(line, true, p->file);
    }

    nlohmann::json errorLine(const std::string& file, const std::string& sha, const std::string& error) const {
        return {{"file", file},  {"sha256", sha}, {"settings", m_job.settingsId}, {"answer", nullptr},
                {"tokens", nullptr}, {"timings", nullptr}, {"error", oneLine(error)}};
    }

    void writeLine(const nlohmann::json& line, bool ok, const std::string& file) {
        if (auto s = m_results.append(line); !s.isOk()) return fail(s);
        m_progress.itemFinished(file, ok);
    }

    const EndpointOptions& m_options;
    const BatchJob& m_job;
    ResultsFile& m_results;
    BatchProgress m_progress;
    QNetworkAccessManager m_net;
    QEventLoop m_loop;
    std::size_t m_next = 0;
    int m_inFlight = 0;
    int m_retrying = 0;
    llava::Status m_fatal;
};

}  // namespace

llava::Result<std::string> resolveEndpointModel(const EndpointOptions& options) {
    if (!options.modelId.empty()) return options.modelId;
    QNetworkAccessManager net;
    QEventLoop loop;
    QNetworkRequest request = makeRequest(apiUrl(options.url, "/models"), options);
    request.setTransferTimeout(30000);
    QNetworkReply* reply = net.get(request);
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray body = reply->readAll();
    const std::string where = "GET " + apiUrl(options.url, "/models").toString().toStdString();
    if (status != 200)
        return llava::makeError(llava::ErrorCode::IoError,
                                where + ": " + (status == 0 ? reply->errorString().toStdString()
                                                            : "HTTP " + std::to_string(status) + ": " + errorMessage(body)));
    const auto j = nlohmann::json::parse(body.toStdString(), nullptr, false);
    if (j.is_discarded() || !j.contains("data") || !j["data"].is_array() || j["data"].empty() ||
        !j["data"][0].is_object() || !j["data"][0].contains("id") || !j["data"][0]["id"].is_string())
        return llava::makeError(llava::ErrorCode::ParseError, where + ": no model listed; pass --model-name ID");
    return j["data"][0]["id"].get<std::string>();
}

llava::Status runBatchOnEndpoint(const EndpointOptions& options, const BatchJob& job, ResultsFile& results) {
    EndpointRunner runner(options, job, results);
    return runner.run();
}

}  // namespace cli
