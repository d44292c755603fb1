// See confidencejson.h.
#include "confidencejson.h"

#include <QJsonObject>
#include <cmath>
#include <limits>

namespace {
// -inf (removed by the filters) has no JSON number: written as null. A log-softmax can round to a hair
// above 0 for a near-certain token; written as 0 so what we write always passes what we read.
QJsonValue logprobToJson(double logprob) {
    if (std::isnan(logprob) || logprob == -std::numeric_limits<double>::infinity()) return QJsonValue(QJsonValue::Null);
    return std::min(logprob, 0.0);
}

bool logprobFromJson(const QJsonValue& v, double* out) {
    if (v.isNull()) {
        *out = -std::numeric_limits<double>::infinity();
        return true;
    }
    if (!v.isDouble()) return false;
    const double d = v.toDouble();
    if (!std::isfinite(d) || d > 0) return false;  // probability outside 0..1
    *out = d;
    return true;
}

// A non-negative integer up to `max`, written as a JSON number (no fraction, no exponent tricks).
bool intFromJson(const QJsonValue& v, qint64 max, qint64* out) {
    if (!v.isDouble()) return false;
    const double d = v.toDouble();
    if (!(d >= 0) || d > double(max) || d != std::floor(d)) return false;
    *out = qint64(d);
    return true;
}

bool textFromJson(const QJsonValue& v, QString* out) {
    if (!v.isString()) return false;
    *out = v.toString();
    return out->size() <= kMaxStoredTokenText;
}

bool alternativeFromJson(const QJsonValue& v, TokenAlternative* out) {
    if (!v.isArray()) return false;
    const QJsonArray a = v.toArray();
    qint64 id = 0;
    if (a.size() != 4 || !intFromJson(a[0], std::numeric_limits<qint32>::max(), &id) || !textFromJson(a[1], &out->text) ||
        !logprobFromJson(a[2], &out->logprob) || !logprobFromJson(a[3], &out->rawLogprob))
        return false;
    out->id = qint32(id);
    return true;
}

bool tokenFromJson(const QJsonValue& v, qsizetype textLength, TokenProbability* out) {
    if (!v.isObject()) return false;
    const QJsonObject o = v.toObject();
    qint64 begin = 0, length = 0, id = 0;
    if (!intFromJson(o[QStringLiteral("begin")], textLength, &begin) ||
        !intFromJson(o[QStringLiteral("length")], textLength - begin, &length) ||
        !intFromJson(o[QStringLiteral("id")], std::numeric_limits<qint32>::max(), &id) ||
        !textFromJson(o[QStringLiteral("text")], &out->chosen.text) ||
        !logprobFromJson(o[QStringLiteral("logprob")], &out->chosen.logprob) ||
        !logprobFromJson(o[QStringLiteral("raw_logprob")], &out->chosen.rawLogprob))
        return false;
    out->begin = int(begin);
    out->length = int(length);
    out->chosen.id = qint32(id);
    const QJsonValue top = o[QStringLiteral("top")];
    if (!top.isArray()) return false;
    const QJsonArray list = top.toArray();
    if (list.size() > kMaxStoredAlternatives) return false;  // checked before anything is converted
    for (const QJsonValue& alt : list) {
        TokenAlternative a;
        if (!alternativeFromJson(alt, &a)) return false;
        if (!out->top.isEmpty() && a.logprob > out->top.back().logprob) return false;  // highest first
        out->top.append(a);
    }
    return true;
}
}  // namespace

QJsonArray confidenceToJson(const TokenProbabilities& tokens) {
    QJsonArray out;
    for (const TokenProbability& t : tokens) {
        QJsonArray top;
        for (const TokenAlternative& a : t.top)
            top.append(QJsonArray{a.id, a.text, logprobToJson(a.logprob), logprobToJson(a.rawLogprob)});
        out.append(QJsonObject{{"begin", t.begin},
                               {"length", t.length},
                               {"id", t.chosen.id},
                               {"text", t.chosen.text},
                               {"logprob", logprobToJson(t.chosen.logprob)},
                               {"raw_logprob", logprobToJson(t.chosen.rawLogprob)},
                               {"top", top}});
    }
    return out;
}

std::optional<TokenProbabilities> confidenceFromJson(const QJsonValue& value, qsizetype textLength) {
    if (!value.isArray()) return std::nullopt;
    const QJsonArray list = value.toArray();
    TokenProbabilities tokens;  // grows with what is read, never reserved from the file's count
    for (const QJsonValue& v : list) {
        TokenProbability t;
        if (!tokenFromJson(v, textLength, &t)) return std::nullopt;
        tokens.append(std::move(t));
    }
    return tokens;
}
