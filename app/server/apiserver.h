// The OpenAI-compatible API of one loaded model: routes, API-key check, request limits, the bounded
// inference queue and the answers. Lives on the thread that runs the Qt event loop (the CLI's main thread,
// later the GUI's); inference runs on the InferenceQueue's thread, which this object owns.
//   GET  /health                 liveness + queue state (no API key needed)
//   GET  /v1/models              the one served model
//   POST /v1/chat/completions    OpenAI chat completions, streaming or not (chatcompletion.h)
//   POST /v1/inspect             anyres layout of an image, as `llava-insight-cli inspect --json`
// Image URLs (http/https) are fetched only when RequestLimits::allowImageUrls (serve --allow-image-urls).
#pragma once

#include <QObject>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "httpserver.h"
#include "inferencequeue.h"
#include "openairequest.h"

class QNetworkAccessManager;

namespace server {

struct ApiServerOptions {
    std::string modelId;                        // what /v1/models lists and requests must name
    std::string apiKey;                         // empty: no key needed
    std::string fingerprint;                    // system_fingerprint of responses
    RequestLimits limits;
    std::int64_t maxImagePixels = 50'000'000;   // declared W*H per image, checked before decoding
    llava::SamplingParams defaults;             // for fields a request leaves out
    HttpServerOptions http;
};

class ApiServer : public QObject {
    Q_OBJECT
public:
    ApiServer(ApiServerOptions options, std::unique_ptr<InferenceQueue> queue, QObject* parent = nullptr);
    ~ApiServer() override;  // cancels every request, then stops the inference thread

    bool listen(const QHostAddress& address, quint16 port, QString* error);
    quint16 port() const;

    struct Counters {
        std::int64_t served = 0;                 // completions answered 200
        std::int64_t rejectedBusy = 0;           // 429
        std::int64_t cancelledByDisconnect = 0;  // generations stopped early (or never started) because the client left
    };
    const Counters& counters() const { return m_counters; }

private:
    void handle(HttpRequest request, std::shared_ptr<HttpExchange> exchange);
    bool authorized(const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange);
    void health(const std::shared_ptr<HttpExchange>& exchange);
    void models(const std::shared_ptr<HttpExchange>& exchange);
    void chatCompletions(const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange);
    void inspect(const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange);
    bool checkImages(const ChatRequest& request, const std::shared_ptr<HttpExchange>& exchange);
    // --allow-image-urls: downloads the request's http(s) images (bounded size and time), then submits.
    void fetchImages(std::shared_ptr<ChatRequest> chat, const std::shared_ptr<HttpExchange>& exchange);
    void submit(std::shared_ptr<ChatRequest> chat, const std::shared_ptr<HttpExchange>& exchange);
    void sendError(const std::shared_ptr<HttpExchange>& exchange, const ApiError& error, const HttpHeaders& extra = {});

    ApiServerOptions m_options;
    std::unique_ptr<InferenceQueue> m_queue;
    HttpServer* m_http;
    QNetworkAccessManager* m_net = nullptr;  // created on the first image URL to fetch
    Counters m_counters;
    std::vector<std::weak_ptr<std::atomic<bool>>> m_inFlight;  // cancel flags of queued/running jobs
    std::int64_t m_started = 0;
    std::uint64_t m_nextId = 0;
};

}  // namespace server
