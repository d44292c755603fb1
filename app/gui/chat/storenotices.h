// What the conversation store's troubles look like in the window: chats moved aside at start, a save that
// failed (kept on screen until a later save succeeds) and a newer copy on disk that was kept.
#pragma once

#include <QStringList>

class ConversationStore;
class NoticeBar;

void connectStoreNotices(ConversationStore* store, NoticeBar* notices);
// `problems`: ConversationStore::load()'s list ("chat-x.json: not valid JSON (moved to corrupt/)").
void showUnreadableChats(NoticeBar* notices, const QStringList& problems);
