// The main window: menus, docks and wiring only. Chats dock (list, search, new/rename/delete),
// chat view + composer in the centre, the inspector dock, and a status bar with backend, memory,
// TTFT and tok/s. Inference goes through InferenceController; chats persist through ChatStore.
#pragma once

#include <QHash>
#include <QMainWindow>
#include <memory>

#include "chat/chattypes.h"
#include "inspector/promptcounter.h"
#include "inference/chatengine.h"
#include "settings/appsettings.h"

class ChatModel;
class ChatStore;
class ChatView;
class Composer;
class InferenceController;
class InspectorWidget;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QToolBar;
class QToolButton;
class QMenu;
class QAction;
class QDockWidget;

struct MainWindowOptions {
    QString dataDir;                  // chats, images, demo model
    ChatEngineFactory engineFactory;  // tests pass a fake
    bool openSample = true;           // attach the sample image on a first start
};

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    MainWindow(AppSettings settings, MainWindowOptions options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // For tests and scripts/screenshots.
    Composer* composer() const { return m_composer; }
    InspectorWidget* inspector() const { return m_inspector; }
    ChatModel* chatModel() const { return m_chat; }
    InferenceController* controller() const { return m_controller; }
    void showImageInInspector(const QString& path);
    void loadModel(const QString& dir, bool randomWeights);
    // The inspector shows a built-in preset's geometry (no weights, no tokenizer: text counts estimated).
    void inspectPreset(const QString& name);
    // Back to the loaded model's config and tokenizer.
    void inspectActiveModel();
    const ModelInfo& modelInfo() const { return m_model; }
    bool exactTextCounts() const { return m_counter.exact(); }

public slots:
    void newChat();
    void send(const QString& text, const QStringList& images);
    void stop();
    void regenerate();
    void openImage();
    void openModelFolder();
    void showSettings();

signals:
    void statusChanged();

private:
    void buildMenus();
    QToolBar* buildToolBar(QAction* newChat, QAction* openImage, QMenu* exportMenu, QAction* settings, QAction* openModel);
    QWidget* buildChatsPanel();
    void buildStatusBar();
    void refreshChatList();
    void selectConversation(const QString& id);
    void saveCurrent();
    void startGeneration(const QString& text, const QStringList& images, const std::vector<HistoryTurn>& history);
    void updateInspectorText();
    void applySettings();
    void exportChat(bool markdown);
    void setInspectorConfig(const llava::ModelConfig& config, const QString& source, const QString& tokenizerDir);
    void updateTitle();

    AppSettings m_settings;
    MainWindowOptions m_options;
    std::unique_ptr<ChatStore> m_store;
    QList<Conversation> m_conversations;  // all chats except the open one's live copy in m_chat
    ChatModel* m_chat;
    ChatView* m_view;
    Composer* m_composer;
    InspectorWidget* m_inspector;
    QDockWidget* m_chatsDock;
    QDockWidget* m_inspectorDock;
    InferenceController* m_controller;
    QListWidget* m_chatList;
    QLineEdit* m_search;
    QLabel *m_modelLabel, *m_backendLabel, *m_memoryLabel, *m_speedLabel;
    QProgressBar* m_loadProgress;
    QToolButton* m_cancelLoad;
    QMenu* m_recentMenu;
    QMenu* m_presetMenu;
    PromptCounter m_counter;            // text token counts for the inspector (exact with a tokenizer)
    quint64 m_tokenizerGeneration = 0;  // drops tokenizers that finish loading after a newer request
    QString m_inspectorSource;          // "model <name>" or "preset <name>"
    quint64 m_decodeGeneration = 0;     // drops decoded images of a message that was stopped meanwhile
    bool m_decoding = false;
    ModelInfo m_model;
    bool m_modelLoaded = false;
    quint64 m_activeRequest = 0;
    int m_activeRow = -1;
    int m_contextUsed = 0;
    quint64 m_previewGeneration = 0;
};
