#include "study/study.h"

#include "common/json_file_util.h"
#include "common/json_text.h"
#include "common/machine_limits.h"
#include "common/names.h"
#include "spec/number_rules.h"
#include "spec/spec.h"
#include "spec/spec_names.h"
#include "study/population.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

namespace tunelab {

using nlohmann::json;
using namespace json_file;

namespace {

const std::vector<std::string> kMetrics = {"val_loss",   "val_accuracy",  "val_mae", "train_loss",
                                           "parameters", "train_seconds", "value"};
// At most this many objectives: the exact hypervolume grows quickly with their number.
constexpr size_t kMaxObjectives = 4;
// Samplers that model one objective; a study with several needs one of the others.
const std::vector<std::string> kSingleObjectiveSamplers = {"auto", "tpe", "tpe-independent", "gp", "rf"};

// An integer key under `rule`; false when it is absent or refused (the refusal in `errors`).
bool readInt(const json& object, const std::string& key, const std::string& where, const NumberRule& rule,
             int64_t& out, std::vector<std::string>& errors) {
    const auto it = object.find(key);
    if (it == object.end())
        return false;
    const bool fits =
        it->is_number_integer() && (!it->is_number_unsigned() || it->get<uint64_t>() <= uint64_t(INT64_MAX));
    if (!fits || !rule.acceptsInteger(it->get<int64_t>())) {
        const double value = it->is_number() ? it->get<double>() : 0.0;
        errors.push_back(where + "." + key + ": expected " + rule.expectedFor(value) + ", got " +
                         describe(*it));
        return false;
    }
    out = it->get<int64_t>();
    return true;
}

bool readNumber(const json& object, const std::string& key, const std::string& where, const NumberRule& rule,
                double& out, std::vector<std::string>& errors) {
    const auto it = object.find(key);
    if (it == object.end())
        return false;
    if (!it->is_number() || !rule.accepts(it->get<double>())) {
        errors.push_back(where + "." + key + ": expected " + rule.expected + ", got " + describe(*it));
        return false;
    }
    out = it->get<double>();
    return true;
}

void readHeartbeat(const json& value, HeartbeatSettings& heartbeat, std::vector<std::string>& errors) {
    if (!value.is_object()) {
        errors.push_back(
            "heartbeat: expected an object such as {\"grace_seconds\": 60, \"max_retries\": 2}, got " +
            describe(value));
        return;
    }
    const StudyNumberRules& rules = studyNumberRules();
    rejectUnknownKeys(value, "heartbeat", {"grace_seconds", "max_retries", "ask_grace_seconds"}, errors);
    readNumber(value, "grace_seconds", "heartbeat", rules.heartbeatGraceSeconds, heartbeat.graceSeconds,
               errors);
    int64_t retries = heartbeat.maxRetries;
    if (readInt(value, "max_retries", "heartbeat", rules.heartbeatMaxRetries, retries, errors))
        heartbeat.maxRetries = static_cast<int>(retries);
    readNumber(value, "ask_grace_seconds", "heartbeat", rules.askGraceSeconds, heartbeat.askGraceSeconds,
               errors);
}

void readSampler(const json& value, SamplerSettings& sampler, std::vector<std::string>& errors) {
    if (value.is_string()) {
        sampler.type = value.get<std::string>();
    } else if (value.is_object()) {
        rejectUnknownKeys(value, "sampler", {"type", "seed", "startup_trials"}, errors);
        if (value.contains("type")) {
            if (value["type"].is_string())
                sampler.type = value["type"].get<std::string>();
            else
                errors.push_back("sampler.type: expected a sampler name, got " + describe(value["type"]));
        }
        int64_t number = 0;
        const StudyNumberRules& rules = studyNumberRules();
        if (readInt(value, "seed", "sampler", rules.samplerSeed, number, errors))
            sampler.seed = static_cast<uint64_t>(number);
        if (readInt(value, "startup_trials", "sampler", rules.samplerStartupTrials, number, errors))
            sampler.startupTrials = static_cast<int>(number);
    } else {
        errors.push_back("sampler: expected a sampler name or an object, got " + describe(value));
        return;
    }
    bool known = false;
    for (const auto& name : samplerNames())
        known = known || name == sampler.type;
    if (!known) {
        std::string message = "sampler.type: unknown sampler '" + sampler.type + "'";
        const std::string suggestion = closestMatch(sampler.type, samplerNames());
        message += suggestion.empty() ? "" : "; did you mean " + suggestion + "?";
        errors.push_back(message);
    }
}

// Reads the pruner; `given` receives the setting keys the file sets (the others follow the study's
// scale: scaledPrunerDefaults).
void readPruner(const json& value, PrunerSettings& pruner, std::set<std::string>& given,
                std::vector<std::string>& errors) {
    if (value.is_string()) {
        pruner.type = value.get<std::string>();
    } else if (value.is_object()) {
        rejectUnknownKeys(value, "pruner",
                          {"type", "min_epochs", "reduction_factor", "startup_trials", "warmup_epochs"},
                          errors);
        if (value.contains("type")) {
            if (value["type"].is_string())
                pruner.type = value["type"].get<std::string>();
            else
                errors.push_back("pruner.type: expected a pruner name, got " + describe(value["type"]));
        }
        int64_t number = 0;
        for (const char* key : {"min_epochs", "reduction_factor", "startup_trials", "warmup_epochs"})
            if (value.contains(key))
                given.insert(key);
        const StudyNumberRules& rules = studyNumberRules();
        if (readInt(value, "min_epochs", "pruner", rules.prunerMinEpochs, number, errors))
            pruner.minEpochs = static_cast<int>(number);
        if (readInt(value, "reduction_factor", "pruner", rules.prunerReductionFactor, number, errors))
            pruner.reductionFactor = static_cast<int>(number);
        if (readInt(value, "startup_trials", "pruner", rules.prunerStartupTrials, number, errors))
            pruner.startupTrials = static_cast<int>(number);
        if (readInt(value, "warmup_epochs", "pruner", rules.prunerWarmupEpochs, number, errors))
            pruner.warmupEpochs = static_cast<int>(number);
    } else {
        errors.push_back("pruner: expected a pruner name or an object, got " + describe(value));
        return;
    }
    bool known = false;
    for (const auto& name : prunerNames())
        known = known || name == pruner.type;
    if (!known) {
        std::string message = "pruner.type: unknown pruner '" + pruner.type + "'";
        const std::string suggestion = closestMatch(pruner.type, prunerNames());
        message += suggestion.empty() ? "" : "; did you mean " + suggestion + "?";
        errors.push_back(message);
    }
}

// Reads one objective; `where` is its JSON path ("objective" or "objectives[1]"). Names and reference
// points belong to studies with several objectives (`several`).
void readObjective(const json& value, const std::string& where, bool several, ObjectiveSpec& objective,
                   std::vector<std::string>& errors) {
    if (!value.is_object()) {
        errors.push_back(where + ": expected an object such as {\"metric\": \"val_loss\"}, got " +
                         describe(value));
        return;
    }
    if (several)
        rejectUnknownKeys(value, where,
                          {"metric", "at", "direction", "name", "reference", "at_most", "at_least"}, errors);
    else
        rejectUnknownKeys(value, where, {"metric", "at", "direction"}, errors);
    if (value.contains("name")) {
        if (value["name"].is_string() && !value["name"].get<std::string>().empty())
            objective.name = value["name"].get<std::string>();
        else
            errors.push_back(where + ".name: expected a non-empty string, got " + describe(value["name"]));
    }
    for (const auto& [key, target] : {std::pair<const char*, double*>{"reference", &objective.reference},
                                      {"at_most", &objective.atMost},
                                      {"at_least", &objective.atLeast}}) {
        if (!value.contains(key))
            continue;
        const json& number = value[key];
        if (number.is_number() && std::isfinite(number.get<double>()))
            *target = number.get<double>();
        else
            errors.push_back(where + "." + key + ": expected a finite number, got " + describe(number));
    }
    if (objective.atMost < objective.atLeast) // false when either is NaN
        errors.push_back(where + ": at_most (" + value["at_most"].dump() + ") is below at_least (" +
                         value["at_least"].dump() + "); no trial could keep to both");
    if (value.contains("metric")) {
        const json& metric = value["metric"];
        if (!metric.is_string() || !isKnownMetric(metric.get<std::string>())) {
            std::string message = where + ".metric: unknown metric " + describe(metric) +
                                  " (known: val_loss, val_accuracy, val_mae, train_loss, parameters, "
                                  "train_seconds, value)";
            if (metric.is_string()) {
                const std::string suggestion = closestMatch(metric.get<std::string>(), kMetrics);
                message += suggestion.empty() ? "" : "; did you mean " + suggestion + "?";
            }
            errors.push_back(message);
        } else {
            objective.metric = metric.get<std::string>();
        }
    }
    // Accuracy is maximized unless the file says otherwise; everything else is minimized.
    objective.direction =
        objective.metric == "val_accuracy" ? ObjectiveDirection::Maximize : ObjectiveDirection::Minimize;
    if (value.contains("direction")) {
        const json& direction = value["direction"];
        if (direction == "minimize")
            objective.direction = ObjectiveDirection::Minimize;
        else if (direction == "maximize")
            objective.direction = ObjectiveDirection::Maximize;
        else
            errors.push_back(where + ".direction: expected \"minimize\" or \"maximize\", got " +
                             describe(direction));
    }
    if (value.contains("at")) {
        const json& at = value["at"];
        if (at == "best")
            objective.at = ObjectiveAt::Best;
        else if (at == "last")
            objective.at = ObjectiveAt::Last;
        else
            errors.push_back(where + ".at: expected \"best\" or \"last\", got " + describe(at));
    }
}

// Reads "objective" (one) or "objectives" (a list), with the metric each may use: a study without an
// experiment is scored by what its trials report ("value"), one with an experiment by what it records.
void readObjectives(const json& root, StudySpec& spec, std::vector<std::string>& errors) {
    const bool withExperiment = !spec.experimentJson.empty();
    const std::string defaultMetric = withExperiment ? "val_loss" : "value";
    if (root.contains("objective") && root.contains("objectives")) {
        errors.push_back("objectives: give either \"objective\" or \"objectives\", not both");
        return;
    }
    std::vector<std::pair<std::string, ObjectiveSpec>> read; // (JSON path, objective)
    if (root.contains("objectives")) {
        const json& list = root["objectives"];
        if (!list.is_array() || list.empty() || list.size() > kMaxObjectives) {
            errors.push_back("objectives: expected a list of 1 to " + std::to_string(kMaxObjectives) +
                             " objectives, got " + describe(list));
            return;
        }
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string where = "objectives[" + std::to_string(i) + "]";
            ObjectiveSpec objective;
            objective.metric = defaultMetric;
            readObjective(list[i], where, true, objective, errors);
            if (objective.name.empty() && objective.metric == "value" && list.size() > 1)
                objective.name = "value " + std::to_string(i + 1); // distinct columns and axes
            read.emplace_back(where, objective);
        }
    } else {
        ObjectiveSpec objective;
        objective.metric = defaultMetric;
        if (root.contains("objective"))
            readObjective(root["objective"], "objective", false, objective, errors);
        read.emplace_back("objective", objective);
    }
    for (size_t i = 0; i < read.size(); ++i) {
        const auto& [where, objective] = read[i];
        if (!withExperiment && objective.metric != "value")
            errors.push_back(where +
                             ".metric: a study without an experiment is scored by \"value\" (what `tell` "
                             "or the command reports), not " +
                             objective.metric);
        if (withExperiment && objective.metric == "value")
            errors.push_back(where + ".metric: \"value\" is for studies without an experiment; use val_loss, "
                                     "val_accuracy, val_mae, train_loss, parameters or train_seconds");
        for (size_t j = 0; j < i; ++j)
            if (objectiveLabel(read[j].second) == objectiveLabel(objective))
                errors.push_back(where + ": the same as " + read[j].first + " (\"" +
                                 objectiveLabel(objective) +
                                 "\"); give each objective its own metric or name");
    }
    if (read.size() == 1) {
        const ObjectiveSpec& only = read.front().second;
        if (std::isfinite(only.atMost) || std::isfinite(only.atLeast))
            errors.push_back(
                read.front().first +
                ": at_most and at_least bound one objective among several; a study of one objective "
                "has no Pareto front to keep feasible");
    }
    spec.objective = read.front().second;
    spec.moreObjectives.clear();
    for (size_t i = 1; i < read.size(); ++i)
        spec.moreObjectives.push_back(read[i].second);
}

} // namespace

bool isKnownMetric(const std::string& metric) {
    for (const auto& name : kMetrics)
        if (name == metric)
            return true;
    return false;
}

double epochMetric(const EpochRecord& epoch, const std::string& metric) {
    if (metric == "val_loss")
        return epoch.valLoss;
    if (metric == "val_accuracy")
        return epoch.valAccuracy;
    if (metric == "val_mae")
        return epoch.valMae;
    if (metric == "train_loss")
        return epoch.trainLoss;
    return kNoValue;
}

double objectiveOverEpochs(const std::map<int, double>& values, const ObjectiveSpec& objective) {
    double chosen = kNoValue;
    for (const auto& [epoch, value] : values) {
        if (std::isnan(value))
            continue;
        if (objective.at == ObjectiveAt::Last || std::isnan(chosen) || isBetter(objective, value, chosen))
            chosen = value;
    }
    return chosen;
}

int studyEpochs(const StudySpec& spec) {
    if (spec.experimentJson.empty())
        return 0;
    const auto experiment = parseExperimentSpec(spec.experimentJson);
    return experiment.ok() ? std::max(1, experiment.value().training.epochs) : 0;
}

bool isBetter(const ObjectiveSpec& objective, double a, double b) {
    if (std::isnan(a))
        return false;
    if (std::isnan(b))
        return true;
    return objective.direction == ObjectiveDirection::Maximize ? a > b : a < b;
}

std::string objectiveLabel(const ObjectiveSpec& objective) {
    return objective.name.empty() ? objective.metric : objective.name;
}

std::vector<ObjectiveSpec> studyObjectives(const StudySpec& spec) {
    std::vector<ObjectiveSpec> objectives{spec.objective};
    objectives.insert(objectives.end(), spec.moreObjectives.begin(), spec.moreObjectives.end());
    return objectives;
}

std::vector<double> trialValues(const TrialRecord& trial) {
    std::vector<double> values{trial.value};
    values.insert(values.end(), trial.moreValues.begin(), trial.moreValues.end());
    return values;
}

double boundsViolation(const std::vector<ObjectiveSpec>& objectives, const std::vector<double>& values) {
    double violation = 0.0;
    for (size_t i = 0; i < objectives.size(); ++i) {
        const ObjectiveSpec& objective = objectives[i];
        const bool bounded = std::isfinite(objective.atMost) || std::isfinite(objective.atLeast);
        if (!bounded)
            continue;
        const double value = i < values.size() ? values[i] : kNoValue;
        if (!std::isfinite(value))
            return std::numeric_limits<double>::infinity();
        if (std::isfinite(objective.atMost) && value > objective.atMost)
            violation += (value - objective.atMost) / std::max(1.0, std::abs(objective.atMost));
        if (std::isfinite(objective.atLeast) && value < objective.atLeast)
            violation += (objective.atLeast - value) / std::max(1.0, std::abs(objective.atLeast));
    }
    return violation;
}

const char* toString(ObjectiveDirection direction) {
    return direction == ObjectiveDirection::Maximize ? "maximize" : "minimize";
}

const char* toString(ObjectiveAt at) {
    return at == ObjectiveAt::Last ? "last" : "best";
}

Result<StudySpec> parseStudySpec(std::string_view jsonText, const std::string& baseDirectory) {
    auto parsed = parseJsonText(jsonText);
    if (!parsed.ok())
        return Result<StudySpec>(Errors{parsed.errors()});
    json root = std::move(parsed.value());
    if (!root.is_object())
        return Result<StudySpec>::failure("the study must be a JSON object, got " + describe(root));

    std::vector<std::string> errors;
    rejectUnknownKeys(root, "",
                      {"name", "experiment", "space", "sampler", "pruner", "objective", "objectives",
                       "budget", "parallel", "population", "heartbeat"},
                      errors);
    StudySpec spec;
    if (root.contains("name")) {
        if (root["name"].is_string() && !root["name"].get<std::string>().empty())
            spec.name = root["name"].get<std::string>();
        else
            errors.push_back("name: expected a non-empty string, got " + describe(root["name"]));
        if (const std::string problem = nameProblem(spec.name); !problem.empty())
            errors.push_back("name: " + problem);
    }
    std::string directory;
    if (root.contains("experiment") &&
        readInlineOrFile(root, "experiment", baseDirectory, spec.experimentJson, directory, errors)) {
        const auto experiment = parseExperimentSpec(spec.experimentJson, directory);
        if (!experiment.ok()) {
            for (const auto& message : experiment.errors())
                errors.push_back("experiment: " + message);
        } else {
            spec.experimentJson = withAbsoluteDataPath(spec.experimentJson, directory);
        }
    }
    if (!root.contains("space")) {
        errors.push_back("space: missing; give the search space as an object or a file path");
    } else if (readInlineOrFile(root, "space", baseDirectory, spec.spaceJson, directory, errors)) {
        const auto space = parseSearchSpace(spec.spaceJson);
        if (!space.ok()) {
            for (const auto& message : space.errors())
                errors.push_back("space: " + message);
        } else if (!spec.experimentJson.empty()) {
            for (const auto& message : checkAgainstBase(space.value(), spec.experimentJson))
                errors.push_back("space: " + message);
        }
    }
    if (root.contains("sampler"))
        readSampler(root["sampler"], spec.sampler, errors);
    std::set<std::string> prunerKeys;
    if (root.contains("pruner"))
        readPruner(root["pruner"], spec.pruner, prunerKeys, errors);
    readObjectives(root, spec, errors);
    if (root.contains("pruner") && isMultiObjective(spec) && spec.pruner.type != "none")
        errors.push_back("pruner: a study with several objectives cannot prune (a pruner compares trials by "
                         "one objective); set \"pruner\": \"none\"");
    if (isMultiObjective(spec)) {
        if (!root.contains("sampler"))
            spec.sampler.type = "motpe";
        else if (std::count(kSingleObjectiveSamplers.begin(), kSingleObjectiveSamplers.end(),
                            spec.sampler.type))
            errors.push_back("sampler.type: " + spec.sampler.type +
                             " models one objective; a study with several objectives uses motpe, nsga2, "
                             "random, sobol or grid");
    }
    if (root.contains("budget")) {
        const json& budget = root["budget"];
        if (!budget.is_object()) {
            errors.push_back("budget: expected an object such as {\"trials\": 50, \"seconds\": 600}, got " +
                             describe(budget));
        } else {
            rejectUnknownKeys(budget, "budget", {"trials", "seconds"}, errors);
            readInt(budget, "trials", "budget", studyNumberRules().budgetTrials, spec.budget.trials, errors);
            readNumber(budget, "seconds", "budget", studyNumberRules().budgetSeconds, spec.budget.seconds,
                       errors);
            if (spec.budget.trials == 0 && spec.budget.seconds == 0.0)
                errors.push_back("budget: set trials or seconds (both are 0, the study would never end)");
        }
    }
    if (root.contains("parallel")) {
        int64_t parallel = 1;
        if (readInt(root, "parallel", "", studyNumberRules().parallel, parallel, errors)) {
            if (std::string problem = parallelProblem(parallel, true); !problem.empty())
                errors.push_back(std::move(problem));
            else
                spec.parallel = static_cast<int>(parallel);
        }
        if (!errors.empty() && errors.back().rfind(".parallel", 0) == 0)
            errors.back() = errors.back().substr(1);
    }
    if (root.contains("heartbeat"))
        readHeartbeat(root["heartbeat"], spec.heartbeat, errors);
    if (root.contains("population")) {
        readPopulationSettings(root["population"].dump(), spec.population, errors);
        if (!root.contains("sampler"))
            spec.sampler.type = "random"; // a model of 8 random starting points would be a guess
        if (errors.empty()) {
            const auto space = parseSearchSpace(spec.spaceJson);
            for (auto& problem : populationStudyProblems(spec, space.value()))
                errors.push_back(std::move(problem));
            const bool trialsGiven =
                root.contains("budget") && root["budget"].is_object() && root["budget"].contains("trials");
            if (!trialsGiven)
                spec.budget.trials = static_cast<int64_t>(spec.population.size) * populationStretches(spec);
        }
    }
    if (!errors.empty())
        return Result<StudySpec>(Errors{errors});
    const PrunerSettings scaled =
        scaledPrunerDefaults(spec.pruner.type, studyEpochs(spec), spec.budget.trials);
    if (!prunerKeys.count("min_epochs"))
        spec.pruner.minEpochs = scaled.minEpochs;
    if (!prunerKeys.count("reduction_factor"))
        spec.pruner.reductionFactor = scaled.reductionFactor;
    if (!prunerKeys.count("startup_trials"))
        spec.pruner.startupTrials = scaled.startupTrials;
    if (!prunerKeys.count("warmup_epochs"))
        spec.pruner.warmupEpochs = scaled.warmupEpochs;
    return spec;
}

Result<StudySpec> loadStudySpec(const std::string& path) {
    return json_file::loadFile<StudySpec>(
        path, [](std::string_view text, const std::string& folder) { return parseStudySpec(text, folder); });
}

std::string studySpecToJson(const StudySpec& spec) {
    json root = json::object();
    if (!spec.name.empty())
        root["name"] = spec.name;
    if (!spec.experimentJson.empty())
        root["experiment"] = json::parse(spec.experimentJson, nullptr, false, true);
    root["space"] = json::parse(spec.spaceJson, nullptr, false, true);
    root["sampler"] = {{"type", spec.sampler.type},
                       {"seed", spec.sampler.seed},
                       {"startup_trials", spec.sampler.startupTrials}};
    json pruner = {{"type", spec.pruner.type}};
    if (spec.pruner.type != "none") {
        pruner["min_epochs"] = spec.pruner.minEpochs;
        pruner["reduction_factor"] = spec.pruner.reductionFactor;
        pruner["startup_trials"] = spec.pruner.startupTrials;
        pruner["warmup_epochs"] = spec.pruner.warmupEpochs;
    }
    root["pruner"] = pruner;
    const auto objectiveJson = [](const ObjectiveSpec& objective) {
        json object = {{"metric", objective.metric},
                       {"at", toString(objective.at)},
                       {"direction", toString(objective.direction)}};
        if (!objective.name.empty())
            object["name"] = objective.name;
        if (std::isfinite(objective.reference))
            object["reference"] = objective.reference;
        if (std::isfinite(objective.atMost))
            object["at_most"] = objective.atMost;
        if (std::isfinite(objective.atLeast))
            object["at_least"] = objective.atLeast;
        return object;
    };
    if (isMultiObjective(spec)) {
        json objectives = json::array();
        for (const ObjectiveSpec& objective : studyObjectives(spec))
            objectives.push_back(objectiveJson(objective));
        root["objectives"] = objectives;
    } else {
        root["objective"] = objectiveJson(spec.objective);
    }
    root["budget"] = {{"trials", spec.budget.trials}, {"seconds", spec.budget.seconds}};
    root["parallel"] = spec.parallel;
    if (isPopulationStudy(spec))
        root["population"] = json::parse(populationSettingsJson(spec.population));
    const HeartbeatSettings defaults;
    if (spec.heartbeat.graceSeconds != defaults.graceSeconds ||
        spec.heartbeat.maxRetries != defaults.maxRetries ||
        spec.heartbeat.askGraceSeconds != defaults.askGraceSeconds)
        root["heartbeat"] = {{"grace_seconds", spec.heartbeat.graceSeconds},
                             {"max_retries", spec.heartbeat.maxRetries},
                             {"ask_grace_seconds", spec.heartbeat.askGraceSeconds}};
    return root.dump(2);
}

} // namespace tunelab
