// The chat session's side of the stage waterfall (llava/stages.h): lends a StageLog to the model for one
// reply and times the host-side image preprocessing, which the model never sees. Kept apart from
// chatsession.cpp so the session only gains a few calls.
#pragma once

#include "llava/image.h"
#include "llava/preprocess.h"
#include "model/llavamodel.h"
#include "model/stagelog.h"

namespace llava {

// Sets the model's stage log for its lifetime (every return path of a reply unsets it).
class StageLogBinding {
public:
    StageLogBinding(LlavaModel& model, StageLog* log) : m_model(model) { m_model.setStageLog(log); }
    ~StageLogBinding() { m_model.setStageLog(nullptr); }
    StageLogBinding(const StageLogBinding&) = delete;
    StageLogBinding& operator=(const StageLogBinding&) = delete;

private:
    LlavaModel& m_model;
};

// preprocessImage, recorded as a kStagePreprocess stage when `log` is set (bytes: the source pixels read
// and every normalised crop written in F32; no FLOPs are counted for resampling).
Result<PreprocessedImage> preprocessRecorded(const RgbImage& image, const ImageLayout& layout, const VisionConfig& vision,
                                             StageLog* log);

}  // namespace llava
