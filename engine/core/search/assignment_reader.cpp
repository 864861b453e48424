#include "search/assignment_reader.h"

#include "common/did_you_mean.h"
#include "common/json_text.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace tunelab {

using nlohmann::json;

namespace {

std::string numberText(double value) {
    return json(value).dump();
}

std::string rangeText(const SearchParameter& parameter) {
    return "[" + numberText(parameter.low) + ", " + numberText(parameter.high) + "]";
}

std::string choicesText(const SearchParameter& parameter) {
    std::string text;
    for (const ParamValue& value : parameter.values)
        text += (text.empty() ? "" : ", ") + value.json;
    return text;
}

// The value of `given` for `parameter`, or why it cannot be one.
Result<ParamValue> checkValue(const SearchParameter& parameter, const json& given) {
    const std::string where = parameter.path + ": ";
    if (parameter.hasExplicitValues()) {
        for (const ParamValue& choice : parameter.values) {
            const json parsed = json::parse(choice.json, nullptr, false);
            if (!parsed.is_discarded() && parsed == given)
                return choice;
        }
        return Result<ParamValue>::failure(where + given.dump() + " is not one of the space's " +
                                           (parameter.kind == ParamKind::Categorical ? "choices" : "values") +
                                           " (" + choicesText(parameter) + ")");
    }
    if (!given.is_number() || !std::isfinite(given.get<double>()))
        return Result<ParamValue>::failure(where + "expected a number, got " + given.dump());
    const double value = given.get<double>();
    if (parameter.kind == ParamKind::Int && std::floor(value) != value)
        return Result<ParamValue>::failure(where + "expected an integer, got " + given.dump());
    if (value < parameter.low || value > parameter.high)
        return Result<ParamValue>::failure(where + given.dump() + " is outside the space's range " +
                                           rangeText(parameter) + "; widen the space to try it");
    if (parameter.step > 0.0) {
        const double steps = (value - parameter.low) / parameter.step;
        if (std::abs(steps - std::round(steps)) > 1e-9 * std::max(1.0, std::abs(steps)))
            return Result<ParamValue>::failure(where + given.dump() + " is not on the space's step of " +
                                               numberText(parameter.step) + " from " +
                                               numberText(parameter.low));
    }
    if (parameter.kind == ParamKind::Int)
        return ParamValue{json(static_cast<int64_t>(value)).dump()};
    return ParamValue{json(value).dump()};
}

} // namespace

Result<Assignment> readAssignment(std::string_view jsonText, const SearchSpace& space) {
    auto parsed = parseJsonText(jsonText);
    if (!parsed.ok())
        return Result<Assignment>(Errors{parsed.errors()});
    const json& root = parsed.value();
    if (!root.is_object())
        return Result<Assignment>::failure("expected an object from parameter path to value, such as "
                                           "{\"optimizer.lr\": 0.01}, got " +
                                           std::string(root.type_name()));
    std::vector<std::string> errors;
    std::vector<std::string> paths;
    for (const auto& parameter : space.parameters())
        paths.push_back(parameter.path);
    for (const auto& [key, value] : root.items()) {
        if (space.find(key))
            continue;
        const std::string suggestion = closestMatch(key, paths);
        errors.push_back(key + ": not a parameter of the study's space" +
                         (suggestion.empty() ? "" : "; did you mean " + suggestion + "?"));
    }
    // In the space's order, so a condition sees the values it depends on.
    Assignment assignment;
    for (const auto& parameter : space.parameters()) {
        const bool active = space.isActive(parameter, assignment);
        const auto given = root.find(parameter.path);
        if (!active) {
            if (given != root.end())
                errors.push_back(parameter.path + ": does not apply with the other values given (its "
                                                  "condition is not met); leave it out");
            continue;
        }
        if (given == root.end()) {
            if (parameter.kind == ParamKind::Fixed && !parameter.values.empty())
                assignment[parameter.path] = parameter.values.front();
            else
                errors.push_back(parameter.path + ": missing; every parameter that applies needs a value");
            continue;
        }
        auto value = checkValue(parameter, *given);
        if (value.ok())
            assignment[parameter.path] = value.take();
        else
            errors.push_back(value.error());
    }
    if (!errors.empty())
        return Result<Assignment>(Errors{errors});
    return assignment;
}

} // namespace tunelab
