#include "race/race.h"

#include "common/json_file_util.h"
#include "common/json_text.h"
#include "common/names.h"
#include "spec/number_rules.h"
#include "spec/spec.h"
#include "spec/spec_names.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <set>

namespace tunelab {

using nlohmann::json;
using nlohmann::ordered_json;
using namespace json_file;

namespace {

const std::vector<std::string> kRaceKeys = {"name",        "experiment",          "setups",
                                            "target_loss", "fair_learning_rates", "range_test"};
const std::vector<std::string> kSetupKeys = {"name", "optimizer", "full_batch"};
const std::vector<std::string> kRangeTestKeys = {"min_lr", "max_lr", "steps"};

// A positive finite number at object[key]; false (with an error) when present but not one.
// A number under `rule`; false when it is absent or refused (the refusal in `errors`).
bool readRuled(const json& object, const std::string& key, const std::string& where, const NumberRule& rule,
               double& out, std::vector<std::string>& errors) {
    const auto it = object.find(key);
    if (it == object.end())
        return false;
    const bool integer = it->is_number_integer() || it->is_number_unsigned();
    if (!it->is_number() || !rule.accepts(it->get<double>()) || (rule.integer && !integer)) {
        errors.push_back(
            where + key + ": expected " +
            (it->is_number() ? rule.expectedFor(it->get<double>()) : std::string(rule.expected)) + ", got " +
            describe(*it));
        return false;
    }
    out = it->get<double>();
    return true;
}

void readExperiment(const json& root, const std::string& baseDirectory, RaceSpec& spec,
                    std::vector<std::string>& errors) {
    std::string directory;
    if (!readInlineOrFile(root, "experiment", baseDirectory, spec.experimentJson, directory, errors))
        return;
    const auto experiment = parseExperimentSpec(spec.experimentJson, directory);
    if (!experiment.ok()) {
        for (const auto& message : experiment.errors())
            errors.push_back("experiment: " + message);
        spec.experimentJson.clear();
        return;
    }
    spec.experimentJson = withAbsoluteDataPath(spec.experimentJson, directory);
}

void readSetups(const json& value, RaceSpec& spec, std::vector<std::string>& errors) {
    if (!value.is_array() || value.empty()) {
        errors.push_back("setups: expected a non-empty array of {\"name\", \"optimizer\"} objects, got " +
                         describe(value));
        return;
    }
    std::set<std::string> names;
    for (size_t i = 0; i < value.size(); ++i) {
        const std::string where = "setups[" + std::to_string(i) + "]";
        const json& item = value[i];
        if (!item.is_object()) {
            errors.push_back(where +
                             ": expected an object such as {\"name\": \"Adam\", \"optimizer\": "
                             "{\"type\": \"adam\", \"lr\": 0.001}}, got " +
                             describe(item));
            continue;
        }
        rejectUnknownKeys(item, where, kSetupKeys, errors);
        RaceSetup setup;
        if (item.contains("name") && item["name"].is_string() && !item["name"].get<std::string>().empty())
            setup.name = item["name"].get<std::string>();
        else
            errors.push_back(where + ".name: expected a non-empty string" +
                             (item.contains("name") ? ", got " + describe(item["name"]) : std::string()));
        if (const std::string problem = nameProblem(setup.name); !problem.empty())
            errors.push_back(where + ".name: " + problem);
        if (!setup.name.empty() && !names.insert(setup.name).second)
            errors.push_back(where + ".name: \"" + setup.name + "\" is already the name of another set-up");
        if (item.contains("full_batch")) {
            if (item["full_batch"].is_boolean())
                setup.fullBatch = item["full_batch"].get<bool>();
            else
                errors.push_back(where + ".full_batch: expected true or false, got " +
                                 describe(item["full_batch"]));
        }
        if (!item.contains("optimizer")) {
            errors.push_back(where +
                             ".optimizer: missing; give an object such as {\"type\": \"sgd\", \"lr\": 0.1}");
        } else if (!item["optimizer"].is_object()) {
            errors.push_back(where + ".optimizer: expected an object, got " + describe(item["optimizer"]));
        } else {
            setup.optimizerJson = item["optimizer"].dump();
            // The set-up's optimizer is checked the way the experiment parser checks it, so its
            // messages ("optimizer.lr: ...") only need the set-up's place in front.
            // The rest of this probe is incomplete on purpose; only the optimizer's messages count.
            const auto experiment = parseExperimentSpec(json{{"optimizer", item["optimizer"]}}.dump());
            if (!experiment.ok())
                for (const auto& message : experiment.errors())
                    if (message.rfind("optimizer", 0) == 0)
                        errors.push_back(where + "." + message);
        }
        spec.setups.push_back(std::move(setup));
    }
}

void readRangeTest(const json& value, LrRangeSettings& settings, std::vector<std::string>& errors) {
    if (!value.is_object()) {
        errors.push_back(
            "range_test: expected an object such as {\"min_lr\": 1e-6, \"max_lr\": 1, \"steps\": "
            "200}, got " +
            describe(value));
        return;
    }
    rejectUnknownKeys(value, "range_test", kRangeTestKeys, errors);
    const RaceNumberRules& rules = raceNumberRules();
    readRuled(value, "min_lr", "range_test.", rules.rangeMinLr, settings.minLr, errors);
    readRuled(value, "max_lr", "range_test.", rules.rangeMaxLr, settings.maxLr, errors);
    double steps = 0.0;
    if (readRuled(value, "steps", "range_test.", rules.rangeSteps, steps, errors))
        settings.steps = static_cast<int>(steps);
    if (settings.maxLr <= settings.minLr)
        errors.push_back("range_test.max_lr: must be greater than min_lr (" + json(settings.minLr).dump() +
                         ")");
}

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos)
        return text;
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"')
            quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

std::string csvNumber(double value) {
    if (std::isnan(value))
        return {};
    char buffer[40];
    std::snprintf(buffer, sizeof(buffer), "%.9g", value);
    return buffer;
}

std::string setupObject(const char* type, double lr, const char* extra = "") {
    return std::string("{\"type\": \"") + type + "\", \"lr\": " + json(lr).dump() + extra + "}";
}

} // namespace

Result<RaceSpec> parseRaceSpec(std::string_view jsonText, const std::string& baseDirectory) {
    auto parsed = parseJsonText(jsonText);
    if (!parsed.ok())
        return Result<RaceSpec>(Errors{parsed.errors()});
    json root = std::move(parsed.value());
    if (!root.is_object())
        return Result<RaceSpec>::failure("the race must be a JSON object, got " + describe(root));

    std::vector<std::string> errors;
    rejectUnknownKeys(root, "", kRaceKeys, errors);
    RaceSpec spec;
    if (root.contains("name")) {
        if (root["name"].is_string() && !root["name"].get<std::string>().empty())
            spec.name = root["name"].get<std::string>();
        else
            errors.push_back("name: expected a non-empty string, got " + describe(root["name"]));
        if (const std::string problem = nameProblem(spec.name); !problem.empty())
            errors.push_back("name: " + problem);
    }
    if (!root.contains("experiment"))
        errors.push_back("experiment: missing; give the base experiment as an object or a file path");
    else
        readExperiment(root, baseDirectory, spec, errors);
    if (root.contains("setups"))
        readSetups(root["setups"], spec, errors);
    else
        spec.setups = defaultRaceSetups();
    if (root.contains("fair_learning_rates")) {
        if (root["fair_learning_rates"].is_boolean())
            spec.fairLearningRates = root["fair_learning_rates"].get<bool>();
        else
            errors.push_back("fair_learning_rates: expected true or false, got " +
                             describe(root["fair_learning_rates"]));
    }
    if (root.contains("range_test"))
        readRangeTest(root["range_test"], spec.rangeTest, errors);
    if (root.contains("target_loss")) {
        const json& target = root["target_loss"];
        if (target.is_null())
            spec.targetLoss = kNoValue;
        else
            readRuled(root, "target_loss", "", raceNumberRules().targetLoss, spec.targetLoss, errors);
    }
    if (!errors.empty())
        return Result<RaceSpec>(Errors{errors});
    return spec;
}

Result<RaceSpec> loadRaceSpec(const std::string& path) {
    return json_file::loadFile<RaceSpec>(
        path, [](std::string_view text, const std::string& folder) { return parseRaceSpec(text, folder); });
}

std::string raceSpecToJson(const RaceSpec& spec) {
    ordered_json root = ordered_json::object();
    if (!spec.name.empty())
        root["name"] = spec.name;
    root["experiment"] = ordered_json::parse(spec.experimentJson, nullptr, false, true);
    ordered_json setups = ordered_json::array();
    for (const auto& setup : spec.setups) {
        ordered_json item = {{"name", setup.name},
                             {"optimizer", ordered_json::parse(setup.optimizerJson, nullptr, false, true)}};
        if (setup.fullBatch)
            item["full_batch"] = true;
        setups.push_back(std::move(item));
    }
    root["setups"] = std::move(setups);
    root["fair_learning_rates"] = spec.fairLearningRates;
    root["range_test"] = {
        {"min_lr", spec.rangeTest.minLr}, {"max_lr", spec.rangeTest.maxLr}, {"steps", spec.rangeTest.steps}};
    if (std::isfinite(spec.targetLoss))
        root["target_loss"] = spec.targetLoss;
    return root.dump(2);
}

Result<std::string> setupExperimentJson(const RaceSpec& spec, const RaceSetup& setup, double learningRate) {
    auto experiment = ordered_json::parse(spec.experimentJson, nullptr, false, true);
    if (experiment.is_discarded() || !experiment.is_object())
        return Result<std::string>::failure("experiment: not a JSON object");
    auto optimizer = ordered_json::parse(setup.optimizerJson, nullptr, false, true);
    if (optimizer.is_discarded() || !optimizer.is_object())
        return Result<std::string>::failure(setup.name + ": optimizer: not a JSON object");
    // The whole object is replaced, not merged: keys of the base's optimizer type (Adam's betas)
    // would be errors for another type (SGD).
    if (std::isfinite(learningRate))
        optimizer["lr"] = learningRate;
    experiment["optimizer"] = std::move(optimizer);
    if (setup.fullBatch) {
        if (!experiment.contains("training") || !experiment["training"].is_object())
            experiment["training"] = ordered_json::object();
        experiment["training"]["batch_size"] = "full";
    }
    experiment["name"] = (spec.name.empty() ? std::string("race") : spec.name) + " / " + setup.name;
    std::string text = experiment.dump(2);
    const auto parsed = parseExperimentSpec(text);
    if (!parsed.ok()) {
        std::vector<std::string> messages;
        for (const auto& message : parsed.errors())
            messages.push_back(setup.name + ": " + message);
        return Result<std::string>(Errors{messages});
    }
    return text;
}

std::vector<RaceSetup> defaultRaceSetups() {
    return {
        {"SGD", setupObject("sgd", 0.1), false},
        {"SGD + momentum", setupObject("sgd", 0.05, ", \"momentum\": 0.9"), false},
        {"Nesterov", setupObject("sgd", 0.05, ", \"momentum\": 0.9, \"nesterov\": true"), false},
        {"Adagrad", setupObject("adagrad", 0.05), false},
        {"RMSprop", setupObject("rmsprop", 0.003), false},
        {"Adam", setupObject("adam", 0.003), false},
        {"AdamW", setupObject("adamw", 0.003, ", \"weight_decay\": 0.01"), false},
        {"Full-batch GD", setupObject("sgd", 0.5), true},
    };
}

RaceEntryResult raceEntryResult(const std::string& setup, const RunSummary& summary,
                                const std::vector<EpochRecord>& epochs, double targetLoss) {
    RaceEntryResult result;
    result.setup = setup;
    result.status = summary.status;
    result.diverged = summary.status == RunStatus::Diverged;
    result.wallSeconds = summary.trainSeconds;
    result.message = summary.message;
    result.initialParametersHash = summary.initialParametersHash;
    result.batchOrderHash = summary.batchOrderHash;
    double seconds = 0.0;
    for (const auto& epoch : epochs) {
        seconds += epoch.seconds;
        if (std::isnan(epoch.valLoss))
            continue;
        result.finalValLoss = epoch.valLoss;
        if (std::isnan(result.bestValLoss) || epoch.valLoss < result.bestValLoss)
            result.bestValLoss = epoch.valLoss;
        if (result.stepsToTarget < 0 && std::isfinite(targetLoss) && epoch.valLoss <= targetLoss) {
            result.stepsToTarget = epoch.step;
            result.secondsToTarget = seconds;
        }
    }
    if (epochs.empty() && std::isfinite(summary.valLoss))
        result.finalValLoss = result.bestValLoss = summary.valLoss;
    return result;
}

std::string raceResultsCsv(const std::vector<RaceEntryResult>& results) {
    std::string csv = "setup,run_id,learning_rate,final_val_loss,best_val_loss,steps_to_target,"
                      "seconds_to_target,diverged,status,wall_seconds,initial_parameters_hash,"
                      "batch_order_hash,message\n";
    for (const auto& result : results) {
        char hashes[48];
        std::snprintf(hashes, sizeof(hashes), "%016llx,%016llx",
                      static_cast<unsigned long long>(result.initialParametersHash),
                      static_cast<unsigned long long>(result.batchOrderHash));
        csv += csvField(result.setup) + "," + std::to_string(result.runId) + "," +
               csvNumber(result.learningRate) + "," + csvNumber(result.finalValLoss) + "," +
               csvNumber(result.bestValLoss) + "," +
               (result.stepsToTarget < 0 ? std::string() : std::to_string(result.stepsToTarget)) + "," +
               csvNumber(result.secondsToTarget) + "," + (result.diverged ? "true" : "false") + "," +
               toString(result.status) + "," + csvNumber(result.wallSeconds) + "," + hashes + "," +
               csvField(result.message) + "\n";
    }
    return csv;
}

} // namespace tunelab
