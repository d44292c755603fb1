// See apiserver.h.
#include "apiserver.h"

#include <QBuffer>
#include <QImageReader>
#include <QMetaObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <nlohmann/json.hpp>

#include "chatcompletion.h"
#include "layoutjson.h"

namespace server {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Constant-time comparison so the key cannot be guessed byte by byte from response times.
bool sameSecret(std::string_view given, std::string_view key) {
    if (key.empty()) return false;
    std::size_t diff = given.size() ^ key.size();
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i] ^ key[i % key.size()]);
    return diff == 0;
}

ApiError error(int status, std::string code, std::string message, std::string type = "invalid_request_error") {
    ApiError e;
    e.status = status;
    e.code = std::move(code);
    e.message = std::move(message);
    e.type = std::move(type);
    return e;
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, std::unique_ptr<InferenceQueue> queue, QObject* parent)
    : QObject(parent), m_options(std::move(options)), m_queue(std::move(queue)), m_started(unixNow()) {
    m_options.limits.maxNewTokens = std::max(1, m_queue->contextLimit());
    m_options.http.limits.maxBodyBytes = std::max<std::size_t>(m_options.http.limits.maxBodyBytes, 1);
    std::random_device device;
    m_nextId = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    m_http = new HttpServer(
        m_options.http, [this](HttpRequest request, std::shared_ptr<HttpExchange> exchange) {
            handle(std::move(request), std::move(exchange));
        },
        [](int status, const std::string& message) {
            ApiError e = error(status, status == 413 ? "request_too_large" : "bad_http_request", message);
            if (status >= 500) e.type = "server_error";
            return std::pair<std::string, std::string>(apiErrorJson(e), "application/json");
        },
        this);
}

ApiServer::~ApiServer() {
    for (const auto& flag : m_inFlight)
        if (auto f = flag.lock()) f->store(true);
    m_queue.reset();  // joins the inference thread; its queued reports to this object are dropped with it
}

bool ApiServer::listen(const QHostAddress& address, quint16 port, QString* errorText) {
    return m_http->listen(address, port, errorText);
}

quint16 ApiServer::port() const { return m_http->port(); }

void ApiServer::sendError(const std::shared_ptr<HttpExchange>& exchange, const ApiError& e, const HttpHeaders& extra) {
    exchange->respond(e.status, "application/json", apiErrorJson(e), extra);
}

void ApiServer::handle(HttpRequest request, std::shared_ptr<HttpExchange> exchange) {
    const std::string_view path = request.path();
    struct Route {
        std::string_view path, method;
    };
    static constexpr Route kRoutes[] = {{"/health", "GET"},
                                        {"/v1/models", "GET"},
                                        {"/v1/chat/completions", "POST"},
                                        {"/v1/inspect", "POST"}};
    const Route* route = nullptr;
    for (const Route& r : kRoutes)
        if (r.path == path) route = &r;
    if (!route)
        return sendError(exchange, error(404, "not_found", "no such endpoint: " + std::string(path) +
                                                               " (try /v1/chat/completions, /v1/models, /health)"));
    if (request.method != route->method)
        return sendError(exchange,
                         error(405, "method_not_allowed", std::string(path) + " takes " + std::string(route->method)),
                         {{"Allow", std::string(route->method)}});
    if (path == "/health") return health(exchange);
    if (!authorized(request, exchange)) return;
    if (path == "/v1/models") return models(exchange);
    if (path == "/v1/inspect") return inspect(request, exchange);
    chatCompletions(request, exchange);
}

bool ApiServer::authorized(const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange) {
    if (m_options.apiKey.empty()) return true;
    const auto header = request.header("authorization");
    if (!header) {
        sendError(exchange, error(401, "invalid_api_key", "missing API key: send the header \"Authorization: Bearer <key>\""));
        return false;
    }
    constexpr std::string_view kBearer = "Bearer ";
    if (header->substr(0, kBearer.size()) != kBearer || !sameSecret(header->substr(kBearer.size()), m_options.apiKey)) {
        sendError(exchange, error(401, "invalid_api_key", "incorrect API key"));
        return false;
    }
    return true;
}

void ApiServer::health(const std::shared_ptr<HttpExchange>& exchange) {
    const InferenceQueue::Snapshot q = m_queue->snapshot();
    const json body = {{"status", "ok"},
                       {"model", m_options.modelId},
                       {"backend", m_queue->backendReport().name},
                       {"queue", {{"running", q.running ? 1 : 0}, {"waiting", q.waiting}, {"capacity", q.capacity}}},
                       {"requests",
                        {{"served", m_counters.served},
                         {"rejected_busy", m_counters.rejectedBusy},
                         {"cancelled_by_disconnect", m_counters.cancelledByDisconnect}}}};
    exchange->respond(200, "application/json", dump(body));
}

void ApiServer::models(const std::shared_ptr<HttpExchange>& exchange) {
    const json model = {{"id", m_options.modelId},
                        {"object", "model"},
                        {"created", m_started},
                        {"owned_by", "llava-insight"},
                        {"context_length", m_queue->contextLimit()},
                        {"template", m_queue->config().templateName}};
    exchange->respond(200, "application/json", dump({{"object", "list"}, {"data", json::array({model})}}));
}

// Header-only size check of every image before anything is queued: an image bomb (a few bytes declaring
// 100000 x 100000 pixels) is refused without allocating its pixels.
bool ApiServer::checkImages(const ChatRequest& request, const std::shared_ptr<HttpExchange>& exchange) {
    auto check = [&](const ApiMessage& message) {
        for (const EncodedImage& image : message.images) {
            QByteArray bytes = QByteArray::fromRawData(image.bytes.data(), static_cast<qsizetype>(image.bytes.size()));
            QBuffer buffer(&bytes);
            buffer.open(QIODevice::ReadOnly);
            QImageReader reader(&buffer);
            if (!reader.canRead()) {
                sendError(exchange, error(400, "invalid_image", image.where + ": the bytes are not a PNG, JPEG or WebP image"));
                return false;
            }
            const QSize size = reader.size();
            if (size.isValid() && static_cast<std::int64_t>(size.width()) * size.height() > m_options.maxImagePixels) {
                sendError(exchange, error(400, "image_too_large",
                                          image.where + ": " + std::to_string(size.width()) + "x" +
                                              std::to_string(size.height()) + " pixels is more than the limit of " +
                                              std::to_string(m_options.maxImagePixels) + " pixels per image"));
                return false;
            }
        }
        return true;
    };
    for (const ChatRequest::Exchange& e : request.history)
        if (!check(e.user)) return false;
    return check(request.last);
}

void ApiServer::chatCompletions(const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange) {
    ChatRequestParse parsed = parseChatRequest(request.body, m_options.limits, m_options.defaults);
    if (!parsed.request) return sendError(exchange, parsed.error);
    auto chat = std::make_shared<ChatRequest>(std::move(*parsed.request));
    if (chat->model != m_options.modelId && chat->model != m_queue->config().name)
        return sendError(exchange, error(404, "model_not_found",
                                         "the model \"" + chat->model + "\" is not served here; this server serves \"" +
                                             m_options.modelId + "\""));
    if (!imagesToFetch(*chat).empty()) return fetchImages(std::move(chat), exchange);
    submit(std::move(chat), exchange);
}

void ApiServer::fetchImages(std::shared_ptr<ChatRequest> chat, const std::shared_ptr<HttpExchange>& exchange) {
    if (!m_net) m_net = new QNetworkAccessManager(this);
    const std::vector<EncodedImage*> images = imagesToFetch(*chat);
    auto remaining = std::make_shared<int>(static_cast<int>(images.size()));
    auto failed = std::make_shared<bool>(false);
    const qint64 maxBytes = static_cast<qint64>(m_options.http.limits.maxBodyBytes);
    for (EncodedImage* image : images) {
        QNetworkRequest request(QUrl(QString::fromStdString(image->url)));
        request.setTransferTimeout(30000);
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
        request.setMaximumRedirectsAllowed(3);
        QNetworkReply* reply = m_net->get(request);
        // The download is bounded like a request body: more than the body limit aborts it.
        connect(reply, &QNetworkReply::downloadProgress, reply, [reply, maxBytes](qint64 received, qint64) {
            if (received > maxBytes) reply->abort();
        });
        connect(reply, &QNetworkReply::finished, this, [=, this] {
            reply->deleteLater();
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            const QByteArray bytes = reply->readAll();
            if (!*failed && (reply->error() != QNetworkReply::NoError || status != 200 || bytes.isEmpty() ||
                             bytes.size() > maxBytes)) {
                *failed = true;
                const std::string why = bytes.size() > maxBytes || reply->error() == QNetworkReply::OperationCanceledError
                                            ? "larger than " + std::to_string(maxBytes) + " bytes"
                                            : reply->errorString().toStdString();
                sendError(exchange, error(400, "image_fetch_failed", image->where + ": cannot fetch " + image->url + ": " + why));
            }
            if (!*failed) image->bytes.assign(bytes.constData(), static_cast<std::size_t>(bytes.size()));
            if (--*remaining > 0 || *failed || exchange->clientGone()) return;
            submit(chat, exchange);
        });
    }
}

void ApiServer::submit(std::shared_ptr<ChatRequest> chat, const std::shared_ptr<HttpExchange>& exchange) {
    if (!checkImages(*chat, exchange)) return;

    char id[32];
    std::snprintf(id, sizeof id, "chatcmpl-%016llx", static_cast<unsigned long long>(m_nextId++));
    auto writer = std::make_shared<CompletionWriter>(
        CompletionInfo{id, unixNow(), m_options.modelId, m_options.fingerprint, chat->stream, chat->includeUsage,
                       chat->returnTokenIds, chat->topLogprobs},
        exchange);
    const std::shared_ptr<std::atomic<bool>> cancel = exchange->cancelFlag();
    ChatJobCallbacks callbacks;
    // Reports travel to this thread as queued calls; `this` outlives the inference thread (see ~ApiServer).
    callbacks.report = [this, writer](const llava::TokenEvent& event) {
        QMetaObject::invokeMethod(this, [writer, event] { writer->onToken(event); }, Qt::QueuedConnection);
    };
    callbacks.finish = [this, writer](const ChatOutcome& outcome) {
        QMetaObject::invokeMethod(this, [this, writer, outcome] {
            const bool cancelled = outcome.status.code() == llava::ErrorCode::Cancelled ||
                                   (outcome.status.isOk() && outcome.stats.stopReason == llava::StopReason::Cancelled);
            if (writer->exchange()->clientGone() && cancelled) ++m_counters.cancelledByDisconnect;
            else if (outcome.status.isOk() && !writer->exchange()->clientGone()) ++m_counters.served;
            writer->onFinished(outcome);
        }, Qt::QueuedConnection);
    };
    const bool queued = m_queue->trySubmit(
        [chat, cancel, callbacks](llava::Engine& engine) { runChatJob(engine, *chat, cancel, callbacks); },
        [callbacks] {  // the app's model was unloaded while this request waited
            ChatOutcome gone;
            gone.status = llava::makeError(llava::ErrorCode::Cancelled, "the served model was unloaded in the app");
            callbacks.finish(gone);
        });
    if (!queued) {
        ++m_counters.rejectedBusy;
        const int retry = m_queue->retryAfterSeconds();
        return sendError(exchange,
                         error(429, "server_busy",
                               "the server is busy (one generation runs and " +
                                   std::to_string(m_queue->snapshot().capacity) +
                                   " wait); retry after " + std::to_string(retry) + " s",
                               "rate_limit_error"),
                         {{"Retry-After", std::to_string(retry)}});
    }
    m_inFlight.erase(std::remove_if(m_inFlight.begin(), m_inFlight.end(), [](const auto& w) { return w.expired(); }),
                     m_inFlight.end());
    m_inFlight.push_back(cancel);
}

void ApiServer::inspect(const HttpRequest& request, const std::shared_ptr<HttpExchange>& exchange) {
    if (jsonNestingDepth(request.body, m_options.limits.maxJsonDepth) > m_options.limits.maxJsonDepth)
        return sendError(exchange, error(400, "invalid_json", "JSON nested too deeply"));
    const json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return sendError(exchange, error(400, "invalid_json", "the request body must be a JSON object"));
    const auto field = body.find("image_url");
    if (field == body.end())
        return sendError(exchange, error(400, "invalid_value", "image_url: missing (a data: URL with the image)"));
    const json& urlValue = field->is_object() && field->contains("url") ? (*field)["url"] : *field;
    if (!urlValue.is_string())
        return sendError(exchange, error(400, "invalid_type", "image_url: expected a string (a data: URL)"));
    ApiError e;
    auto image = parseImageUrl(urlValue.get<std::string>(), "image_url", &e);
    if (!image) return sendError(exchange, e);
    image->where = "image_url";
    ChatRequest probe;
    probe.last.images.push_back(*image);
    if (!checkImages(probe, exchange)) return;
    QByteArray bytes = QByteArray::fromRawData(image->bytes.data(), static_cast<qsizetype>(image->bytes.size()));
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    QSize size = reader.size();
    if (!size.isValid()) {  // formats without a cheap header read: decode once (bounded by the pixel check)
        QImage decoded;
        if (!reader.read(&decoded)) return sendError(exchange, error(400, "invalid_image", "image_url: cannot decode the image"));
        size = decoded.size();
    }
    llava::Reference reference = m_queue->reference();
    if (const auto r = body.find("reference"); r != body.end()) {
        if (!r->is_string() || !llava::parseReference(r->get<std::string>(), &reference))
            return sendError(exchange, error(400, "invalid_value", "reference: expected \"original\" or \"transformers\""));
    }
    const llava::Reference other =
        reference == llava::Reference::Original ? llava::Reference::Transformers : llava::Reference::Original;
    const auto layout = llava::computeImageLayout(size.width(), size.height(), m_queue->config(), reference);
    const auto otherLayout = llava::computeImageLayout(size.width(), size.height(), m_queue->config(), other);
    if (!layout.isOk() || !otherLayout.isOk())
        return sendError(exchange, error(400, "invalid_image", (layout.isOk() ? otherLayout : layout).status().message()));
    json out = inspectJson(m_queue->config().name, reference, *layout, *otherLayout);
    out["total_tokens"] = layout->imageTokens;
    exchange->respond(200, "application/json", dump(out));
}

}  // namespace server
