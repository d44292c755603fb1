// See stagesjson.h.
#include "chat/stagesjson.h"

#include <QJsonArray>
#include <QString>
#include <cmath>
#include <string_view>

namespace {

constexpr std::string_view kStageNames[] = {llava::kStagePreprocess, llava::kStageClip,         llava::kStageProjector,
                                            llava::kStageMerge,      llava::kStagePrefillChunk, llava::kStageDecodeFirst,
                                            llava::kStageDecodeSteady};
constexpr qsizetype kMaxText = 200;

// A finite number >= 0 (and <= `max`), else nullopt.
std::optional<double> number(const QJsonObject& o, const char* key, double max = 1e300) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (!v.isDouble()) return std::nullopt;
    const double x = v.toDouble();
    if (!std::isfinite(x) || x < 0 || x > max) return std::nullopt;
    return x;
}

std::optional<llava::StageTiming> stageFromJson(const QJsonValue& value) {
    if (!value.isObject()) return std::nullopt;
    const QJsonObject o = value.toObject();
    const QString name = o.value(QStringLiteral("name")).toString();
    llava::StageTiming s;
    for (std::string_view known : kStageNames)
        if (name == QLatin1String(known.data(), qsizetype(known.size()))) s.name = std::string(known);
    const auto index = number(o, "index", 1e6), start = number(o, "startMs"), ms = number(o, "ms");
    const auto items = number(o, "items", 9e15), position = number(o, "position", 9e15);
    const auto bytes = number(o, "bytes"), flops = number(o, "flops");
    if (s.name.empty() || !index || !start || !ms || !items || !position || !bytes || !flops) return std::nullopt;
    s.index = int(*index);
    s.startMs = *start;
    s.ms = *ms;
    s.items = std::int64_t(*items);
    s.position = std::int64_t(*position);
    s.bytes = *bytes;
    s.flops = *flops;
    return s;
}

}  // namespace

QJsonValue chatStagesToJson(const std::vector<llava::StageTiming>& stages) {
    QJsonArray out;
    for (const llava::StageTiming& s : stages)
        out.append(QJsonObject{{"name", QString::fromStdString(s.name)},
                               {"index", s.index},
                               {"startMs", s.startMs},
                               {"ms", s.ms},
                               {"items", double(s.items)},
                               {"position", double(s.position)},
                               {"bytes", s.bytes},
                               {"flops", s.flops}});
    return out;
}

std::optional<std::vector<llava::StageTiming>> chatStagesFromJson(const QJsonValue& value) {
    if (!value.isArray() || value.toArray().size() > kMaxSavedStages) return std::nullopt;
    std::vector<llava::StageTiming> stages;
    for (const QJsonValue& v : value.toArray()) {
        auto stage = stageFromJson(v);
        if (!stage) return std::nullopt;
        stages.push_back(std::move(*stage));
    }
    return stages;
}

QJsonObject chatCeilingsToJson(const llava::MachineCeilings& c) {
    return {{"copyGBs", c.copyGBs},
            {"gemmGflops", c.gemmGflops},
            {"threads", c.threads},
            {"cpu", QString::fromStdString(c.cpu)},
            {"measuredAt", QString::fromStdString(c.measuredAt)}};
}

std::optional<llava::MachineCeilings> chatCeilingsFromJson(const QJsonValue& value) {
    if (!value.isObject()) return std::nullopt;
    const QJsonObject o = value.toObject();
    const auto copy = number(o, "copyGBs"), gemm = number(o, "gemmGflops"), threads = number(o, "threads", 65536);
    const QJsonValue cpu = o.value(QStringLiteral("cpu")), at = o.value(QStringLiteral("measuredAt"));
    if (!copy || !gemm || *copy == 0 || *gemm == 0 || !threads || *threads < 1 || !cpu.isString() || !at.isString() ||
        cpu.toString().size() > kMaxText || at.toString().size() > kMaxText)
        return std::nullopt;
    llava::MachineCeilings c;
    c.copyGBs = *copy;
    c.gemmGflops = *gemm;
    c.threads = int(*threads);
    c.cpu = cpu.toString().toStdString();
    c.measuredAt = at.toString().toStdString();
    return c;
}
