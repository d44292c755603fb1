// The shared start of the remote-backend tests (tst_remotechatengine, tst_remotebackendgui): the CLI's greedy
// answer to one image + prompt (the reference every remote answer is compared with) and `serve` on the same
// model with an API key. GUI-free; the tests own the QProcess.
#pragma once

#include <QProcess>
#include <QString>
#include <csignal>

#include "../cli/clitestutil.h"
#include "servetestutil.h"
#include "text/testtokenizers.h"

namespace remotetest {

// Empty on success (cliText and port set; the server runs until stopServer), else what failed.
inline QString startReferenceServer(QProcess& server, const QString& model, const QString& image, const QString& prompt,
                                    const QString& apiKey, QString* cliText, quint16* port) {
    const QString tokenizer = llavatest::tokenizerPath(llavatest::kMistral);
    if (const QString bad = llavatest::checkSha256(llavatest::kMistral); !bad.isEmpty()) return bad;
    const auto chat = clitest::runCli({"chat", "--model", model, "--tokenizer", tokenizer, "--temperature", "0",
                                       "--max-new-tokens", "32", "--backend", "cpu", "--threads", "2", "--image", image,
                                       "--prompt", prompt, "--json"},
                                      {}, 300000);
    if (chat.exitCode != 0) return QString::fromUtf8(chat.err);
    *cliText = clitest::parseJson(chat.out).value("text").toString();
    if (cliText->isEmpty()) return QStringLiteral("chat --json gave no text");
    QByteArray log;
    *port = servetest::startServer(server, QStringLiteral(LLAVA_CLI_PATH),
                                   {"serve", "--model", model, "--tokenizer", tokenizer, "--port", "0", "--backend", "cpu",
                                    "--threads", "2", "--api-key", apiKey},
                                   &log);
    return *port != 0 ? QString() : QString::fromUtf8(log);
}

inline bool stopServer(QProcess& server) {
    if (server.state() == QProcess::NotRunning) return true;
    ::kill(static_cast<pid_t>(server.processId()), SIGTERM);
    return server.waitForFinished(30000);
}

}  // namespace remotetest
