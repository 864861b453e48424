#pragma once

#include "common/result.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

// A search space: parameters over paths in an experiment spec (docs/search-space.md).
// Values travel as canonical JSON text so this header stays free of any JSON library.

enum class ParamKind { Float, Int, Categorical, Fixed };

// One value of a parameter as canonical JSON text: 0.01, 64, "sgd", true, {"type":"relu"}.
struct ParamValue {
    std::string json;

    bool isNumber() const;
    double toDouble() const; // 0 when the value is not a number
    int64_t toInt() const;   // rounded; 0 when the value is not a number
    bool operator==(const ParamValue& other) const { return json == other.json; }
    bool operator!=(const ParamValue& other) const { return json != other.json; }
    bool operator<(const ParamValue& other) const { return json < other.json; }
};

// Parameter path -> value, for the parameters that apply to one trial.
using Assignment = std::map<std::string, ParamValue>;

// "Applies only when `parameter` takes one of `values`".
struct ParamCondition {
    std::string parameter;
    std::vector<ParamValue> values;
};

struct SearchParameter {
    std::string path; // also the parameter's name
    ParamKind kind = ParamKind::Float;
    int index = 0; // position in the JSON "parameters" array, for messages
    double low = 0.0;
    double high = 0.0;
    bool log = false;
    double step = 0.0; // 0: continuous float / step 1 int
    // Explicit values (float, int), choices (categorical) or the single value (fixed).
    std::vector<ParamValue> values;
    std::vector<ParamCondition> when;

    bool hasExplicitValues() const { return !values.empty(); }
    // "parameters[2] (optimizer.momentum)": the prefix of every message about this parameter.
    std::string place() const;
};

class SearchSpace {
public:
    // Parameters in topological order: every parameter named in a condition comes before
    // the parameters that depend on it.
    const std::vector<SearchParameter>& parameters() const { return m_parameters; }
    const SearchParameter* find(const std::string& path) const;

    // Whether `parameter` applies given the values chosen so far. A parameter whose condition
    // names an inactive or not yet assigned parameter does not apply.
    bool isActive(const SearchParameter& parameter, const Assignment& assignment) const;
    // The parameters that apply to a complete assignment, in order.
    std::vector<const SearchParameter*> activeParameters(const Assignment& assignment) const;

private:
    friend Result<SearchSpace> parseSearchSpace(std::string_view jsonText);
    std::vector<SearchParameter> m_parameters;
};

Result<SearchSpace> parseSearchSpace(std::string_view jsonText);

// Checks each parameter's path against a base experiment spec (JSON). Errors name the parameter:
// a path whose parent does not exist, or one whose value the experiment spec rejects.
std::vector<std::string> checkAgainstBase(const SearchSpace& space, std::string_view baseSpecJson);

// The base spec JSON with every assigned path set to its value.
Result<std::string> applyAssignment(std::string_view baseSpecJson, const Assignment& assignment);
// The complete experiment of one trial, as the study runner trains it, the window shows it and
// `tunelab-cli study best` prints it: the base with the trial's parameters applied. Where a trial
// switches an object's "type" (optimizer.type adam -> sgd; the schedule, the loss, a layer), the
// object keeps the keys the new type accepts (keysForType: the optimizer catalog for optimizers)
// and any key the trial sets itself; the others (betas, eps) are dropped.
Result<std::string> trialExperimentJson(const std::string& baseExperimentJson, const Assignment& params);

const char* toString(ParamKind kind);

// A starting point for searching the field at `path` whose value in the experiment is
// `currentValueJson`: a range around the value that suits the field (a log range for the learning
// rate, batch sizes and layer widths, odd kernel sizes, every optimizer type, every activation for
// an activation layer). The result has index 0 and no condition.
SearchParameter suggestedParameter(const std::string& path, const std::string& currentValueJson);

// The space in the format parseSearchSpace reads, one parameter per line, in the given order.
// Values are written as they are, so a parameter the parser would reject (low above high, a
// condition on a missing parameter) comes back with the parser's message for its place.
std::string searchSpaceToJson(const std::vector<SearchParameter>& parameters);

// The space's parameters in file order (by `index`) rather than topological order, for editing.
std::vector<SearchParameter> editableParameters(const SearchSpace& space);

// The JSON text of the value at `path` in `specJson`; empty when the path does not exist.
std::string valueAtPath(std::string_view specJson, const std::string& path);

} // namespace tunelab
