// See stagelog.h.
#include "model/stagelog.h"

#include <algorithm>
#include <string>

namespace llava {

void StageLog::record(std::string_view name, Clock::time_point begin, std::int64_t items, std::int64_t position,
                      double bytes, double flops) {
    const auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    StageTiming t;
    t.name = std::string(name);
    t.index = static_cast<int>(std::count_if(m_entries.begin(), m_entries.end(),
                                             [&](const StageTiming& e) { return e.name == name; }));
    t.startMs = ms(begin - m_start);
    t.ms = ms(Clock::now() - begin);
    t.items = items;
    t.position = position;
    t.bytes = bytes;
    t.flops = flops;
    m_entries.push_back(std::move(t));
}

std::vector<StageTiming> StageLog::finish() const {
    std::vector<StageTiming> out;
    StageTiming steady;
    steady.name = std::string(kStageDecodeSteady);
    for (const StageTiming& e : m_entries) {
        if (e.name != kStageDecodeFirst || e.index == 0) {
            out.push_back(e);
            continue;
        }
        if (steady.items == 0) {
            steady.startMs = e.startMs;
            steady.position = e.position;
        }
        steady.ms += e.ms;
        steady.items += e.items;
        steady.bytes += e.bytes;
        steady.flops += e.flops;
    }
    if (steady.items > 0) out.push_back(steady);
    return out;
}

}  // namespace llava
