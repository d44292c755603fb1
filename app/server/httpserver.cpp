// See httpserver.h.
#include "httpserver.h"

#include <QMetaObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <cstdio>

namespace server {
namespace {

constexpr qint64 kReadChunk = 64 * 1024;

std::string statusLine(int status) {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(httpReasonPhrase(status)) + "\r\n";
}

std::string headerLines(const HttpHeaders& headers) {
    std::string out;
    for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
    return out;
}

}  // namespace

std::string_view httpReasonPhrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

// ---- HttpExchange ----

HttpExchange::HttpExchange(HttpConnection* connection) : m_connection(connection) {}

void HttpExchange::respond(int status, std::string_view contentType, std::string_view body, const HttpHeaders& extra) {
    if (m_state != State::Open) return;
    m_state = State::Done;
    if (!m_connection) return;
    std::string head = statusLine(status) + "Content-Type: " + std::string(contentType) +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + headerLines(extra) + m_connection->connectionHeader() + "\r\n";
    m_connection->write(head);
    m_connection->write(body);
    m_connection->finishExchange(true);
}

void HttpExchange::beginStream(int status, std::string_view contentType, const HttpHeaders& extra) {
    if (m_state != State::Open) return;
    m_state = State::Streaming;
    if (!m_connection) return;
    m_connection->write(statusLine(status) + "Content-Type: " + std::string(contentType) +
                        "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache\r\n" + headerLines(extra) +
                        m_connection->connectionHeader() + "\r\n");
}

void HttpExchange::writeChunk(std::string_view data) {
    if (m_state != State::Streaming || !m_connection || data.empty()) return;
    char size[24];
    std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    m_connection->write(std::string(size) + std::string(data) + "\r\n");
}

void HttpExchange::endStream() {
    if (m_state != State::Streaming) return;
    m_state = State::Done;
    if (!m_connection) return;
    m_connection->write("0\r\n\r\n");
    m_connection->finishExchange(true);
}

// ---- HttpServer ----

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, HttpErrorBody errorBody, QObject* parent)
    : QObject(parent), m_options(options), m_handler(std::move(handler)), m_errorBody(std::move(errorBody)),
      m_server(new QTcpServer(this)) {
    connect(m_server, &QTcpServer::newConnection, this, &HttpServer::acceptConnections);
}

HttpServer::~HttpServer() {
    // Connections first, while the counter they decrement still exists; their exchanges see cancelFlag().
    qDeleteAll(findChildren<HttpConnection*>(Qt::FindDirectChildrenOnly));
}

bool HttpServer::listen(const QHostAddress& address, quint16 port, QString* error) {
    if (m_server->listen(address, port)) return true;
    if (error) *error = m_server->errorString();
    return false;
}

quint16 HttpServer::port() const { return m_server->serverPort(); }

void HttpServer::acceptConnections() {
    while (QTcpSocket* socket = m_server->nextPendingConnection()) {
        if (m_connections >= m_options.maxConnections) {
            const auto [body, type] = m_errorBody(503, "too many open connections; try again later");
            const std::string response = statusLine(503) + "Content-Type: " + type + "\r\nContent-Length: " +
                                         std::to_string(body.size()) + "\r\nConnection: close\r\nRetry-After: 1\r\n\r\n" +
                                         body;
            socket->write(response.data(), static_cast<qint64>(response.size()));
            connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            socket->disconnectFromHost();
            continue;
        }
        new HttpConnection(socket, this);  // parented to the server; deletes itself when closed
    }
}

// ---- HttpConnection ----

HttpConnection::HttpConnection(QTcpSocket* socket, HttpServer* server)
    : QObject(server), m_socket(socket), m_server(server), m_parser(server->m_options.limits), m_idleTimer(new QTimer(this)) {
    ++m_server->m_connections;
    m_socket->setParent(this);
    m_idleTimer->setSingleShot(true);
    m_idleTimer->setInterval(server->m_options.idleTimeoutMs);
    connect(m_idleTimer, &QTimer::timeout, this, [this] {
        if (m_current) return;
        if (m_parser.bufferedBytes() > 0 || !m_pending.empty()) sendError(408, "request not completed in time");
        else closeNow();
    });
    connect(m_socket, &QTcpSocket::readyRead, this, &HttpConnection::readAvailable);
    connect(m_socket, &QTcpSocket::disconnected, this, &HttpConnection::closeNow);
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) { closeNow(); });
    m_idleTimer->start();
    if (m_socket->bytesAvailable() > 0) QMetaObject::invokeMethod(this, &HttpConnection::readAvailable, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() {
    --m_server->m_connections;
    if (m_current) m_current->m_cancel->store(true);
}

void HttpConnection::write(std::string_view bytes) {
    if (m_closing || bytes.empty()) return;
    m_socket->write(bytes.data(), static_cast<qint64>(bytes.size()));
}

void HttpConnection::readAvailable() {
    if (m_closing) return;
    const HttpLimits& limits = m_server->m_options.limits;
    while (m_socket->bytesAvailable() > 0) {
        const QByteArray data = m_socket->read(kReadChunk);
        if (data.isEmpty()) break;
        m_pending.append(data.constData(), static_cast<std::size_t>(data.size()));
        // While a request is answered, further bytes (a pipelined request) wait here, bounded.
        if (m_current && m_pending.size() > limits.maxHeadBytes + limits.maxBodyBytes) {
            closeNow();
            return;
        }
    }
    if (!m_current) processBuffered();
}

void HttpConnection::processBuffered() {
    if (m_closing || m_current) return;
    const std::string bytes = std::move(m_pending);
    m_pending.clear();
    const HttpRequestParser::State state = m_parser.feed(bytes);
    if (state == HttpRequestParser::State::Failed) {
        sendError(m_parser.error().status, m_parser.error().message);
        return;
    }
    if (state == HttpRequestParser::State::NeedMore) {
        if (m_parser.wantsContinue() && !m_continueSent) {
            write("HTTP/1.1 100 Continue\r\n\r\n");
            m_continueSent = true;
        }
        return;
    }
    m_idleTimer->stop();
    m_continueSent = false;
    HttpRequest request = m_parser.takeRequest();
    m_keepAlive = request.keepAlive();
    m_current = std::make_shared<HttpExchange>(this);
    std::shared_ptr<HttpExchange> exchange = m_current;
    m_server->m_handler(std::move(request), exchange);
}

void HttpConnection::finishExchange(bool keepAlive) {
    m_current.reset();
    if (m_closing) return;
    if (!keepAlive || !m_keepAlive) {
        m_closing = true;
        m_socket->disconnectFromHost();  // sends what is buffered, then closes; disconnected() deletes us
        return;
    }
    m_idleTimer->start();
    // Pipelined bytes already received are parsed from the event loop (no recursion into the handler).
    QMetaObject::invokeMethod(this, &HttpConnection::processBuffered, Qt::QueuedConnection);
}

void HttpConnection::sendError(int status, const std::string& message) {
    if (m_closing) return;
    const auto [body, type] = m_server->m_errorBody(status, message);
    write(statusLine(status) + "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body);
    m_keepAlive = false;
    finishExchange(false);
}

void HttpConnection::closeNow() {
    if (m_current) m_current->m_cancel->store(true);
    m_current.reset();
    if (m_socket->state() != QAbstractSocket::UnconnectedState && !m_closing) m_socket->abort();
    m_closing = true;
    m_idleTimer->stop();
    deleteLater();
}

}  // namespace server
