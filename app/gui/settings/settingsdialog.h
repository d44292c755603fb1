// The Settings dialog: edits a copy of AppSettings; the caller applies it on accept.
#pragma once

#include <QDialog>

#include "appsettings.h"

class QComboBox;
class QSpinBox;
class QDoubleSpinBox;
class QPlainTextEdit;

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(const AppSettings& settings, QWidget* parent = nullptr);
    AppSettings settings() const;

private:
    AppSettings m_base;
    QComboBox *m_backend, *m_precision, *m_reference, *m_theme, *m_language;
    QSpinBox *m_threads, *m_context, *m_topK, *m_maxNew, *m_seed;
    QDoubleSpinBox *m_temperature, *m_topP;
    QPlainTextEdit* m_system;
    class QCheckBox* m_fixedSeed;
};
