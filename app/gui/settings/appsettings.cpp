#include "appsettings.h"

#include <algorithm>

AppSettings AppSettings::load(QSettings& s) {
    AppSettings a;
    a.backend = s.value(QStringLiteral("inference/backend"), a.backend).toString();
    a.threads = std::clamp(s.value(QStringLiteral("inference/threads"), a.threads).toInt(), 0, 1024);
    a.precision = s.value(QStringLiteral("inference/precision"), a.precision).toString();
    a.contextLength = std::clamp(s.value(QStringLiteral("inference/contextLength"), a.contextLength).toInt(), 256, 131072);
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
    s.setValue(QStringLiteral("inference/backend"), backend);
    s.setValue(QStringLiteral("inference/threads"), threads);
    s.setValue(QStringLiteral("inference/precision"), precision);
    s.setValue(QStringLiteral("inference/contextLength"), contextLength);
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
