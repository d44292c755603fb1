// The model behind the chats: opening a folder (after its memory plan), the demo model, a reload with a
// longer context, answering through an OpenAI-compatible server instead of a local model, serving the
// local model to other programs on this computer, and what the end of a load changes (recent models,
// the serve action, the backend notice, the failure dialog). MainWindow forwards its menu actions here
// and refreshes its views when modelLoaded() / loadFailed() arrive; StatusPanel::model() stays the one
// record of what is loaded.
#pragma once

#include <QObject>
#include <optional>

#include "inference/chatengine.h"
#include "settings/appsettings.h"

class InferenceController;
class NoticeBar;
class QAction;
class QMenu;
class QWidget;
class ServeController;
class StatusPanel;

class ModelController : public QObject {
    Q_OBJECT
public:
    struct Views {
        StatusPanel* status = nullptr;    // loading progress, the loaded model, failures
        NoticeBar* notices = nullptr;     // serving, backend fallback
        QAction* serveAction = nullptr;   // Models -> Serve this model (checkable; text names port or URL)
        QWidget* dialogParent = nullptr;  // load plan, library and failure dialogs
    };
    // `settings` is the window's (it outlives this): loads read it, a finished load records recent models
    // and the engine choice in it and saves it.
    ModelController(AppSettings& settings, InferenceController* inference, Views views, QString dataDir,
                    quint64 hostMemoryBudget, QObject* parent = nullptr);

    void loadModel(const QString& dir, bool randomWeights, std::optional<llava::WeightPrecision> precision = std::nullopt);
    void loadDemoModel();
    // Plans the folder's memory first (loadplandialog.h): loads at once when the precision chosen in
    // Settings fits, else asks with the plan and the precision that fits (or says why nothing can load).
    void openModelChecked(const QString& dir);
    void openModelFolder();   // asks for a folder, then openModelChecked
    void showModelLibrary();  // the library and downloads dialog; its Open goes through openModelChecked
    void fillRecentMenu(QMenu* menu);
    // The context meter's way out: the same model again with a context of `contextLength` tokens (saved).
    void reloadWithContext(int contextLength);
    // Settings -> Backend -> "OpenAI-compatible server": answers come from that server from now on (the
    // inspector keeps computing locally); the engine answering before keeps answering if it fails.
    void connectToServer();
    // After Settings changed: local model <-> server at once, no restart.
    void applyBackendChange(const AppSettings& before);
    // Models -> Serve this model: the loaded local model on 127.0.0.1:<servePort> (false: stopped).
    void setServing(bool on);
    void updateServeAction();
    ServeController* serve() const { return m_serve; }

    // The window title for the model shown in the status bar (the platform adds the application name).
    QString windowTitle() const;
    // The chat view's banner: empty unless the answers come from random weights.
    QString bannerText() const;

signals:
    void modelLoaded();                      // after the status panel shows it
    void loadFailed(bool stillLoaded);       // before the dialog that says why (none under LLAVA_NO_DIALOGS)
    void backendReportRequested();           // the backend notice's "Self-check report" button
    void message(const QString& text);       // a short status-bar message

private:
    void onLoadFinished(const ModelInfo& info);
    void onLoadFailed(const QString& text, const QString& details, bool stillLoaded);
    void rememberLoaded(const ModelInfo& info);

    AppSettings& m_settings;
    InferenceController* m_inference;
    Views m_views;
    QString m_dataDir;
    quint64 m_hostMemoryBudget;
    ServeController* m_serve;
    std::optional<ModelInfo> m_localModel;  // the local model loaded (it stays loaded while a server answers)
};
