// Strict JSON parsing: a SAX wrapper around nlohmann's DOM builder that also tracks the keys of every
// open object (duplicate detection) and the nesting depth. No exception leaves this file.
#include "io/json.h"

#include <cmath>
#include <limits>
#include <set>
#include <vector>

namespace llava::io {
namespace {

using DomSax = nlohmann::detail::json_sax_dom_parser<Json>;

// Forwards every event to the DOM builder; adds the two checks nlohmann does not do.
class StrictSax {
public:
    explicit StrictSax(Json* out) : m_dom(*out, /*allow_exceptions=*/false) {}

    bool null() { return m_dom.null(); }
    bool boolean(bool v) { return m_dom.boolean(v); }
    bool number_integer(Json::number_integer_t v) { return m_dom.number_integer(v); }
    bool number_unsigned(Json::number_unsigned_t v) { return m_dom.number_unsigned(v); }
    bool number_float(Json::number_float_t v, const Json::string_t& s) { return m_dom.number_float(v, s); }
    bool string(Json::string_t& v) { return m_dom.string(v); }
    bool binary(Json::binary_t& v) { return m_dom.binary(v); }

    bool start_object(std::size_t n) {
        if (!enter()) return false;
        m_keys.emplace_back();
        return m_dom.start_object(n);
    }
    bool key(Json::string_t& k) {
        if (!m_keys.back().insert(k).second) {
            m_error = "duplicate key \"" + k + "\"";
            return false;
        }
        return m_dom.key(k);
    }
    bool end_object() {
        m_keys.pop_back();
        --m_depth;
        return m_dom.end_object();
    }
    bool start_array(std::size_t n) {
        if (!enter()) return false;
        return m_dom.start_array(n);
    }
    bool end_array() {
        --m_depth;
        return m_dom.end_array();
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
        m_error = e.what();
        return false;
    }

    const std::string& error() const { return m_error; }

private:
    bool enter() {
        if (++m_depth > kMaxJsonDepth) {
            m_error = "nesting deeper than " + std::to_string(kMaxJsonDepth) + " levels";
            return false;
        }
        return true;
    }

    DomSax m_dom;
    std::vector<std::set<std::string>> m_keys;  // one key set per open object, innermost last
    int m_depth = 0;
    std::string m_error;
};

// A value quoted in a message; long arrays/objects are cut so messages stay one line.
std::string shortDump(const Json& value) {
    std::string text = value.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

Status typeError(std::string_view what, const char* key, const char* expected, const Json& value) {
    return makeError(ErrorCode::ParseError, std::string(what) + ": \"" + key + "\" must be " + expected +
                                                ", got " + value.type_name() + " " + shortDump(value));
}

const Json* member(const Json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
}

}  // namespace

Status parseJsonStrict(std::string_view text, Json* out, std::string_view what) {
    *out = Json();
    StrictSax sax(out);
    bool ok = false;
    try {
        ok = Json::sax_parse(text.begin(), text.end(), &sax, Json::input_format_t::json, /*strict=*/true);
    } catch (const std::exception& e) {  // defensive: the SAX path should not throw
        return makeError(ErrorCode::ParseError, std::string(what) + ": " + e.what());
    }
    if (!ok) {
        *out = Json();
        std::string error = sax.error().empty() ? std::string("malformed JSON") : sax.error();
        return makeError(ErrorCode::ParseError, std::string(what) + ": " + error);
    }
    return Status::ok();
}

Status readInt(const Json& object, const char* key, int* out, std::string_view what) {
    const Json* v = member(object, key);
    if (!v) return Status::ok();
    if (v->is_number_integer()) {
        // number_unsigned also satisfies is_number_integer; compare in the right domain.
        if (v->is_number_unsigned()) {
            if (v->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
                *out = static_cast<int>(v->get<std::uint64_t>());
                return Status::ok();
            }
        } else {
            std::int64_t x = v->get<std::int64_t>();
            if (x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max()) {
                *out = static_cast<int>(x);
                return Status::ok();
            }
        }
        return makeError(ErrorCode::OutOfRange, std::string(what) + ": \"" + key + "\" = " + shortDump(*v) +
                                                    " is out of the 32-bit integer range");
    }
    return typeError(what, key, "an integer", *v);
}

Status readDouble(const Json& object, const char* key, double* out, std::string_view what) {
    const Json* v = member(object, key);
    if (!v) return Status::ok();
    if (!v->is_number()) return typeError(what, key, "a number", *v);
    *out = v->get<double>();
    return Status::ok();
}

Status readFloat(const Json& object, const char* key, float* out, std::string_view what) {
    double d = *out;
    LLAVA_TRY(readDouble(object, key, &d, what));
    // A double beyond the float range (1e308) converts to +-inf explicitly (the plain cast is undefined);
    // the config validation then names the value.
    constexpr double kMax = std::numeric_limits<float>::max();
    *out = d > kMax ? std::numeric_limits<float>::infinity()
                    : (d < -kMax ? -std::numeric_limits<float>::infinity() : static_cast<float>(d));
    return Status::ok();
}

Status readBool(const Json& object, const char* key, bool* out, std::string_view what) {
    const Json* v = member(object, key);
    if (!v) return Status::ok();
    if (!v->is_boolean()) return typeError(what, key, "true or false", *v);
    *out = v->get<bool>();
    return Status::ok();
}

Status readString(const Json& object, const char* key, std::string* out, std::string_view what) {
    const Json* v = member(object, key);
    if (!v) return Status::ok();
    if (!v->is_string()) return typeError(what, key, "a string", *v);
    *out = v->get<std::string>();
    return Status::ok();
}

}  // namespace llava::io
