#pragma once

// The results of a study with several objectives: its Pareto front and the hypervolume it covers
// as trials finish. Values here are as the trials reported them; each objective's direction is
// applied inside.

#include "search/pareto.h"
#include "study/study.h"

#include <cstdint>
#include <vector>

namespace tunelab {

// The complete trials that no other complete trial dominates, in trial-number order. A trial that
// lacks a value of some objective, or breaks an objective's bound (at_most, at_least), is not on the
// front and counts nowhere below.
std::vector<TrialRecord> paretoTrials(const std::vector<ObjectiveSpec>& objectives,
                                      const std::vector<TrialRecord>& trials);

// The point the hypervolume is measured from, in the objectives' own directions: an objective's
// "reference" when the study gives one, else its worst value among the feasible complete trials,
// moved outwards by a tenth of its range (by 1 when all values are equal). Empty when no complete
// trial is feasible.
std::vector<double> hypervolumeReference(const std::vector<ObjectiveSpec>& objectives,
                                         const std::vector<TrialRecord>& trials);

// The hypervolume of the complete trials among the first n finished ones, for each n at which a
// trial finished (in trial-number order), measured from `reference`.
struct HypervolumeAt {
    int64_t trialNumber = 0; // the trial that finished last
    int64_t finished = 0;    // trials finished so far
    double hypervolume = 0.0;
};
std::vector<HypervolumeAt> hypervolumeHistory(const std::vector<ObjectiveSpec>& objectives,
                                              const std::vector<TrialRecord>& trials,
                                              const std::vector<double>& reference);

} // namespace tunelab
