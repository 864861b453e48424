// Optuna's distributions, and how they meet TuneLab's search-space parameters.

#include "study/optuna_storage.h"

#include "common/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace tunelab {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// Text from another program may hold invalid UTF-8: it is written with replacement characters
// rather than making the JSON writer throw.
template <typename Json> std::string dumpJson(const Json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An Optuna choice: null, a boolean, a number or a string; any other value as its JSON text.
std::string optunaChoice(const std::string& valueJson) {
    const json value = json::parse(valueJson, nullptr, false);
    if (value.is_discarded())
        return dumpJson(json(valueJson));
    if (value.is_object() || value.is_array())
        return dumpJson(json(dumpJson(value)));
    return dumpJson(value);
}

bool isWhole(double value) {
    return std::isfinite(value) && std::floor(value) == value && std::fabs(value) <= 9007199254740992.0;
}

std::string describeNumber(double value) {
    return dumpJson(json(value));
}

} // namespace

bool OptunaDistribution::operator==(const OptunaDistribution& other) const {
    return kind == other.kind && low == other.low && high == other.high && log == other.log &&
           step == other.step && choices == other.choices;
}

OptunaDistribution optunaDistribution(const SearchParameter& parameter) {
    OptunaDistribution distribution;
    const bool range = (parameter.kind == ParamKind::Float || parameter.kind == ParamKind::Int) &&
                       !parameter.hasExplicitValues();
    if (!range) {
        distribution.kind = OptunaDistribution::Kind::Categorical;
        for (const ParamValue& value : parameter.values)
            distribution.choices.push_back(optunaChoice(value.json));
        return distribution;
    }
    distribution.kind =
        parameter.kind == ParamKind::Int ? OptunaDistribution::Kind::Int : OptunaDistribution::Kind::Float;
    distribution.low = parameter.low;
    distribution.high = parameter.high;
    distribution.log = parameter.log;
    distribution.step = parameter.step;
    if (parameter.kind == ParamKind::Int && distribution.step < 1.0)
        distribution.step = 1.0;
    return distribution;
}

std::string optunaDistributionJson(const OptunaDistribution& distribution) {
    ordered_json attributes = ordered_json::object();
    const char* name = "CategoricalDistribution";
    if (distribution.kind == OptunaDistribution::Kind::Float) {
        name = "FloatDistribution";
        attributes["step"] =
            distribution.step > 0.0 ? ordered_json(distribution.step) : ordered_json(nullptr);
        attributes["low"] = distribution.low;
        attributes["high"] = distribution.high;
        attributes["log"] = distribution.log;
    } else if (distribution.kind == OptunaDistribution::Kind::Int) {
        name = "IntDistribution";
        attributes["log"] = distribution.log;
        attributes["step"] = static_cast<int64_t>(distribution.step);
        attributes["low"] = static_cast<int64_t>(distribution.low);
        attributes["high"] = static_cast<int64_t>(distribution.high);
    } else {
        ordered_json choices = ordered_json::array();
        for (const std::string& choice : distribution.choices)
            choices.push_back(ordered_json::parse(choice, nullptr, false));
        attributes["choices"] = choices;
    }
    ordered_json root;
    root["name"] = name;
    root["attributes"] = attributes;
    return dumpJson(root);
}

Result<OptunaDistribution> parseOptunaDistribution(std::string_view jsonText) {
    using Parsed = Result<OptunaDistribution>;
    auto parsed = parseJsonText(jsonText);
    if (!parsed.ok())
        return Parsed::failure(parsed.error());
    const json& root = parsed.value();
    if (!root.is_object())
        return Parsed::failure("expected a JSON object");

    OptunaDistribution distribution;
    std::string kind;       // "float", "int" or "categorical"
    const json* attributes; // the keys of the constructor
    std::vector<std::string> allowed;
    if (root.contains("name")) {
        if (!root["name"].is_string())
            return Parsed::failure("\"name\" is not a string");
        const std::string name = root["name"].get<std::string>();
        if (!root.contains("attributes") || !root["attributes"].is_object())
            return Parsed::failure(name + " has no \"attributes\" object");
        attributes = &root["attributes"];
        if (name == "FloatDistribution") {
            kind = "float";
            allowed = {"low", "high", "log", "step"};
        } else if (name == "UniformDistribution" || name == "LogUniformDistribution") {
            kind = "float";
            distribution.log = name == "LogUniformDistribution";
            allowed = {"low", "high"};
        } else if (name == "DiscreteUniformDistribution") {
            kind = "float";
            allowed = {"low", "high", "q"};
        } else if (name == "IntDistribution") {
            kind = "int";
            allowed = {"low", "high", "log", "step"};
        } else if (name == "IntUniformDistribution" || name == "IntLogUniformDistribution") {
            kind = "int";
            distribution.log = name == "IntLogUniformDistribution";
            allowed = {"low", "high", "step"};
        } else if (name == "CategoricalDistribution") {
            kind = "categorical";
            allowed = {"choices"};
        } else {
            return Parsed::failure("unknown distribution class '" + name + "'");
        }
    } else if (root.contains("type") && root["type"].is_string()) {
        attributes = &root;
        kind = root["type"].get<std::string>();
        allowed = kind == "categorical" ? std::vector<std::string>{"type", "choices"}
                                        : std::vector<std::string>{"type", "low", "high", "log", "step"};
        if (kind != "float" && kind != "int" && kind != "categorical")
            return Parsed::failure("unknown distribution type '" + kind + "'");
    } else {
        return Parsed::failure("neither a \"name\" nor a \"type\"");
    }
    for (const auto& item : attributes->items()) {
        if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
            return Parsed::failure("unknown attribute '" + item.key() + "'");
    }

    if (kind == "categorical") {
        distribution.kind = OptunaDistribution::Kind::Categorical;
        if (!attributes->contains("choices") || !(*attributes)["choices"].is_array() ||
            (*attributes)["choices"].empty())
            return Parsed::failure("\"choices\" is not a non-empty array");
        for (const json& choice : (*attributes)["choices"])
            distribution.choices.push_back(dumpJson(choice));
        return distribution;
    }
    distribution.kind = kind == "int" ? OptunaDistribution::Kind::Int : OptunaDistribution::Kind::Float;
    for (const char* key : {"low", "high"}) {
        if (!attributes->contains(key) || !(*attributes)[key].is_number())
            return Parsed::failure(std::string("\"") + key + "\" is not a number");
    }
    distribution.low = (*attributes)["low"].get<double>();
    distribution.high = (*attributes)["high"].get<double>();
    if (attributes->contains("log")) {
        if (!(*attributes)["log"].is_boolean())
            return Parsed::failure("\"log\" is not true or false");
        distribution.log = (*attributes)["log"].get<bool>();
    }
    const char* stepKey = attributes->contains("q") ? "q" : "step";
    if (attributes->contains(stepKey) && !(*attributes)[stepKey].is_null()) {
        if (!(*attributes)[stepKey].is_number())
            return Parsed::failure(std::string("\"") + stepKey + "\" is not a number");
        distribution.step = (*attributes)[stepKey].get<double>();
        if (!(distribution.step > 0.0) || !std::isfinite(distribution.step))
            return Parsed::failure("step " + describeNumber(distribution.step) + " is not above 0");
    }
    if (distribution.kind == OptunaDistribution::Kind::Int) {
        if (distribution.log) // IntLogUniformDistribution's step was never used
            distribution.step = 1.0;
        if (distribution.step == 0.0)
            distribution.step = 1.0;
        for (const double bound : {distribution.low, distribution.high, distribution.step}) {
            if (!isWhole(bound))
                return Parsed::failure(
                    describeNumber(bound) +
                    " is not an integer within -2^53 and 2^53 (an int distribution's bounds and "
                    "step)");
        }
    } else if (distribution.log && distribution.step > 0.0) {
        return Parsed::failure("step and log together");
    }
    if (!std::isfinite(distribution.low) || !std::isfinite(distribution.high))
        return Parsed::failure("low and high are not finite");
    if (distribution.low > distribution.high)
        return Parsed::failure("low " + describeNumber(distribution.low) + " is above high " +
                               describeNumber(distribution.high));
    if (distribution.log && distribution.low <= 0.0)
        return Parsed::failure("log scale with low " + describeNumber(distribution.low) + " (not above 0)");
    return distribution;
}

bool sameOptunaValue(std::string_view aJson, std::string_view bJson) {
    if (aJson == bJson)
        return true;
    const json a = json::parse(aJson, nullptr, false);
    const json b = json::parse(bJson, nullptr, false);
    return !a.is_discarded() && !b.is_discarded() && a == b;
}

Result<OptunaDistribution> optunaUnion(const OptunaDistribution& a, const OptunaDistribution& b) {
    if (a.kind != b.kind || a.log != b.log)
        return Result<OptunaDistribution>::failure(
            "distributions of different kinds (" + optunaDistributionJson(a) + " and " +
            optunaDistributionJson(b) + "); a TuneLab parameter has one");
    OptunaDistribution both = a;
    if (a.kind == OptunaDistribution::Kind::Categorical) {
        for (const std::string& choice : b.choices) {
            bool known = false;
            for (const std::string& existing : a.choices)
                known = known || sameOptunaValue(existing, choice);
            if (!known)
                both.choices.push_back(choice);
        }
        return both;
    }
    const double steps = a.step > 0.0 ? (b.low - a.low) / a.step : 0.0;
    if (a.step != b.step || std::fabs(steps - std::round(steps)) > 1e-9) // different grids: the plain range
        both.step = a.kind == OptunaDistribution::Kind::Int ? 1.0 : 0.0;
    both.low = std::min(a.low, b.low);
    both.high = std::max(a.high, b.high);
    return both;
}

namespace {

// A bound or step as TuneLab writes it: an integer for int parameters (64, never 64.0).
ordered_json numberValue(const OptunaDistribution& distribution, double value) {
    if (distribution.kind == OptunaDistribution::Kind::Int)
        return ordered_json(static_cast<int64_t>(std::llround(value)));
    return ordered_json(value);
}

} // namespace

std::string optunaSearchSpaceJson(const std::vector<std::pair<std::string, OptunaDistribution>>& parameters) {
    ordered_json list = ordered_json::array();
    for (const auto& [name, distribution] : parameters) {
        ordered_json item;
        item["path"] = name;
        const bool isInt = distribution.kind == OptunaDistribution::Kind::Int;
        if (distribution.kind == OptunaDistribution::Kind::Categorical) {
            item["kind"] = "categorical";
            item["choices"] = ordered_json::array();
            for (const std::string& choice : distribution.choices)
                item["choices"].push_back(ordered_json::parse(choice, nullptr, false));
        } else if (distribution.low == distribution.high) {
            item["kind"] = "fixed"; // one value: Optuna allows it, a TuneLab range does not
            item["value"] = numberValue(distribution, distribution.low);
        } else {
            item["kind"] = isInt ? "int" : "float";
            item["low"] = numberValue(distribution, distribution.low);
            item["high"] = numberValue(distribution, distribution.high);
            if (distribution.log)
                item["log"] = true;
            if (distribution.step > 0.0 && !(isInt && distribution.step == 1.0))
                item["step"] = numberValue(distribution, distribution.step);
        }
        list.push_back(item);
    }
    ordered_json root;
    root["parameters"] = list;
    return root.dump(2, ' ', false, json::error_handler_t::replace);
}

} // namespace tunelab
