// A parameter's value as the samplers and plots read it: canonical JSON text, read as a number.
#include "search/search_space.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <string>

namespace tunelab {

namespace {

// Values are stored as compact JSON and read back thousands of times a frame by the study plots:
// a plain number is read with from_chars (locale-free, exact), anything else goes to the JSON parser.
bool readNumber(const std::string& json, double& out) {
#if defined(__cpp_lib_to_chars) // floating-point from_chars: GCC 11, Clang 17 with libc++
    const char* begin = json.data();
    const char* end = begin + json.size();
    if (begin != end && (*begin == '-' || (*begin >= '0' && *begin <= '9'))) {
        const auto read = std::from_chars(begin, end, out);
        if (read.ec == std::errc() && read.ptr == end)
            return true;
    }
#endif
    const auto value = nlohmann::json::parse(json, nullptr, false);
    if (!value.is_number())
        return false;
    out = value.get<double>();
    return true;
}

} // namespace

bool ParamValue::isNumber() const {
    double ignored = 0.0;
    return readNumber(json, ignored);
}

double ParamValue::toDouble() const {
    double value = 0.0;
    return readNumber(json, value) ? value : 0.0;
}

int64_t ParamValue::toInt() const {
    return static_cast<int64_t>(std::llround(toDouble()));
}

std::string SearchParameter::place() const {
    return "parameters[" + std::to_string(index) + "]" + (path.empty() ? std::string() : " (" + path + ")");
}

} // namespace tunelab
