#include "appsettings.h"

#include <QFile>
#include <QFileInfo>

#include <algorithm>

namespace {
constexpr qint64 kMaxKeyBytes = 4096;  // a hand-edited or foreign file is not read whole
}  // namespace

QString AppSettings::apiKeyPath(const QSettings& settings) { return settings.fileName() + QStringLiteral(".apikey"); }

AppSettings AppSettings::load(QSettings& s) {
    AppSettings a;
    a.engine = s.value(QStringLiteral("engine/kind"), a.engine).toString() == QLatin1String("remote") ? QStringLiteral("remote")
                                                                                                   : QStringLiteral("local");
    a.remoteUrl = s.value(QStringLiteral("engine/remoteUrl"), a.remoteUrl).toString();
    a.remoteModel = s.value(QStringLiteral("engine/remoteModel"), a.remoteModel).toString();
    a.remoteConfig = s.value(QStringLiteral("engine/remoteConfig"), a.remoteConfig).toString();
    a.servePort = std::clamp(s.value(QStringLiteral("engine/servePort"), a.servePort).toInt(), 1, 65535);
    QFile key(apiKeyPath(s));
    if (key.open(QIODevice::ReadOnly)) a.remoteApiKey = QString::fromUtf8(key.read(kMaxKeyBytes)).trimmed();
    a.backend = s.value(QStringLiteral("inference/backend"), a.backend).toString();
    a.threads = std::clamp(s.value(QStringLiteral("inference/threads"), a.threads).toInt(), 0, 1024);
    a.precision = s.value(QStringLiteral("inference/precision"), a.precision).toString();
    a.contextLength = std::clamp(s.value(QStringLiteral("inference/contextLength"), a.contextLength).toInt(), 256, 131072);
    a.weightCache = s.value(QStringLiteral("inference/weightCache"), a.weightCache).toBool();
    a.temperature = std::clamp(s.value(QStringLiteral("sampling/temperature"), a.temperature).toDouble(), 0.0, 5.0);
    a.topP = std::clamp(s.value(QStringLiteral("sampling/topP"), a.topP).toDouble(), 0.0, 1.0);
    a.topK = std::clamp(s.value(QStringLiteral("sampling/topK"), a.topK).toInt(), 0, 100000);
    a.maxNewTokens = std::clamp(s.value(QStringLiteral("sampling/maxNewTokens"), a.maxNewTokens).toInt(), 1, 32768);
    a.seed = s.value(QStringLiteral("sampling/seed"), a.seed).toLongLong();
    a.fixedSeed = s.value(QStringLiteral("sampling/fixedSeed"), a.fixedSeed).toBool();
    a.systemPrompt = s.value(QStringLiteral("chat/systemPrompt"), a.systemPrompt).toString();
    a.reference = s.value(QStringLiteral("model/reference"), a.reference).toString();
    a.theme = s.value(QStringLiteral("ui/theme"), a.theme).toString();
    a.language = s.value(QStringLiteral("ui/language"), a.language).toString();
    a.recentModels = s.value(QStringLiteral("model/recent")).toStringList();
    a.lastModel = s.value(QStringLiteral("model/last")).toString();
    return a;
}

void AppSettings::save(QSettings& s) const {
    s.setValue(QStringLiteral("engine/kind"), engine);
    s.setValue(QStringLiteral("engine/remoteUrl"), remoteUrl);
    s.setValue(QStringLiteral("engine/remoteModel"), remoteModel);
    s.setValue(QStringLiteral("engine/remoteConfig"), remoteConfig);
    s.setValue(QStringLiteral("engine/servePort"), servePort);
    const QString keyPath = apiKeyPath(s);
    if (remoteApiKey.isEmpty()) {
        QFile::remove(keyPath);
    } else {
        // Created empty with user-only permissions first, then written: the key is never world-readable.
        QFile key(keyPath);
        if (key.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            key.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            key.write(remoteApiKey.toUtf8());
        }
    }
    s.setValue(QStringLiteral("inference/backend"), backend);
    s.setValue(QStringLiteral("inference/threads"), threads);
    s.setValue(QStringLiteral("inference/precision"), precision);
    s.setValue(QStringLiteral("inference/contextLength"), contextLength);
    s.setValue(QStringLiteral("inference/weightCache"), weightCache);
    s.setValue(QStringLiteral("sampling/temperature"), temperature);
    s.setValue(QStringLiteral("sampling/topP"), topP);
    s.setValue(QStringLiteral("sampling/topK"), topK);
    s.setValue(QStringLiteral("sampling/maxNewTokens"), maxNewTokens);
    s.setValue(QStringLiteral("sampling/seed"), seed);
    s.setValue(QStringLiteral("sampling/fixedSeed"), fixedSeed);
    s.setValue(QStringLiteral("chat/systemPrompt"), systemPrompt);
    s.setValue(QStringLiteral("model/reference"), reference);
    s.setValue(QStringLiteral("ui/theme"), theme);
    s.setValue(QStringLiteral("ui/language"), language);
    s.setValue(QStringLiteral("model/recent"), recentModels);
    s.setValue(QStringLiteral("model/last"), lastModel);
}

void AppSettings::addRecentModel(const QString& dir) {
    recentModels.removeAll(dir);
    recentModels.prepend(dir);
    while (recentModels.size() > 8) recentModels.removeLast();
    lastModel = dir;
}
