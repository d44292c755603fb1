// StopFilter (stopfilter.h): find the earliest complete stop string, otherwise hold back the longest
// tail that is a proper prefix of some stop string.
#include "engine/stopfilter.h"

#include <algorithm>

namespace llava {

StopFilter::StopFilter(std::vector<std::string> stops) {
    for (auto& s : stops)
        if (!s.empty()) m_stops.push_back(std::move(s));
}

std::string StopFilter::push(std::string_view text, bool* stopped) {
    m_held += text;
    std::size_t first = std::string::npos;
    for (const auto& stop : m_stops) first = std::min(first, m_held.find(stop));
    if (first != std::string::npos) {
        std::string out = m_held.substr(0, first);
        m_held.clear();
        *stopped = true;
        return out;
    }
    std::size_t hold = 0;
    for (const auto& stop : m_stops)
        for (std::size_t k = std::min(stop.size() - 1, m_held.size()); k > hold; --k)
            if (m_held.compare(m_held.size() - k, k, stop, 0, k) == 0) {
                hold = k;
                break;
            }
    std::string out = m_held.substr(0, m_held.size() - hold);
    m_held.erase(0, m_held.size() - hold);
    return out;
}

std::string StopFilter::flush() {
    std::string out;
    out.swap(m_held);
    return out;
}

}  // namespace llava
