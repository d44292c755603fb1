// The main window: wiring only. The chats dock (ChatsPanel over the ConversationStore), the chat view and
// composer in the centre (ChatModel, ChatController), the inspector dock (InspectorController), the
// status bar (StatusPanel), the menus (MainActions) and the model behind it all (ModelController). The
// store owns the chats, the controllers own the requests, loads and background jobs; this class connects
// them and asks the user when needed.
#pragma once

#include <QMainWindow>
#include <memory>
#include <optional>

#include "models/modelcontroller.h"

#include "inference/chatengine.h"
#include "settings/appsettings.h"

class AdaptiveDocks;
class ChatController;
class ChatModel;
class ChatView;
class ChatsPanel;
class Composer;
class ContextMeter;
class ContextPlanner;
class ConversationStore;
class InferenceController;
class InspectorController;
class InspectorWidget;
class NoticeBar;
class QDockWidget;
class ServeController;
class StatusPanel;
class ViewerController;
struct MainActions;

struct MainWindowOptions {
    QString dataDir;                  // chats, images, demo model
    ChatEngineFactory engineFactory;  // tests pass a fake
    bool openSample = true;           // attach the sample image on a first start
    quint64 hostMemoryBudget = 0;     // RAM the load plan checks against; 0 = MemAvailable (tests set it)
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    MainWindow(AppSettings settings, MainWindowOptions options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // For tests and scripts/screenshots.
    Composer* composer() const { return m_composer; }
    ContextMeter* contextMeter() const { return m_meter; }
    InspectorWidget* inspector() const { return m_inspector; }
    ChatModel* chatModel() const { return m_chat; }
    ChatView* chatView() const { return m_view; }
    ChatsPanel* chatsPanel() const { return m_chatsPanel; }
    ConversationStore* store() const { return m_store; }
    ChatController* chatController() const { return m_chatController; }
    InferenceController* controller() const { return m_inference; }
    StatusPanel* statusPanel() const { return m_status; }
    NoticeBar* notices() const { return m_notices; }
    QDockWidget* chatsDock() const { return m_chatsDock; }
    QDockWidget* inspectorDock() const { return m_inspectorDock; }
    ViewerController* viewerController() const { return m_viewerController; }
    const QString& currentConversationId() const;

    void showImageInInspector(const QString& path);
    // Loading, serving and the server engine (modelcontroller.h); the forwarders are what tests call.
    ModelController* models() const { return m_models; }
    void loadModel(const QString& dir, bool randomWeights, std::optional<llava::WeightPrecision> precision = std::nullopt) {
        m_models->loadModel(dir, randomWeights, precision);
    }
    void setServing(bool on) { m_models->setServing(on); }
    ServeController* serveController() const { return m_models->serve(); }
    void openModelChecked(const QString& dir) { m_models->openModelChecked(dir); }
    // The inspector shows a built-in preset's geometry (no weights, no tokenizer: text counts estimated).
    void inspectPreset(const QString& name);
    // Back to the loaded model's config and tokenizer.
    void inspectActiveModel();
    bool modelLoaded() const;
    bool exactTextCounts() const;

public slots:
    void newChat();
    void selectConversation(const QString& id);
    // Asks first (unless LLAVA_NO_DIALOGS is set); Chat → Undo delete brings it back until the next start.
    void deleteConversation(const QString& id);
    void send(const QString& text, const QStringList& images);
    void stop();
    void regenerate();
    void openImage();
    void showSettings();
    // Help → Backend self-check: the loaded model's backend, fallback reason, notices and self-check report.
    void showBackendReport();

signals:
    void statusChanged();

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void buildCentral();
    void buildDocks();
    void openFirstChat();
    void connectActions();
    void connectModels();
    void connectChat();
    void connectInsight();
    void connectContextMeter();
    void applySettings();
    void retranslate();
    void updateModelTexts();
    void updateLabelLane();  // the inspector's learned/masked lane for the open chat
    void updateDraftCounts();
    // Copies into the images folder; nullopt after telling the user why (nothing was sent).
    std::optional<QStringList> importImages(const QStringList& paths);
    void notify(const QString& message, int ms = 10000);

    AppSettings m_settings;
    MainWindowOptions m_options;
    ConversationStore* m_store;
    ChatModel* m_chat;
    ChatView* m_view;
    NoticeBar* m_notices;
    Composer* m_composer;
    ContextMeter* m_meter;
    ContextPlanner* m_planner;
    ChatsPanel* m_chatsPanel;
    InspectorWidget* m_inspector;
    QDockWidget* m_chatsDock;
    QDockWidget* m_inspectorDock;
    InferenceController* m_inference;
    ChatController* m_chatController;
    InspectorController* m_inspectorController;
    StatusPanel* m_status;
    ViewerController* m_viewerController = nullptr;
    ModelController* m_models;
    std::unique_ptr<MainActions> m_actions;
    std::unique_ptr<AdaptiveDocks> m_docks;
};
