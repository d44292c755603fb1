// An answer's stage waterfall (llava/stages.h) and the machine ceilings it was drawn against, as kept in a
// chat file under "stats": "stages": [{"name", "index", "startMs", "ms", "items", "position", "bytes",
// "flops"}, ...] and "ceilings": {"copyGBs", "gemmGflops", "threads", "cpu", "measuredAt"}. A reopened
// chat shows the same timeline. Reading checks every value (a known stage name, finite and non-negative
// numbers, at most kMaxSavedStages entries, short strings); a block that fails is dropped (nullopt): the
// answer loses its timeline, never its text or the chat.
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <optional>
#include <vector>

#include "llava/machineceilings.h"
#include "llava/stages.h"

// A reply has per image 4 stages, a prefill chunk per 256 prompt rows (512 at a 131 072-token context)
// and two decode stages: 4096 is far above any real answer and bounds what a file can make us hold.
inline constexpr int kMaxSavedStages = 4096;

QJsonValue chatStagesToJson(const std::vector<llava::StageTiming>& stages);
std::optional<std::vector<llava::StageTiming>> chatStagesFromJson(const QJsonValue& value);
QJsonObject chatCeilingsToJson(const llava::MachineCeilings& ceilings);
std::optional<llava::MachineCeilings> chatCeilingsFromJson(const QJsonValue& value);
