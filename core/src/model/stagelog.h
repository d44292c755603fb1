// Collects the stage waterfall (llava/stages.h) of one answer. The chat session owns one per reply and
// lends it to the model (LlavaModel::setStageLog); the model records its stages with the backend
// synchronised, so device work is inside the stage it belongs to. Nothing is recorded without a log.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "llava/stages.h"

namespace llava {

class StageLog {
public:
    using Clock = std::chrono::steady_clock;
    explicit StageLog(Clock::time_point start) : m_start(start) {}

    static Clock::time_point now() { return Clock::now(); }
    // A stage that began at `begin` and ends now; its index counts earlier stages of the same name.
    void record(std::string_view name, Clock::time_point begin, std::int64_t items, std::int64_t position, double bytes,
                double flops);
    // In time order; every decode.first after the first is folded into one decode.steady entry.
    std::vector<StageTiming> finish() const;

private:
    Clock::time_point m_start;
    std::vector<StageTiming> m_entries;
};

}  // namespace llava
