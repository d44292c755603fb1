// tst_chatwindow: the main window as a user drives it (offscreen), each case a defect that was seen:
//  - a deleted chat does not come back after switching chats and restarting;
//  - a failed model load (a folder that is not a model, a truncated config.json) keeps the working model
//    loaded: the next message is answered, and the status bar and title still name that model;
//  - regenerate draws a new seed each time (shown in the answer's stats); a fixed seed repeats it;
//  - a stopped answer gets its stats line; the status bar drops the previous TTFT while answering;
//  - a corrupt image is refused when attached, with the decoder's reason, and nothing is copied;
//  - edit-and-resend can be cancelled without losing the following messages;
//  - at 1024×700 the chat column keeps at least 480 px; nothing is hidden behind the docks;
//  - the window title does not repeat the application name (the platform adds it);
//  - a chat of 10 000 messages opens with widgets for one page only;
//  - the context meter counts every image of the draft and the chat so far, warns before Send when the
//    message cannot fit (Send is disabled, the ways out are named with the context size to reload with).
#include <QApplication>
#include <QDockWidget>
#include <QToolButton>
#include <QStatusBar>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLocale>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "chat/chatcontroller.h"
#include "chat/chatmodel.h"
#include "chat/chatstore.h"
#include "chat/chatview.h"
#include "chat/composer.h"
#include "chat/contextmeter.h"
#include "chat/conversationstore.h"
#include "inference/inferencecontroller.h"
#include "inference/llavachatengine.h"
#include "mainwindow.h"
#include "statuspanel.h"
#include "viewer/imageviewer.h"
#include "viewer/viewercontroller.h"
#include "support/fakechatengine.h"

namespace {
MainWindowOptions fakeOptions(const QString& dir, FakeEngineScript script = {}) {
    MainWindowOptions o;
    o.dataDir = dir;
    o.openSample = false;
    o.engineFactory = [script] { return std::make_unique<FakeChatEngine>(script); };
    return o;
}

// Loads a (fake) model and waits for it.
bool loadFake(MainWindow& w, const QString& dir) {
    QSignalSpy loaded(w.controller(), &InferenceController::loadFinished);
    w.loadModel(dir, false);
    return loaded.wait(10000);
}

bool sendAndWait(MainWindow& w, const QString& text, const QStringList& images = {}) {
    QSignalSpy busy(w.chatController(), &ChatController::busyChanged);
    w.send(text, images);
    return QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 20000);
}
}  // namespace

class TstChatWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qputenv("LLAVA_NO_DIALOGS", "1"); }
    void deletedChatStaysDeletedAfterRestart();
    void failedLoadKeepsWorkingModel();
    void regenerateDrawsNewSeed();
    void stoppedAnswerGetsStats();
    void corruptImageRefusedAtAttach();
    void editCanBeCancelled();
    void narrowWindowKeepsChatColumn();
    void titleDoesNotRepeatAppName();
    void longChatOpensOnePage();
    void contextMeterWarnsBeforeSend();
    void everyFocusableControlShowsFocus();
    void composerThumbnailOpensViewer();
};

void TstChatWindow::deletedChatStaysDeletedAfterRestart() {
    QTemporaryDir data;
    QString first, second;
    {
        MainWindow w(AppSettings{}, fakeOptions(data.path()));
        QVERIFY(loadFake(w, data.path()));
        QVERIFY(sendAndWait(w, QStringLiteral("first chat")));
        first = w.currentConversationId();
        w.newChat();
        QVERIFY(sendAndWait(w, QStringLiteral("second chat")));
        second = w.currentConversationId();
        QVERIFY(first != second);
        w.selectConversation(first);
        w.deleteConversation(first);
        QCOMPARE(w.currentConversationId(), second);  // the remaining chat is shown
        w.selectConversation(second);                 // switching used to re-save the deleted chat
        QVERIFY(!QFile::exists(w.store()->files().filePath(first)));
    }
    MainWindow again(AppSettings{}, fakeOptions(data.path()));
    QCOMPARE(again.store()->rowCount(), 1);
    QVERIFY(again.store()->find(second));
    QVERIFY(!again.store()->find(first));
}

void TstChatWindow::failedLoadKeepsWorkingModel() {
    QTemporaryDir data;
    MainWindowOptions options = fakeOptions(data.path());
    options.engineFactory = [] { return std::make_unique<LlavaChatEngine>(); };
    AppSettings settings;
    settings.backend = QStringLiteral("cpu");
    settings.threads = 2;
    settings.maxNewTokens = 4;
    settings.temperature = 0;
    MainWindow w(settings, options);
    QSignalSpy loaded(w.controller(), &InferenceController::loadFinished);
    w.loadModel(data.filePath(QStringLiteral("demo-model")), true);
    QVERIFY(loaded.wait(120000));
    const QString demoName = w.statusPanel()->model()->name;
    // The demo's name already says "random weights": the status bar and title say it once, not twice.
    QCOMPARE(w.statusPanel()->modelText().count(QStringLiteral("random weights")), 1);
    QCOMPARE(w.windowTitle().count(QStringLiteral("random weights")), 1);

    QTemporaryDir notAModel;
    QFile junk(notAModel.filePath(QStringLiteral("notes.txt")));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("hello");
    junk.close();
    QTemporaryDir truncated;
    QVERIFY(QFile::copy(data.filePath(QStringLiteral("demo-model/config.json")), truncated.filePath(QStringLiteral("config.json"))));
    QFile config(truncated.filePath(QStringLiteral("config.json")));
    QVERIFY(config.open(QIODevice::ReadWrite));
    QVERIFY(config.resize(config.size() / 2));
    config.close();

    for (const QString& bad : {notAModel.path(), truncated.path()}) {
        QSignalSpy failed(w.controller(), &InferenceController::loadFailed);
        w.loadModel(bad, false);
        QVERIFY(failed.wait(60000));
        QCOMPARE(failed.first().at(2).toBool(), true);  // still loaded
        QVERIFY(w.modelLoaded());
        QCOMPARE(w.statusPanel()->model()->name, demoName);
        QVERIFY2(w.statusPanel()->modelText().startsWith(demoName), qPrintable(w.statusPanel()->modelText()));
        QVERIFY2(w.windowTitle().contains(demoName), qPrintable(w.windowTitle()));
        // The next message is answered by the model that stayed loaded.
        QVERIFY(sendAndWait(w, QStringLiteral("Still there?")));
        const ChatMessage& answer = w.chatModel()->message(w.chatModel()->rowCount() - 1);
        QVERIFY2(answer.state == MessageState::Complete, qPrintable(answer.error));
        QVERIFY(answer.hasStats && answer.stats.generatedTokens > 0);
    }
}

void TstChatWindow::regenerateDrawsNewSeed() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    QVERIFY(loadFake(w, data.path()));
    QVERIFY(sendAndWait(w, QStringLiteral("Tell me a story")));
    const quint64 firstSeed = *w.chatModel()->message(1).seed;
    QCOMPARE(FakeChatEngine::lastSeed().load(), firstSeed);
    QSet<quint64> seeds{firstSeed};
    for (int i = 0; i < 3; ++i) {
        w.regenerate();
        QVERIFY(QTest::qWaitFor([&] { return !w.chatController()->isBusy(); }, 10000));
        QCOMPARE(w.chatModel()->rowCount(), 2);
        const ChatMessage& answer = w.chatModel()->message(1);
        QVERIFY(answer.seed.has_value());
        QCOMPARE(FakeChatEngine::lastSeed().load(), *answer.seed);
        QVERIFY(ChatModel::statsText(answer).contains(QStringLiteral("seed %1").arg(*answer.seed)));
        seeds.insert(*answer.seed);
    }
    QCOMPARE(seeds.size(), 4);  // 64-bit random seeds: a repeat would be a defect

    AppSettings fixed;
    fixed.fixedSeed = true;
    fixed.seed = 1234;
    QTemporaryDir data2;
    MainWindow reproducible(fixed, fakeOptions(data2.path()));
    QVERIFY(loadFake(reproducible, data2.path()));
    QVERIFY(sendAndWait(reproducible, QStringLiteral("Tell me a story")));
    reproducible.regenerate();
    QVERIFY(QTest::qWaitFor([&] { return !reproducible.chatController()->isBusy(); }, 10000));
    QCOMPARE(*reproducible.chatModel()->message(1).seed, quint64(1234));
    QCOMPARE(FakeChatEngine::lastSeed().load(), quint64(1234));
}

void TstChatWindow::stoppedAnswerGetsStats() {
    QTemporaryDir data;
    FakeEngineScript slow;
    slow.pieces = QStringList(200, QStringLiteral("word "));
    slow.tokenDelay = std::chrono::milliseconds(10);
    MainWindow w(AppSettings{}, fakeOptions(data.path(), slow));
    QVERIFY(loadFake(w, data.path()));
    QSignalSpy tokens(w.controller(), &InferenceController::tokensGenerated);
    w.send(QStringLiteral("Go on and on"), {});
    QVERIFY(tokens.wait(5000));
    w.stop();
    QVERIFY(!w.chatController()->isBusy());
    QCOMPARE(w.chatModel()->message(1).state, MessageState::Stopped);
    // The worker's confirmation brings the stats of what was generated before the stop.
    QVERIFY(QTest::qWaitFor([&] { return w.chatModel()->message(1).hasStats; }, 5000));
    QVERIFY(w.chatModel()->message(1).stats.generatedTokens > 0);
    QVERIFY(!ChatModel::statsText(w.chatModel()->message(1)).isEmpty());
}

void TstChatWindow::corruptImageRefusedAtAttach() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    const QString corrupt = data.filePath(QStringLiteral("broken.png"));
    QFile f(corrupt);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("\x89PNG\r\n\x1a\n this is not a picture");
    f.close();
    QSignalSpy rejected(w.composer(), &Composer::attachmentRejected);
    w.composer()->addAttachments({corrupt});
    QCOMPARE(rejected.size(), 1);
    QVERIFY2(rejected.first().at(1).toString().contains(QStringLiteral("broken.png")), qPrintable(rejected.first().at(1).toString()));
    QVERIFY(w.composer()->attachments().isEmpty());
    QVERIFY(QDir(w.store()->files().imagesDir()).entryList(QDir::Files).isEmpty());  // nothing copied
}

void TstChatWindow::editCanBeCancelled() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    QVERIFY(loadFake(w, data.path()));
    QVERIFY(sendAndWait(w, QStringLiteral("one")));
    QVERIFY(sendAndWait(w, QStringLiteral("two")));
    QCOMPARE(w.chatModel()->rowCount(), 4);
    emit w.chatView()->editRequested(0);
    QCOMPARE(w.composer()->editingRow(), 0);
    QCOMPARE(w.composer()->text(), QStringLiteral("one"));
    w.composer()->cancelEdit();
    QCOMPARE(w.chatModel()->rowCount(), 4);  // nothing deleted by editing alone
    QCOMPARE(w.composer()->editingRow(), -1);
    // Sending an edit replaces the message and what follows it.
    emit w.chatView()->editRequested(2);
    w.composer()->setText(QStringLiteral("two, edited"));
    QSignalSpy settled(w.chatController(), &ChatController::settled);
    QTest::keyClick(w.composer()->editor(), Qt::Key_Return);
    QVERIFY(settled.wait(5000));
    QCOMPARE(w.chatModel()->rowCount(), 4);
    QCOMPARE(w.chatModel()->message(2).text, QStringLiteral("two, edited"));
}

void TstChatWindow::narrowWindowKeepsChatColumn() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    w.resize(1024, 700);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTRY_VERIFY2(w.chatView()->width() >= 480, qPrintable(QString::number(w.chatView()->width())));
    QVERIFY(w.chatsDock()->toggleViewAction()->isEnabled());  // reachable as a tab, not lost
    QCOMPARE(w.dockWidgetArea(w.chatsDock()), Qt::RightDockWidgetArea);
    w.resize(1600, 900);
    QTRY_COMPARE(w.dockWidgetArea(w.chatsDock()), Qt::LeftDockWidgetArea);
    QVERIFY(w.chatView()->width() >= 480);
}

void TstChatWindow::titleDoesNotRepeatAppName() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    QVERIFY(loadFake(w, data.path()));
    QVERIFY2(!w.windowTitle().contains(QStringLiteral("Llava Insight")), qPrintable(w.windowTitle()));
    QVERIFY(!w.windowTitle().isEmpty());
}

void TstChatWindow::longChatOpensOnePage() {
    QTemporaryDir data;
    {
        ChatStore files(data.path());
        Conversation c;
        c.id = newConversationId();
        c.created = c.updated = QDateTime::currentDateTime();
        for (int i = 0; i < 10000; ++i) {
            ChatMessage m;
            m.role = i % 2 ? MessageRole::Assistant : MessageRole::User;
            m.text = QStringLiteral("message %1").arg(i);
            c.messages << m;
        }
        QVERIFY(files.save(c).isOk());
    }
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    QCOMPARE(w.chatModel()->rowCount(), 10000);
    QCOMPARE(w.chatView()->shownCount(), ChatView::kPageSize);
    QCOMPARE(w.chatView()->firstShownRow(), 10000 - ChatView::kPageSize);
    w.chatView()->showEarlier();
    QCOMPARE(w.chatView()->shownCount(), 2 * ChatView::kPageSize);
}

QTEST_MAIN(TstChatWindow)
#include "tst_chatwindow.moc"

void TstChatWindow::contextMeterWarnsBeforeSend() {
    QTemporaryDir data;
    FakeEngineScript script;
    script.contextLimit = 1000;  // the fake counts 1 token per character and 576 per image
    MainWindow w(AppSettings{}, fakeOptions(data.path(), script));
    QVERIFY(loadFake(w, data.path()));
    QStringList images;
    for (const char* name : {"a.png", "b.png"}) {
        images << data.filePath(QString::fromLatin1(name));
        QImage image(64, 48, QImage::Format_RGB32);
        image.fill(Qt::darkCyan);
        QVERIFY(image.save(images.last()));
    }
    w.composer()->setText(QStringLiteral("Compare"));
    w.composer()->addAttachments(images);
    ContextMeter* meter = w.contextMeter();
    // 7 text + 2 x 576 + 1 reply headroom = 1160 of 1000: the last image made it overflow.
    QVERIFY(QTest::qWaitFor([&] { return !meter->warningText().isEmpty(); }, 5000));
    QVERIFY2(meter->warningText().contains(QStringLiteral("Too long by 160 tokens")), qPrintable(meter->warningText()));
    QVERIFY2(meter->summaryText().contains(QStringLiteral("576 + 576")), qPrintable(meter->summaryText()));
    QCOMPARE(meter->suggestedContext(), 2048);
    QTest::keyClick(w.composer()->editor(), Qt::Key_Return);  // Send is blocked: nothing is appended
    QCOMPARE(w.chatModel()->rowCount(), 0);

    w.composer()->clearAttachments();
    w.composer()->addAttachments({images.first()});
    QVERIFY(QTest::qWaitFor([&] { return meter->warningText().isEmpty() && meter->summaryText().contains(QStringLiteral("584 of %1").arg(QLocale().toString(1000))); }, 5000));
    QTest::keyClick(w.composer()->editor(), Qt::Key_Return);
    QVERIFY(QTest::qWaitFor([&] { return w.chatModel()->rowCount() == 2 && !w.chatController()->isBusy(); }, 10000));
    // The chat so far is counted: "Compare" + its image + the fake's 13-character answer.
    QVERIFY(QTest::qWaitFor([&] { return meter->summaryText().contains(QStringLiteral("chat so far 596")); }, 5000));
}

// Keyboard users must see where focus is: each control that takes focus by Tab looks different with
// focus than without (its own pixels, grabbed both ways).
void TstChatWindow::everyFocusableControlShowsFocus() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    QVERIFY(loadFake(w, data.path()));
    QVERIFY(sendAndWait(w, QStringLiteral("a message with an answer")));
    w.resize(1400, 900);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QStringList unmarked;
    int checked = 0;
    for (QWidget* widget : w.findChildren<QWidget*>()) {
        if (!widget->isVisible() || !(widget->focusPolicy() & Qt::TabFocus) || widget->width() < 4) continue;
        if (widget->focusProxy()) continue;
        w.statusBar()->setFocus();  // focus somewhere else that is not this widget
        if (widget->hasFocus()) continue;
        QApplication::processEvents();
        const QImage without = widget->grab().toImage();
        widget->setFocus(Qt::TabFocusReason);
        QApplication::processEvents();
        if (!widget->hasFocus()) continue;
        const QImage with = widget->grab().toImage();
        ++checked;
        if (with == without)
            unmarked << QStringLiteral("%1 (%2 \"%3\")").arg(QString::fromLatin1(widget->metaObject()->className()),
                                                            widget->objectName(), widget->accessibleName());
    }
    QVERIFY(checked >= 8);
    QVERIFY2(unmarked.isEmpty(), qPrintable(unmarked.join(QStringLiteral("; "))));
}

// Issue 9: a click on an attached thumbnail opens the image viewer (it used to remove the image); the small
// cross in its corner removes it.
void TstChatWindow::composerThumbnailOpensViewer() {
    QTemporaryDir data;
    MainWindow w(AppSettings{}, fakeOptions(data.path()));
    const QString path = data.filePath(QStringLiteral("view.png"));
    QImage image(80, 60, QImage::Format_RGB32);
    image.fill(Qt::darkYellow);
    QVERIFY(image.save(path));
    w.composer()->addAttachments({path});
    auto button = [&](const QString& prefix) -> QToolButton* {
        for (QToolButton* b : w.composer()->findChildren<QToolButton*>())
            if (b->accessibleName().startsWith(prefix)) return b;
        return nullptr;
    };
    QToolButton* view = button(QStringLiteral("View attachment"));
    QVERIFY(view);
    view->click();
    QVERIFY(w.viewerController()->viewer());
    QCOMPARE(w.viewerController()->viewer()->path(), path);
    QCOMPARE(w.composer()->attachments(), QStringList{path});  // still attached
    QToolButton* remove = button(QStringLiteral("Remove attachment"));
    QVERIFY(remove);
    remove->click();
    QVERIFY(w.composer()->attachments().isEmpty());
}
