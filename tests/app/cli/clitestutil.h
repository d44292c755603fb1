// Helpers for tst_cli: run the CLI binary, parse its "key   value" text output and JSON output.
#pragma once

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace clitest {

struct Run {
    bool started = false;
    bool finished = false;
    QProcess::ExitStatus status = QProcess::NormalExit;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

inline Run runProgram(const QString& program, const QStringList& args, const QByteArray& input = {},
                      int timeoutMs = 120000) {
    Run run;
    QProcess process;
    process.start(program, args);
    run.started = process.waitForStarted(30000);
    if (!run.started) return run;
    if (!input.isEmpty()) process.write(input);
    process.closeWriteChannel();
    run.finished = process.waitForFinished(timeoutMs);
    if (!run.finished) {
        process.kill();
        process.waitForFinished(5000);
    }
    run.status = process.exitStatus();
    run.exitCode = process.exitCode();
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

inline Run runCli(const QStringList& args, const QByteArray& input = {}, int timeoutMs = 120000) {
    return runProgram(QStringLiteral(LLAVA_CLI_PATH), args, input, timeoutMs);
}

// "image tokens   2340 (576 base ...)" -> {"image tokens": "2340 (576 base ...)"}: key ends at two spaces.
inline QMap<QString, QString> parseKeyValues(const QByteArray& text) {
    QMap<QString, QString> map;
    for (const QByteArray& raw : text.split('\n')) {
        const QString line = QString::fromUtf8(raw);
        const int gap = line.indexOf(QLatin1String("  "));
        if (gap <= 0) continue;
        map.insert(line.left(gap), line.mid(gap).trimmed());
    }
    return map;
}

inline QJsonObject parseJson(const QByteArray& text) { return QJsonDocument::fromJson(text).object(); }

}  // namespace clitest
