#include "spec/object_reader.h"

namespace tunelab {

std::string describeValue(const Json& value) {
    if (value.is_object())
        return "an object";
    if (value.is_array())
        return "an array";
    std::string text = value.dump();
    if (text.size() > 40)
        text = text.substr(0, 37) + "...";
    return text;
}

std::string quoteText(const std::string& text) {
    return "\"" + text + "\"";
}

std::string joinNames(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names)
        text += (text.empty() ? "" : ", ") + name;
    return text;
}

std::optional<int64_t> asInteger(const Json& value) {
    if (value.is_number_integer())
        return value.get<int64_t>();
    if (value.is_number_float()) {
        const double number = value.get<double>();
        if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.0e15)
            return static_cast<int64_t>(number);
    }
    return std::nullopt;
}

bool expectObject(const Json& value, const std::string& path, std::vector<std::string>& errors) {
    if (value.is_object())
        return true;
    errors.push_back(path + ": expected an object, got " + describeValue(value));
    return false;
}

} // namespace tunelab
