// See remotechatengine.h. Wire format: OpenAI chat completions with server-sent events (the same objects
// app/server produces and tests/app/server checks with the official client).
#include "remotechatengine.h"

#include <QBuffer>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QImage>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

#include <algorithm>

#include <QDir>
#include <QFileInfo>

#include "llava/anyres.h"
#include "llava/chattemplate.h"
#include "llava/prompt.h"

#include "inference/completionstream.h"

namespace {

QUrl apiUrl(const QString& base, const char* path) {
    QString url = base.trimmed();
    while (url.endsWith(QLatin1Char('/'))) url.chop(1);
    if (!url.endsWith(QLatin1String("/v1"))) url += QLatin1String("/v1");
    return QUrl(url + QLatin1String(path));
}

QNetworkRequest makeRequest(const QUrl& url, const RemoteEndpoint& endpoint, int timeoutMs) {
    QNetworkRequest request(url);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    request.setTransferTimeout(timeoutMs);
    if (!endpoint.apiKey.isEmpty()) request.setRawHeader("Authorization", "Bearer " + endpoint.apiKey.toUtf8());
    return request;
}

// The server's own words for an HTTP error ({"error": {"message", "code"}}), else the start of the body.
QString serverMessage(const QByteArray& body) {
    const QJsonObject error = QJsonDocument::fromJson(body).object().value("error").toObject();
    const QString message = error.value("message").toString();
    return message.isEmpty() ? QString::fromUtf8(body.left(200)).trimmed() : message;
}

llava::Status httpError(const QString& where, int status, const QByteArray& body, const QString& networkError) {
    if (status == 0)
        return llava::makeError(llava::ErrorCode::IoError,
                                ("cannot reach " + where + ": " + networkError).toStdString());
    const QString message = serverMessage(body);
    const QString code = QJsonDocument::fromJson(body).object().value("error").toObject().value("code").toString();
    if (status == 401 || status == 403)
        return llava::makeError(llava::ErrorCode::InvalidArgument,
                                ("the server refused the API key (HTTP " + QString::number(status) + "): " + message).toStdString());
    if (code == QLatin1String("context_length_exceeded"))
        return llava::makeError(llava::ErrorCode::OutOfRange, ("the server's context is too short: " + message).toStdString());
    if (status == 404 && code == QLatin1String("model_not_found"))
        return llava::makeError(llava::ErrorCode::NotFound, ("model not found on the server: " + message).toStdString());
    return llava::makeError(status >= 500 ? llava::ErrorCode::IoError : llava::ErrorCode::InvalidArgument,
                            ("the server answered HTTP " + QString::number(status) + ": " + message).toStdString());
}

struct Reply {
    int status = 0;
    QByteArray body;
    QString networkError;
};

Reply getBlocking(const QUrl& url, const RemoteEndpoint& endpoint) {
    QNetworkAccessManager net;
    QEventLoop loop;
    QNetworkReply* reply = net.get(makeRequest(url, endpoint, 15000));
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    Reply out{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), reply->readAll(), reply->errorString()};
    reply->deleteLater();
    return out;
}

QString dataUrlOfFile(const QString& path, llava::Status* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = llava::makeError(llava::ErrorCode::IoError, (path + ": cannot open: " + file.errorString()).toStdString());
        return {};
    }
    QByteArray bytes = file.readAll();
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    QByteArray format = QImageReader::imageFormat(&buffer);
    if (format != "png" && format != "jpeg" && format != "webp") {  // re-encode what servers may not take
        QImage image;
        if (!image.loadFromData(bytes)) {
            *error = llava::makeError(llava::ErrorCode::ParseError, (path + ": not an image").toStdString());
            return {};
        }
        bytes.clear();
        QBuffer out(&bytes);
        out.open(QIODevice::WriteOnly);
        image.save(&out, "PNG");
        format = "png";
    }
    return "data:image/" + QString::fromLatin1(format) + ";base64," + QString::fromLatin1(bytes.toBase64());
}

QJsonObject userMessage(const QString& text, const QStringList& imageUrls) {
    QJsonArray content;
    for (const QString& url : imageUrls)
        content.append(QJsonObject{{"type", "image_url"}, {"image_url", QJsonObject{{"url", url}}}});
    content.append(QJsonObject{{"type", "text"}, {"text", text}});
    return {{"role", "user"}, {"content", content}};
}

llava::StopReason stopReasonOf(const QString& finish) {
    if (finish == QLatin1String("length")) return llava::StopReason::MaxTokens;
    return llava::StopReason::Eos;
}

// The prompt the local engine would build for these turns (template, tokenizer, anyres counts): what a
// server serving the same checkpoint should report as usage.prompt_tokens. -1 when it cannot be built.
int localPromptTokens(const llava::Tokenizer& tokenizer, const llava::ModelConfig& config, llava::Reference reference,
                      const std::vector<llava::ChatTurn>& turns, const std::string& systemPrompt,
                      const std::vector<int>& imageTokenCounts) {
    std::string name = config.templateName;
    if (name.empty()) {
        auto chosen = llava::autoChatTemplateName(config.name);
        if (!chosen.isOk()) return -1;
        name = *chosen;
    }
    llava::RenderOptions render;
    render.flavour = reference == llava::Reference::Original ? llava::TemplateFlavour::Original : llava::TemplateFlavour::Transformers;
    render.nImages = 0;
    render.systemPrompt = systemPrompt;
    auto chat = llava::renderChatChunks(name, turns, render);
    if (!chat.isOk()) return -1;
    llava::PromptOptions options;
    options.addBos = tokenizer.defaultAddBos();
    options.imageTokenId = config.imageTokenId >= 0 ? config.imageTokenId : tokenizer.vocabSize();
    auto prompt = llava::buildPrompt(tokenizer, *chat, imageTokenCounts, options);
    return prompt.isOk() ? prompt->totalLength() : -1;
}

// tokenizer.model (+ tokenizer_config.json beside it) for local counts: the chosen file, else the one
// beside config.json. A chosen file that cannot be read is an error; none beside the config is not.
llava::Result<std::shared_ptr<const llava::Tokenizer>> loadLocalTokenizer(const RemoteEndpoint& endpoint) {
    QString path = endpoint.tokenizerPath;
    if (path.isEmpty() && !endpoint.configPath.isEmpty()) {
        const QString beside = QFileInfo(endpoint.configPath).dir().filePath(QStringLiteral("tokenizer.model"));
        if (!QFileInfo::exists(beside)) return std::shared_ptr<const llava::Tokenizer>();
        path = beside;
    }
    if (path.isEmpty()) return std::shared_ptr<const llava::Tokenizer>();
    const std::filesystem::path file(QFileInfo(path).absoluteFilePath().toStdString());
    LLAVA_ASSIGN_OR_RETURN(llava::Tokenizer tokenizer, llava::Tokenizer::loadFile(file));
    LLAVA_TRY(tokenizer.applyTokenizerConfig(file.parent_path()));
    return std::shared_ptr<const llava::Tokenizer>(std::make_shared<llava::Tokenizer>(std::move(tokenizer)));
}

}  // namespace

RemoteChatEngine::RemoteChatEngine(RemoteEndpoint endpoint) : m_endpoint(std::move(endpoint)) {}
RemoteChatEngine::~RemoteChatEngine() = default;

llava::Result<ModelInfo> RemoteChatEngine::load(const LoadRequest& request, const Progress& progress) {
    m_loaded = false;
    if (progress && !progress(0, 1, QStringLiteral("config"))) return llava::makeError(llava::ErrorCode::Cancelled, "cancelled");
    const QUrl url = apiUrl(m_endpoint.url, "/models");
    const Reply r = getBlocking(url, m_endpoint);
    if (r.status != 200) return httpError(url.toString(), r.status, r.body, r.networkError);
    const QJsonArray models = QJsonDocument::fromJson(r.body).object().value("data").toArray();
    QStringList ids;
    QJsonObject chosen;
    for (const QJsonValue& v : models) {
        ids << v.toObject().value("id").toString();
        if (chosen.isEmpty() && (m_endpoint.modelName.isEmpty() || ids.last() == m_endpoint.modelName)) chosen = v.toObject();
    }
    if (chosen.isEmpty())
        return llava::makeError(llava::ErrorCode::NotFound,
                                ("model \"" + m_endpoint.modelName + "\" is not served by " + m_endpoint.url +
                                 (ids.isEmpty() ? QStringLiteral(" (it lists no models)") : " (it serves: " + ids.join(", ") + ")"))
                                    .toStdString());
    m_model = chosen.value("id").toString();

    // The inspector's config: the file the user chose, else the preset the model id names.
    if (!m_endpoint.configPath.isEmpty()) {
        QFile file(m_endpoint.configPath);
        if (!file.open(QIODevice::ReadOnly))
            return llava::makeError(llava::ErrorCode::IoError,
                                    (m_endpoint.configPath + ": cannot open: " + file.errorString()).toStdString());
        LLAVA_ASSIGN_OR_RETURN(m_config, llava::parseModelConfig(file.readAll().toStdString(), m_model.toStdString()));
    } else {
        std::string best;
        const std::string id = m_model.toLower().toStdString();
        for (const std::string& name : llava::presetNames())
            if (id.find(name) != std::string::npos && name.size() > best.size()) best = name;
        if (best.empty())
            return llava::makeError(llava::ErrorCode::NotFound,
                                    ("no built-in preset matches the served model \"" + m_model +
                                     "\"; choose the model's config.json for the inspector")
                                        .toStdString());
        LLAVA_ASSIGN_OR_RETURN(m_config, llava::loadPreset(best));
    }
    LLAVA_ASSIGN_OR_RETURN(m_tokenizer, loadLocalTokenizer(m_endpoint));
    m_reference = request.reference.value_or(m_config.defaultReference);
    const int served = chosen.value("context_length").toInt(chosen.value("max_model_len").toInt(0));
    m_contextLimit = served > 0 ? served : std::min(m_config.text.maxPositions, request.contextLength);
    m_contextUsed = 0;
    m_loaded = true;

    ModelInfo info;
    info.name = m_model;
    info.modelDir = m_endpoint.url;
    info.backend = QStringLiteral("remote");
    info.device = m_endpoint.url;
    info.contextLimit = m_contextLimit;
    info.reference = m_reference;
    info.precision = QStringLiteral("server");
    info.config = m_config;
    if (progress) progress(1, 1, QStringLiteral("config"));
    return info;
}

// The conversation as the server gets it (every message as stored, an unanswered user turn a user message
// of its own, images as data URLs) and as the local template would render it, with the local image counts.
llava::Result<RemoteChatEngine::Prompt> RemoteChatEngine::buildMessages(const GenerationRequest& request) const {
    Prompt p;
    if (!request.systemPrompt.isEmpty()) p.messages.append(QJsonObject{{"role", "system"}, {"content", request.systemPrompt}});
    auto addUser = [&](const QString& text, const QStringList& images) -> llava::Status {
        if (!p.turns.empty() && p.turns.back().role == llava::ChatRole::User)  // an unanswered turn: empty answer
            p.turns.push_back({llava::ChatRole::Assistant, std::string(), 0});
        QStringList urls;
        for (const QString& path : images) {
            llava::Status error;
            urls << dataUrlOfFile(path, &error);
            if (!error.isOk()) return error;
            const QSize size = QImageReader(path).size();
            if (auto layout = llava::computeImageLayout(size.width(), size.height(), m_config, m_reference)) {
                p.localImageTokens += layout->imageTokens;
                p.imageCounts.push_back(layout->imageTokens);
            } else {
                p.countable = false;
            }
        }
        p.messages.append(userMessage(text, urls));
        p.turns.push_back({llava::ChatRole::User, text.toStdString(), int(images.size())});
        return llava::Status::ok();
    };
    for (const ChatMessage& m : request.history) {
        if (m.role == MessageRole::Assistant) {
            p.messages.append(QJsonObject{{"role", "assistant"}, {"content", m.text}});
            p.turns.push_back({llava::ChatRole::Assistant, m.text.toStdString(), 0});
        } else {
            LLAVA_TRY(addUser(m.text, m.images));
        }
    }
    LLAVA_TRY(addUser(request.text, request.imagePaths));
    return p;
}

namespace {
QJsonObject completionBody(const QString& model, const QJsonArray& messages, const llava::SamplingParams& s) {
    QJsonObject body{{"model", model},
                     {"messages", messages},
                     {"stream", true},
                     {"stream_options", QJsonObject{{"include_usage", true}}},
                     {"temperature", s.temperature},
                     {"top_p", s.topP},
                     {"max_tokens", s.maxNewTokens},
                     {"seed", static_cast<qint64>(s.seed)}};
    if (!s.stopStrings.empty()) {
        QJsonArray stops;
        for (const std::string& stop : s.stopStrings) stops.append(QString::fromStdString(stop));
        body["stop"] = stops;
    }
    return body;
}

// How a streamed POST ended: the HTTP status, the body of an error answer (not a stream) and the network error.
struct StreamEnd {
    int status = 0;
    QByteArray errorBody;
    QString networkError;
    bool networkFailed = false;
    bool cancelled = false;  // by `cancel` (checked every 50 ms) or by the stream's listener
};

StreamEnd postStreaming(const QUrl& url, const RemoteEndpoint& endpoint, const QJsonObject& body, CompletionStream& stream,
                        const llava::CancelPredicate& cancel) {
    QNetworkAccessManager net;
    QEventLoop loop;
    QNetworkReply* reply = net.post(makeRequest(url, endpoint, endpoint.timeoutMs), QJsonDocument(body).toJson(QJsonDocument::Compact));
    StreamEnd end;
    auto consume = [&] {
        if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() != 200) {  // an error object, not a stream
            end.errorBody += reply->readAll();
            return;
        }
        stream.feed(reply->readAll());
        if (stream.listenerStopped()) reply->abort();
    };
    QObject::connect(reply, &QNetworkReply::readyRead, &loop, consume);
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (cancel && cancel()) {
            end.cancelled = true;
            reply->abort();
        }
    });
    poll.start(50);
    loop.exec();
    consume();
    end.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    end.networkError = reply->errorString();
    end.networkFailed = reply->error() != QNetworkReply::NoError;
    end.cancelled = end.cancelled || stream.listenerStopped();
    reply->deleteLater();
    return end;
}
}  // namespace

llava::Result<llava::GenerationStats> RemoteChatEngine::reply(const GenerationRequest& request,
                                                              const llava::TokenCallback& onToken,
                                                              const llava::CancelPredicate& cancel) {
    if (!m_loaded) return llava::makeError(llava::ErrorCode::InvalidArgument, "not connected to a server");
    QElapsedTimer clock;
    clock.start();
    LLAVA_ASSIGN_OR_RETURN(Prompt prompt, buildMessages(request));
    llava::GenerationStats stats;
    CompletionStream stream([&](const QString& piece) {
        if (stats.timeToFirstTokenMs == 0) stats.timeToFirstTokenMs = static_cast<double>(clock.elapsed());
        // Remote pieces carry no token id the app could use; 0 marks "a token", never the -1 flush.
        return !onToken || onToken({0, piece.toStdString(), std::nullopt});
    });
    const QUrl url = apiUrl(m_endpoint.url, "/chat/completions");
    const StreamEnd end = postStreaming(url, m_endpoint, completionBody(m_model, prompt.messages, request.sampling), stream, cancel);
    stats.generatedTokens = stream.completionTokens();
    if (end.cancelled) {
        stats.stopReason = llava::StopReason::Cancelled;
        return stats;
    }
    if (end.status != 200 || end.networkFailed) return httpError(url.toString(), end.status, end.errorBody, end.networkError);
    if (!stream.errorPayload().isEmpty())
        return llava::makeError(llava::ErrorCode::IoError,
                                ("the server stopped with an error: " + serverMessage(stream.errorPayload())).toStdString());
    stats.stopReason = stopReasonOf(stream.finishReason());
    const double seconds = static_cast<double>(clock.elapsed()) / 1000.0;
    stats.decodeTokPerS = stats.generatedTokens > 1 && seconds > 0 ? stats.generatedTokens / seconds : 0;
    recordUsage(request, prompt, stream.promptTokens(), stats);
    return stats;
}

// The server's prompt count next to the local one (the status bar shows both when they differ).
void RemoteChatEngine::recordUsage(const GenerationRequest& request, const Prompt& prompt, int promptTokens,
                                   llava::GenerationStats& stats) {
    stats.imageTokens = prompt.localImageTokens;
    stats.textTokens = promptTokens > 0 ? std::max(0, promptTokens - prompt.localImageTokens) : 0;
    m_lastPromptTokens = promptTokens;
    m_lastLocalImageTokens = prompt.localImageTokens;
    ServerUsage usage;
    usage.promptTokens = promptTokens;
    usage.completionTokens = stats.generatedTokens;
    usage.localImageTokens = prompt.localImageTokens;
    if (m_tokenizer && prompt.countable)
        usage.localPromptTokens = localPromptTokens(*m_tokenizer, m_config, m_reference, prompt.turns,
                                                    request.systemPrompt.toStdString(), prompt.imageCounts);
    m_lastUsage = usage;
    m_contextUsed = promptTokens + stats.generatedTokens;
}

void RemoteChatEngine::clear() {
    m_contextUsed = 0;
    m_lastPromptTokens = 0;
    m_lastLocalImageTokens = 0;
    m_lastUsage.reset();
}
