// Detection of non-finite results (NaN/Inf weights, overflowing activations): a reply must stop with an
// error naming where it went wrong instead of streaming garbage ("VVVV", or nothing) with success.
// The normal path checks only what already reaches the host (the logits, one chosen logit for greedy
// decoding on the backend, the merged image features). Only after a failure is the pass run again with
// a download and scan after every stage (embedding, each layer's attention and MLP, final norm), so
// the cost of naming the first bad layer is paid once, on the failing run. Not here: the load-time weight
// scan (io/weightscan.cpp, opt-in).
#include <algorithm>
#include <cmath>

#include "model/llavamodel.h"

namespace llava {

std::int64_t firstNonFinite(std::span<const float> values) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i])) return static_cast<std::int64_t>(i);
    return -1;
}

namespace {

const char* kindOf(float v) { return std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"); }

}  // namespace

Status LlavaModel::checkStage(const Tensor& x, std::int64_t rows, const std::string& stage) {
    if (!m_checkLayers) return Status::ok();
    LLAVA_ASSIGN_OR_RETURN(Tensor part, rowView(x, 0, rows));
    m_checkHost.resize(static_cast<std::size_t>(part.elementCount()));  // (rows, cols)
    LLAVA_TRY(m_backend.download(part, m_checkHost.data(), m_checkHost.size() * 4));
    const std::int64_t bad = firstNonFinite(m_checkHost);
    if (bad < 0) return Status::ok();
    const std::int64_t cols = std::max<std::int64_t>(1, part.cols());
    return makeError(ErrorCode::Internal, "first non-finite value (" + std::string(kindOf(m_checkHost[static_cast<std::size_t>(bad)])) +
                                              ") after " + stage + " (row " + std::to_string(bad / cols) + ", column " +
                                              std::to_string(bad % cols) + ")");
}

Status LlavaModel::nonFiniteFound(const char* what, const char* pass, const std::function<Status()>& rerun) {
    // Already the diagnostic run: every stage before this result was finite, so the last one made it.
    if (m_checkLayers) return makeError(ErrorCode::Internal, std::string(what) + " although every earlier stage was finite");
    m_checkLayers = true;
    const Status located = rerun ? rerun() : Status::ok();
    m_checkLayers = false;
    if (located.code() == ErrorCode::Cancelled) return located;
    const std::string where = located.isOk() ? "a re-run with per-layer checks found no non-finite stage (not reproducible)"
                                             : located.message();
    return makeError(ErrorCode::Internal, std::string("non-finite ") + what + " in " + pass + ": " + where +
                                              "; the model's weights or config may be corrupt (llava-insight-cli chat "
                                              "--check-weights scans the weights)");
}

Status LlavaModel::checkLogitsHost(const char* pass, const std::function<Status()>& rerun) {
    const std::int64_t bad = firstNonFinite(m_logitsHost);
    if (bad < 0) return Status::ok();
    const std::string what = "logits (" + std::string(kindOf(m_logitsHost[static_cast<std::size_t>(bad)])) + " at token id " +
                             std::to_string(bad) + "; the last stage is llm.lm_head.weight)";
    return nonFiniteFound(what.c_str(), pass, rerun);
}

}  // namespace llava
