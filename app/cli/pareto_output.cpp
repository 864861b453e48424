#include "pareto_output.h"

#include "exit_codes.h"
#include "json_output.h"
#include "search/search_space.h"
#include "study/pareto_results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tunelab::cli {

namespace {

nlohmann::ordered_json valuesJson(const TrialRecord& trial) {
    nlohmann::ordered_json values = nlohmann::ordered_json::array();
    for (const double value : trialValues(trial))
        values.push_back(numberOrNull(value));
    return values;
}

nlohmann::ordered_json objectivesJson(const std::vector<ObjectiveSpec>& objectives) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const ObjectiveSpec& objective : objectives)
        list.push_back({{"name", objectiveLabel(objective)},
                        {"metric", objective.metric},
                        {"direction", toString(objective.direction)},
                        {"at", toString(objective.at)}});
    return list;
}

// "1 trial", "7 trials".
std::string trialCount(size_t count, const std::string& noun) {
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// Why a study has no Pareto front: no complete trial, or none that keeps to the objectives' bounds.
std::string emptyFrontReason(const std::vector<TrialRecord>& trials) {
    const int complete = countState(trials, TrialState::Complete);
    if (complete == 0)
        return "has no complete trial yet";
    return "has " + trialCount(static_cast<size_t>(complete), "complete trial") +
           ", and none keeps to the objectives' at_most and at_least bounds";
}

} // namespace

std::string objectiveValuesText(const std::vector<ObjectiveSpec>& objectives, const TrialRecord& trial) {
    const std::vector<double> values = trialValues(trial);
    std::string text;
    for (size_t i = 0; i < objectives.size(); ++i) {
        if (!text.empty())
            text += "  ";
        text +=
            objectiveLabel(objectives[i]) + " " + formatStudyValue(i < values.size() ? values[i] : kNoValue);
    }
    return text;
}

void ParetoTracker::add(const TrialRecord& trial) {
    if (trial.state != TrialState::Complete)
        return;
    const std::vector<double> values = trialValues(trial);
    if (boundsViolation(m_objectives, values) > 0.0)
        return; // breaks a bound: no one's pick
    ObjectivePoint point;
    for (size_t i = 0; i < m_objectives.size(); ++i) {
        if (i >= values.size() || !std::isfinite(values[i]))
            return;
        point.push_back(towardsMinimum(m_objectives[i], values[i]));
    }
    for (const ObjectivePoint& kept : m_front)
        if (kept == point || dominates(kept, point))
            return;
    m_front.erase(std::remove_if(m_front.begin(), m_front.end(),
                                 [&](const ObjectivePoint& kept) { return dominates(point, kept); }),
                  m_front.end());
    m_front.push_back(std::move(point));
}

std::string ParetoTracker::valuesText(const TrialRecord& trial) const {
    return objectiveValuesText(m_objectives, trial);
}

void addParetoResults(nlohmann::ordered_json& json, const LoadedStudy& study,
                      const std::vector<TrialRecord>& trials) {
    const std::vector<ObjectiveSpec> objectives = studyObjectives(study.spec);
    json["objectives"] = objectivesJson(objectives);
    nlohmann::ordered_json front = nlohmann::ordered_json::array();
    for (const TrialRecord& trial : paretoTrials(objectives, trials))
        front.push_back(
            {{"trial", trial.number}, {"values", valuesJson(trial)}, {"params", paramsObject(trial.params)}});
    json["pareto_front"] = front;
    const std::vector<double> reference = hypervolumeReference(objectives, trials);
    const auto history = hypervolumeHistory(objectives, trials, reference);
    json["hypervolume"] =
        history.empty() ? nlohmann::ordered_json(nullptr) : numberOrNull(history.back().hypervolume);
    nlohmann::ordered_json referenceJson = nlohmann::ordered_json::array();
    for (const double value : reference)
        referenceJson.push_back(numberOrNull(value));
    json["hypervolume_reference"] = referenceJson;
}

int printParetoFront(const LoadedStudy& study, const std::vector<TrialRecord>& trials,
                     const std::string& format) {
    const std::vector<ObjectiveSpec> objectives = studyObjectives(study.spec);
    const std::vector<TrialRecord> front = paretoTrials(objectives, trials);
    if (front.empty()) {
        std::fprintf(stderr, "error: study '%s' %s\n", study.spec.name.c_str(),
                     emptyFrontReason(trials).c_str());
        return kExitRunFailed;
    }
    if (format == "text") {
        std::printf("Pareto front of %s: %s\n", study.spec.name.c_str(),
                    trialCount(front.size(), "trial").c_str());
        for (const TrialRecord& trial : front)
            std::printf("trial %lld: %s  %s\n", static_cast<long long>(trial.number),
                        objectiveValuesText(objectives, trial).c_str(), paramsText(trial.params).c_str());
        return kExitSuccess;
    }
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const TrialRecord& trial : front) {
        nlohmann::ordered_json item = {{"trial", trial.number}, {"values", valuesJson(trial)}};
        if (study.spec.experimentJson.empty()) {
            item["params"] = paramsObject(trial.params);
        } else {
            // The same complete spec the trial trained, so it reruns as is with `tunelab-cli train`.
            auto spec = trialExperimentJson(study.spec.experimentJson, trial.params);
            if (!spec.ok()) {
                printErrors(spec.errors());
                return kExitRunFailed;
            }
            const auto parsed = nlohmann::ordered_json::parse(spec.value(), nullptr, false, true);
            item["experiment"] = parsed.is_discarded() ? nlohmann::ordered_json(spec.value()) : parsed;
        }
        list.push_back(item);
    }
    std::printf("%s\n", list.dump(2).c_str());
    return kExitSuccess;
}

void printParetoStatus(const LoadedStudy& study, const std::vector<TrialRecord>& trials) {
    const std::vector<ObjectiveSpec> objectives = studyObjectives(study.spec);
    const std::vector<TrialRecord> front = paretoTrials(objectives, trials);
    if (front.empty()) {
        std::printf("Pareto front: empty: the study %s\n", emptyFrontReason(trials).c_str());
        return;
    }
    const std::vector<double> reference = hypervolumeReference(objectives, trials);
    const auto history = hypervolumeHistory(objectives, trials, reference);
    std::string referenceText;
    for (const double value : reference)
        referenceText += (referenceText.empty() ? "" : ", ") + formatStudyValue(value);
    std::printf("Pareto front: %s; hypervolume %s (from %s)\n", trialCount(front.size(), "trial").c_str(),
                formatStudyValue(history.empty() ? 0.0 : history.back().hypervolume).c_str(),
                referenceText.c_str());
    for (const TrialRecord& trial : front)
        std::printf("  trial %lld: %s\n", static_cast<long long>(trial.number),
                    objectiveValuesText(objectives, trial).c_str());
}

} // namespace tunelab::cli
