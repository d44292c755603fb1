// See mainactions.h.
#include "mainactions.h"

#include <QAction>
#include <QCoreApplication>
#include <QDockWidget>
#include <QMainWindow>
#include <QMenuBar>
#include <QToolBar>
#include <QToolButton>

#include "icons.h"

MainActions::MainActions(QMainWindow* w, QDockWidget* chats, QDockWidget* inspector) : chatsDock(chats), inspectorDock(inspector) {
    QMenuBar* bar = w->menuBar();
    addFileAndEditMenus(bar);
    view = bar->addMenu(QString());
    addModelsMenu(bar);
    addChatAndHelpMenus(bar);
    addToolBar(w);
    view->addAction(chatsDock->toggleViewAction());
    view->addAction(inspectorDock->toggleViewAction());
    view->addSeparator();
    view->addAction(toolBar->toggleViewAction());
    retranslate();
}

void MainActions::addFileAndEditMenus(QMenuBar* bar) {
    file = bar->addMenu(QString());
    newChat = file->addAction(appIcon(AppIcon::NewChat), QString());
    newChat->setShortcut(QKeySequence::New);
    openImage = file->addAction(appIcon(AppIcon::OpenImage), QString());
    openImage->setShortcut(QKeySequence::Open);
    file->addSeparator();
    exportMenu = file->addMenu(appIcon(AppIcon::Export), QString());
    exportMarkdown = exportMenu->addAction(QString());
    exportJson = exportMenu->addAction(QString());
    file->addSeparator();
    quit = file->addAction(QString());
    quit->setShortcut(QKeySequence::Quit);

    edit = bar->addMenu(QString());
    paste = edit->addAction(QString());
    paste->setShortcut(QKeySequence::Paste);
    settings = edit->addAction(appIcon(AppIcon::Settings), QString());
    // QKeySequence::Preferences is empty on Linux desktops: Ctrl+, everywhere, as users expect.
    settings->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Comma)});
    settings->setMenuRole(QAction::PreferencesRole);
}

void MainActions::addModelsMenu(QMenuBar* bar) {
    models = bar->addMenu(QString());
    openModel = models->addAction(appIcon(AppIcon::ModelFolder), QString());
    openModel->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    modelLibrary = models->addAction(QString());
    recent = models->addMenu(QString());
    demoModel = models->addAction(QString());
    models->addSeparator();
    presets = models->addMenu(QString());
    inspectLoaded = models->addAction(QString());
    models->addSeparator();
    serve = models->addAction(QString());
    serve->setCheckable(true);
    serve->setObjectName(QStringLiteral("serveAction"));
}

void MainActions::addChatAndHelpMenus(QMenuBar* bar) {
    chat = bar->addMenu(QString());
    stop = chat->addAction(appIcon(AppIcon::Stop), QString());
    stop->setShortcut(QKeySequence(Qt::Key_Escape));
    regenerate = chat->addAction(appIcon(AppIcon::Regenerate), QString());
    regenerate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    undoDelete = chat->addAction(QString());
    undoDelete->setEnabled(false);
    focusComposer = chat->addAction(QString());
    focusComposer->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    help = bar->addMenu(QString());
    backendReport = help->addAction(QString());
    about = help->addAction(QString());
}

// Icon + text for every toolbar action, so it reads without hovering.
void MainActions::addToolBar(QMainWindow* w) {
    toolBar = w->addToolBar(QString());
    toolBar->setObjectName(QStringLiteral("mainToolBar"));
    toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolBar->setIconSize(QSize(20, 20));
    toolBar->setMovable(false);
    toolBar->addAction(newChat);
    toolBar->addAction(openImage);
    toolBar->addAction(openModel);
    toolBar->addAction(exportMenu->menuAction());
    if (auto* button = qobject_cast<QToolButton*>(toolBar->widgetForAction(exportMenu->menuAction())))
        button->setPopupMode(QToolButton::InstantPopup);
    toolBar->addSeparator();
    inspectorDock->toggleViewAction()->setIcon(appIcon(AppIcon::Inspector));
    toolBar->addAction(inspectorDock->toggleViewAction());
    toolBar->addAction(settings);
}

// The strings keep the MainWindow context they had when MainWindow built these itself.
void MainActions::retranslate() {
    file->setTitle(QCoreApplication::translate("MainWindow", "&File"));
    newChat->setText(QCoreApplication::translate("MainWindow", "&New chat"));
    newChat->setIconText(QCoreApplication::translate("MainWindow", "New chat"));
    openImage->setText(QCoreApplication::translate("MainWindow", "&Open image…"));
    openImage->setIconText(QCoreApplication::translate("MainWindow", "Open image"));
    exportMenu->setTitle(QCoreApplication::translate("MainWindow", "&Export chat"));
    exportMenu->menuAction()->setIconText(QCoreApplication::translate("MainWindow", "Export"));
    exportMarkdown->setText(QCoreApplication::translate("MainWindow", "Export as &Markdown…"));
    exportJson->setText(QCoreApplication::translate("MainWindow", "Export as &JSON…"));
    quit->setText(QCoreApplication::translate("MainWindow", "&Quit"));
    edit->setTitle(QCoreApplication::translate("MainWindow", "&Edit"));
    paste->setText(QCoreApplication::translate("MainWindow", "&Paste"));
    settings->setText(QCoreApplication::translate("MainWindow", "&Settings…"));
    settings->setIconText(QCoreApplication::translate("MainWindow", "Settings"));
    view->setTitle(QCoreApplication::translate("MainWindow", "&View"));
    models->setTitle(QCoreApplication::translate("MainWindow", "&Models"));
    openModel->setText(QCoreApplication::translate("MainWindow", "Open &model folder…"));
    openModel->setIconText(QCoreApplication::translate("MainWindow", "Open model"));
    modelLibrary->setText(QCoreApplication::translate("MainWindow", "Model &library and downloads…"));
    recent->setTitle(QCoreApplication::translate("MainWindow", "&Recent models"));
    demoModel->setText(QCoreApplication::translate("MainWindow", "&Demo model (random weights)"));
    presets->setTitle(QCoreApplication::translate("MainWindow", "&Inspect preset (no weights)"));
    inspectLoaded->setText(QCoreApplication::translate("MainWindow", "Inspect the &loaded model"));
    chat->setTitle(QCoreApplication::translate("MainWindow", "&Chat"));
    stop->setText(QCoreApplication::translate("MainWindow", "&Stop"));
    regenerate->setText(QCoreApplication::translate("MainWindow", "&Regenerate last answer"));
    undoDelete->setText(QCoreApplication::translate("MainWindow", "&Undo delete chat"));
    focusComposer->setText(QCoreApplication::translate("MainWindow", "&Focus composer"));
    help->setTitle(QCoreApplication::translate("MainWindow", "&Help"));
    backendReport->setText(QCoreApplication::translate("MainWindow", "&Backend self-check…"));
    about->setText(QCoreApplication::translate("MainWindow", "&About"));
    toolBar->setWindowTitle(QCoreApplication::translate("MainWindow", "Main toolbar"));
    chatsDock->setWindowTitle(QCoreApplication::translate("MainWindow", "Chats"));
    inspectorDock->setWindowTitle(QCoreApplication::translate("MainWindow", "Inspector"));
}
