// The main window's menus, actions and toolbar, created once and re-translated in place
// (retranslate() on QEvent::LanguageChange). Triggers are connected by MainWindow and ModelController:
// this holds no logic.
#pragma once

#include <QObject>

class QAction;
class QDockWidget;
class QMainWindow;
class QMenu;
class QMenuBar;
class QToolBar;

struct MainActions {
    MainActions(QMainWindow* window, QDockWidget* chatsDock, QDockWidget* inspectorDock);
    void retranslate();

    QMenu *file, *exportMenu, *edit, *view, *models, *recent, *presets, *chat, *help;
    QAction *newChat, *openImage, *exportMarkdown, *exportJson, *quit;
    QAction *paste, *settings;
    QAction *openModel, *modelLibrary, *demoModel, *inspectLoaded;
    QAction* serve;  // checkable; its text (with the port or URL) is set by ModelController::updateServeAction
    QAction *stop, *regenerate, *undoDelete, *focusComposer;
    QAction *backendReport, *about;
    QToolBar* toolBar;
    QDockWidget *chatsDock, *inspectorDock;

private:
    void addFileAndEditMenus(QMenuBar* bar);
    void addModelsMenu(QMenuBar* bar);
    void addChatAndHelpMenus(QMenuBar* bar);
    void addToolBar(QMainWindow* window);
};
