// Entry point of llava-insight: QApplication, translator, settings, the main window.
// With no model downloaded it opens on a scripted demo engine and a sample image it draws itself.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QStandardPaths>

#include "appinit.h"
#include "chat/composer.h"
#include "inference/fakechatengine.h"
#include "mainwindow.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("llava-insight"));
    QApplication::setOrganizationName(QStringLiteral("LlavaInsight"));
    QApplication::setApplicationVersion(QStringLiteral(LLAVA_VERSION_STRING));
    QApplication::setApplicationDisplayName(QStringLiteral("Llava Insight"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Offline LLaVA v1.6 desktop app with an anyres inspector"));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption modelOption(QStringLiteral("model"), QStringLiteral("Model folder to open."), QStringLiteral("dir"));
    QCommandLineOption dataOption(QStringLiteral("data-dir"), QStringLiteral("Folder for chats and images."), QStringLiteral("dir"));
    parser.addOption(modelOption);
    parser.addOption(dataOption);
    parser.addPositionalArgument(QStringLiteral("images"), QStringLiteral("Images to attach."));
    parser.process(app);

    QSettings qsettings;
    AppSettings settings = AppSettings::load(qsettings);
    AppTranslator translator(app);
    translator.apply(settings.language);
    applyTheme(settings.theme);

    MainWindowOptions options;
    options.dataDir = parser.isSet(dataOption) ? parser.value(dataOption)
                                               : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(options.dataDir);
    options.engineFactory = defaultEngineFactory();
    MainWindow window(settings, options);
    window.show();
    startInitialModel(window, settings, options.dataDir, parser.value(modelOption));
    if (!parser.positionalArguments().isEmpty()) {
        window.composer()->clearAttachments();
        window.composer()->addAttachments(parser.positionalArguments());
    }
    return app.exec();
}
