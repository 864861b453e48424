#include "study/study_settings_check.h"

#include "search/pruners.h"

namespace tunelab {

namespace {

bool samplerModels(const std::string& type) {
    return type == "tpe" || type == "tpe-independent" || type == "gp" || type == "rf";
}

std::string trials(int64_t count) {
    return std::to_string(count) + (count == 1 ? " trial" : " trials");
}

} // namespace

std::vector<std::string> studySettingsWarnings(const StudySpec& spec) {
    std::vector<std::string> warnings;
    const int64_t budget = spec.budget.trials;
    if (budget > 0 && samplerModels(spec.sampler.type) && spec.sampler.startupTrials >= budget)
        warnings.push_back("the sampler's " + trials(spec.sampler.startupTrials) +
                           " at random use the whole budget of " + trials(budget) +
                           ": it never models the results (lower the random start below the budget)");
    if (spec.pruner.type == "none")
        return warnings;
    if (budget > 0 && spec.pruner.startupTrials >= budget)
        warnings.push_back("the pruner waits for " + trials(spec.pruner.startupTrials) +
                           " to finish, the whole budget of " + trials(budget) +
                           ": it never prunes (lower its start or raise the budget)");
    const int epochs = studyEpochs(spec);
    if (epochs > 0 && pruningEpochs(spec.pruner, epochs).empty()) {
        const bool rungs = spec.pruner.type != "median";
        warnings.push_back(
            "with " + std::to_string(epochs) + " epochs per trial and a warm-up of " +
            std::to_string(spec.pruner.warmupEpochs) + ", the pruner has no " + (rungs ? "rung" : "epoch") +
            " left to prune at before the last epoch" +
            (rungs ? " (first rung at epoch " + std::to_string(spec.pruner.minEpochs) + ")" : "") +
            ": it never prunes");
    }
    if (budget > 0 && spec.parallel > budget)
        warnings.push_back(std::to_string(spec.parallel) + " trials in parallel with a budget of " +
                           trials(budget) + ": only " + std::to_string(budget) + " run");
    return warnings;
}

} // namespace tunelab
