#include "search/search_space.h"

#include "common/json_text.h"
#include "spec/spec.h"
#include "spec/spec_names.h"
#include "spec/spec_path.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

namespace tunelab {

using nlohmann::json;

std::optional<std::vector<PathSegment>> parsePath(const std::string& path) {
    std::vector<PathSegment> segments;
    size_t i = 0;
    const size_t n = path.size();
    while (i < n) {
        if (!(std::isalpha(static_cast<unsigned char>(path[i])) || path[i] == '_'))
            return std::nullopt;
        size_t start = i;
        while (i < n && (std::isalnum(static_cast<unsigned char>(path[i])) || path[i] == '_'))
            ++i;
        segments.push_back({path.substr(start, i - start), -1});
        while (i < n && path[i] == '[') {
            ++i;
            size_t digits = i;
            while (i < n && std::isdigit(static_cast<unsigned char>(path[i])))
                ++i;
            if (i == digits || i >= n || path[i] != ']' || i - digits > 9)
                return std::nullopt;
            segments.push_back({std::string(), std::stoll(path.substr(digits, i - digits))});
            ++i;
        }
        if (i == n)
            break;
        if (path[i] != '.' || i + 1 == n)
            return std::nullopt;
        ++i;
    }
    if (segments.empty())
        return std::nullopt;
    return segments;
}

namespace {

std::string formatExact(double value) {
    std::ostringstream out;
    out.precision(15);
    out << value;
    return out.str();
}

std::string segmentsText(const std::vector<PathSegment>& segments, size_t count) {
    std::string text;
    for (size_t i = 0; i < count; ++i) {
        if (segments[i].index >= 0) {
            text += "[" + std::to_string(segments[i].index) + "]";
        } else {
            if (!text.empty())
                text += ".";
            text += segments[i].key;
        }
    }
    return text;
}

// Sets `value` at `path` in `root`. The parent must exist; the last key of an object may be new.
// Returns an empty string on success, else what is missing.
std::string setAtPath(json& root, const std::vector<PathSegment>& segments, const json& value) {
    json* node = &root;
    for (size_t i = 0; i < segments.size(); ++i) {
        const PathSegment& segment = segments[i];
        const bool last = i + 1 == segments.size();
        if (segment.index >= 0) {
            if (!node->is_array())
                return segmentsText(segments, i) + " is not an array";
            if (segment.index >= static_cast<int64_t>(node->size()))
                return segmentsText(segments, i + 1) + " does not exist (" + segmentsText(segments, i) +
                       " has " + std::to_string(node->size()) + " elements)";
            node = &(*node)[static_cast<size_t>(segment.index)];
        } else {
            if (!node->is_object())
                return (i == 0 ? std::string("the spec") : segmentsText(segments, i)) + " is not an object";
            if (!last && !node->contains(segment.key))
                return segmentsText(segments, i + 1) + " does not exist in the base experiment";
            node = &(*node)[segment.key];
        }
    }
    *node = value;
    return std::string();
}

ParamValue canonical(const json& value) {
    return ParamValue{value.dump()};
}

bool valuesMatch(const ParamValue& a, const ParamValue& b) {
    if (a.json == b.json)
        return true;
    if (a.isNumber() && b.isNumber())
        return a.toDouble() == b.toDouble();
    return false;
}

// Samplers compute in doubles: every integer of an int parameter must be exact in one (|x| <= 2^53).
constexpr double kExactIntegers = 9007199254740992.0;
constexpr const char* kExactIntegersRule =
    "must lie within -2^53 and 2^53 (9007199254740992), where every integer is exact in the samplers' "
    "arithmetic";

const std::vector<std::string> kTopKeys = {"parameters"};
const std::vector<std::string> kParamKeys = {"path", "kind",   "low",     "high",  "log",
                                             "step", "values", "choices", "value", "when"};
const std::vector<std::string> kKindNames = {"float", "int", "categorical", "fixed"};

std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
    const std::string match = closestMatch(word, candidates);
    return match.empty() ? std::string() : "; did you mean " + match + "?";
}

bool isWholeNumber(const json& value) {
    if (value.is_number_integer())
        return true;
    if (!value.is_number_float())
        return false;
    const double number = value.get<double>();
    return std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9e15;
}

// Reads one parameter object; appends errors naming it.
SearchParameter readParameter(const json& item, int index, std::vector<std::string>& errors) {
    SearchParameter parameter;
    parameter.index = index;
    if (!item.is_object()) {
        errors.push_back("parameters[" + std::to_string(index) + "]: expected an object");
        return parameter;
    }
    if (item.contains("path") && item["path"].is_string())
        parameter.path = item["path"].get<std::string>();
    const std::string place = parameter.place();
    auto fail = [&](const std::string& message) { errors.push_back(place + ": " + message); };

    for (const auto& [key, unused] : item.items()) {
        (void)unused;
        if (std::find(kParamKeys.begin(), kParamKeys.end(), key) == kParamKeys.end())
            fail("unknown key '" + key + "'" + suggestion(key, kParamKeys));
    }
    if (!item.contains("path") || !item["path"].is_string() || parameter.path.empty()) {
        fail("needs a \"path\" string such as \"optimizer.lr\"");
        return parameter;
    }
    if (!parsePath(parameter.path))
        fail("path '" + parameter.path + "' is not of the form a.b[0].c");
    if (!item.contains("kind") || !item["kind"].is_string()) {
        fail("needs a \"kind\": float, int, categorical or fixed");
        return parameter;
    }
    const std::string kind = item["kind"].get<std::string>();
    if (kind == "float")
        parameter.kind = ParamKind::Float;
    else if (kind == "int")
        parameter.kind = ParamKind::Int;
    else if (kind == "categorical")
        parameter.kind = ParamKind::Categorical;
    else if (kind == "fixed")
        parameter.kind = ParamKind::Fixed;
    else {
        fail("unknown kind '" + kind + "'" + suggestion(kind, kKindNames) +
             " (expected float, int, categorical or fixed)");
        return parameter;
    }
    const size_t errorsBefore = errors.size();
    auto forbid = [&](const char* key, const char* why) {
        if (item.contains(key))
            fail(std::string("\"") + key + "\" " + why);
    };

    if (parameter.kind == ParamKind::Float || parameter.kind == ParamKind::Int) {
        const bool isInt = parameter.kind == ParamKind::Int;
        forbid("choices", "is for categorical parameters");
        forbid("value", "is for fixed parameters");
        if (item.contains("values")) {
            forbid("low", "cannot be combined with \"values\"");
            forbid("high", "cannot be combined with \"values\"");
            forbid("log", "cannot be combined with \"values\"");
            forbid("step", "cannot be combined with \"values\"");
            const json& values = item["values"];
            if (!values.is_array() || values.empty()) {
                fail("\"values\" must be a non-empty array of numbers");
            } else {
                for (size_t i = 0; i < values.size(); ++i) {
                    const json& value = values[i];
                    if (!value.is_number() || (isInt && !isWholeNumber(value))) {
                        fail("values[" + std::to_string(i) + "] " + value.dump() + " is not " +
                             (isInt ? "an integer" : "a number"));
                        continue;
                    }
                    // Past 2^63 the conversion to int64 below is undefined (9223372036854775807 became
                    // -2^63); past 2^53 the samplers' doubles no longer hold every integer.
                    if (isInt && std::abs(value.get<double>()) > kExactIntegers) {
                        fail("values[" + std::to_string(i) + "] " + value.dump() + ": " + kExactIntegersRule);
                        continue;
                    }
                    const ParamValue canonicalValue =
                        isInt ? canonical(json(static_cast<int64_t>(value.get<double>())))
                              : canonical(json(value.get<double>()));
                    for (const auto& seen : parameter.values) {
                        if (valuesMatch(seen, canonicalValue))
                            fail("values[" + std::to_string(i) + "] " + value.dump() + " is listed twice");
                    }
                    parameter.values.push_back(canonicalValue);
                }
            }
        } else {
            for (const char* key : {"low", "high"}) {
                if (!item.contains(key) || !item[key].is_number())
                    fail(std::string("needs a numeric \"") + key + "\" (or explicit \"values\")");
                else if (isInt && !isWholeNumber(item[key]))
                    fail(std::string("\"") + key + "\" " + item[key].dump() + " is not an integer");
            }
            if (item.contains("log") && !item["log"].is_boolean())
                fail("\"log\" must be true or false");
            if (item.contains("step") && !item["step"].is_number())
                fail("\"step\" must be a number");
            if (errors.size() == errorsBefore) {
                parameter.low = item["low"].get<double>();
                parameter.high = item["high"].get<double>();
                parameter.log = item.value("log", false);
                parameter.step = item.contains("step") ? item["step"].get<double>() : 0.0;
                const std::string low = formatExact(parameter.low), high = formatExact(parameter.high);
                // An int range's bounds must be exact doubles, and a float range's width finite.
                if (!std::isfinite(parameter.low) || !std::isfinite(parameter.high))
                    fail("low and high must be finite");
                else if (isInt && (std::abs(parameter.low) > kExactIntegers ||
                                   std::abs(parameter.high) > kExactIntegers))
                    fail(std::string("int bounds ") + kExactIntegersRule);
                else if (!parameter.log && !std::isfinite(parameter.high - parameter.low))
                    fail("the range [" + low + ", " + high +
                         "] is wider than a double can hold; narrow it or "
                         "use \"log\": true");
                else if (parameter.low > parameter.high)
                    fail("low " + low + " is above high " + high);
                else if (parameter.low == parameter.high)
                    fail("low " + low + " equals high " + high + ": the range is empty (use kind fixed)");
                if (parameter.log && parameter.low <= 0.0)
                    fail("log scale needs low > 0 (low is " + low + ")");
                if (item.contains("step")) {
                    if (!(parameter.step > 0.0))
                        fail("step must be above 0");
                    else if (isInt && !isWholeNumber(item["step"]))
                        fail("step " + item["step"].dump() + " is not an integer");
                    else if (parameter.log)
                        fail("step and log cannot be combined");
                    else if (parameter.step > parameter.high - parameter.low &&
                             parameter.high > parameter.low)
                        fail("step " + formatExact(parameter.step) + " is wider than the range [" + low +
                             ", " + high + "]");
                }
                if (isInt && parameter.step == 0.0)
                    parameter.step = 1.0;
            }
        }
    } else if (parameter.kind == ParamKind::Categorical) {
        for (const char* key : {"low", "high", "log", "step", "values", "value"})
            forbid(key, "is not used by categorical parameters (list them in \"choices\")");
        if (!item.contains("choices") || !item["choices"].is_array() || item["choices"].empty()) {
            fail("needs a non-empty \"choices\" array");
        } else {
            const json& choices = item["choices"];
            for (size_t i = 0; i < choices.size(); ++i) {
                const ParamValue value = canonical(choices[i]);
                for (const auto& seen : parameter.values) {
                    if (valuesMatch(seen, value))
                        fail("choices[" + std::to_string(i) + "] " + value.json + " is listed twice");
                }
                parameter.values.push_back(value);
            }
        }
    } else {
        for (const char* key : {"low", "high", "log", "step", "values", "choices"})
            forbid(key, "is not used by fixed parameters (give \"value\")");
        if (!item.contains("value"))
            fail("needs a \"value\"");
        else
            parameter.values.push_back(canonical(item["value"]));
    }

    if (item.contains("when")) {
        const json& when = item["when"];
        if (!when.is_object() || when.empty()) {
            fail("\"when\" must be an object such as {\"optimizer.type\": [\"sgd\"]}");
        } else {
            for (const auto& [name, accepted] : when.items()) {
                ParamCondition condition;
                condition.parameter = name;
                if (accepted.is_array()) {
                    if (accepted.empty())
                        fail("'when' lists no values for " + name);
                    for (const auto& value : accepted)
                        condition.values.push_back(canonical(value));
                } else {
                    condition.values.push_back(canonical(accepted));
                }
                parameter.when.push_back(std::move(condition));
            }
        }
    }
    return parameter;
}

// True when one path is the other or lies inside it (a.b and a.b.c, or a[0] and a[0].c).
bool pathsOverlap(const std::string& a, const std::string& b) {
    const std::string& shorter = a.size() <= b.size() ? a : b;
    const std::string& longer = a.size() <= b.size() ? b : a;
    if (longer.compare(0, shorter.size(), shorter) != 0)
        return false;
    return longer.size() == shorter.size() || longer[shorter.size()] == '.' || longer[shorter.size()] == '[';
}

} // namespace

const SearchParameter* SearchSpace::find(const std::string& path) const {
    for (const auto& parameter : m_parameters) {
        if (parameter.path == path)
            return &parameter;
    }
    return nullptr;
}

bool SearchSpace::isActive(const SearchParameter& parameter, const Assignment& assignment) const {
    for (const auto& condition : parameter.when) {
        // The condition's parameter is in the assignment only when it is itself active.
        const auto found = assignment.find(condition.parameter);
        if (found == assignment.end())
            return false;
        const bool matches =
            std::any_of(condition.values.begin(), condition.values.end(),
                        [&](const ParamValue& value) { return valuesMatch(value, found->second); });
        if (!matches)
            return false;
    }
    return true;
}

std::vector<const SearchParameter*> SearchSpace::activeParameters(const Assignment& assignment) const {
    // Walk in order, keeping only the values of active parameters, so that a stale value of an
    // inactive parameter never switches on the parameters that depend on it.
    std::vector<const SearchParameter*> active;
    Assignment applying;
    for (const auto& parameter : m_parameters) {
        if (!isActive(parameter, applying))
            continue;
        active.push_back(&parameter);
        const auto found = assignment.find(parameter.path);
        if (found != assignment.end())
            applying.insert(*found);
    }
    return active;
}

Result<SearchSpace> parseSearchSpace(std::string_view jsonText) {
    auto parsed = parseJsonText(jsonText); // comments allowed
    if (!parsed.ok())
        return Result<SearchSpace>::failure("search space: " + parsed.error());
    json root = std::move(parsed.value());
    if (!root.is_object() || !root.contains("parameters") || !root["parameters"].is_array())
        return Result<SearchSpace>::failure("search space: expected an object with a \"parameters\" array");
    std::vector<std::string> errors;
    for (const auto& [key, unused] : root.items()) {
        (void)unused;
        if (key != "parameters")
            errors.push_back("search space: unknown key '" + key + "'" + suggestion(key, kTopKeys));
    }
    const json& items = root["parameters"];
    if (items.empty())
        errors.push_back("search space: \"parameters\" is empty");

    std::vector<SearchParameter> parameters;
    for (size_t i = 0; i < items.size(); ++i)
        parameters.push_back(readParameter(items[i], static_cast<int>(i), errors));
    if (!errors.empty())
        return Result<SearchSpace>(Errors{errors});

    std::vector<std::string> paths;
    std::map<std::string, size_t> byPath;
    for (size_t i = 0; i < parameters.size(); ++i) {
        const auto& parameter = parameters[i];
        for (size_t j = 0; j < i; ++j) {
            if (parameters[j].path == parameter.path)
                errors.push_back(parameter.place() + ": duplicate of parameters[" + std::to_string(j) + "]");
            else if (pathsOverlap(parameters[j].path, parameter.path))
                errors.push_back(parameter.place() + ": overlaps parameters[" + std::to_string(j) + "] (" +
                                 parameters[j].path + ")");
        }
        byPath.emplace(parameter.path, i);
        paths.push_back(parameter.path);
    }
    for (const auto& parameter : parameters) {
        for (const auto& condition : parameter.when) {
            const auto found = byPath.find(condition.parameter);
            if (found == byPath.end()) {
                errors.push_back(parameter.place() + ": 'when' names " + condition.parameter +
                                 ", which is not a parameter" + suggestion(condition.parameter, paths));
                continue;
            }
            const SearchParameter& target = parameters[found->second];
            if (target.kind == ParamKind::Categorical || target.kind == ParamKind::Fixed ||
                target.hasExplicitValues()) {
                for (const auto& value : condition.values) {
                    const bool possible = std::any_of(
                        target.values.begin(), target.values.end(),
                        [&](const ParamValue& candidate) { return valuesMatch(candidate, value); });
                    if (!possible)
                        errors.push_back(parameter.place() + ": 'when' value " + value.json +
                                         " is not a value " + condition.parameter + " can take");
                }
            }
        }
    }
    if (!errors.empty())
        return Result<SearchSpace>(Errors{errors});

    // Topological order by depth-first search, keeping the file's order where conditions allow.
    enum class Mark { None, Visiting, Done };
    std::vector<Mark> marks(parameters.size(), Mark::None);
    std::vector<size_t> order;
    std::vector<size_t> stack;
    std::function<bool(size_t)> visit = [&](size_t i) {
        if (marks[i] == Mark::Done)
            return true;
        if (marks[i] == Mark::Visiting) {
            std::string cycle;
            auto start = std::find(stack.begin(), stack.end(), i);
            for (auto it = start; it != stack.end(); ++it)
                cycle += parameters[*it].path + " -> ";
            cycle += parameters[i].path;
            errors.push_back(parameters[i].place() + ": conditions form a cycle " + cycle);
            return false;
        }
        marks[i] = Mark::Visiting;
        stack.push_back(i);
        for (const auto& condition : parameters[i].when) {
            if (!visit(byPath.at(condition.parameter)))
                return false;
        }
        stack.pop_back();
        marks[i] = Mark::Done;
        order.push_back(i);
        return true;
    };
    for (size_t i = 0; i < parameters.size(); ++i) {
        if (!visit(i))
            return Result<SearchSpace>(Errors{errors});
    }

    SearchSpace space;
    for (size_t i : order)
        space.m_parameters.push_back(parameters[i]);
    return space;
}

Result<std::string> applyAssignment(std::string_view baseSpecJson, const Assignment& assignment) {
    json root = json::parse(baseSpecJson.begin(), baseSpecJson.end(), nullptr, false, true);
    if (root.is_discarded() || !root.is_object())
        return Result<std::string>::failure("base experiment: not a JSON object");
    std::vector<std::string> errors;
    for (const auto& [path, value] : assignment) {
        const auto segments = parsePath(path);
        if (!segments) {
            errors.push_back(path + ": not a path of the form a.b[0].c");
            continue;
        }
        const json parsed = json::parse(value.json, nullptr, false);
        if (parsed.is_discarded()) {
            errors.push_back(path + ": value " + value.json + " is not valid JSON");
            continue;
        }
        const std::string problem = setAtPath(root, *segments, parsed);
        if (!problem.empty())
            errors.push_back(path + ": " + problem);
    }
    if (!errors.empty())
        return Result<std::string>(Errors{errors});
    return root.dump(2);
}

std::vector<std::string> checkAgainstBase(const SearchSpace& space, std::string_view baseSpecJson) {
    std::vector<std::string> errors;
    const json root = json::parse(baseSpecJson.begin(), baseSpecJson.end(), nullptr, false, true);
    if (root.is_discarded() || !root.is_object())
        return {"base experiment: not a JSON object"};
    const std::string base = root.dump();
    for (const auto& parameter : space.parameters()) {
        json copy = root;
        const std::string problem =
            setAtPath(copy, *parsePath(parameter.path),
                      json::parse(parameter.values.empty() ? canonical(json(parameter.low)).json
                                                           : parameter.values.front().json));
        if (!problem.empty()) {
            errors.push_back(parameter.place() + ": " + problem);
            continue;
        }
        // The parameter as a trial would set it: with the values its conditions ask for (momentum
        // together with optimizer.type sgd), so a conditional parameter is checked where it applies.
        Assignment context;
        std::vector<const SearchParameter*> pending{&parameter};
        while (!pending.empty()) {
            const SearchParameter* current = pending.back();
            pending.pop_back();
            for (const auto& condition : current->when) {
                if (context.count(condition.parameter) || condition.values.empty())
                    continue;
                context[condition.parameter] = condition.values.front();
                if (const SearchParameter* parent = space.find(condition.parameter))
                    pending.push_back(parent);
            }
        }
        // Representatives: every choice of a categorical (each may be a different layer or type),
        // the first explicit value, else the low end of the range.
        std::vector<ParamValue> representatives;
        if (parameter.kind == ParamKind::Categorical)
            representatives = parameter.values;
        else if (!parameter.values.empty())
            representatives = {parameter.values.front()};
        else if (parameter.kind == ParamKind::Int)
            representatives = {canonical(json(static_cast<int64_t>(parameter.low)))};
        else
            representatives = {canonical(json(parameter.low))};
        for (const auto& value : representatives) {
            Assignment assignment = context;
            assignment[parameter.path] = value;
            const auto applied = trialExperimentJson(base, assignment);
            const auto parsed = applied.ok() ? parseExperimentSpec(applied.value())
                                             : Result<ExperimentSpec>(Errors{applied.errors()});
            if (!parsed.ok()) {
                errors.push_back(parameter.place() + ": the experiment rejects " + value.json + ": " +
                                 parsed.errors().front());
                break;
            }
        }
    }
    return errors;
}

const char* toString(ParamKind kind) {
    switch (kind) {
    case ParamKind::Float:
        return "float";
    case ParamKind::Int:
        return "int";
    case ParamKind::Categorical:
        return "categorical";
    case ParamKind::Fixed:
        return "fixed";
    }
    return "?";
}

} // namespace tunelab
