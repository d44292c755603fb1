// Stop-string filtering for streamed text: text is released only once it can no longer be the start
// of a stop string, so a stop string split across tokens (or ending inside a piece) never reaches the
// user, and the concatenation of everything released is exactly the kept reply text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llava {

class StopFilter {
public:
    explicit StopFilter(std::vector<std::string> stops);
    // Appends text; returns what is now safe to show. Sets *stopped when a stop string completed: the
    // text before it is returned, the stop string and everything after are dropped.
    std::string push(std::string_view text, bool* stopped);
    std::string flush();  // the held tail at the end of a reply (no stop string followed)

private:
    std::vector<std::string> m_stops;  // non-empty strings only
    std::string m_held;
};

}  // namespace llava
