// Every user setting in one table: key, default, and the typed struct the rest of the app reads.
// Stored with QSettings; load() clamps out-of-range values so a hand-edited file cannot break the app.
#pragma once

#include <QSettings>
#include <QString>
#include <QStringList>

struct AppSettings {
    QString engine = QStringLiteral("local");        // local | remote (an OpenAI-compatible server answers)
    QString remoteUrl = QStringLiteral("http://127.0.0.1:8080/v1");
    QString remoteModel;                             // empty: the first model the server lists
    QString remoteConfig;                            // config.json for the inspector; empty: a preset by model name
    // Not in the settings file: kept in its own file beside it, readable by the user only (0600), so
    // sharing or backing up the settings does not leak it. Empty = no key.
    QString remoteApiKey;
    int servePort = 8080;                            // Models -> Serve this model (127.0.0.1 only)
    QString backend = QStringLiteral("auto");        // auto | cpu | cuda
    int threads = 0;                                 // 0 = all cores
    QString precision = QStringLiteral("as-stored"); // as-stored | f16 | q8 | q4
    int contextLength = 4096;
    bool weightCache = true;                         // q8/q4: keep the quantised weights on disk (docs/weight-cache.md)
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
    // The API key's file: "<settings file>.apikey" (the settings file's folder, user-only permissions).
    static QString apiKeyPath(const QSettings& settings);
    bool usesServer() const { return engine == QLatin1String("remote"); }
    void addRecentModel(const QString& dir);
};
