#include "common/json_text.h"

#include <algorithm>

namespace tunelab::json_text {

std::string placeOf(std::string_view text, size_t offset) {
    size_t line = 1;
    size_t column = 1;
    const size_t end = std::min(offset, text.size());
    for (size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string nestingError(std::string_view text) {
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        // Comments may hold brackets; skip them as the parser will.
        if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
            const size_t end = text.find('\n', i);
            i = end == std::string_view::npos ? text.size() : end;
            continue;
        }
        if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
            const size_t end = text.find("*/", i + 2);
            i = end == std::string_view::npos ? text.size() : end + 1;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                return placeOf(text, i) + ": invalid JSON: nested deeper than " +
                       std::to_string(kMaxJsonDepth) + " levels";
        } else if (c == ']' || c == '}') {
            depth = std::max(0, depth - 1);
        }
    }
    return {};
}

std::string rangeError(std::string_view text, const nlohmann::json::exception& error) {
    const std::string reason = reasonOf(error);
    // "number overflow parsing '1e999'": find that number in the text for its place.
    const auto open = reason.find('\'');
    const auto close = reason.rfind('\'');
    if (open == std::string::npos || close <= open)
        return "invalid JSON: " + reason;
    const std::string number = reason.substr(open + 1, close - open - 1);
    const size_t offset = text.find(number);
    const std::string shown = number.size() > 40 ? number.substr(0, 40) + "..." : number;
    return (offset == std::string_view::npos ? std::string() : placeOf(text, offset) + ": ") +
           "invalid JSON: the number " + shown + " is beyond the range of a double";
}

std::string reasonOf(const nlohmann::json::exception& error) {
    std::string reason = error.what();
    // nlohmann's text reads "[json.exception.parse_error.101] parse error at line 1, column 2: <reason>"
    // or "[json.exception.out_of_range.406] number overflow parsing '1e999'".
    if (const auto bracket = reason.find("] ");
        reason.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
        reason = reason.substr(bracket + 2);
    if (reason.rfind("parse error", 0) == 0) {
        if (const auto colon = reason.find(": "); colon != std::string::npos)
            reason = reason.substr(colon + 2);
    }
    return reason;
}

} // namespace tunelab::json_text
