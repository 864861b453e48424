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

std::string terminalText(std::string_view text) {
    std::string safe;
    safe.reserve(text.size());
    auto escape = [&](unsigned char byte) {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", byte);
        safe += hex;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        // C1 controls are U+0080..U+009F, in UTF-8 the two bytes C2 80..C2 9F.
        const bool c1 =
            byte == 0xC2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xE0) == 0x80;
        if (byte < 0x20 || byte == 0x7F) {
            escape(byte);
        } else if (c1) {
            escape(byte);
            escape(static_cast<unsigned char>(text[++i]));
        } else {
            safe += text[i];
        }
    }
    return safe;
}

} // namespace tunelab::cli
