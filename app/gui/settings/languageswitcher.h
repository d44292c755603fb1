// Run-time language switching without restarting: installs the translator for "system" | "en" | "zh_CN"
// (and Qt's own qtbase_<lang>.qm for standard dialog buttons, when qt6-translations-l10n provides it).
// Installing a translator makes Qt send QEvent::LanguageChange to every widget; each widget class
// re-translates itself in its changeEvent() (the retranslateUi pattern), including texts with filled-in
// values, which it rebuilds from the facts it keeps. Nothing here looks at visible texts.
// It also applies the language chosen in an accepted SettingsDialog.
#pragma once

#include <QObject>
#include <QString>
#include <QTranslator>

class LanguageSwitcher : public QObject {
    Q_OBJECT
public:
    explicit LanguageSwitcher(QObject* parent = nullptr);
    ~LanguageSwitcher() override;

    // "system", "en", "zh_CN" (or any language with an embedded llava_insight_<lang>.qm). Returns
    // false when no translation was found (the UI then stays in English).
    bool setLanguage(const QString& language);
    QString language() const { return m_language; }  // resolved: "en", "zh_CN", …

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    QTranslator m_translator;
    QTranslator m_qtTranslator;  // Qt's own strings (dialog buttons…), when qt6-translations-l10n is installed
    bool m_installed = false;
    bool m_qtInstalled = false;
    QString m_language = QStringLiteral("en");
};
