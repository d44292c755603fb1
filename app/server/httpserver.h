// A small HTTP/1.1 server on QTcpServer for the local API: keep-alive, one request at a time per
// connection, full responses with Content-Length and streamed responses with chunked transfer encoding
// (server-sent events). Requests are parsed by HttpRequestParser (strict, bounded); this file only moves
// bytes and owns sockets. Everything here runs on the thread that created the server (the CLI's main
// thread); handlers answer through an HttpExchange, possibly later (after inference), and learn through
// HttpExchange::cancelFlag() that the client went away.
// Not here: routing, authentication, JSON (apiserver.h), TLS (bind to loopback, or put a TLS proxy in front).
#pragma once

#include <QHostAddress>
#include <QObject>
#include <QPointer>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "httprequestparser.h"

class QTcpServer;
class QTcpSocket;
class QTimer;

namespace server {

class HttpConnection;
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One request's answer. Created by the server for each complete request; the handler keeps the
// shared_ptr as long as it needs to answer. Writes after the client disconnected are dropped.
class HttpExchange {
public:
    explicit HttpExchange(HttpConnection* connection);

    // Complete response with Content-Length.
    void respond(int status, std::string_view contentType, std::string_view body, const HttpHeaders& extra = {});
    // Streamed response (Transfer-Encoding: chunked): beginStream, writeChunk..., endStream.
    void beginStream(int status, std::string_view contentType, const HttpHeaders& extra = {});
    void writeChunk(std::string_view data);
    void endStream();

    bool answered() const { return m_state == State::Done; }
    bool streaming() const { return m_state == State::Streaming; }
    // True once the client disconnected (or the server shuts down); polled by the inference thread.
    const std::shared_ptr<std::atomic<bool>>& cancelFlag() const { return m_cancel; }
    bool clientGone() const { return m_cancel->load(); }

private:
    friend class HttpConnection;
    enum class State { Open, Streaming, Done };
    QPointer<HttpConnection> m_connection;
    State m_state = State::Open;
    std::shared_ptr<std::atomic<bool>> m_cancel = std::make_shared<std::atomic<bool>>(false);
};

using HttpHandler = std::function<void(HttpRequest request, std::shared_ptr<HttpExchange> exchange)>;
// Body and content type for the server's own errors (bad request head, 413, 503...).
using HttpErrorBody = std::function<std::pair<std::string, std::string>(int status, const std::string& message)>;

struct HttpServerOptions {
    HttpLimits limits;
    int maxConnections = 64;       // more are answered 503 and closed
    int idleTimeoutMs = 30000;     // no complete request within this time -> closed (408 if one was started)
};

class HttpServer : public QObject {
    Q_OBJECT
public:
    HttpServer(HttpServerOptions options, HttpHandler handler, HttpErrorBody errorBody, QObject* parent = nullptr);
    ~HttpServer() override;

    // port 0: the OS picks one; port() tells which.
    bool listen(const QHostAddress& address, quint16 port, QString* error);
    quint16 port() const;
    int connectionCount() const { return m_connections; }

private:
    friend class HttpConnection;
    void acceptConnections();

    HttpServerOptions m_options;
    HttpHandler m_handler;
    HttpErrorBody m_errorBody;
    QTcpServer* m_server = nullptr;
    int m_connections = 0;
};

// One client socket: feeds the parser, hands complete requests to the handler one at a time, writes the
// answers. Deletes itself when the socket closes; outstanding exchanges then see cancelFlag() set.
class HttpConnection : public QObject {
    Q_OBJECT
public:
    HttpConnection(QTcpSocket* socket, HttpServer* server);
    ~HttpConnection() override;

    void write(std::string_view bytes);
    void finishExchange(bool keepAlive);
    void sendError(int status, const std::string& message);  // then close
    // "Connection: close\r\n" when the request asked to close (or HTTP/1.0 without keep-alive), else "".
    std::string connectionHeader() const { return m_keepAlive ? std::string() : "Connection: close\r\n"; }

private:
    void readAvailable();
    void processBuffered();
    void closeNow();

    QTcpSocket* m_socket;
    HttpServer* m_server;
    HttpRequestParser m_parser;
    QTimer* m_idleTimer;
    std::string m_pending;                    // received bytes not yet given to the parser
    std::shared_ptr<HttpExchange> m_current;  // the request being answered, if any
    bool m_keepAlive = true;
    bool m_continueSent = false;
    bool m_closing = false;
};

// "200 OK", "404 Not Found", ...: the reason phrase of the status codes this server sends.
std::string_view httpReasonPhrase(int status);

}  // namespace server
