// tst_translations: the Simplified Chinese catalogue ships complete and switches at run time.
//  - the embedded :/i18n/llava_insight_zh_CN.qm loads and translates key strings;
//  - the .ts has no unfinished or empty entry, and covers every tr() string lupdate finds in app/gui;
//  - LanguageSwitcher re-translates an open MainWindow (menus, docks, buttons) both ways, and an
//    accepted SettingsDialog applies its language.
#include <QAction>
#include <QDockWidget>
#include <QFile>
#include <QMenuBar>
#include <QProcess>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>
#include <QXmlStreamReader>

#include "support/fakechatengine.h"
#include "inspector/inspectorwidget.h"
#include "mainwindow.h"
#include "settings/languageswitcher.h"
#include "settings/settingsdialog.h"

namespace {
struct Message {
    QString context, source, translation, type;
};

QList<Message> readTs(const QString& path) {
    QList<Message> out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return out;
    QXmlStreamReader xml(&file);
    QString context;
    Message m;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isEndElement() && xml.name() == QLatin1String("message")) {
            m.context = context;
            out << m;
            m = {};
        }
        if (!xml.isStartElement()) continue;
        if (xml.name() == QLatin1String("name")) context = xml.readElementText();
        else if (xml.name() == QLatin1String("source")) m.source = xml.readElementText();
        else if (xml.name() == QLatin1String("translation")) {
            m.type = xml.attributes().value(QLatin1String("type")).toString();
            m.translation = xml.readElementText();
        }
    }
    return out;
}

QStringList menuTitles(QMainWindow& w) {
    QStringList titles;
    for (QAction* a : w.menuBar()->actions()) titles << a->text();
    return titles;
}

bool hasChinese(const QString& text) {
    for (const QChar c : text)
        if (c.unicode() >= 0x4E00 && c.unicode() <= 0x9FFF) return true;
    return false;
}

// Every user-visible string property of every widget and action under `root` that holds Chinese.
QStringList chineseTexts(QObject& root) {
    QStringList found;
    QList<QObject*> objects = root.findChildren<QObject*>();
    objects.prepend(&root);
    for (QObject* o : objects) {
        if (!qobject_cast<QWidget*>(o) && !qobject_cast<QAction*>(o)) continue;
        for (const char* name : {"text", "title", "windowTitle", "placeholderText", "toolTip", "accessibleName",
                                 "accessibleDescription", "iconText", "specialValueText"}) {
            const QString value = o->property(name).toString();
            if (hasChinese(value)) found << QStringLiteral("%1.%2 = %3").arg(QString::fromLatin1(o->metaObject()->className()),
                                                                          QString::fromLatin1(name), value);
        }
    }
    return found;
}

QStringList dockTitles(QMainWindow& w) {
    QStringList titles;
    for (QDockWidget* d : w.findChildren<QDockWidget*>()) titles << d->windowTitle();
    return titles;
}
}  // namespace

class TstTranslations : public QObject {
    Q_OBJECT
private slots:
    void embeddedQmLoads();
    void keyStringsTranslate_data();
    void keyStringsTranslate();
    void noUnfinishedEntries();
    void coversEveryTrString();
    void switchesOpenWindow();
    void settingsDialogAppliesLanguage();
};

void TstTranslations::embeddedQmLoads() {
    QTranslator t;
    QVERIFY(t.load(QStringLiteral(":/i18n/llava_insight_zh_CN.qm")));
    QCOMPARE(t.language(), QStringLiteral("zh_CN"));
    QVERIFY(!t.isEmpty());
}

void TstTranslations::keyStringsTranslate_data() {
    QTest::addColumn<QString>("context");
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    QTest::newRow("file menu") << "MainWindow" << "&File" << QStringLiteral("文件(&F)");
    QTest::newRow("settings action") << "MainWindow" << "&Settings…" << QStringLiteral("设置(&S)…");
    QTest::newRow("no model") << "ModelController" << "No model loaded" << QStringLiteral("未加载模型");
    QTest::newRow("send") << "Composer" << "Send" << QStringLiteral("发送");
    QTest::newRow("language label") << "SettingsDialog" << "&Language:" << QStringLiteral("语言(&L)：");
    QTest::newRow("undo delete") << "MainWindow" << "&Undo delete chat" << QStringLiteral("撤销删除对话(&U)");
}

void TstTranslations::keyStringsTranslate() {
    QFETCH(QString, context);
    QFETCH(QString, source);
    QFETCH(QString, expected);
    QTranslator t;
    QVERIFY(t.load(QStringLiteral(":/i18n/llava_insight_zh_CN.qm")));
    QCOMPARE(t.translate(context.toUtf8().constData(), source.toUtf8().constData()), expected);
}

void TstTranslations::noUnfinishedEntries() {
    // The catalogue the .qm is compiled from is finished.
    for (const QString& path : {QStringLiteral(LLAVA_SOURCE_DIR "/translations/llava_insight_zh_CN.ts")}) {
        const QList<Message> messages = readTs(path);
        QVERIFY2(messages.size() > 100, qPrintable(path));
        for (const Message& m : messages) {
            QVERIFY2(m.type.isEmpty(), qPrintable(QStringLiteral("%1: %2 is %3").arg(m.context, m.source, m.type)));
            QVERIFY2(!m.translation.isEmpty(), qPrintable(QStringLiteral("%1: %2 is empty").arg(m.context, m.source)));
            // Placeholders survive translation.
            for (int n = 1; n <= 9; ++n) {
                const QString arg = QStringLiteral("%") + QString::number(n);
                QVERIFY2(m.source.contains(arg) == m.translation.contains(arg), qPrintable(m.source));
            }
        }
    }
}

void TstTranslations::coversEveryTrString() {
    if (!QFile::exists(QStringLiteral(LLAVA_LUPDATE))) QSKIP("lupdate not installed");
    QTemporaryDir tmp;
    const QString ts = tmp.filePath(QStringLiteral("scan.ts"));
    QProcess lupdate;
    lupdate.start(QStringLiteral(LLAVA_LUPDATE), {QStringLiteral("-silent"), QStringLiteral("-recursive"),
                                                  QStringLiteral(LLAVA_SOURCE_DIR "/app/gui"), QStringLiteral("-locations"),
                                                  QStringLiteral("none"), QStringLiteral("-ts"), ts});
    QVERIFY(lupdate.waitForFinished(60000));
    QCOMPARE(lupdate.exitCode(), 0);
    QSet<QString> known;
    for (const Message& m : readTs(QStringLiteral(LLAVA_SOURCE_DIR "/translations/llava_insight_zh_CN.ts"))) known << m.context + u'|' + m.source;
    QStringList missing;
    for (const Message& m : readTs(ts))
        if (!known.contains(m.context + u'|' + m.source)) missing << m.context + QStringLiteral(": ") + m.source;
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("not in llava_insight_zh_CN.ts (run lupdate, then "
                                                          "translations/fill_ts.py): ") + missing.join(QStringLiteral(" | "))));
}

void TstTranslations::switchesOpenWindow() {
    QTemporaryDir data;
    MainWindowOptions options;
    options.dataDir = data.path();
    options.engineFactory = [] { return std::make_unique<FakeChatEngine>(FakeEngineScript{}); };
    LanguageSwitcher switcher;
    QVERIFY(switcher.setLanguage(QStringLiteral("en")));
    MainWindow window(AppSettings{}, options);
    QVERIFY(menuTitles(window).contains(QStringLiteral("&File")));

    QVERIFY(switcher.setLanguage(QStringLiteral("zh_CN")));
    QCOMPARE(switcher.language(), QStringLiteral("zh_CN"));
    QVERIFY2(menuTitles(window).contains(QStringLiteral("文件(&F)")), qPrintable(menuTitles(window).join(u',')));
    QVERIFY(menuTitles(window).contains(QStringLiteral("帮助(&H)")));
    QVERIFY(!menuTitles(window).contains(QStringLiteral("&File")));
    QVERIFY(dockTitles(window).contains(QStringLiteral("检查器")));
    QVERIFY2(hasChinese(window.windowTitle()), qPrintable(window.windowTitle()));
    bool newButton = false;
    for (QPushButton* b : window.findChildren<QPushButton*>()) newButton |= b->text() == QStringLiteral("新建");
    QVERIFY(newButton);

    QVERIFY(switcher.setLanguage(QStringLiteral("en")));
    QVERIFY(menuTitles(window).contains(QStringLiteral("&File")));
    QVERIFY(dockTitles(window).contains(QStringLiteral("Inspector")));
    QVERIFY(dockTitles(window).contains(QStringLiteral("Chats")));
    // Round trip: no text of any widget or action is left in Chinese, including texts built with
    // values (title, status bar, inspector source line).
    const QStringList left = chineseTexts(window);
    QVERIFY2(left.isEmpty(), qPrintable(left.join(QStringLiteral(" | "))));
    QVERIFY2(!hasChinese(window.inspector()->source()), qPrintable(window.inspector()->source()));
}

void TstTranslations::settingsDialogAppliesLanguage() {
    LanguageSwitcher switcher;
    QVERIFY(switcher.setLanguage(QStringLiteral("en")));
    AppSettings chosen;
    chosen.language = QStringLiteral("zh_CN");
    SettingsDialog dialog(chosen);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.accept();
    QCOMPARE(switcher.language(), QStringLiteral("zh_CN"));
    QCOMPARE(QCoreApplication::translate("MainWindow", "&Help"), QStringLiteral("帮助(&H)"));
    QVERIFY(switcher.setLanguage(QStringLiteral("en")));
    QCOMPARE(QCoreApplication::translate("MainWindow", "&Help"), QStringLiteral("&Help"));
}

QTEST_MAIN(TstTranslations)
#include "tst_translations.moc"
