// The Settings dialog: edits a copy of AppSettings; the caller applies it on accept. Three pages:
// Backend (a local model on this computer, or an OpenAI-compatible server with URL, API key, model name,
// the inspector's config.json and "Test connection"), Generation (sampling, system prompt) and Appearance.
#pragma once

#include <QDialog>

#include "appsettings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;
class QTabWidget;
class ConnectionTester;

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(const AppSettings& settings, QWidget* parent = nullptr);
    AppSettings settings() const;

    QTabWidget* tabs() const { return m_tabs; }
    // Starts "Test connection" with the fields as they are now (the button does the same).
    void testConnection();

signals:
    void connectionTested(bool ok, const QString& message);

private:
    QWidget* makeBackendPage(const AppSettings& s);
    void makeLocalBox(const AppSettings& s, QWidget* page);   // m_localBox: device, threads, precision, context...
    void makeServerBox(const AppSettings& s, QWidget* page);  // m_serverBox: URL, key, model, config, test
    QWidget* makeGenerationPage(const AppSettings& s);
    QWidget* makeAppearancePage(const AppSettings& s);
    void updateEngineChoice();

    AppSettings m_base;
    QTabWidget* m_tabs;
    QRadioButton *m_useLocal, *m_useServer;
    QGroupBox *m_localBox, *m_serverBox;
    QLineEdit *m_url, *m_apiKey, *m_model, *m_config;
    QPushButton* m_test;
    QLabel* m_testResult;
    ConnectionTester* m_tester;
    QComboBox *m_backend, *m_precision, *m_reference, *m_theme, *m_language;
    QSpinBox *m_threads, *m_context, *m_topK, *m_maxNew, *m_seed, *m_servePort;
    QDoubleSpinBox *m_temperature, *m_topP;
    QPlainTextEdit* m_system;
    QCheckBox* m_fixedSeed;
    QCheckBox* m_weightCache;
};
