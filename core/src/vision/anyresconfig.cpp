// ModelConfig -> AnyresParams. Kept apart from anyres.cpp so the pure geometry links without the
// config reader (candidateResolutions lives in the io stage).
#include "llava/anyres.h"

namespace llava {

AnyresParams anyresParams(const ModelConfig& config, Reference reference) {
    AnyresParams params;
    params.tileSize = config.vision.imageSize;
    params.patchesPerSide = config.vision.patchesPerSide();
    params.candidates = candidateResolutions(config, reference);
    params.reference = reference;
    return params;
}

Result<ImageLayout> computeImageLayout(int width, int height, const ModelConfig& config, Reference reference) {
    return computeImageLayout(width, height, anyresParams(config, reference));
}

}  // namespace llava
