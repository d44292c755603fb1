// The action icons in resources/icons (embedded as :/icons/*.svg, see resources/AppResources.cmake),
// named by what they stand for, so the resource paths are spelled in one place and a typo is a compile
// error rather than a silently blank button. It does not decide how an icon is shown: every button and
// action keeps its text (menus, toolbar) or at least a tool tip and an accessible name (icon-only buttons).
#pragma once

#include <QIcon>
#include <QString>

enum class AppIcon {
    App,
    Attach,
    Copy,
    Delete,
    Edit,
    Export,
    Inspector,
    ModelFolder,
    NewChat,
    OpenImage,
    Regenerate,
    Search,
    Send,
    Settings,
    Stop,
};

inline QString appIconPath(AppIcon icon) {
    switch (icon) {
    case AppIcon::App: return QStringLiteral(":/icons/llava-insight.svg");
    case AppIcon::Attach: return QStringLiteral(":/icons/attach.svg");
    case AppIcon::Copy: return QStringLiteral(":/icons/copy.svg");
    case AppIcon::Delete: return QStringLiteral(":/icons/delete.svg");
    case AppIcon::Edit: return QStringLiteral(":/icons/edit.svg");
    case AppIcon::Export: return QStringLiteral(":/icons/export.svg");
    case AppIcon::Inspector: return QStringLiteral(":/icons/inspector.svg");
    case AppIcon::ModelFolder: return QStringLiteral(":/icons/model-folder.svg");
    case AppIcon::NewChat: return QStringLiteral(":/icons/new-chat.svg");
    case AppIcon::OpenImage: return QStringLiteral(":/icons/open-image.svg");
    case AppIcon::Regenerate: return QStringLiteral(":/icons/regenerate.svg");
    case AppIcon::Search: return QStringLiteral(":/icons/search.svg");
    case AppIcon::Send: return QStringLiteral(":/icons/send.svg");
    case AppIcon::Settings: return QStringLiteral(":/icons/settings.svg");
    case AppIcon::Stop: return QStringLiteral(":/icons/stop.svg");
    }
    return {};
}

inline QIcon appIcon(AppIcon icon) { return QIcon(appIconPath(icon)); }
