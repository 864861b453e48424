#include "text_format.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace tunelab::cli {

std::string formatNumber(double value, const char* format) {
    if (std::isnan(value))
        return "-";
    char text[32];
    // Callers write `format` as a literal, which the declaration's format attribute checks there.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    std::snprintf(text, sizeof text, format, value);
#pragma GCC diagnostic pop
    return text;
}

std::string formatTime(double unixSeconds) {
    if (unixSeconds <= 0.0)
        return "-";
    const std::time_t time = static_cast<std::time_t>(unixSeconds);
    std::tm local{};
    localtime_r(&time, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

} // namespace tunelab::cli
