#pragma once

// Private to the spec reader: reading one JSON object of an experiment spec, with errors that name
// the JSON path and unknown keys reported with the nearest known key.

#include "common/did_you_mean.h"
#include "spec/number_rules.h"
#include "spec/spec_names.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tunelab {

using Json = nlohmann::json;

// A value as an error message shows it: short JSON text, "an object" or "an array".
std::string describeValue(const Json& value);
std::string quoteText(const std::string& text);
std::string joinNames(const std::vector<std::string>& names);
// A whole number written as an integer or as a float without fraction.
std::optional<int64_t> asInteger(const Json& value);
// True for an object; else an error "path: expected an object, got ...".
bool expectObject(const Json& value, const std::string& path, std::vector<std::string>& errors);

// Reads one JSON object, remembering which keys were asked for so that every other key can be
// reported as unknown, with the nearest known key suggested.
class ObjectReader {
public:
    ObjectReader(const Json& object, std::string path, std::vector<std::string>& errors)
        : m_object(object)
        , m_path(std::move(path))
        , m_errors(errors) {}

    std::string pathOf(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }

    // Asked for by the reader, in order; the keys an object of this kind accepts.
    const std::vector<std::string>& knownKeys() const { return m_known; }

    void error(const std::string& key, const std::string& message) {
        m_errors.push_back(pathOf(key) + ": " + message);
    }

    // The value under `key`, or nullptr when absent (an explicit null counts as absent).
    const Json* find(const std::string& key) {
        m_known.push_back(key);
        const auto it = m_object.find(key);
        if (it == m_object.end() || it->is_null())
            return nullptr;
        return &*it;
    }

    const Json* require(const std::string& key, const std::string& what) {
        const Json* value = find(key);
        if (!value)
            error(key, "missing; expected " + what);
        return value;
    }

    void integer(const std::string& key, int64_t& out, int64_t minimum, const std::string& what,
                 bool required = false) {
        const Json* value = required ? require(key, what) : find(key);
        if (!value)
            return;
        const auto number = asInteger(*value);
        if (!number || *number < minimum)
            error(key, "expected " + what + ", got " + describeValue(*value));
        else
            out = *number;
    }

    void integer(const std::string& key, int& out, int minimum, const std::string& what) {
        int64_t wide = out;
        integer(key, wide, minimum, what);
        if (wide > 1000000000)
            error(key, "expected " + what + " of at most 1000000000, got " + std::to_string(wide));
        else
            out = static_cast<int>(wide);
    }

    void number(const std::string& key, double& out, const std::function<bool(double)>& valid,
                const std::string& what) {
        const Json* value = find(key);
        if (!value)
            return;
        if (!value->is_number() || !std::isfinite(value->get<double>()) || !valid(value->get<double>()))
            error(key, "expected " + what + ", got " + describeValue(*value));
        else
            out = value->get<double>();
    }

    // The same three, checked against the key's rule and named in its words.
    template <typename Integer>
    void integer(const std::string& key, Integer& out, const NumberRule& rule, bool required = false) {
        const Json* value = required ? require(key, rule.expected) : find(key);
        if (!value)
            return;
        const auto number = asInteger(*value);
        if (!number || !rule.acceptsInteger(*number))
            error(key, "expected " +
                           (number ? rule.expectedFor(static_cast<double>(*number)) : rule.expected) +
                           ", got " + describeValue(*value));
        else
            out = static_cast<Integer>(*number);
    }
    void number(const std::string& key, double& out, const NumberRule& rule) {
        number(
            key, out, [&rule](double v) { return rule.accepts(v); }, rule.expected);
    }

    void boolean(const std::string& key, bool& out) {
        const Json* value = find(key);
        if (!value)
            return;
        if (!value->is_boolean())
            error(key, "expected true or false, got " + describeValue(*value));
        else
            out = value->get<bool>();
    }

    void text(const std::string& key, std::string& out, bool required, const std::string& what) {
        const Json* value = required ? require(key, what) : find(key);
        if (!value)
            return;
        if (!value->is_string() || value->get<std::string>().empty())
            error(key, "expected " + what + ", got " + describeValue(*value));
        else
            out = value->get<std::string>();
    }

    template <typename Enum>
    bool choice(const std::string& key, const NameTable<Enum>& table, Enum& out, bool required,
                const std::string& what) {
        const auto names = enumNameList(table);
        const Json* value = required ? require(key, "one of " + joinNames(names)) : find(key);
        if (!value)
            return !required;
        if (!value->is_string()) {
            error(key,
                  "expected " + what + " (one of " + joinNames(names) + "), got " + describeValue(*value));
            return false;
        }
        const std::string name = value->get<std::string>();
        if (const auto parsed = enumFromName(table, name)) {
            out = *parsed;
            return true;
        }
        std::string message = "unknown " + what + " " + quoteText(name);
        const std::string suggestion = closestMatch(name, names);
        if (!suggestion.empty()) {
            message += "; did you mean " + quoteText(suggestion) + "?";
            // A short list is worth seeing whole: the nearest name may not be the one meant.
            if (names.size() <= 6)
                message += " (one of " + joinNames(names) + ")";
        } else {
            message += "; expected one of " + joinNames(names);
        }
        error(key, message);
        return false;
    }

    // Reports every key that nobody asked for.
    void finish(const std::string& owner = {}) {
        for (const auto& item : m_object.items()) {
            const std::string& key = item.key();
            if (std::find(m_known.begin(), m_known.end(), key) != m_known.end())
                continue;
            std::string message = "unknown key";
            if (!owner.empty())
                message += " for " + owner;
            const std::string suggestion = closestMatch(key, m_known);
            if (!suggestion.empty())
                message += "; did you mean " + quoteText(suggestion) + "?";
            else
                message += " (known keys: " + joinNames(m_known) + ")";
            error(key, message);
        }
    }

private:
    const Json& m_object;
    std::string m_path;
    std::vector<std::string>& m_errors;
    std::vector<std::string> m_known;
};

} // namespace tunelab
