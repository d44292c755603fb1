// Helpers for tst_serve: start `llava-insight-cli serve` on 127.0.0.1 with an OS-chosen port, and talk
// HTTP/1.1 to it over a raw QTcpSocket (every call bounded in time; only loopback).
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>

#include <cstdint>

namespace servetest {

struct HttpReply {
    bool complete = false;  // a whole response arrived in time
    int status = 0;
    QMap<QByteArray, QByteArray> headers;  // lower-case names
    QByteArray body;                        // de-chunked
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString errorCode() const { return json().value("error").toObject().value("code").toString(); }
    QString errorMessage() const { return json().value("error").toObject().value("message").toString(); }
};

// Splits "HTTP/1.1 200 OK\r\n...\r\n\r\nbody" (Content-Length or chunked); complete=false if cut short.
inline HttpReply parseResponse(const QByteArray& raw) {
    HttpReply r;
    const qsizetype headEnd = raw.indexOf("\r\n\r\n");
    if (headEnd < 0) return r;
    const QList<QByteArray> lines = raw.left(headEnd).split('\n');
    const QList<QByteArray> statusLine = lines.value(0).trimmed().split(' ');
    r.status = statusLine.value(1).toInt();
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0) r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
    }
    QByteArray rest = raw.mid(headEnd + 4);
    if (r.headers.value("transfer-encoding") == "chunked") {
        while (true) {
            const qsizetype lineEnd = rest.indexOf("\r\n");
            if (lineEnd < 0) return r;
            bool ok = false;
            const qsizetype size = rest.left(lineEnd).toLongLong(&ok, 16);
            if (!ok || rest.size() < lineEnd + 2 + size + 2) return r;
            if (size == 0) break;
            r.body += rest.mid(lineEnd + 2, size);
            rest = rest.mid(lineEnd + 2 + size + 2);
        }
        r.complete = true;
        return r;
    }
    const qsizetype length = r.headers.value("content-length").toLongLong();
    r.body = rest.left(length);
    r.complete = rest.size() >= length;
    return r;
}

// Sends `request` (which should say "Connection: close") and reads until the server closes or timeoutMs.
inline HttpReply exchange(quint16 port, const QByteArray& request, int timeoutMs = 120000) {
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(10000)) return {};
    socket.write(request);
    QByteArray raw;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(200)) {
            if (socket.state() == QAbstractSocket::UnconnectedState) break;
            continue;
        }
        raw += socket.readAll();
    }
    raw += socket.readAll();
    return parseResponse(raw);
}

inline QByteArray httpRequest(const QByteArray& method, const QByteArray& path, const QByteArray& body,
                              const QByteArray& apiKey, const QByteArray& extraHeaders = {}) {
    QByteArray r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!apiKey.isEmpty()) r += "Authorization: Bearer " + apiKey + "\r\n";
    if (!body.isEmpty() || method == "POST") r += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    return r + extraHeaders + "\r\n" + body;
}

// Starts the server and waits for its "listening on http://127.0.0.1:PORT" line; 0 on failure.
inline quint16 startServer(QProcess& process, const QString& program, const QStringList& args, QByteArray* log) {
    process.start(program, args);
    if (!process.waitForStarted(30000)) return 0;
    QByteArray out;
    QElapsedTimer timer;
    timer.start();
    static const QRegularExpression kListening(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
    while (timer.elapsed() < 180000) {
        process.waitForReadyRead(200);
        out += process.readAllStandardOutput();
        const auto match = kListening.match(QString::fromUtf8(out));
        if (match.hasMatch()) return static_cast<quint16>(match.captured(1).toUInt());
        if (process.state() == QProcess::NotRunning) break;
    }
    *log = out + process.readAllStandardError();
    return 0;
}

// CRC-32 (ISO-HDLC, as PNG chunks use), bitwise: only for building test images.
inline std::uint32_t crc32(const QByteArray& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (char c : bytes) {
        crc ^= static_cast<unsigned char>(c);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

inline QByteArray be32(std::uint32_t v) {
    QByteArray out(4, '\0');
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
    return out;
}

inline QByteArray pngChunk(const QByteArray& type, const QByteArray& data) {
    return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

// A PNG whose header declares width x height RGB pixels, with a one-byte IDAT: an "image bomb" that only
// a reader trusting the declared size would try to allocate.
inline QByteArray declaredSizePng(std::uint32_t width, std::uint32_t height) {
    const QByteArray ihdr = be32(width) + be32(height) + QByteArray("\x08\x02\x00\x00\x00", 5);
    return QByteArray("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IDAT", QByteArray(1, '\0')) +
           pngChunk("IEND", {});
}

}  // namespace servetest
