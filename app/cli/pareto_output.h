#pragma once

// What the CLI says about a study with several objectives: its Pareto front and hypervolume.

#include "search/pareto.h"
#include "study_command.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace tunelab::cli {

// Adds "objectives", "pareto_front" (each front trial's number, values and parameters),
// "hypervolume" and "hypervolume_reference" to a study's result object.
void addParetoResults(nlohmann::ordered_json& json, const LoadedStudy& study,
                      const std::vector<TrialRecord>& trials);

// `study best` on a study with several objectives: every trial of the front. As text, one line per
// trial; as JSON, a list whose items hold the trial's number, values and a runnable spec (the
// parameters themselves for a study without an experiment). Returns the exit code.
int printParetoFront(const LoadedStudy& study, const std::vector<TrialRecord>& trials,
                     const std::string& format);

// "val_loss 0.31  parameters 4210": a trial's value of every objective, for people.
std::string objectiveValuesText(const std::vector<ObjectiveSpec>& objectives, const TrialRecord& trial);

// The Pareto front as trials finish, kept one trial at a time, for progress lines.
class ParetoTracker {
public:
    explicit ParetoTracker(std::vector<ObjectiveSpec> objectives)
        : m_objectives(std::move(objectives)) {}
    // Takes a complete trial that keeps to the bounds onto the front when no trial there dominates it.
    void add(const TrialRecord& trial);
    size_t size() const { return m_front.size(); }
    // "val_loss 0.31  parameters 4210".
    std::string valuesText(const TrialRecord& trial) const;

private:
    std::vector<ObjectiveSpec> m_objectives;
    std::vector<ObjectivePoint> m_front; // towards the minimum
};

// The status lines of a study with several objectives: its objectives, front size and hypervolume.
void printParetoStatus(const LoadedStudy& study, const std::vector<TrialRecord>& trials);

} // namespace tunelab::cli
