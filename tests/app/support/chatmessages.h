// A chat message in one line, for app tests that build histories by hand (tst_endtoend, tst_contextplan).
#pragma once

#include <QString>
#include <QStringList>

#include "chat/chattypes.h"

namespace apptest {

inline ChatMessage message(MessageRole role, const QString& text, const QStringList& images = {}) {
    ChatMessage m;
    m.role = role;
    m.text = text;
    m.images = images;
    return m;
}

}  // namespace apptest
