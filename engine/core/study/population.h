#pragma once

#include "search/search_space.h"
#include "store/study_records.h"
#include "study/study.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

// Reads a study file's "population" object (its JSON text) into `settings`; errors name the key.
void readPopulationSettings(std::string_view jsonText, PopulationSettings& settings,
                            std::vector<std::string>& errors);
// The "population" object as a study file writes it.
std::string populationSettingsJson(const PopulationSettings& settings);
// What a population study cannot have, each naming the key: no experiment to train, several
// objectives, a pruner, a stretch as long as the training, a parameter that changes the network
// (members copy each other's weights, so all of them train one network).
std::vector<std::string> populationStudyProblems(const StudySpec& spec, const SearchSpace& space);
// The stretches each member trains: ceil(epochs / interval).
int populationStretches(const StudySpec& spec);

// What a population study does next.
struct PopulationStep {
    enum class Kind { Train, Wait, Done };
    Kind kind = Kind::Done;
    Assignment params;    // Train: the stretch's hyperparameters
    TrialLineage lineage; // Train: its member, the trial it continues (-1: none) and its first epoch - 1
    std::string reason;   // Done: why the population has finished
};

// Decides the stretches of population-based training from the study's trials (each trial is one
// stretch of one member). In order: a member without a trial starts from scratch with the sampler's
// suggestion; a member whose last stretch failed restarts from the best member's weights (from
// scratch while no member has finished a stretch; after three failures in a row it is given up);
// a member that finished a stretch before the last epoch goes on once every other member has
// reached that epoch too, as itself or, when it ranks in the worst quantile there, as a copy of one
// in the best quantile with perturbed hyperparameters. Deterministic for a seed and a history.
class PopulationPlanner {
public:
    // `suggest` gives a new member's hyperparameters for a trial number.
    using Suggest = std::function<std::optional<Assignment>(int64_t trialNumber)>;

    PopulationPlanner(PopulationSettings settings, const SearchSpace& space, ObjectiveSpec objective,
                      int epochs, uint64_t seed);

    // `trials`: every trial of the study by number, with their intermediate values.
    PopulationStep next(const std::map<int64_t, TrialRecord>& trials, int64_t nextNumber,
                        const Suggest& suggest) const;
    // The epoch a stretch stops after.
    int lastEpochOf(const TrialRecord& trial) const;
    // `params` explored: every parameter that applies moved or drawn afresh (see PopulationSettings).
    Assignment explore(const Assignment& params, uint64_t key) const;

private:
    PopulationSettings m_settings;
    const SearchSpace& m_space;
    ObjectiveSpec m_objective;
    int m_epochs;
    uint64_t m_seed;
};

} // namespace tunelab
