// Search spaces as the workbench builds them: a suggested range for a field, the space as JSON,
// and the current value at a spec path.

#include "search/search_space.h"

#include "spec/optimizer_catalog.h"
#include "spec/spec.h"
#include "spec/spec_names.h"
#include "spec/spec_path.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>

namespace tunelab {

using nlohmann::json;

namespace {

SearchParameter rangeParameter(const std::string& path, ParamKind kind, double low, double high, bool log) {
    SearchParameter parameter;
    parameter.path = path;
    parameter.kind = kind;
    parameter.low = low;
    parameter.high = high;
    parameter.log = log;
    parameter.step = kind == ParamKind::Int ? 1.0 : 0.0;
    return parameter;
}

SearchParameter choiceParameter(const std::string& path, const std::vector<json>& choices) {
    SearchParameter parameter;
    parameter.path = path;
    parameter.kind = ParamKind::Categorical;
    for (const json& choice : choices)
        parameter.values.push_back(ParamValue{choice.dump()});
    return parameter;
}

// [max(1, w / divisor), w * divisor] on a log scale: widths, batch sizes.
SearchParameter logIntAround(const std::string& path, double value, double divisor) {
    const double centre = std::max(1.0, std::round(value));
    const double low = std::max(1.0, std::floor(centre / divisor));
    return rangeParameter(path, ParamKind::Int, low, std::max(low + 1.0, centre * divisor), true);
}

} // namespace

SearchParameter suggestedParameter(const std::string& path, const std::string& currentValueJson) {
    const json current = json::parse(currentValueJson, nullptr, false);
    const auto segments = parsePath(path);
    const std::string key = segments && segments->back().index < 0 ? segments->back().key : std::string();
    const bool isNumber = !current.is_discarded() && current.is_number();
    const double number = isNumber ? current.get<double>() : 0.0;

    if (path == "optimizer.type" || path == "schedule.type") {
        std::vector<json> choices;
        const auto names =
            path == "optimizer.type" ? enumNameList(optimizerTypeNames()) : enumNameList(scheduleTypeNames());
        for (const auto& name : names)
            choices.emplace_back(name);
        return choiceParameter(path, choices);
    }
    if (!current.is_discarded() && current.is_object() && current.contains("type") &&
        current["type"].is_string()) {
        const auto type = enumFromName(layerTypeNames(), current["type"].get<std::string>());
        if (type && isActivation(*type)) {
            // Every activation, with the current layer (and any settings it has) in its own place.
            std::vector<json> choices;
            for (const auto& [candidate, name] : layerTypeNames()) {
                if (!isActivation(candidate))
                    continue;
                choices.push_back(candidate == *type ? current : json{{"type", name}});
            }
            return choiceParameter(path, choices);
        }
    }
    if (isNumber && segments && segments->size() >= 2 && segments->front().key == "optimizer") {
        // optimizer.momentum, optimizer.betas[1]: the catalog's starting range for the key.
        const auto& steps = *segments;
        const bool element = steps.size() == 3 && steps[2].index >= 0 && steps[2].index < 2;
        const OptimizerKey* optimizerKey =
            steps.size() == 2 || element ? findOptimizerKey(steps[1].key) : nullptr;
        if (optimizerKey && (optimizerKey->kind == OptimizerKeyKind::Pair) == element &&
            optimizerKey->kind != OptimizerKeyKind::Bool) {
            const SearchHint& hint = optimizerKey->search;
            if (!hint.relative)
                return rangeParameter(path, ParamKind::Float, hint.low, hint.high, hint.log);
            // Around the current value, within the key's range: the learning rate.
            const double centre = number > 0.0 ? number : 1e-3;
            const double high = std::min(centre * hint.high, hint.limit);
            const double low = centre * hint.low < high ? centre * hint.low : high * hint.low;
            return rangeParameter(path, ParamKind::Float, low, high, hint.log);
        }
    }
    if (isNumber) {
        if (key == "momentum") // batch norm's running statistics
            return rangeParameter(path, ParamKind::Float, 0.0, 0.99, false);
        if (key == "p")
            return rangeParameter(path, ParamKind::Float, 0.0, 0.5, false);
        if (key == "batch_size")
            return logIntAround(path, number, 4.0);
        if (key == "epochs") {
            const double epochs = std::max(1.0, std::round(number));
            const double low = std::max(1.0, std::floor(epochs / 2.0));
            return rangeParameter(path, ParamKind::Int, low, std::max(low + 1.0, epochs * 2.0), false);
        }
        if (key == "out_features" || key == "out_channels" || key == "hidden_size" || key == "hidden")
            return logIntAround(path, number, 4.0);
        if (key == "kernel_size") {
            std::vector<int64_t> sizes = {1, 3, 5, 7};
            const auto size = static_cast<int64_t>(std::llround(number));
            if (std::find(sizes.begin(), sizes.end(), size) == sizes.end() && size > 0) {
                sizes.push_back(size);
                std::sort(sizes.begin(), sizes.end());
            }
            return choiceParameter(path, std::vector<json>(sizes.begin(), sizes.end()));
        }
        if (current.is_number_integer()) {
            const auto value = current.get<int64_t>();
            if (value == 0)
                return rangeParameter(path, ParamKind::Int, 0.0, 1.0, false);
            const double a = std::floor(static_cast<double>(value) / 2.0);
            const double b = static_cast<double>(value) * 2.0;
            return rangeParameter(path, ParamKind::Int, std::min(a, b), std::max(a, b), false);
        }
        if (number == 0.0)
            return rangeParameter(path, ParamKind::Float, 0.0, 1.0, false);
        return rangeParameter(path, ParamKind::Float, std::min(number / 2.0, number * 2.0),
                              std::max(number / 2.0, number * 2.0), false);
    }
    if (!current.is_discarded() && current.is_boolean())
        return choiceParameter(path, {json(true), json(false)});
    if (current.is_discarded() || current.is_null())
        return rangeParameter(path, ParamKind::Float, 0.0, 1.0, false);
    return choiceParameter(path, {current});
}

std::string searchSpaceToJson(const std::vector<SearchParameter>& parameters) {
    using ordered = nlohmann::ordered_json;
    // A value as JSON; text that is not JSON is kept as a string so that nothing typed is lost.
    auto value = [](const ParamValue& v) {
        const ordered parsed = ordered::parse(v.json, nullptr, false);
        return parsed.is_discarded() ? ordered(v.json) : parsed;
    };
    // Whole numbers as integers for int parameters; anything else as written, for the parser to judge.
    auto bound = [](double number, bool integer) {
        if (integer && std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9e15)
            return ordered(static_cast<int64_t>(number));
        return ordered(number);
    };
    std::string text = "{\n  \"parameters\": [";
    for (size_t i = 0; i < parameters.size(); ++i) {
        const SearchParameter& parameter = parameters[i];
        const bool isInt = parameter.kind == ParamKind::Int;
        ordered item;
        item["path"] = parameter.path;
        item["kind"] = toString(parameter.kind);
        switch (parameter.kind) {
        case ParamKind::Float:
        case ParamKind::Int:
            if (parameter.hasExplicitValues()) {
                ordered values = ordered::array();
                for (const auto& v : parameter.values)
                    values.push_back(value(v));
                item["values"] = values;
            } else {
                item["low"] = bound(parameter.low, isInt);
                item["high"] = bound(parameter.high, isInt);
                if (parameter.log)
                    item["log"] = true;
                if (parameter.step != (isInt ? 1.0 : 0.0))
                    item["step"] = bound(parameter.step, isInt);
            }
            break;
        case ParamKind::Categorical: {
            ordered choices = ordered::array();
            for (const auto& v : parameter.values)
                choices.push_back(value(v));
            item["choices"] = choices;
            break;
        }
        case ParamKind::Fixed:
            item["value"] = parameter.values.empty() ? ordered() : value(parameter.values.front());
            break;
        }
        if (!parameter.when.empty()) {
            ordered when = ordered::object();
            for (const auto& condition : parameter.when) {
                ordered accepted = ordered::array();
                for (const auto& v : condition.values)
                    accepted.push_back(value(v));
                when[condition.parameter] = accepted;
            }
            item["when"] = when;
        }
        text += (i == 0 ? "\n    " : ",\n    ") + item.dump();
    }
    text += parameters.empty() ? "]\n}\n" : "\n  ]\n}\n";
    return text;
}

std::vector<SearchParameter> editableParameters(const SearchSpace& space) {
    std::vector<SearchParameter> parameters = space.parameters();
    std::stable_sort(parameters.begin(), parameters.end(),
                     [](const SearchParameter& a, const SearchParameter& b) { return a.index < b.index; });
    return parameters;
}

std::string valueAtPath(std::string_view specJson, const std::string& path) {
    const json root = json::parse(specJson.begin(), specJson.end(), nullptr, false, true);
    const auto segments = parsePath(path);
    if (root.is_discarded() || !segments)
        return std::string();
    const json* node = &root;
    for (const PathSegment& segment : *segments) {
        if (segment.index >= 0) {
            if (!node->is_array() || segment.index >= static_cast<int64_t>(node->size()))
                return std::string();
            node = &(*node)[static_cast<size_t>(segment.index)];
        } else {
            if (!node->is_object() || !node->contains(segment.key))
                return std::string();
            node = &(*node)[segment.key];
        }
    }
    return node->dump();
}

} // namespace tunelab
