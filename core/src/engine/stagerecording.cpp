// See stagerecording.h.
#include "engine/stagerecording.h"

namespace llava {

Result<PreprocessedImage> preprocessRecorded(const RgbImage& image, const ImageLayout& layout, const VisionConfig& vision,
                                             StageLog* log) {
    const auto begin = StageLog::now();
    auto pre = preprocessImage(image, layout, vision);
    if (pre.isOk() && log) {
        const double bytes = 3.0 * image.width * image.height + static_cast<double>(pre->pixels.size()) * sizeof(float);
        log->record(kStagePreprocess, begin, layout.cropCount(), 0, bytes, 0.0);
    }
    return pre;
}

}  // namespace llava
