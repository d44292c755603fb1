// See mainwindow.h. Wiring only: the logic lives in the chat/, inference/, inspector/ classes.
#include "mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDockWidget>
#include <QEvent>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QStatusBar>
#include <QVBoxLayout>

#include "adaptivedocks.h"
#include "appinit.h"
#include "backendreportdialog.h"
#include "chat/chatcontroller.h"
#include "chat/chatmodel.h"
#include "chat/chatspanel.h"
#include "chat/chatstore.h"
#include "chat/chatview.h"
#include "chat/composer.h"
#include "chat/contextmeter.h"
#include "chat/contextplanner.h"
#include "chat/conversationstore.h"
#include "chat/storenotices.h"
#include "focusring.h"
#include "icons.h"
#include "inference/inferencecontroller.h"
#include "inspector/inspectorcontroller.h"
#include "inspector/inspectorwidget.h"
#include "mainactions.h"
#include "models/modelpresets.h"
#include "noticebar.h"
#include "serving/servecontroller.h"
#include "settings/settingsdialog.h"
#include "statuspanel.h"
#include "viewer/viewercontroller.h"

MainWindow::MainWindow(AppSettings settings, MainWindowOptions options, QWidget* parent)
    : QMainWindow(parent), m_settings(std::move(settings)), m_options(std::move(options)) {
    setWindowIcon(appIcon(AppIcon::App));
    resize(1280, 820);
    m_store = new ConversationStore(m_options.dataDir, this);
    const QStringList problems = m_store->load();
    m_inference = new InferenceController(m_options.engineFactory(), this);
    m_chatController = new ChatController(m_store, m_inference, this);
    m_chat = new ChatModel(m_store, this);
    m_planner = new ContextPlanner(m_store, m_inference, this);
    buildCentral();
    buildDocks();
    m_actions = std::make_unique<MainActions>(this, m_chatsDock, m_inspectorDock);
    new FocusRing(this);  // keyboard focus visible on every control
    m_status = new StatusPanel(statusBar());
    m_models = new ModelController(m_settings, m_inference, {m_status, m_notices, m_actions->serve, this}, m_options.dataDir,
                                   m_options.hostMemoryBudget, this);
    connectActions();
    connectModels();
    connectChat();
    connectInsight();
    connectContextMeter();
    applySettings();
    showUnreadableChats(m_notices, problems);
    openFirstChat();
    retranslate();
    m_composer->editor()->setFocus();
}

void MainWindow::buildCentral() {
    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    m_notices = new NoticeBar(central);
    m_view = new ChatView(central);
    m_view->setModel(m_chat);
    m_meter = new ContextMeter(central);
    m_composer = new Composer(central);
    m_composer->setImageImporter([this](const QImage& image) {
        auto stored = m_store->files().importImage(image);
        if (!stored.isOk()) notify(QString::fromStdString(stored.status().message()));
        return stored.isOk() ? *stored : QString();
    });
    layout->addWidget(m_notices);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_meter);
    layout->addWidget(m_composer);
    setCentralWidget(central);
}

void MainWindow::buildDocks() {
    m_chatsDock = new QDockWidget(this);
    m_chatsDock->setObjectName(QStringLiteral("chatsDock"));
    m_chatsPanel = new ChatsPanel(m_store, m_chatsDock);
    m_chatsDock->setWidget(m_chatsPanel);
    m_inspectorDock = new QDockWidget(this);
    m_inspectorDock->setObjectName(QStringLiteral("inspectorDock"));
    m_inspector = new InspectorWidget(m_inspectorDock);
    m_inspectorDock->setWidget(m_inspector);
    m_docks = std::make_unique<AdaptiveDocks>(this, m_chatsDock, m_inspectorDock);
    m_inspectorController = new InspectorController(m_inspector, this);
    m_inspectorController->setReferenceSetting(m_settings.reference);
}

// The newest chat (a new one on a first start, with the sample image and a question ready to send).
void MainWindow::openFirstChat() {
    if (m_store->rowCount() == 0) newChat();
    else selectConversation(m_store->conversations().first().id);
    if (m_options.openSample && m_store->rowCount() <= 1 && m_chat->rowCount() == 0) {
        auto sample = m_store->files().importImage(drawSampleImage());
        if (sample.isOk()) m_composer->addAttachments({*sample});
        m_composer->setText(tr("What is shown in this image?"));
    }
}

MainWindow::~MainWindow() {
    m_models->serve()->stop();  // before the inference thread goes: its queued requests are cancelled or abandoned
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
    connect(a.exportMarkdown, &QAction::triggered, this, [this] { notify(m_chatsPanel->exportChat(currentConversationId(), true), 8000); });
    connect(a.exportJson, &QAction::triggered, this, [this] { notify(m_chatsPanel->exportChat(currentConversationId(), false), 8000); });
    connect(a.quit, &QAction::triggered, this, &QWidget::close);
    connect(a.paste, &QAction::triggered, this, [this] {
        if (m_composer->acceptMime(QApplication::clipboard()->mimeData()).isEmpty()) m_composer->editor()->paste();
    });
    connect(a.settings, &QAction::triggered, this, &MainWindow::showSettings);
    for (const std::string& name : llava::presetNames()) {
        const QString preset = QString::fromStdString(name);
        a.presets->addAction(preset, this, [this, preset] { inspectPreset(preset); });
    }
    connect(a.inspectLoaded, &QAction::triggered, this, &MainWindow::inspectActiveModel);
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

void MainWindow::connectModels() {
    MainActions& a = *m_actions;
    connect(a.openModel, &QAction::triggered, m_models, &ModelController::openModelFolder);
    connect(a.modelLibrary, &QAction::triggered, m_models, &ModelController::showModelLibrary);
    connect(a.recent, &QMenu::aboutToShow, m_models, [this] { m_models->fillRecentMenu(m_actions->recent); });
    connect(a.demoModel, &QAction::triggered, m_models, &ModelController::loadDemoModel);
    connect(m_models, &ModelController::message, this, [this](const QString& text) { notify(text); });
    connect(m_models, &ModelController::backendReportRequested, this, &MainWindow::showBackendReport);
    connect(m_models, &ModelController::modelLoaded, this, [this] {
        inspectActiveModel();
        updateModelTexts();
        const ModelInfo& info = *m_status->model();
        m_inspectorController->setContext(0, info.contextLimit);
        m_planner->setModel(true, info.config.text.maxPositions);
        emit statusChanged();
    });
    connect(m_models, &ModelController::loadFailed, this, [this](bool stillLoaded) {
        updateModelTexts();
        if (!stillLoaded) {
            inspectActiveModel();
            m_planner->setModel(false, 0);
        }
        emit statusChanged();
    });
}

void MainWindow::connectChat() {
    m_status->followAnswers(m_chatController, m_inference);
    connect(m_chatsPanel, &ChatsPanel::chatSelected, this, &MainWindow::selectConversation);
    connect(m_chatsPanel, &ChatsPanel::newRequested, this, &MainWindow::newChat);
    connect(m_chatsPanel, &ChatsPanel::deleteRequested, this, &MainWindow::deleteConversation);
    connect(m_chatsPanel, &ChatsPanel::problem, this, [this](const QString& message) { notify(message); });
    connect(m_chatsPanel, &ChatsPanel::deleted, this, [this](const QString& title) {
        m_actions->undoDelete->setEnabled(true);
        m_notices->show(QStringLiteral("deleted"), tr("Deleted \"%1\".").arg(title), tr("Undo"), [this] { m_actions->undoDelete->trigger(); });
    });
    connectStoreNotices(m_store, m_notices);

    connect(m_composer, &Composer::sendRequested, this, &MainWindow::send);
    connect(m_composer, &Composer::resendRequested, this, [this](int row, const QString& text, const QStringList& images) {
        if (const auto stored = importImages(images)) m_chatController->resendFrom(row, text, *stored);
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
    // The label lane follows the open chat: an answer finished, stopped or failed; messages removed.
    connect(m_store, &ConversationStore::messageChanged, this, [this](const QString&, int, MessageChange change) {
        if (change == MessageChange::State) updateLabelLane();
    });
    connect(m_store, &ConversationStore::messagesRemoved, this, &MainWindow::updateLabelLane);
}

void MainWindow::updateLabelLane() {
    const Conversation* c = m_store->find(currentConversationId());
    m_inspectorController->setConversation(c ? c->messages : QList<ChatMessage>{}, c ? c->systemPrompt : QString());
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
    connect(m_meter, &ContextMeter::reloadRequested, m_models, &ModelController::reloadWithContext);
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
    updateLabelLane();
    updateDraftCounts();
}

void MainWindow::deleteConversation(const QString& id) {
    if (!m_chatsPanel->deleteChat(id)) return;
    if (id == currentConversationId() || currentConversationId().isEmpty()) {
        if (m_store->rowCount() == 0) newChat();
        else selectConversation(m_store->conversations().first().id);
    }
}

std::optional<QStringList> MainWindow::importImages(const QStringList& paths) {
    auto stored = m_store->files().importImageFiles(paths);
    if (stored.isOk()) return *stored;
    notify(tr("The image was not sent: %1").arg(QString::fromStdString(stored.status().message())));
    return std::nullopt;
}

void MainWindow::send(const QString& text, const QStringList& images) {
    if (!m_store->find(currentConversationId())) newChat();
    const auto stored = importImages(images);
    if (!stored) {  // keep the user's words and pictures for another try
        m_composer->setText(text);
        m_composer->addAttachments(images);
        return;
    }
    m_chatController->send(text, *stored);
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

void MainWindow::inspectPreset(const QString& name) { m_inspectorController->showPreset(name); }

void MainWindow::inspectActiveModel() {
    const auto& model = m_status->model();
    if (model) m_inspectorController->showModel(model->config, model->name, model->modelDir);
    else m_inspectorController->showDefault();
}

// The title names the model (the platform adds the application name); random weights say so twice.
void MainWindow::updateModelTexts() {
    setWindowTitle(m_models->windowTitle());
    m_view->setBanner(m_models->bannerText());
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
    m_models->applyBackendChange(before);  // local model <-> server, at once, no restart
}

void MainWindow::applySettings() {
    m_chatController->setSampling(samplingChoiceOf(m_settings));
    m_inspectorController->setReferenceSetting(m_settings.reference);
    updateDraftCounts();
    m_models->updateServeAction();
}

void MainWindow::notify(const QString& message, int ms) {
    if (!message.isEmpty()) statusBar()->showMessage(message, ms);
}

void MainWindow::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslate();
    QMainWindow::changeEvent(event);
}

void MainWindow::retranslate() {
    m_actions->retranslate();
    m_models->updateServeAction();
    m_status->retranslate();
    m_inspectorController->retranslate();
    updateModelTexts();
}

void MainWindow::resizeEvent(QResizeEvent* event) {
    QMainWindow::resizeEvent(event);
    m_docks->adaptToWidth();
}
