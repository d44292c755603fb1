// Run-time language switching without restarting: installs the translator for "system" | "en" | "zh_CN"
// and, on QEvent::LanguageChange, re-translates every open window in place.
//
// Most widgets set their texts once in a constructor, so there is no retranslateUi() to call. The
// switcher instead keeps a catalogue of every source string and its translations (the .ts files,
// embedded under :/i18n-src) and maps each visible text — window titles, labels, buttons, menus,
// actions, placeholders, tool tips, accessible names, combo-box items, spin-box special values —
// back to its source, then through QCoreApplication::translate(). Texts built with arguments
// ("Loading %1…") cannot be mapped back; they change at their next update.
//
// Qt's own strings (standard dialog buttons) follow when qt6-translations-l10n provides qtbase_<lang>.qm.
// It also listens for an accepted SettingsDialog and applies the language chosen there.
#pragma once

#include <QHash>
#include <QObject>
#include <QString>
#include <QTranslator>
#include <QVector>

class LanguageSwitcher : public QObject {
    Q_OBJECT
public:
    explicit LanguageSwitcher(QObject* parent = nullptr);
    ~LanguageSwitcher() override;

    // "system", "en", "zh_CN" (or any language with an embedded llava_insight_<lang>.qm). Returns
    // false when no translation was found (the UI then stays in English).
    bool setLanguage(const QString& language);
    QString language() const { return m_language; }  // resolved: "en", "zh_CN", …

    // Re-translates `root` and its children from whatever language they show now.
    void retranslate(QObject* root) const;
    // What `text` says in the installed language, if it is a catalogue string (else `text` unchanged).
    QString translated(const QString& text) const;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    struct Entry {
        QString context;
        QString source;
    };
    void loadCatalogue();

    QTranslator m_translator;
    QTranslator m_qtTranslator;  // Qt's own strings (dialog buttons…), when qt6-translations-l10n is installed
    bool m_installed = false;
    bool m_qtInstalled = false;
    QString m_language = QStringLiteral("en");
    QVector<Entry> m_entries;
    QHash<QString, int> m_byText;  // source text and every translation -> entry index
};
