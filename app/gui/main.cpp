// Entry point of llava-insight: command line, QApplication, translator, settings, the main window.
// With no model downloaded it opens the built-in demo model (random weights, labelled as such; written
// on first use) and a sample image it draws itself.
// --help and --version are answered before any widget exists, so they work without a display.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QMessageBox>
#include <QStandardPaths>
#include <optional>

#include "appinit.h"
#include "chat/composer.h"
#include "mainwindow.h"
#include "singleinstance.h"
#include "settings/languageswitcher.h"

namespace {
void setIdentity() {
    QCoreApplication::setApplicationName(QStringLiteral("llava-insight"));
    QCoreApplication::setOrganizationName(QStringLiteral("LlavaInsight"));
    QCoreApplication::setApplicationVersion(QStringLiteral(LLAVA_VERSION_STRING));
}

struct Options {
    QCommandLineOption model{QStringLiteral("model"), QStringLiteral("Model folder to open."), QStringLiteral("dir")};
    QCommandLineOption dataDir{QStringLiteral("data-dir"), QStringLiteral("Folder for chats and images."), QStringLiteral("dir")};
    QCommandLineOption language{QStringLiteral("language"), QStringLiteral("User interface language for this run: en, zh_CN or system."),
                                QStringLiteral("lang")};
};

void describe(QCommandLineParser& parser, const Options& o) {
    parser.setApplicationDescription(QStringLiteral("Offline LLaVA v1.6 desktop app with an anyres inspector."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOption(o.model);
    parser.addOption(o.dataDir);
    parser.addOption(o.language);
    parser.addPositionalArgument(QStringLiteral("images"), QStringLiteral("Images to attach."), QStringLiteral("[images…]"));
}

// --help / --version on a QCoreApplication: no platform plugin, no display. Prints and exits.
void answerWithoutDisplay(int argc, char** argv) {
    QCoreApplication probe(argc, argv);
    setIdentity();
    Options o;
    QCommandLineParser parser;
    describe(parser, o);
    if (!parser.parse(QCoreApplication::arguments())) return;  // errors are reported below, with Qt's own options known
    if (parser.isSet(QStringLiteral("version"))) {
        // QCommandLineParser::showVersion() prints "<name> <version>" and exits 0.
        parser.showVersion();
    }
    if (parser.isSet(QStringLiteral("help"))) parser.showHelp(0);
}
// One instance per data folder: a second launch brings the first to the front (with its images) and
// exits; two windows on the same chats would overwrite each other's work. nullopt: this is the first.
std::optional<int> claimDataFolder(SingleInstance& instance, const QString& dataDir, const QStringList& images) {
    switch (instance.claim(images)) {
    case SingleInstance::Claim::Primary: return std::nullopt;
    case SingleInstance::Claim::Forwarded:
        qInfo("Llava Insight is already running with %s; its window was brought to the front.", qPrintable(dataDir));
        return 0;
    case SingleInstance::Claim::Busy: break;
    }
    const QString text = QCoreApplication::translate("main", "Llava Insight is already running with the data folder %1 "
                                                             "(%2), but it did not respond.")
                             .arg(QDir::toNativeSeparators(dataDir), instance.owner());
    const QString hint = QCoreApplication::translate("main", "Close the other window (or end that process) and start again, "
                                                             "or start with --data-dir to use another folder. "
                                                             "Two windows on the same chats would overwrite each other's work.");
    qWarning("%s %s", qPrintable(text), qPrintable(hint));
    if (dialogsAllowed()) {
        QMessageBox box(QMessageBox::Warning, QCoreApplication::translate("main", "Llava Insight is already running"), text);
        box.setInformativeText(hint);
        box.exec();
    }
    return 1;
}

void bringToFront(MainWindow& window, const QStringList& images) {
    window.setWindowState((window.windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
    window.show();
    window.raise();
    window.activateWindow();
    if (!images.isEmpty()) window.composer()->addAttachments(images);
}
}  // namespace

int main(int argc, char** argv) {
    answerWithoutDisplay(argc, argv);

    QApplication app(argc, argv);
    setIdentity();
    QApplication::setApplicationDisplayName(QStringLiteral("Llava Insight"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/llava-insight.svg")));
    QApplication::setDesktopFileName(QStringLiteral("io.github.llavainsight.LlavaInsight"));

    Options o;
    QCommandLineParser parser;
    describe(parser, o);
    parser.process(app);

    QSettings qsettings;
    AppSettings settings = AppSettings::load(qsettings);
    LanguageSwitcher languages;
    languages.setLanguage(parser.isSet(o.language) ? parser.value(o.language) : settings.language);
    applyTheme(settings.theme);

    MainWindowOptions options;
    options.dataDir = parser.isSet(o.dataDir) ? parser.value(o.dataDir)
                                              : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(options.dataDir);
    SingleInstance instance(options.dataDir);
    if (const std::optional<int> exitCode = claimDataFolder(instance, options.dataDir, parser.positionalArguments())) return *exitCode;
    options.engineFactory = defaultEngineFactory();
    MainWindow window(settings, options);
    QObject::connect(&instance, &SingleInstance::activationRequested, &window,
                     [&window](const QStringList& images) { bringToFront(window, images); });
    window.show();
    startInitialModel(window, settings, parser.value(o.model));
    if (!parser.positionalArguments().isEmpty()) {
        window.composer()->clearAttachments();
        window.composer()->addAttachments(parser.positionalArguments());
    }
    return app.exec();
}
