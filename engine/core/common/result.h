#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tunelab {

// A user's mistake comes back as a value-or-error result. Each message already names its place
// (a JSON path, a file and line, a layer index), so callers print them as they are.
struct Errors {
    std::vector<std::string> messages;

    std::string joined(const char* separator = "\n") const {
        std::string text;
        for (const auto& message : messages) {
            if (!text.empty())
                text += separator;
            text += message;
        }
        return text;
    }
};

template <typename T> class Result {
public:
    Result(T value)
        : m_state(std::move(value)) {}
    Result(Errors errors)
        : m_state(std::move(errors)) {}

    static Result failure(std::string message) { return Result(Errors{{std::move(message)}}); }

    bool ok() const { return std::holds_alternative<T>(m_state); }
    explicit operator bool() const { return ok(); }

    T& value() { return std::get<T>(m_state); }
    const T& value() const { return std::get<T>(m_state); }
    T&& take() { return std::move(std::get<T>(m_state)); }

    const std::vector<std::string>& errors() const { return std::get<Errors>(m_state).messages; }
    std::string error() const { return ok() ? std::string() : std::get<Errors>(m_state).joined(); }

private:
    std::variant<T, Errors> m_state;
};

} // namespace tunelab
