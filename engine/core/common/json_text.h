#pragma once

// The one way the engine reads JSON text (experiment, study, race and space files, values stored in
// the run store). Private to the engine's .cpp files: nlohmann's types stay out of public headers.

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tunelab {

// Deeper nesting than any TuneLab file needs; refused before parsing, so that walking a parsed value
// can never exhaust the stack.
constexpr int kMaxJsonDepth = 64;

namespace json_text {

// The line and column (1-based) of byte `offset` of `text`.
std::string placeOf(std::string_view text, size_t offset);
// "" when `text` nests at most kMaxJsonDepth arrays and objects, else where it goes deeper.
std::string nestingError(std::string_view text);
// The message for a number nlohmann cannot hold, at the number's place, with the number cut short.
std::string rangeError(std::string_view text, const nlohmann::json::exception& error);
// nlohmann's message without its "[json.exception...]" prefix and repeated place.
std::string reasonOf(const nlohmann::json::exception& error);

} // namespace json_text

// Parses `text` (comments allowed). Never throws: a syntax error, a number beyond the range of a
// double (1e999, a 400-digit integer) or nesting deeper than kMaxJsonDepth comes back as an error
// that names the line and column.
template <typename JsonType = nlohmann::json> Result<JsonType> parseJsonText(std::string_view text) {
    if (std::string problem = json_text::nestingError(text); !problem.empty())
        return Result<JsonType>::failure(std::move(problem));
    try {
        return JsonType::parse(text.begin(), text.end(), nullptr, true, true);
    } catch (const nlohmann::json::parse_error& error) {
        return Result<JsonType>::failure(json_text::placeOf(text, error.byte > 0 ? error.byte - 1 : 0) +
                                         ": invalid JSON: " + json_text::reasonOf(error));
    } catch (const nlohmann::json::exception& error) {
        // out_of_range: a number beyond the range of a double.
        return Result<JsonType>::failure(json_text::rangeError(text, error));
    }
}

} // namespace tunelab
