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

// The best value so far after each finished trial, in trial-number order (complete trials only).
std::vector<std::pair<int64_t, double>> bestSoFar(const std::vector<TrialRecord>& trials,
                                                  const ObjectiveSpec& objective);

} // namespace tunelab
