// Sampler: repetition penalty -> greedy or (temperature -> top-k -> softmax -> top-p -> min-p -> draw).
// Filters follow HF's logits-warper order (temperature, top-k, top-p) with min-p applied last on the
// renormalised distribution. The draw uses the top 53 bits of mt19937_64 so results do not depend on
// the standard library's distribution implementation.
#include "llava/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

namespace llava {

Sampler::Sampler(const SamplingParams& params) : m_params(params), m_rng(params.seed) {}

void Sampler::reset(std::uint64_t seed) { m_rng.seed(seed); }

double Sampler::uniform() { return static_cast<double>(m_rng() >> 11) * 0x1.0p-53; }

std::vector<float> Sampler::penalised(std::span<const float> logits, std::span<const std::int32_t> recent) const {
    std::vector<float> out(logits.begin(), logits.end());
    if (m_params.repetitionPenalty == 1.0f) return out;
    std::size_t start = 0;
    if (m_params.repetitionWindow > 0 && recent.size() > static_cast<std::size_t>(m_params.repetitionWindow))
        start = recent.size() - static_cast<std::size_t>(m_params.repetitionWindow);
    std::unordered_set<std::int32_t> seen(recent.begin() + static_cast<std::ptrdiff_t>(start), recent.end());
    for (std::int32_t id : seen) {
        if (id < 0 || static_cast<std::size_t>(id) >= out.size()) continue;
        float& l = out[static_cast<std::size_t>(id)];
        l = l > 0 ? l / m_params.repetitionPenalty : l * m_params.repetitionPenalty;
    }
    return out;
}

std::size_t Sampler::filter(const std::vector<float>& l, std::vector<std::int32_t>& order, std::vector<double>& p) const {
    order.resize(l.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) {
        return l[static_cast<std::size_t>(a)] > l[static_cast<std::size_t>(b)];
    });
    std::size_t keep = order.size();
    if (m_params.topK > 0) keep = std::min(keep, static_cast<std::size_t>(m_params.topK));
    p.assign(keep, 0.0);
    const double maxLogit = l[static_cast<std::size_t>(order[0])] / static_cast<double>(m_params.temperature);
    double sum = 0;
    for (std::size_t i = 0; i < keep; ++i) {
        p[i] = std::exp(l[static_cast<std::size_t>(order[i])] / static_cast<double>(m_params.temperature) - maxLogit);
        sum += p[i];
    }
    for (auto& v : p) v /= sum;
    if (m_params.topP < 1.0f) {  // smallest prefix with cumulative mass >= topP (at least one token)
        double cumulative = 0;
        std::size_t i = 0;
        while (i < keep) {
            cumulative += p[i++];
            if (cumulative >= static_cast<double>(m_params.topP)) break;
        }
        keep = i;
    }
    if (m_params.minP > 0.0f) {
        const double threshold = static_cast<double>(m_params.minP) * p[0];
        std::size_t i = 1;
        while (i < keep && p[i] >= threshold) ++i;
        keep = i;
    }
    return keep;
}

std::vector<float> Sampler::distribution(std::span<const float> logits, std::span<const std::int32_t> recent) const {
    if (m_params.temperature <= 0.0f || logits.empty()) return {};
    const std::vector<float> l = penalised(logits, recent);
    std::vector<std::int32_t> order;
    std::vector<double> p;
    const std::size_t keep = filter(l, order, p);
    const double sum = std::accumulate(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(keep), 0.0);
    std::vector<float> out(l.size(), 0.0f);
    for (std::size_t i = 0; i < keep; ++i) out[static_cast<std::size_t>(order[i])] = static_cast<float>(p[i] / sum);
    return out;
}

namespace {

// log(sum(exp(x_i))) over the ids where keep(i), in double; -inf when none is kept.
template <typename Value, typename Keep>
double logSumExp(std::size_t n, Value value, Keep keep) {
    double maxValue = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < n; ++i)
        if (keep(i)) maxValue = std::max(maxValue, value(i));
    if (!std::isfinite(maxValue)) return maxValue;
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (keep(i)) sum += std::exp(value(i) - maxValue);
    return maxValue + std::log(sum);
}

}  // namespace

TokenConfidence Sampler::confidence(std::span<const float> logits, std::span<const std::int32_t> recent,
                                    std::int32_t chosen, int n) const {
    const std::size_t nVocab = logits.size();
    const std::vector<float> pen = penalised(logits, recent);
    const auto all = [](std::size_t) { return true; };
    const double rawLse = logSumExp(nVocab, [&](std::size_t i) { return double(logits[i]); }, all);
    // The kept set is exactly the one sample() draws from (the same filter()); log-probabilities are
    // computed from the logits in double, so a kept token whose probability underflows a float stays finite.
    std::vector<double> logp(nVocab);
    if (m_params.temperature <= 0.0f) {
        const double lse = logSumExp(nVocab, [&](std::size_t i) { return double(pen[i]); }, all);
        for (std::size_t i = 0; i < nVocab; ++i) logp[i] = pen[i] - lse;
    } else {
        std::vector<std::int32_t> order;
        std::vector<double> p;
        const std::size_t keep = nVocab == 0 ? 0 : filter(pen, order, p);
        std::vector<char> isKept(nVocab, 0);
        for (std::size_t i = 0; i < keep; ++i) isKept[static_cast<std::size_t>(order[i])] = 1;
        const double t = m_params.temperature;
        const auto kept = [&](std::size_t i) { return isKept[i] != 0; };
        const double lse = logSumExp(nVocab, [&](std::size_t i) { return pen[i] / t; }, kept);
        for (std::size_t i = 0; i < nVocab; ++i)
            logp[i] = kept(i) ? pen[i] / t - lse : -std::numeric_limits<double>::infinity();
    }
    const auto entry = [&](std::int32_t id) {
        const auto i = static_cast<std::size_t>(id);
        return TokenLogprob{id, logp[i], logits[i] - rawLse, {}};
    };
    TokenConfidence out;
    if (chosen >= 0 && static_cast<std::size_t>(chosen) < nVocab) out.chosen = entry(chosen);
    std::vector<std::int32_t> order(nVocab);
    std::iota(order.begin(), order.end(), 0);
    const std::size_t top = std::min(nVocab, static_cast<std::size_t>(std::max(0, n)));
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                      [&](std::int32_t a, std::int32_t b) {
                          const float la = pen[static_cast<std::size_t>(a)], lb = pen[static_cast<std::size_t>(b)];
                          return la > lb || (la == lb && a < b);
                      });
    for (std::size_t i = 0; i < top; ++i) out.top.push_back(entry(order[i]));
    return out;
}

std::int32_t Sampler::sample(std::span<const float> logits, std::span<const std::int32_t> recent) {
    if (m_params.temperature <= 0.0f) {
        const std::vector<float> l = penalised(logits, recent);
        return static_cast<std::int32_t>(std::max_element(l.begin(), l.end()) - l.begin());  // ties -> lowest id
    }
    const std::vector<float> p = distribution(logits, recent);
    const double r = uniform();
    double cumulative = 0;
    std::int32_t last = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] <= 0) continue;
        last = static_cast<std::int32_t>(i);
        cumulative += p[i];
        if (r < cumulative) return last;
    }
    return last;  // rounding: r beyond the summed mass
}

}  // namespace llava
