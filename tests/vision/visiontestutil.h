// Helpers shared by the vision tests: the pinpoint candidates in each reference's order (spelled out
// here from docs/spec.md §4.2, not taken from the io stage) and running Debian's Python on a test script.
#pragma once

#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QtTest>

#include "llava/anyres.h"

namespace visiontest {

inline llava::AnyresParams paramsFor(llava::Reference reference) {
    llava::AnyresParams p;
    p.reference = reference;
    if (reference == llava::Reference::Original)  // pairs read as (width, height)
        p.candidates = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};
    else  // HF reads the same config pairs as (height, width)
        p.candidates = {{672, 336}, {336, 672}, {672, 672}, {336, 1008}, {1008, 336}};
    return p;
}

inline QString scriptPath(const char* name) {
    return QStringLiteral(LLAVA_SOURCE_DIR "/tests/vision/") + QLatin1String(name);
}

// Runs /usr/bin/python3 <script> <args>; fails the calling test (no skip) when it cannot run.
inline bool runPython(const QString& script, const QStringList& args, QByteArray* out, int timeoutMs = 300000) {
    QProcess proc;
    proc.start(QStringLiteral("/usr/bin/python3"), QStringList{script} + args);
    if (!proc.waitForStarted(20000)) {
        qWarning("cannot start /usr/bin/python3 (Debian's python3 with python3-pil/python3-numpy; "
                 "install them with scripts/setup-deps)");
        return false;
    }
    if (!proc.waitForFinished(timeoutMs) || proc.exitStatus() != QProcess::NormalExit || proc.exitCode() != 0) {
        qWarning("%s failed (exit %d): %s", qPrintable(script), proc.exitCode(),
                 proc.readAllStandardError().constData());
        return false;
    }
    *out = proc.readAllStandardOutput();
    return true;
}

}  // namespace visiontest
