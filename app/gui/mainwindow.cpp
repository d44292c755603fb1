// See mainwindow.h. Wiring only: the logic lives in the chat/, inference/, inspector/ classes.
#include "mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QStatusBar>
#include <QThreadPool>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include "chat/chatmodel.h"
#include "chat/chatstore.h"
#include "chat/chatview.h"
#include "chat/composer.h"
#include "icons.h"
#include "imagedecoder.h"
#include "inference/inferencecontroller.h"
#include "inspector/inspectorwidget.h"
#include "models/modelpresets.h"
#include "settings/settingsdialog.h"

namespace {
QString formatBytes(quint64 bytes) {
    const double mib = double(bytes) / (1024.0 * 1024.0);
    return mib >= 1024 ? QStringLiteral("%1 GiB").arg(mib / 1024.0, 0, 'f', 2) : QStringLiteral("%1 MiB").arg(mib, 0, 'f', 1);
}

// The exchanges among messages[0, end) the engine continues from, with the stored image files so a
// chat continued on a fresh session (other chat meanwhile, app restart) is restored with its images.
std::vector<HistoryTurn> historyOf(const QList<ChatMessage>& messages, qsizetype end) {
    std::vector<HistoryTurn> history;
    for (qsizetype i = 0; i + 1 < end; i += 2)
        if (messages[i].role == MessageRole::User && messages[i + 1].role == MessageRole::Assistant)
            history.push_back({messages[i].text, int(messages[i].images.size()), messages[i + 1].text, messages[i].images});
    return history;
}
}  // namespace

MainWindow::MainWindow(AppSettings settings, MainWindowOptions options, QWidget* parent)
    : QMainWindow(parent), m_settings(std::move(settings)), m_options(std::move(options)) {
    setWindowTitle(tr("Llava Insight"));
    setWindowIcon(appIcon(AppIcon::App));
    resize(1280, 820);
    m_store = std::make_unique<ChatStore>(m_options.dataDir);
    m_chat = new ChatModel(this);
    m_controller = new InferenceController(m_options.engineFactory(), this);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    m_view = new ChatView(central);
    m_view->setModel(m_chat);
    m_composer = new Composer(central);
    m_composer->setImageImporter([this](const QImage& image) {
        auto stored = m_store->importImage(image);
        return stored.isOk() ? *stored : QString();
    });
    layout->addWidget(m_view, 1);
    layout->addWidget(m_composer);
    setCentralWidget(central);

    m_chatsDock = new QDockWidget(tr("Chats"), this);
    m_chatsDock->setObjectName(QStringLiteral("chatsDock"));
    m_chatsDock->setWidget(buildChatsPanel());
    addDockWidget(Qt::LeftDockWidgetArea, m_chatsDock);

    m_inspectorDock = new QDockWidget(tr("Inspector"), this);
    m_inspectorDock->setObjectName(QStringLiteral("inspectorDock"));
    m_inspector = new InspectorWidget(m_inspectorDock);
    setInspectorConfig(defaultInspectorConfig(), tr("default geometry (no model loaded)"), QString());
    m_inspectorDock->setWidget(m_inspector);
    addDockWidget(Qt::RightDockWidgetArea, m_inspectorDock);
    resizeDocks({m_chatsDock, m_inspectorDock}, {220, 520}, Qt::Horizontal);

    buildMenus();
    buildStatusBar();

    connect(m_composer, &Composer::sendRequested, this, &MainWindow::send);
    connect(m_composer, &Composer::stopRequested, this, &MainWindow::stop);
    connect(m_composer, &Composer::attachRequested, this, &MainWindow::openImage);
    connect(m_composer, &Composer::attachmentsChanged, this, [this](const QStringList& images) {
        if (!images.isEmpty()) showImageInInspector(images.last());
        updateInspectorText();
    });
    connect(m_composer->editor(), &QPlainTextEdit::textChanged, this, &MainWindow::updateInspectorText);
    connect(m_view, &ChatView::copyRequested, this, [](const QString& text) { QApplication::clipboard()->setText(text); });
    connect(m_view, &ChatView::regenerateRequested, this, &MainWindow::regenerate);
    connect(m_view, &ChatView::editRequested, this, [this](int row) {
        if (m_controller->isGenerating() || row < 0 || row >= m_chat->rowCount()) return;
        const ChatMessage m = m_chat->message(row);
        m_chat->removeFrom(row);
        m_controller->clearSession();
        m_composer->setText(m.text);
        m_composer->clearAttachments();
        m_composer->addAttachments(m.images);
        m_composer->editor()->setFocus();
    });
    connect(m_chat, &ChatModel::conversationChanged, this, [this] {
        if (!m_controller->isGenerating()) saveCurrent();
    });

    connect(m_controller, &InferenceController::busyChanged, m_composer, &Composer::setBusy);
    connect(m_controller, &InferenceController::tokensGenerated, this, [this](quint64 id, const QString& text) {
        if (id == m_activeRequest) m_chat->appendText(m_activeRow, text);
    });
    auto settle = [this](quint64 id, MessageState state, const llava::GenerationStats* stats, const QString& error) {
        if (id != m_activeRequest) return;
        if (stats) m_chat->setStats(m_activeRow, *stats);
        m_chat->setState(m_activeRow, state, error);
        m_activeRequest = 0;
        saveCurrent();
    };
    connect(m_controller, &InferenceController::generationFinished, this,
            [this, settle](quint64 id, const llava::GenerationStats& stats, int used) {
                m_contextUsed = used;
                m_speedLabel->setText(tr("TTFT %1 ms · %2 tok/s").arg(stats.timeToFirstTokenMs, 0, 'f', 0)
                                          .arg(stats.decodeTokPerS, 0, 'f', 1));
                settle(id, MessageState::Complete, &stats, {});
                updateInspectorText();
            });
    connect(m_controller, &InferenceController::generationStopped, this,
            [this, settle](quint64 id, const llava::GenerationStats& stats, int used) {
                m_contextUsed = used;
                settle(id, MessageState::Stopped, &stats, {});
            });
    connect(m_controller, &InferenceController::generationFailed, this,
            [settle](quint64 id, const QString& message, const QString& details) {
                settle(id, MessageState::Failed, nullptr, message + QStringLiteral(" ") + details);
            });
    connect(m_controller, &InferenceController::loadProgressChanged, this, [this](quint64 done, quint64 total, const QString& stage) {
        m_loadProgress->setVisible(true);
        m_cancelLoad->setVisible(true);
        m_loadProgress->setRange(0, 1000);
        m_loadProgress->setValue(total ? int(1000.0 * double(done) / double(total)) : 0);
        m_loadProgress->setFormat(tr("Loading %1: %p%").arg(stage));
    });
    connect(m_controller, &InferenceController::loadFinished, this, [this](const ModelInfo& info) {
        m_model = info;
        m_modelLoaded = true;
        m_loadProgress->hide();
        m_cancelLoad->hide();
        QString label = info.name;
        if (info.randomWeights)
            label += info.name.contains(QStringLiteral("random weights")) ? tr(" — answers are meaningless")
                                                                          : tr(" — random weights, answers are meaningless");
        m_modelLabel->setText(label);
        if (!info.randomWeights) {
            m_settings.addRecentModel(info.modelDir);
            QSettings qs;
            m_settings.save(qs);
        }
        inspectActiveModel();
        updateTitle();
        m_view->setBanner(info.randomWeights ? tr("Demo model with random weights — answers are meaningless. "
                                                  "Open a LLaVA v1.6 folder (Models → Open model folder) for real answers.")
                                             : QString());
        QString backend = info.backend.toUpper();
        if (!info.device.isEmpty()) backend += QStringLiteral(" (%1)").arg(info.device);
        QString backendTip = backend;
        if (!info.fallbackReason.isEmpty()) {
            // The reason can be long: the label shows its start, the tooltip all of it.
            backend += tr(" — fallback: %1")
                           .arg(m_backendLabel->fontMetrics().elidedText(info.fallbackReason, Qt::ElideRight, 120));
            backendTip += tr("\nAuto did not pick CUDA: %1").arg(info.fallbackReason);
        }
        m_backendLabel->setText(backend);
        m_backendLabel->setToolTip(backendTip);
        m_memoryLabel->setText(tr("weights %1 · KV %2").arg(formatBytes(info.weightBytes), formatBytes(info.kvCacheBytes)));
        m_memoryLabel->setToolTip(tr("weights %1 (%2) · KV cache %3 · scratch %4")
                                      .arg(formatBytes(info.weightBytes), info.precision, formatBytes(info.kvCacheBytes),
                                           formatBytes(info.scratchBytes)));
        m_contextUsed = 0;
        updateInspectorText();
        emit statusChanged();
    });
    connect(m_controller, &InferenceController::loadFailed, this, [this](const QString& message, const QString& details) {
        m_loadProgress->hide();
        m_cancelLoad->hide();
        QMessageBox box(QMessageBox::Warning, tr("Could not load the model"), message, QMessageBox::Ok, this);
        box.setDetailedText(details);
        box.setInformativeText(details.left(300));
        if (!qEnvironmentVariableIsSet("LLAVA_NO_DIALOGS")) box.exec();
        m_modelLabel->setText(tr("No model loaded: %1").arg(details.left(120)));
    });

    auto report = m_store->loadAll();
    m_conversations = report.conversations;
    if (!report.problems.isEmpty())
        statusBar()->showMessage(tr("Some chats could not be read: %1").arg(report.problems.join(QStringLiteral("; "))), 15000);
    if (m_conversations.isEmpty()) newChat(); else selectConversation(m_conversations.first().id);
    refreshChatList();

    if (m_options.openSample && m_conversations.size() <= 1 && m_chat->rowCount() == 0) {
        auto sample = m_store->importImage(drawSampleImage());
        if (sample.isOk()) m_composer->addAttachments({*sample});
        m_composer->setText(tr("What is shown in this image?"));
    }
    m_composer->editor()->setFocus();
}

MainWindow::~MainWindow() {
    m_controller->cancel();
    QThreadPool::globalInstance()->waitForDone();  // preview decodes post back to this object
    saveCurrent();
}

QWidget* MainWindow::buildChatsPanel() {
    auto* panel = new QWidget(this);
    auto* v = new QVBoxLayout(panel);
    m_search = new QLineEdit(panel);
    m_search->setPlaceholderText(tr("Search chats"));
    m_search->setAccessibleName(tr("Search chats"));
    m_search->setClearButtonEnabled(true);
    m_search->addAction(appIcon(AppIcon::Search), QLineEdit::LeadingPosition);
    m_chatList = new QListWidget(panel);
    m_chatList->setAccessibleName(tr("Chat list"));
    auto* buttons = new QHBoxLayout;
    auto* add = new QPushButton(tr("New"), panel);
    auto* rename = new QPushButton(tr("Rename"), panel);
    auto* remove = new QPushButton(tr("Delete"), panel);
    add->setIcon(appIcon(AppIcon::NewChat));
    rename->setIcon(appIcon(AppIcon::Edit));
    remove->setIcon(appIcon(AppIcon::Delete));
    add->setAccessibleName(tr("New chat"));
    rename->setAccessibleName(tr("Rename chat"));
    remove->setAccessibleName(tr("Delete chat"));
    for (QPushButton* b : {add, rename, remove}) b->setToolTip(b->accessibleName());
    buttons->addWidget(add);
    buttons->addWidget(rename);
    buttons->addWidget(remove);
    v->addWidget(m_search);
    v->addWidget(m_chatList, 1);
    v->addLayout(buttons);
    connect(add, &QPushButton::clicked, this, &MainWindow::newChat);
    connect(m_search, &QLineEdit::textChanged, this, &MainWindow::refreshChatList);
    connect(m_chatList, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (item && item->data(Qt::UserRole).toString() != m_chat->conversation().id)
            selectConversation(item->data(Qt::UserRole).toString());
    });
    connect(rename, &QPushButton::clicked, this, [this] {
        bool ok = false;
        const QString title = QInputDialog::getText(this, tr("Rename chat"), tr("Title:"), QLineEdit::Normal,
                                                    m_chat->conversation().title, &ok);
        if (ok && !title.trimmed().isEmpty()) {
            m_chat->setTitle(title.trimmed());
            refreshChatList();
        }
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_controller->isGenerating()) stop();
        const QString id = m_chat->conversation().id;
        (void)m_store->remove(id);
        m_conversations.erase(std::remove_if(m_conversations.begin(), m_conversations.end(),
                                             [&](const Conversation& c) { return c.id == id; }),
                              m_conversations.end());
        if (m_conversations.isEmpty()) newChat(); else selectConversation(m_conversations.first().id);
        refreshChatList();
    });
    return panel;
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* newChatAction = file->addAction(appIcon(AppIcon::NewChat), tr("&New chat"), QKeySequence::New, this, &MainWindow::newChat);
    QAction* openImageAction = file->addAction(appIcon(AppIcon::OpenImage), tr("&Open image…"), QKeySequence::Open, this, &MainWindow::openImage);
    file->addSeparator();
    QMenu* exportMenu = file->addMenu(appIcon(AppIcon::Export), tr("&Export chat"));
    exportMenu->addAction(tr("Export as &Markdown…"), this, [this] { exportChat(true); });
    exportMenu->addAction(tr("Export as &JSON…"), this, [this] { exportChat(false); });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(tr("&Paste"), QKeySequence::Paste, this, [this] {
        if (!m_composer->acceptMime(QApplication::clipboard()->mimeData()).isEmpty()) return;
        m_composer->editor()->paste();
    });
    QAction* settingsAction = edit->addAction(appIcon(AppIcon::Settings), tr("&Settings…"), QKeySequence::Preferences, this,
                                              &MainWindow::showSettings);
    QMenu* view = menuBar()->addMenu(tr("&View"));
    QMenu* models = menuBar()->addMenu(tr("&Models"));
    QAction* openModelAction = models->addAction(appIcon(AppIcon::ModelFolder), tr("Open &model folder…"),
                                                 QKeySequence(tr("Ctrl+Shift+O")), this, &MainWindow::openModelFolder);
    m_recentMenu = models->addMenu(tr("&Recent models"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, [this] {
        m_recentMenu->clear();
        for (const QString& dir : m_settings.recentModels)
            m_recentMenu->addAction(dir, this, [this, dir] { loadModel(dir, false); });
        if (m_settings.recentModels.isEmpty()) m_recentMenu->addAction(tr("(none)"))->setEnabled(false);
    });
    models->addAction(tr("&Demo model (random weights)"), this, [this] {
        loadModel(m_options.dataDir + QStringLiteral("/demo-model"), true);
    });
    models->addSeparator();
    m_presetMenu = models->addMenu(tr("&Inspect preset (no weights)"));
    for (const std::string& name : llava::presetNames()) {
        const QString preset = QString::fromStdString(name);
        m_presetMenu->addAction(preset, this, [this, preset] { inspectPreset(preset); });
    }
    models->addAction(tr("Inspect the &loaded model"), this, &MainWindow::inspectActiveModel);
    QMenu* chat = menuBar()->addMenu(tr("&Chat"));
    chat->addAction(appIcon(AppIcon::Stop), tr("&Stop"), QKeySequence(Qt::Key_Escape), this, &MainWindow::stop);
    chat->addAction(appIcon(AppIcon::Regenerate), tr("&Regenerate last answer"), QKeySequence(tr("Ctrl+R")), this,
                    &MainWindow::regenerate);
    chat->addAction(tr("&Focus composer"), QKeySequence(tr("Ctrl+L")), this, [this] { m_composer->editor()->setFocus(); });
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About"), this, [this] {
        QMessageBox::about(this, tr("About Llava Insight"),
                           tr("Llava Insight %1\nOffline LLaVA v1.6 (LLaVA-NeXT) with an anyres inspector.")
                               .arg(QStringLiteral(LLAVA_VERSION_STRING)));
    });

    QToolBar* bar = buildToolBar(newChatAction, openImageAction, exportMenu, settingsAction, openModelAction);
    // The dock toggles follow the docks' (translated) titles; the toolbar's toggle is the same action.
    m_inspectorDock->toggleViewAction()->setIcon(appIcon(AppIcon::Inspector));
    view->addAction(m_chatsDock->toggleViewAction());
    view->addAction(m_inspectorDock->toggleViewAction());
    view->addSeparator();
    view->addAction(bar->toggleViewAction());
}

QToolBar* MainWindow::buildToolBar(QAction* newChat, QAction* openImage, QMenu* exportMenu, QAction* settings, QAction* openModel) {
    // Icon + text for every action, so the toolbar reads without hovering. The menus' "…" and "&"
    // are dropped from the button texts with iconText.
    auto* bar = addToolBar(tr("Main toolbar"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(20, 20));
    bar->setMovable(false);
    newChat->setIconText(tr("New chat"));
    openImage->setIconText(tr("Open image"));
    openModel->setIconText(tr("Open model"));
    exportMenu->menuAction()->setIconText(tr("Export"));
    settings->setIconText(tr("Settings"));
    bar->addAction(newChat);
    bar->addAction(openImage);
    bar->addAction(openModel);
    bar->addAction(exportMenu->menuAction());
    if (auto* button = qobject_cast<QToolButton*>(bar->widgetForAction(exportMenu->menuAction())))
        button->setPopupMode(QToolButton::InstantPopup);
    bar->addSeparator();
    bar->addAction(m_inspectorDock->toggleViewAction());
    bar->addAction(settings);
    return bar;
}

void MainWindow::buildStatusBar() {
    m_modelLabel = new QLabel(tr("No model loaded"), this);
    m_backendLabel = new QLabel(this);
    m_memoryLabel = new QLabel(this);
    m_speedLabel = new QLabel(this);
    m_loadProgress = new QProgressBar(this);
    m_loadProgress->setMaximumWidth(220);
    m_loadProgress->hide();
    m_cancelLoad = new QToolButton(this);
    m_cancelLoad->setIcon(appIcon(AppIcon::Stop));
    m_cancelLoad->setText(tr("Cancel"));
    m_cancelLoad->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_cancelLoad->setToolTip(tr("Cancel loading"));
    m_cancelLoad->setAccessibleName(tr("Cancel loading"));
    m_cancelLoad->hide();
    connect(m_cancelLoad, &QToolButton::clicked, m_controller, &InferenceController::cancelLoad);
    statusBar()->addWidget(m_modelLabel, 1);
    statusBar()->addPermanentWidget(m_loadProgress);
    statusBar()->addPermanentWidget(m_cancelLoad);
    statusBar()->addPermanentWidget(m_backendLabel);
    statusBar()->addPermanentWidget(m_memoryLabel);
    statusBar()->addPermanentWidget(m_speedLabel);
}

void MainWindow::refreshChatList() {
    const QString filter = m_search->text().trimmed();
    const QSignalBlocker block(m_chatList);
    m_chatList->clear();
    for (const Conversation& stored : m_conversations) {
        const Conversation& c = stored.id == m_chat->conversation().id ? m_chat->conversation() : stored;
        bool match = filter.isEmpty() || c.title.contains(filter, Qt::CaseInsensitive);
        for (int i = 0; !match && i < c.messages.size(); ++i) match = c.messages[i].text.contains(filter, Qt::CaseInsensitive);
        if (!match) continue;
        auto* item = new QListWidgetItem(c.title.isEmpty() ? defaultTitle(c) : c.title, m_chatList);
        item->setData(Qt::UserRole, c.id);
        if (c.id == m_chat->conversation().id) m_chatList->setCurrentItem(item);
    }
}

void MainWindow::newChat() {
    if (m_controller->isGenerating()) stop();
    saveCurrent();
    Conversation c;
    c.id = newConversationId();
    c.created = c.updated = QDateTime::currentDateTime();
    c.systemPrompt = m_settings.systemPrompt;
    m_conversations.prepend(c);
    m_chat->setConversation(c);
    m_controller->clearSession();
    m_contextUsed = 0;
    if (m_chatList) refreshChatList();
}

void MainWindow::selectConversation(const QString& id) {
    if (m_controller->isGenerating()) stop();
    saveCurrent();
    for (const Conversation& c : m_conversations)
        if (c.id == id) {
            m_chat->setConversation(c);
            m_controller->clearSession();
            m_contextUsed = 0;
            break;
        }
    updateInspectorText();
}

void MainWindow::saveCurrent() {
    const Conversation& c = m_chat->conversation();
    if (c.id.isEmpty()) return;
    for (Conversation& stored : m_conversations)
        if (stored.id == c.id) stored = c;
    if (c.messages.isEmpty()) return;  // empty chats are not written
    const llava::Status status = m_store->save(c);
    if (!status.isOk()) statusBar()->showMessage(QString::fromStdString(status.message()), 10000);
}

void MainWindow::send(const QString& text, const QStringList& images) {
    const auto& messages = m_chat->conversation().messages;
    const std::vector<HistoryTurn> history = historyOf(messages, messages.size());
    QStringList stored;
    for (const QString& path : images) {
        auto copy = path.startsWith(m_store->imagesDir()) ? llava::Result<QString>(path) : m_store->importImageFile(path);
        if (copy.isOk()) stored << *copy;
    }
    ChatMessage user;
    user.role = MessageRole::User;
    user.text = text;
    user.images = stored;
    m_chat->appendMessage(user);
    refreshChatList();
    startGeneration(text, stored, history);
}

void MainWindow::startGeneration(const QString& text, const QStringList& images, const std::vector<HistoryTurn>& history) {
    GenerationRequest request;
    request.conversationId = m_chat->conversation().id;
    request.history = history;
    request.text = text;
    request.systemPrompt = m_chat->conversation().systemPrompt;
    request.sampling.temperature = float(m_settings.temperature);
    request.sampling.topP = float(m_settings.topP);
    request.sampling.topK = m_settings.topK;
    request.sampling.maxNewTokens = m_settings.maxNewTokens;
    request.sampling.seed = quint64(m_settings.seed);
    ChatMessage answer;
    answer.role = MessageRole::Assistant;
    answer.state = MessageState::Streaming;
    m_activeRow = m_chat->appendMessage(answer);
    // Images are decoded on the thread pool; the request is sent when they are ready (unless stopped).
    const quint64 generation = ++m_decodeGeneration;
    m_decoding = true;
    m_composer->setBusy(true);
    QThreadPool::globalInstance()->start([this, images, generation, request = std::move(request)]() mutable {
        QString decodeErrors;
        for (const QString& path : images) {
            auto rgb = imageio::decodeImageFile(path);
            if (rgb.isOk()) request.images.push_back(std::move(*rgb));
            else decodeErrors += QString::fromStdString(rgb.status().message()) + QLatin1Char('\n');
        }
        auto shared = std::make_shared<GenerationRequest>(std::move(request));
        QMetaObject::invokeMethod(this, [this, generation, shared, decodeErrors] {
            if (generation != m_decodeGeneration || !m_decoding) return;  // stopped or superseded
            m_decoding = false;
            if (!decodeErrors.isEmpty()) {
                m_composer->setBusy(m_controller->isGenerating());
                m_chat->setState(m_activeRow, MessageState::Failed, decodeErrors.trimmed());
                saveCurrent();
                return;
            }
            m_activeRequest = m_controller->generate(std::move(*shared));
        }, Qt::QueuedConnection);
    });
}

void MainWindow::stop() {
    if (m_decoding) {  // images still decoding: nothing reached the worker yet
        m_decoding = false;
        ++m_decodeGeneration;
        m_chat->setState(m_activeRow, MessageState::Stopped);
        m_composer->setBusy(m_controller->isGenerating());
        saveCurrent();
        return;
    }
    if (!m_controller->isGenerating()) return;
    m_controller->cancel();
    if (m_activeRequest != 0) {  // instant in the UI; the worker's confirmation is ignored
        m_chat->setState(m_activeRow, MessageState::Stopped);
        m_activeRequest = 0;
        saveCurrent();
    }
}

void MainWindow::regenerate() {
    if (m_controller->isGenerating()) return;
    const int n = m_chat->rowCount();
    if (n < 2 || m_chat->message(n - 1).role != MessageRole::Assistant) return;
    const ChatMessage user = m_chat->message(n - 2);
    m_chat->removeFrom(n - 1);
    const std::vector<HistoryTurn> history = historyOf(m_chat->conversation().messages, n - 2);
    m_controller->clearSession();
    startGeneration(user.text, user.images, history);
}

void MainWindow::openImage() {
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Open images"), QString(),
                                                            tr("Images (*.png *.jpg *.jpeg *.gif *.bmp *.webp *.tif *.tiff)"));
    if (!files.isEmpty()) m_composer->addAttachments(files);
}

void MainWindow::showImageInInspector(const QString& path) {
    auto size = imageio::readImageSize(path);
    if (!size.isOk()) {
        statusBar()->showMessage(QString::fromStdString(size.status().message()), 8000);
        return;
    }
    m_inspector->setImage(QFileInfo(path).fileName(), *size);  // grid + token layout now, pixels later
    const quint64 generation = ++m_previewGeneration;
    QThreadPool::globalInstance()->start([this, path, generation] {
        auto preview = imageio::readPreview(path, 1024);
        QImage image = preview.isOk() ? *preview : QImage();
        QMetaObject::invokeMethod(this, [this, image, generation] {
            if (generation == m_previewGeneration) m_inspector->setPreview(image);
        }, Qt::QueuedConnection);
    });
    updateInspectorText();
}

void MainWindow::updateInspectorText() {
    // Exact counts with the model's tokenizer + template (buildPrompt); estimates for presets.
    const TextTokenCounts counts = m_counter.count(m_composer->text(), m_chat->conversation().systemPrompt);
    m_inspector->setTextTokens(counts.before, counts.after, counts.estimated);
    m_inspector->setContext(m_contextUsed, m_modelLoaded ? m_model.contextLimit : m_settings.contextLength);
}

void MainWindow::loadModel(const QString& dir, bool randomWeights) {
    LoadRequest request;
    request.modelDir = dir;
    request.randomWeights = randomWeights;
    request.threads = m_settings.threads;
    request.contextLength = m_settings.contextLength;
    if (m_settings.backend == QLatin1String("cpu")) request.backend = llava::BackendKind::Cpu;
    if (m_settings.backend == QLatin1String("cuda")) request.backend = llava::BackendKind::Cuda;
    llava::WeightPrecision precision{};
    if (llava::parseWeightPrecision(m_settings.precision.toStdString(), &precision)) request.precision = precision;
    llava::Reference reference{};
    if (llava::parseReference(m_settings.reference.toStdString(), &reference)) request.reference = reference;
    m_modelLabel->setText(randomWeights ? tr("Preparing the demo model (random weights)…")
                                        : tr("Loading %1…").arg(QFileInfo(dir).fileName()));
    m_controller->loadModel(request);
}

void MainWindow::setInspectorConfig(const llava::ModelConfig& config, const QString& source, const QString& tokenizerDir) {
    m_inspector->setModelConfig(config);
    llava::Reference reference = config.defaultReference;
    (void)llava::parseReference(m_settings.reference.toStdString(), &reference);  // "auto" keeps the default
    m_inspector->setPreferredReference(reference);
    m_counter = PromptCounter(config, nullptr);
    m_inspectorSource = source;
    m_inspector->setSource(source + tr(" · text tokens estimated (≈)"));
    updateInspectorText();
    const quint64 generation = ++m_tokenizerGeneration;
    if (tokenizerDir.isEmpty()) return;
    QThreadPool::globalInstance()->start([this, config, tokenizerDir, generation] {
        auto tokenizer = PromptCounter::loadTokenizer(tokenizerDir);
        std::shared_ptr<const llava::Tokenizer> loaded = tokenizer.isOk() ? *tokenizer : nullptr;
        const QString problem = tokenizer.isOk() ? QString() : QString::fromStdString(tokenizer.status().message());
        QMetaObject::invokeMethod(this, [this, config, loaded, problem, generation] {
            if (generation != m_tokenizerGeneration) return;
            m_counter = PromptCounter(config, loaded);
            m_inspector->setSource(m_inspectorSource +
                                   (loaded ? tr(" · exact text tokens")
                                           : tr(" · text tokens estimated (≈): %1").arg(problem.left(80))));
            updateInspectorText();
        }, Qt::QueuedConnection);
    });
}

void MainWindow::inspectPreset(const QString& name) {
    auto config = llava::loadPreset(name.toStdString());
    if (!config.isOk()) {
        statusBar()->showMessage(QString::fromStdString(config.status().message()), 8000);
        return;
    }
    setInspectorConfig(*config, tr("preset %1").arg(name), QString());
}

void MainWindow::inspectActiveModel() {
    if (!m_modelLoaded) {
        setInspectorConfig(defaultInspectorConfig(), tr("default geometry (no model loaded)"), QString());
        return;
    }
    setInspectorConfig(m_model.config, tr("model %1").arg(m_model.name), m_model.modelDir);
}

void MainWindow::updateTitle() {
    QString title = tr("Llava Insight");
    if (m_modelLoaded) {
        title += QStringLiteral(" — ") + m_model.name;
        if (m_model.randomWeights && !m_model.name.contains(tr("random weights")))
            title += tr(" (random weights — answers are meaningless)");
        else if (m_model.randomWeights)
            title += tr(" — answers are meaningless");
    }
    setWindowTitle(title);
}

void MainWindow::openModelFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a LLaVA v1.6 model folder"));
    if (!dir.isEmpty()) loadModel(dir, false);
}

void MainWindow::showSettings() {
    SettingsDialog dialog(m_settings, this);
    if (dialog.exec() != QDialog::Accepted) return;
    m_settings = dialog.settings();
    QSettings qs;
    m_settings.save(qs);
    applySettings();
}

void MainWindow::applySettings() {
    llava::Reference reference = m_inspector->modelConfig().defaultReference;
    (void)llava::parseReference(m_settings.reference.toStdString(), &reference);
    m_inspector->setPreferredReference(reference);
    updateInspectorText();
}

void MainWindow::exportChat(bool markdown) {
    const Conversation& c = m_chat->conversation();
    const QString filter = markdown ? tr("Markdown (*.md)") : tr("JSON (*.json)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export chat"), c.title + (markdown ? ".md" : ".json"), filter);
    if (path.isEmpty()) return;
    const llava::Status status = markdown ? m_store->exportMarkdown(c, path) : m_store->exportJson(c, path);
    statusBar()->showMessage(status.isOk() ? tr("Exported to %1").arg(path) : QString::fromStdString(status.message()), 8000);
}
