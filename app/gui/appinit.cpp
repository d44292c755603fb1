// See appinit.h.
#include "appinit.h"

#include <QDir>
#include <QLocale>
#include <QPalette>
#include <QStyle>
#include <QStyleFactory>

#include "chat/chatcontroller.h"
#include "inference/llavachatengine.h"
#include "inference/switchingchatengine.h"
#include "mainwindow.h"
#include "models/modelcontroller.h"
#include "screenshottour.h"

bool dialogsAllowed() { return !qEnvironmentVariableIsSet("LLAVA_NO_DIALOGS"); }

void applyTheme(const QString& theme) {
    if (theme == QLatin1String("system")) return;
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    if (theme == QLatin1String("light")) {
        QApplication::setPalette(QApplication::style()->standardPalette());
        return;
    }
    QPalette p;
    p.setColor(QPalette::Window, QColor(45, 45, 48));
    p.setColor(QPalette::WindowText, QColor(230, 230, 230));
    p.setColor(QPalette::Base, QColor(30, 30, 32));
    p.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
    p.setColor(QPalette::Text, QColor(230, 230, 230));
    p.setColor(QPalette::Button, QColor(55, 55, 60));
    p.setColor(QPalette::ButtonText, QColor(230, 230, 230));
    p.setColor(QPalette::Highlight, QColor(60, 120, 200));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    QApplication::setPalette(p);
}

ChatEngineFactory defaultEngineFactory() {
    return [] { return std::make_unique<SwitchingChatEngine>(std::make_unique<LlavaChatEngine>()); };
}

RemoteEndpoint remoteEndpointOf(const AppSettings& settings) {
    RemoteEndpoint endpoint;
    endpoint.url = settings.remoteUrl;
    endpoint.apiKey = settings.remoteApiKey;
    endpoint.modelName = settings.remoteModel;
    endpoint.configPath = settings.remoteConfig;
    return endpoint;
}

SamplingChoice samplingChoiceOf(const AppSettings& settings) {
    SamplingChoice sampling;
    sampling.params.temperature = float(settings.temperature);
    sampling.params.topP = float(settings.topP);
    sampling.params.topK = settings.topK;
    sampling.params.maxNewTokens = settings.maxNewTokens;
    sampling.params.logprobs = 5;  // the answer's hover cards: the chosen token and its top-5 alternatives
    sampling.fixedSeed = settings.fixedSeed;
    sampling.seed = quint64(settings.seed);
    return sampling;
}

void startInitialModel(MainWindow& window, const AppSettings& settings, const QString& modelDir) {
    startScreenshotTourFromEnvironment(window);  // scripts/screenshots only (LLAVA_INSIGHT_SCREENSHOTS)
    ModelController* models = window.models();
    if (!modelDir.isEmpty()) return models->loadModel(modelDir, false);
    if (settings.usesServer()) return models->connectToServer();
    if (!settings.lastModel.isEmpty() && QDir(settings.lastModel).exists()) return models->loadModel(settings.lastModel, false);
    models->loadDemoModel();
}
