// Start-up helpers kept out of main() so tests and scripts/screenshots can use them: run-time
// language switching, the light/dark theme, the engine factory and the first model to open.
#pragma once

#include <QApplication>
#include <QTranslator>

#include "inference/chatengine.h"
#include "settings/appsettings.h"

class MainWindow;

class AppTranslator {
public:
    explicit AppTranslator(QApplication& app) : m_app(app) {}
    // "system", "en", "zh_CN": loads :/i18n/llava_insight_<lang>.qm (English needs none).
    bool apply(const QString& language);

private:
    QApplication& m_app;
    QTranslator m_translator;
    bool m_installed = false;
};

void applyTheme(const QString& theme);  // "light" | "dark" | "system"
ChatEngineFactory defaultEngineFactory();
// Opens `modelDir`, else the last model, else the built-in demo (random weights, clearly labelled).
void startInitialModel(MainWindow& window, const AppSettings& settings, const QString& dataDir, const QString& modelDir);
