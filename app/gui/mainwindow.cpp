// See mainwindow.h. Wiring only: the logic lives in the chat/, inference/, inspector/ classes.
#include "mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QDockWidget>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QStatusBar>
#include <QVBoxLayout>

#include "chat/chatcontroller.h"
#include "chat/chatmodel.h"
#include "chat/chatspanel.h"
#include "chat/chatstore.h"
#include "chat/chatview.h"
#include "chat/composer.h"
#include "chat/contextmeter.h"
#include "chat/contextplanner.h"
#include "chat/conversationstore.h"
#include "appinit.h"
#include "focusring.h"
#include "backendreportdialog.h"
#include "icons.h"
#include "inference/inferencecontroller.h"
#include "inspector/inspectorcontroller.h"
#include "inspector/inspectorwidget.h"
#include "viewer/viewercontroller.h"
#include "mainactions.h"
#include "models/loadplandialog.h"
#include "models/modellibrarydialog.h"
#include "inference/llavachatengine.h"
#include "models/modelpresets.h"
#include "noticebar.h"
#include "serving/servecontroller.h"
#include "settings/settingsdialog.h"
#include "statuspanel.h"

namespace {
// Below this window width the two docks share the right side as tabs, so the chat column keeps room.
constexpr int kNarrowWidth = 1200;

bool dialogsAllowed() { return !qEnvironmentVariableIsSet("LLAVA_NO_DIALOGS"); }

// The images the inspector shows for a chat: the last ones a message of it carried.
QString lastImageOf(const Conversation* c) {
    if (!c) return {};
    for (qsizetype i = c->messages.size() - 1; i >= 0; --i)
        if (!c->messages[i].images.isEmpty()) return c->messages[i].images.last();
    return {};
}
}  // namespace

MainWindow::MainWindow(AppSettings settings, MainWindowOptions options, QWidget* parent)
    : QMainWindow(parent), m_settings(std::move(settings)), m_options(std::move(options)) {
    setWindowIcon(appIcon(AppIcon::App));
    resize(1280, 820);
    m_store = new ConversationStore(m_options.dataDir, this);
    const QStringList problems = m_store->load();
    m_inference = new InferenceController(m_options.engineFactory(), this);
    m_serve = new ServeController(m_inference, this);
    m_chatController = new ChatController(m_store, m_inference, this);
    m_chat = new ChatModel(m_store, this);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    m_notices = new NoticeBar(central);
    m_view = new ChatView(central);
    m_view->setModel(m_chat);
    m_composer = new Composer(central);
    m_composer->setImageImporter([this](const QImage& image) {
        auto stored = m_store->files().importImage(image);
        if (!stored.isOk()) notify(QString::fromStdString(stored.status().message()));
        return stored.isOk() ? *stored : QString();
    });
    layout->addWidget(m_notices);
    m_meter = new ContextMeter(central);
    m_planner = new ContextPlanner(m_store, m_inference, this);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_meter);
    layout->addWidget(m_composer);
    setCentralWidget(central);

    m_chatsDock = new QDockWidget(this);
    m_chatsDock->setObjectName(QStringLiteral("chatsDock"));
    m_chatsPanel = new ChatsPanel(m_store, m_chatsDock);
    m_chatsDock->setWidget(m_chatsPanel);
    addDockWidget(Qt::LeftDockWidgetArea, m_chatsDock);
    m_inspectorDock = new QDockWidget(this);
    m_inspectorDock->setObjectName(QStringLiteral("inspectorDock"));
    m_inspector = new InspectorWidget(m_inspectorDock);
    m_inspectorDock->setWidget(m_inspector);
    addDockWidget(Qt::RightDockWidgetArea, m_inspectorDock);
    resizeDocks({m_chatsDock, m_inspectorDock}, {220, 520}, Qt::Horizontal);
    m_inspectorController = new InspectorController(m_inspector, this);
    m_inspectorController->setReferenceSetting(m_settings.reference);

    m_actions = std::make_unique<MainActions>(this, m_chatsDock, m_inspectorDock);
    new FocusRing(this);  // keyboard focus visible on every control
    m_status = new StatusPanel(statusBar());
    connectActions();
    connectInference();
    connectChat();
    connectInsight();
    connectContextMeter();
    applySettings();

    if (!problems.isEmpty())
        m_notices->show(QStringLiteral("corrupt"), tr("Some chats could not be read and were moved aside (nothing was deleted):\n%1")
                                                       .arg(problems.join(QLatin1Char('\n'))));
    if (m_store->rowCount() == 0) newChat();
    else selectConversation(m_store->conversations().first().id);
    if (m_options.openSample && m_store->rowCount() <= 1 && m_chat->rowCount() == 0) {
        auto sample = m_store->files().importImage(drawSampleImage());
        if (sample.isOk()) m_composer->addAttachments({*sample});
        m_composer->setText(tr("What is shown in this image?"));
    }
    retranslate();
    m_composer->editor()->setFocus();
}

MainWindow::~MainWindow() {
    m_serve->stop();  // before the inference thread goes: its queued requests are cancelled or abandoned
    m_chatController->stop();  // writes the answer so far as stopped
    m_inference->cancel();
}

const QString& MainWindow::currentConversationId() const { return m_chatController->conversationId(); }
bool MainWindow::modelLoaded() const { return m_status->model().has_value(); }
bool MainWindow::exactTextCounts() const { return m_inspectorController->exactTextCounts(); }

void MainWindow::connectActions() {
    MainActions& a = *m_actions;
    connect(a.newChat, &QAction::triggered, this, &MainWindow::newChat);
    connect(a.openImage, &QAction::triggered, this, &MainWindow::openImage);
    connect(a.exportMarkdown, &QAction::triggered, this, [this] { exportChat(true); });
    connect(a.exportJson, &QAction::triggered, this, [this] { exportChat(false); });
    connect(a.quit, &QAction::triggered, this, &QWidget::close);
    connect(a.paste, &QAction::triggered, this, [this] {
        if (m_composer->acceptMime(QApplication::clipboard()->mimeData()).isEmpty()) m_composer->editor()->paste();
    });
    connect(a.settings, &QAction::triggered, this, &MainWindow::showSettings);
    connect(a.openModel, &QAction::triggered, this, &MainWindow::openModelFolder);
    connect(a.modelLibrary, &QAction::triggered, this, [this] {
        auto* dialog = new ModelLibraryDialog(this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setContextLength(m_settings.contextLength);
        connect(dialog, &ModelLibraryDialog::openModelRequested, this, [this, dialog](const QString& dir) {
            dialog->accept();
            openModelChecked(dir);
        });
        dialog->show();
    });
    connect(a.recent, &QMenu::aboutToShow, this, [this] {
        m_actions->recent->clear();
        for (const QString& dir : m_settings.recentModels) m_actions->recent->addAction(dir, this, [this, dir] { openModelChecked(dir); });
        if (m_settings.recentModels.isEmpty()) m_actions->recent->addAction(tr("(none)"))->setEnabled(false);
    });
    connect(a.demoModel, &QAction::triggered, this, [this] { loadModel(m_options.dataDir + QStringLiteral("/demo-model"), true); });
    for (const std::string& name : llava::presetNames()) {
        const QString preset = QString::fromStdString(name);
        a.presets->addAction(preset, this, [this, preset] { inspectPreset(preset); });
    }
    connect(a.inspectLoaded, &QAction::triggered, this, &MainWindow::inspectActiveModel);
    connect(a.serve, &QAction::triggered, this, &MainWindow::setServing);
    connect(a.stop, &QAction::triggered, this, &MainWindow::stop);
    connect(a.regenerate, &QAction::triggered, this, &MainWindow::regenerate);
    connect(a.undoDelete, &QAction::triggered, this, [this] {
        if (m_store->undoRemove()) m_notices->dismiss(QStringLiteral("deleted"));
        m_actions->undoDelete->setEnabled(m_store->canUndoRemove());
    });
    connect(a.focusComposer, &QAction::triggered, this, [this] { m_composer->editor()->setFocus(); });
    connect(a.backendReport, &QAction::triggered, this, &MainWindow::showBackendReport);
    connect(a.about, &QAction::triggered, this, [this] {
        QMessageBox::about(this, tr("About Llava Insight"),
                           tr("Llava Insight %1\nOffline LLaVA v1.6 (LLaVA-NeXT) with an anyres inspector.")
                               .arg(QStringLiteral(LLAVA_VERSION_STRING)));
    });
}

void MainWindow::connectInference() {
    connect(m_status, &StatusPanel::cancelLoadRequested, m_inference, &InferenceController::cancelLoad);
    connect(m_inference, &InferenceController::loadProgressChanged, m_status, &StatusPanel::setLoadProgress);
    connect(m_inference, &InferenceController::loadFinished, this, [this](const ModelInfo& info) {
        m_status->setLoaded(info);
        const bool remote = info.backend == QLatin1String("remote");
        if (!remote) {
            // A different local model: the served one is gone (its requests are cancelled).
            if (m_serve->isRunning() && (!m_localModel || m_localModel->modelDir != info.modelDir)) setServing(false);
            m_localModel = info;
        }
        const bool openedFolder = !remote && m_settings.usesServer();  // a local folder was opened: local from now on
        if (openedFolder) m_settings.engine = QStringLiteral("local");
        if (!remote && !info.randomWeights) m_settings.addRecentModel(info.modelDir);
        if (openedFolder || (!remote && !info.randomWeights)) {
            QSettings qs;
            m_settings.save(qs);
        }
        updateServeAction();
        inspectActiveModel();
        updateTitle();
        updateBanner();
        m_inspectorController->setContext(0, info.contextLimit);
        m_planner->setModel(true, info.config.text.maxPositions);
        const QString backendNotice = BackendReportDialog::loadNotice(info);
        if (backendNotice.isEmpty()) m_notices->dismiss(QStringLiteral("backend"));
        else m_notices->show(QStringLiteral("backend"), backendNotice, tr("Self-check report"), [this] { showBackendReport(); });
        emit statusChanged();
    });
    connect(m_inference, &InferenceController::loadFailed, this, [this](const QString& message, const QString& details, bool stillLoaded) {
        m_status->setLoadFailed(details.left(200), stillLoaded);
        if (!stillLoaded) {
            m_localModel.reset();
            setServing(false);
        }
        updateTitle();
        updateBanner();
        if (!stillLoaded) inspectActiveModel();
        if (!stillLoaded) m_planner->setModel(false, 0);
        const QString kept = stillLoaded && m_status->model()
                                 ? tr("%1 is still loaded and answers as before.").arg(m_status->model()->name)
                                 : tr("No model is loaded now.");
        QMessageBox box(QMessageBox::Warning, tr("Could not load the model"), message, QMessageBox::Ok, this);
        box.setInformativeText(details.left(300) + QStringLiteral("\n\n") + kept);
        box.setDetailedText(details);
        if (dialogsAllowed()) box.exec();
        emit statusChanged();
    });
}

void MainWindow::connectChat() {
    connect(m_inference, &InferenceController::serverUsageReported, m_status,
            [this](quint64, const ServerUsage& usage) { m_status->setServerUsage(usage); });
    connect(m_chatsPanel, &ChatsPanel::chatSelected, this, &MainWindow::selectConversation);
    connect(m_chatsPanel, &ChatsPanel::newRequested, this, &MainWindow::newChat);
    connect(m_chatsPanel, &ChatsPanel::deleteRequested, this, &MainWindow::deleteConversation);
    connect(m_chatsPanel, &ChatsPanel::renameRequested, this, [this](const QString& id) {
        const Conversation* c = m_store->find(id);
        if (!c) return;
        bool ok = false;
        const QString title = QInputDialog::getText(this, tr("Rename chat"), tr("Title:"), QLineEdit::Normal, c->title, &ok);
        if (ok && !title.trimmed().isEmpty()) m_store->rename(id, title.trimmed());
    });
    connect(m_store, &ConversationStore::saveFailed, this, [this](const QString&, const QString& message) {
        m_notices->show(QStringLiteral("saveFailed"),
                        tr("This chat is not saved: %1\nThe previous version on disk is intact. Free some space: "
                           "the chat is saved again automatically (every %2 seconds, with the next change, and when you quit).")
                            .arg(message).arg(ConversationStore::kRetryMs / 1000));
    });
    connect(m_store, &ConversationStore::saveRecovered, this, [this] {
        if (!m_store->hasUnsavedChanges()) m_notices->dismiss(QStringLiteral("saveFailed"));
    });
    connect(m_store, &ConversationStore::conflictKept, this, [this](const QString&, const QString&, const QString& message) {
        m_notices->show(QStringLiteral("conflict"), message);
    });

    connect(m_composer, &Composer::sendRequested, this, &MainWindow::send);
    connect(m_composer, &Composer::resendRequested, this, [this](int row, const QString& text, const QStringList& images) {
        const QStringList stored = importImages(images);
        if (stored.size() == images.size()) m_chatController->resendFrom(row, text, stored);
    });
    connect(m_composer, &Composer::stopRequested, this, &MainWindow::stop);
    connect(m_composer, &Composer::attachRequested, this, &MainWindow::openImage);
    connect(m_composer, &Composer::attachmentRejected, this, [this](const QString&, const QString& reason) { notify(reason); });
    connect(m_composer, &Composer::attachmentsChanged, this, [this](const QStringList& images) {
        showImageInInspector(images.isEmpty() ? lastImageOf(m_store->find(currentConversationId())) : images.last());
        updateDraftCounts();
    });
    connect(m_composer->editor(), &QPlainTextEdit::textChanged, this, &MainWindow::updateDraftCounts);
    connect(m_view, &ChatView::copyRequested, this, [](const QString& text) { QApplication::clipboard()->setText(text); });
    connect(m_view, &ChatView::regenerateRequested, this, &MainWindow::regenerate);
    connect(m_view, &ChatView::editRequested, this, [this](int row) {
        if (m_chatController->isBusy() || row < 0 || row >= m_chat->rowCount()) return;
        const ChatMessage& m = m_chat->message(row);
        m_composer->beginEdit(row, m.text, m.images);
        updateDraftCounts();
    });
    connect(m_chatController, &ChatController::busyChanged, m_composer, &Composer::setBusy);
    connect(m_chatController, &ChatController::busyChanged, this, [this](bool busy) {
        if (busy) m_status->clearAnswerStats();  // the previous answer's TTFT does not describe this one
    });
    connect(m_chatController, &ChatController::settled, this, [this](const llava::GenerationStats& stats, MessageState state) {
        if (state == MessageState::Complete || (state == MessageState::Stopped && stats.generatedTokens > 0))
            m_status->setAnswerStats(stats, state == MessageState::Complete);
    });
    connect(m_chatController, &ChatController::contextUsedChanged, this, [this](int used) {
        m_inspectorController->setContext(used, m_status->model() ? m_status->model()->contextLimit : m_settings.contextLength);
    });
}

// Issue 12 / issue 9: the image viewer (tiles, attention) and the answers' confidence shading.
void MainWindow::connectInsight() {
    m_viewerController = new ViewerController(m_store, m_inference, [this] { return m_status->model(); },
                                              [this] { return currentConversationId(); }, this);
    connect(m_view, &ChatView::imageActivated, m_viewerController, &ViewerController::openImage);
    connect(m_composer, &Composer::imageActivated, m_viewerController, &ViewerController::openImage);
    connect(m_view, &ChatView::answerTokenActivated, m_viewerController, &ViewerController::explainAnswerToken);
    connect(m_viewerController, &ViewerController::showInInspectorRequested, this, [this](const QString& path) {
        showImageInInspector(path);
        m_inspectorDock->show();
        m_inspectorDock->raise();
    });
    m_actions->view->addAction(m_view->shadingAction());
    auto labels = [this] {
        const Conversation* c = m_store->find(currentConversationId());
        m_inspectorController->setConversation(c ? c->messages : QList<ChatMessage>{}, c ? c->systemPrompt : QString());
    };
    connect(m_store, &ConversationStore::messageChanged, this, [labels](const QString&, int, MessageChange change) {
        if (change == MessageChange::State) labels();  // an answer finished, stopped or failed
    });
    connect(m_store, &ConversationStore::messagesRemoved, this, labels);
    connect(m_chatsPanel, &ChatsPanel::chatSelected, this, labels);
}

void MainWindow::connectContextMeter() {
    connect(m_planner, &ContextPlanner::forecastChanged, this, [this](const ContextForecast& forecast) {
        m_meter->setForecast(forecast);  // first: the composer quotes the meter's warning
        m_composer->setSendBlocked(forecast.blocksSend() ? m_meter->warningText() : QString());
        // The inspector's context line says the same as the meter (the chat as it would be prompted).
        if (forecast.state == ContextForecast::State::Ready)
            m_inspectorController->setContext(forecast.plan.earlierTokens, forecast.plan.contextLimit);
    });
    connect(m_chatController, &ChatController::busyChanged, m_planner, &ContextPlanner::setBusy);
    connect(m_meter, &ContextMeter::newChatRequested, this, &MainWindow::newChat);
    connect(m_meter, &ContextMeter::reloadRequested, this, [this](int contextLength) {
        const auto& model = m_status->model();
        if (!model) return;
        m_settings.contextLength = contextLength;
        QSettings qs;
        m_settings.save(qs);
        loadModel(model->modelDir, model->randomWeights);
    });
}

void MainWindow::newChat() {
    // An empty chat already at the top is reused rather than stacking empty ones.
    const QList<Conversation>& all = m_store->conversations();
    const QString id = !all.isEmpty() && all.first().messages.isEmpty() ? all.first().id : m_store->create(m_settings.systemPrompt);
    selectConversation(id);
}

void MainWindow::selectConversation(const QString& id) {
    if (!m_store->find(id)) return;
    if (m_composer->editingRow() >= 0) m_composer->cancelEdit();
    m_chatController->setConversation(id);
    m_chat->setConversationId(id);
    m_chatsPanel->setCurrent(id);
    if (m_composer->attachments().isEmpty()) showImageInInspector(lastImageOf(m_store->find(id)));
    updateDraftCounts();
}

void MainWindow::deleteConversation(const QString& id) {
    const Conversation* c = m_store->find(id);
    if (!c) return;
    const QString title = c->title.isEmpty() ? defaultTitle(*c) : c->title;
    if (dialogsAllowed() && !c->messages.isEmpty() &&
        QMessageBox::question(this, tr("Delete chat"), tr("Delete \"%1\" and its images?").arg(title),
                              QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    const llava::Status status = m_store->remove(id);  // stops its request (ChatController listens)
    if (!status.isOk()) {
        notify(QString::fromStdString(status.message()));
        return;
    }
    m_actions->undoDelete->setEnabled(true);
    m_notices->show(QStringLiteral("deleted"), tr("Deleted \"%1\".").arg(title), tr("Undo"), [this] { m_actions->undoDelete->trigger(); });
    if (id == currentConversationId() || currentConversationId().isEmpty()) {
        if (m_store->rowCount() == 0) newChat();
        else selectConversation(m_store->conversations().first().id);
    }
}

QStringList MainWindow::importImages(const QStringList& paths) {
    QStringList stored;
    for (const QString& path : paths) {
        auto copy = path.startsWith(m_store->files().imagesDir()) ? llava::Result<QString>(path) : m_store->files().importImageFile(path);
        if (!copy.isOk()) {
            notify(tr("The image was not sent: %1").arg(QString::fromStdString(copy.status().message())));
            return {};
        }
        stored << *copy;
    }
    return stored;
}

void MainWindow::send(const QString& text, const QStringList& images) {
    if (!m_store->find(currentConversationId())) newChat();
    const QStringList stored = importImages(images);
    if (stored.size() != images.size()) {  // keep the user's words and pictures for another try
        m_composer->setText(text);
        m_composer->addAttachments(images);
        return;
    }
    m_chatController->send(text, stored);
    updateDraftCounts();
}

void MainWindow::stop() {
    if (m_composer->editingRow() >= 0 && !m_chatController->isBusy()) m_composer->cancelEdit();
    m_chatController->stop();
}

void MainWindow::regenerate() { m_chatController->regenerate(); }

void MainWindow::openImage() {
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Open images"), QString(),
                                                            tr("Images (*.png *.jpg *.jpeg *.gif *.bmp *.webp *.tif *.tiff)"));
    if (!files.isEmpty()) m_composer->addAttachments(files);
}

void MainWindow::showImageInInspector(const QString& path) {
    if (path != m_inspectorController->imagePath()) m_inspectorController->showImage(path);
}

void MainWindow::updateDraftCounts() {
    const Conversation* c = m_store->find(currentConversationId());
    m_inspectorController->setDraft(m_composer->text(), c ? c->systemPrompt : QString());
    m_planner->setConversation(currentConversationId());
    m_planner->setDraft(m_composer->text(), m_composer->attachments(), m_composer->editingRow());
}

void MainWindow::loadModel(const QString& dir, bool randomWeights, std::optional<llava::WeightPrecision> precision) {
    LoadRequest request;
    request.modelDir = dir;
    request.randomWeights = randomWeights;
    request.threads = m_settings.threads;
    request.contextLength = m_settings.contextLength;
    if (m_settings.backend == QLatin1String("cpu")) request.backend = llava::BackendKind::Cpu;
    if (m_settings.backend == QLatin1String("cuda")) request.backend = llava::BackendKind::Cuda;
    llava::WeightPrecision chosen{};
    if (precision) request.precision = *precision;
    else if (llava::parseWeightPrecision(m_settings.precision.toStdString(), &chosen)) request.precision = chosen;
    llava::Reference reference{};
    if (llava::parseReference(m_settings.reference.toStdString(), &reference)) request.reference = reference;
    m_status->setLoading(QFileInfo(dir).fileName(), randomWeights);
    m_inference->loadModel(request);
}

void MainWindow::connectToServer() {
    LoadRequest request;
    request.remote = remoteEndpointOf(m_settings);
    request.contextLength = m_settings.contextLength;
    llava::Reference reference{};
    if (llava::parseReference(m_settings.reference.toStdString(), &reference)) request.reference = reference;
    m_status->setLoading(m_settings.remoteUrl, false);
    m_inference->loadModel(request);
}

void MainWindow::setServing(bool on) {
    if (!on) {
        if (m_serve->isRunning()) {
            m_serve->stop();
            m_notices->dismiss(QStringLiteral("serving"));
        }
        updateServeAction();
        return;
    }
    if (m_serve->isRunning()) return updateServeAction();
    if (!m_localModel) {
        notify(tr("Load a local model first: only a model loaded on this computer can be served."));
        return updateServeAction();
    }
    QString error;
    if (!m_serve->start(*m_localModel, quint16(m_settings.servePort), &error)) {
        m_notices->show(QStringLiteral("serving"), tr("Could not serve on 127.0.0.1:%1: %2 (choose another port in Settings → Backend).")
                                                       .arg(m_settings.servePort)
                                                       .arg(error));
        return updateServeAction();
    }
    m_notices->show(QStringLiteral("serving"),
                    tr("Serving %1 at %2 for programs on this computer (OpenAI-compatible; see docs/serving.md). "
                       "Requests share this window's model and wait for its answers.")
                        .arg(m_localModel->name, m_serve->url()),
                    tr("Stop serving"), [this] { setServing(false); });
    updateServeAction();
}

void MainWindow::updateServeAction() {
    QAction* serve = m_actions->serve;
    serve->setChecked(m_serve->isRunning());
    serve->setEnabled(m_serve->isRunning() || m_localModel.has_value());
    serve->setText(m_serve->isRunning() ? tr("Stop &serving (%1)").arg(m_serve->url())
                                        : tr("&Serve this model on localhost:%1").arg(m_settings.servePort));
}

void MainWindow::applyBackendChange(const AppSettings& before) {
    const bool serverChanged = before.remoteUrl != m_settings.remoteUrl || before.remoteApiKey != m_settings.remoteApiKey ||
                               before.remoteModel != m_settings.remoteModel || before.remoteConfig != m_settings.remoteConfig;
    const bool remoteNow = m_status->model() && m_status->model()->backend == QLatin1String("remote");
    if (m_settings.usesServer() && (!remoteNow || serverChanged)) return connectToServer();
    if (!m_settings.usesServer() && remoteNow) {
        if (m_localModel) {  // still loaded: switch back at once
            LoadRequest request;
            request.reuseLocal = true;
            m_status->setLoading(m_localModel->name, false);
            m_inference->loadModel(request);
        } else if (!m_settings.lastModel.isEmpty() && QDir(m_settings.lastModel).exists()) {
            loadModel(m_settings.lastModel, false);
        } else {
            loadModel(m_options.dataDir + QStringLiteral("/demo-model"), true);
        }
    }
}

void MainWindow::inspectPreset(const QString& name) { m_inspectorController->showPreset(name); }

void MainWindow::inspectActiveModel() {
    const auto& model = m_status->model();
    if (model) m_inspectorController->showModel(model->config, model->name, model->modelDir);
    else m_inspectorController->showDefault();
}

void MainWindow::updateTitle() {
    // The platform adds the application name ("… — Llava Insight"): the title names the model only.
    const auto& model = m_status->model();
    if (!model) setWindowTitle(tr("No model loaded"));
    else if (model->randomWeights && model->name.contains(QStringLiteral("random weights")))
        setWindowTitle(tr("%1 — answers are meaningless").arg(model->name));
    else if (model->randomWeights) setWindowTitle(tr("%1 (random weights — answers are meaningless)").arg(model->name));
    else if (model->backend == QLatin1String("remote")) setWindowTitle(tr("%1 — via server %2").arg(model->name, model->device));
    else setWindowTitle(model->name);
}

void MainWindow::updateBanner() {
    const auto& model = m_status->model();
    m_view->setBanner(model && model->randomWeights
                          ? tr("Demo model with random weights — answers are meaningless. "
                               "Open a LLaVA v1.6 folder (Models → Open model folder) for real answers.")
                          : QString());
}

void MainWindow::openModelFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a LLaVA v1.6 model folder"));
    if (!dir.isEmpty()) openModelChecked(dir);
}

void MainWindow::openModelChecked(const QString& dir) {
    llava::WeightPrecision requested = llava::WeightPrecision::AsStored;
    (void)llava::parseWeightPrecision(m_settings.precision.toStdString(), &requested);
    // CUDA (chosen, or possible under Auto in a CUDA build): its free memory is checked by the backend at load.
    const bool cuda = m_settings.backend == QLatin1String("cuda") || (m_settings.backend != QLatin1String("cpu") && cudaBackendBuilt());
    quint64 available = m_options.hostMemoryBudget;
    if (!cuda && available == 0)
        if (auto host = llava::availableHostMemory(); host.isOk()) available = *host;
    const LoadAdvice advice = adviseLoad(dir, requested, cuda ? llava::PlanDevice::Cuda : llava::PlanDevice::Cpu,
                                         cuda ? 0 : available, m_settings.contextLength);
    if (advice.canLoadAsRequested() || !dialogsAllowed()) {  // scripts: the load itself refuses with the numbers
        loadModel(dir, false);
        return;
    }
    LoadPlanDialog dialog(advice, this);
    if (dialog.exec() == QDialog::Accepted && dialog.chosenPrecision()) loadModel(dir, false, dialog.chosenPrecision());
}

void MainWindow::showBackendReport() {
    auto* dialog = new BackendReportDialog(m_status->model(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

void MainWindow::showSettings() {
    SettingsDialog dialog(m_settings, this);
    if (dialog.exec() != QDialog::Accepted) return;
    const AppSettings before = m_settings;
    m_settings = dialog.settings();
    QSettings qs;
    m_settings.save(qs);
    applyTheme(m_settings.theme);  // at once, no restart
    applySettings();
    applyBackendChange(before);  // local model <-> server, at once, no restart
}

void MainWindow::applySettings() {
    SamplingChoice sampling;
    sampling.params.temperature = float(m_settings.temperature);
    sampling.params.topP = float(m_settings.topP);
    sampling.params.topK = m_settings.topK;
    sampling.params.maxNewTokens = m_settings.maxNewTokens;
    sampling.params.logprobs = 5;  // the answer's hover cards: the chosen token and its top-5 alternatives
    sampling.fixedSeed = m_settings.fixedSeed;
    sampling.seed = quint64(m_settings.seed);
    m_chatController->setSampling(sampling);
    m_inspectorController->setReferenceSetting(m_settings.reference);
    updateDraftCounts();
    updateServeAction();
}

void MainWindow::exportChat(bool markdown) {
    const Conversation* c = m_store->find(currentConversationId());
    if (!c) return;
    const QString filter = markdown ? tr("Markdown (*.md)") : tr("JSON (*.json)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chat"), c->title + (markdown ? ".md" : ".json"), filter);
    if (path.isEmpty()) return;
    const llava::Status status = markdown ? m_store->files().exportMarkdown(*c, path) : m_store->files().exportJson(*c, path);
    notify(status.isOk() ? tr("Exported to %1").arg(path) : QString::fromStdString(status.message()), 8000);
}

void MainWindow::notify(const QString& message, int ms) { statusBar()->showMessage(message, ms); }

void MainWindow::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QMainWindow::changeEvent(event);
}

void MainWindow::retranslate() {
    m_actions->retranslate();
    updateServeAction();
    m_status->retranslate();
    m_inspectorController->retranslate();
    updateTitle();
    updateBanner();
}

void MainWindow::resizeEvent(QResizeEvent* event) {
    QMainWindow::resizeEvent(event);
    adaptToWidth();
}

void MainWindow::adaptToWidth() {
    const bool narrow = width() < kNarrowWidth;
    if (narrow == m_narrow) return;
    m_narrow = narrow;
    if (narrow) {
        // One dock area on the right, the chats as a tab behind the inspector: the chat column keeps
        // at least half the window.
        addDockWidget(Qt::RightDockWidgetArea, m_chatsDock);
        tabifyDockWidget(m_inspectorDock, m_chatsDock);
        m_inspectorDock->raise();
        resizeDocks({m_inspectorDock}, {std::max(280, width() / 2 - 40)}, Qt::Horizontal);
    } else {
        addDockWidget(Qt::LeftDockWidgetArea, m_chatsDock);
        resizeDocks({m_chatsDock, m_inspectorDock}, {220, 520}, Qt::Horizontal);
    }
}
