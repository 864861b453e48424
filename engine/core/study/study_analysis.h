#pragma once

#include "study/study.h"

#include <string>
#include <vector>

namespace tunelab {

// How much each parameter explains the objective across finished trials: the share of the
// objective's variance explained by the parameter alone (between-group variance over quantile bins
// for numbers, over choices for categories), normalised to sum to 1. Parameters that vary in fewer
// than two trials get 0. Trials where a conditional parameter did not apply form their own group.
struct ParameterImportance {
    std::string parameter;
    double importance = 0.0;
};
std::vector<ParameterImportance> parameterImportance(const std::vector<TrialRecord>& trials,
                                                     const std::vector<std::string>& parameters,
                                                     const ObjectiveSpec& objective);

// Which values the importance is computed from. With three complete trials, their values. With
// fewer (a small study whose pruner stopped most trials), the deepest epoch at least three trials
// reached, complete or pruned alike, each scored by the objective's rule over its epochs up to there.
// With neither, `missing` says what is needed.
struct ImportanceBasis {
    int epoch = 0;       // 0: the complete trials' own values
    int trials = 0;      // the trials it is computed from
    int complete = 0;    // complete trials of the study
    int pruned = 0;      // pruned trials of the study
    std::string missing; // non-empty when there is no basis
};
constexpr int kImportanceMinimumTrials = 3;
// The trials to hand parameterImportance, as complete trials with the basis's values.
std::vector<TrialRecord> importanceTrials(const std::vector<TrialRecord>& trials,
                                          const ObjectiveSpec& objective, ImportanceBasis& basis);

// The best value so far after each finished trial, in trial-number order (complete trials only).
std::vector<std::pair<int64_t, double>> bestSoFar(const std::vector<TrialRecord>& trials,
                                                  const ObjectiveSpec& objective);

} // namespace tunelab
