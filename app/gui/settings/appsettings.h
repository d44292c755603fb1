// Every user setting in one table: key, default, and the typed struct the rest of the app reads.
// Stored with QSettings; load() clamps out-of-range values so a hand-edited file cannot break the app.
#pragma once

#include <QSettings>
#include <QString>
#include <QStringList>

struct AppSettings {
    QString backend = QStringLiteral("auto");        // auto | cpu | cuda
    int threads = 0;                                 // 0 = all cores
    QString precision = QStringLiteral("as-stored"); // as-stored | f16 | q8 | q4
    int contextLength = 4096;
    double temperature = 0.2;
    double topP = 1.0;
    int topK = 0;
    int maxNewTokens = 512;
    qint64 seed = 0;                                 // used when fixedSeed
    bool fixedSeed = false;                          // false: every answer draws a new seed (shown in its stats)
    QString systemPrompt;
    QString reference = QStringLiteral("auto");      // auto | original | transformers
    QString theme = QStringLiteral("system");        // light | dark | system
    QString language = QStringLiteral("system");     // system | en | zh_CN
    QStringList recentModels;
    QString lastModel;

    static AppSettings load(QSettings& settings);
    void save(QSettings& settings) const;
    void addRecentModel(const QString& dir);
};
