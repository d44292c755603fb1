// See chatengine.h: the defaults of optional ChatEngine features.
#include "chatengine.h"

llava::Result<ExplainResult> ChatEngine::explain(const ExplainRequest&, const llava::CancelPredicate&) {
    return llava::makeError(llava::ErrorCode::Unsupported, "this engine cannot show where the answer looked");
}
