#include "study/study.h"

#include "common/json_file_util.h"
#include "common/json_text.h"
#include "common/machine_limits.h"
#include "common/names.h"
#include "spec/number_rules.h"
#include "spec/spec.h"
#include "spec/spec_names.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>

namespace tunelab {

using nlohmann::json;
using namespace json_file;

namespace {

const std::vector<std::string> kMetrics = {"val_loss", "val_accuracy", "val_mae", "train_loss", "value"};

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

void readObjective(const json& value, ObjectiveSpec& objective, std::vector<std::string>& errors) {
    if (!value.is_object()) {
        errors.push_back("objective: expected an object such as {\"metric\": \"val_loss\"}, got " +
                         describe(value));
        return;
    }
    rejectUnknownKeys(value, "objective", {"metric", "at", "direction"}, errors);
    if (value.contains("metric")) {
        const json& metric = value["metric"];
        if (!metric.is_string() || !isKnownMetric(metric.get<std::string>())) {
            std::string message = "objective.metric: unknown metric " + describe(metric) +
                                  " (known: val_loss, val_accuracy, val_mae, train_loss, value)";
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
            errors.push_back("objective.direction: expected \"minimize\" or \"maximize\", got " +
                             describe(direction));
    }
    if (value.contains("at")) {
        const json& at = value["at"];
        if (at == "best")
            objective.at = ObjectiveAt::Best;
        else if (at == "last")
            objective.at = ObjectiveAt::Last;
        else
            errors.push_back("objective.at: expected \"best\" or \"last\", got " + describe(at));
    }
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
                      {"name", "experiment", "space", "sampler", "pruner", "objective", "budget", "parallel"},
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
    spec.objective.metric = spec.experimentJson.empty() ? "value" : "val_loss";
    if (root.contains("objective"))
        readObjective(root["objective"], spec.objective, errors);
    if (spec.experimentJson.empty() && spec.objective.metric != "value")
        errors.push_back(
            "objective.metric: a study without an experiment is scored by \"value\" (what `tell` "
            "or the command reports), not " +
            spec.objective.metric);
    if (!spec.experimentJson.empty() && spec.objective.metric == "value")
        errors.push_back("objective.metric: \"value\" is for studies without an experiment; use val_loss, "
                         "val_accuracy, val_mae or train_loss");
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
    root["objective"] = {{"metric", spec.objective.metric},
                         {"at", toString(spec.objective.at)},
                         {"direction", toString(spec.objective.direction)}};
    root["budget"] = {{"trials", spec.budget.trials}, {"seconds", spec.budget.seconds}};
    root["parallel"] = spec.parallel;
    return root.dump(2);
}

} // namespace tunelab
