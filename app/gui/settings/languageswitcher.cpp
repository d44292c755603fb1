#include "languageswitcher.h"

#include <QApplication>
#include <QEvent>
#include <QLibraryInfo>
#include <QLocale>

#include "settings/settingsdialog.h"

namespace {
constexpr const char* kSettingsHooked = "_llava_language_hooked";
}  // namespace

LanguageSwitcher::LanguageSwitcher(QObject* parent) : QObject(parent) { qApp->installEventFilter(this); }

LanguageSwitcher::~LanguageSwitcher() {
    if (m_installed) QCoreApplication::removeTranslator(&m_translator);
    if (m_qtInstalled) QCoreApplication::removeTranslator(&m_qtTranslator);
}

bool LanguageSwitcher::setLanguage(const QString& language) {
    // Removing and installing translators each post LanguageChange to every widget.
    if (m_installed) {
        QCoreApplication::removeTranslator(&m_translator);
        m_installed = false;
    }
    if (m_qtInstalled) {
        QCoreApplication::removeTranslator(&m_qtTranslator);
        m_qtInstalled = false;
    }
    QString lang = language == QLatin1String("system") ? QLocale::system().name() : language;
    m_language = QStringLiteral("en");
    bool ok = true;
    if (!lang.startsWith(QLatin1String("en")) && !lang.isEmpty() && lang != QLatin1String("C")) {
        const QString base = QStringLiteral(":/i18n/llava_insight_");
        if (m_translator.load(base + lang) || m_translator.load(base + lang.section(QLatin1Char('_'), 0, 0))) {
            m_installed = QCoreApplication::installTranslator(&m_translator);
            if (m_installed) m_language = m_translator.language().isEmpty() ? lang : m_translator.language();
        }
        if (m_installed && m_qtTranslator.load(QStringLiteral("qtbase_") + m_language,
                                               QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
            m_qtInstalled = QCoreApplication::installTranslator(&m_qtTranslator);
        ok = m_installed;
    }
    // The LanguageChange events are posted: deliver them now, so the switch is complete when this returns.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LanguageChange);
    return ok;
}

bool LanguageSwitcher::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::Show) {
        auto* dialog = qobject_cast<SettingsDialog*>(watched);
        if (dialog && !dialog->property(kSettingsHooked).toBool()) {
            dialog->setProperty(kSettingsHooked, true);
            connect(dialog, &QDialog::accepted, this, [this, dialog] {
                const QString chosen = dialog->settings().language;
                const QString resolved = chosen == QLatin1String("system") ? QLocale::system().name() : chosen;
                if (resolved != m_language) setLanguage(chosen);
            });
        }
    }
    return QObject::eventFilter(watched, event);
}
