#include "study/study_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace tunelab {

namespace {

constexpr int kMaxQuantileBins = 8;
constexpr int kTrialsPerBin = 5;

// Group labels of one parameter over the scored trials: -1 where the parameter did not apply,
// the choice's index for categories, the quantile bin for numbers. Equal numbers always share a
// bin, so an integer parameter with few values is grouped by value.
std::vector<int> groupsOf(const std::vector<const TrialRecord*>& scored, const std::string& parameter,
                          int& groupCount) {
    std::vector<int> groups(scored.size(), -1);
    bool allNumbers = true;
    std::vector<double> numbers;
    for (const TrialRecord* trial : scored) {
        const auto found = trial->params.find(parameter);
        if (found == trial->params.end())
            continue;
        if (found->second.isNumber())
            numbers.push_back(found->second.toDouble());
        else
            allNumbers = false;
    }
    groupCount = 0;
    if (allNumbers) {
        std::sort(numbers.begin(), numbers.end());
        std::vector<double> uniqueValues = numbers;
        uniqueValues.erase(std::unique(uniqueValues.begin(), uniqueValues.end()), uniqueValues.end());
        const int bins = std::clamp(static_cast<int>(numbers.size()) / kTrialsPerBin, 2, kMaxQuantileBins);
        const bool byValue = static_cast<int>(uniqueValues.size()) <= bins;
        for (size_t i = 0; i < scored.size(); ++i) {
            const auto found = scored[i]->params.find(parameter);
            if (found == scored[i]->params.end())
                continue;
            const double x = found->second.toDouble();
            if (byValue) {
                groups[i] = static_cast<int>(std::lower_bound(uniqueValues.begin(), uniqueValues.end(), x) -
                                             uniqueValues.begin());
            } else {
                const auto rank = std::lower_bound(numbers.begin(), numbers.end(), x) - numbers.begin();
                groups[i] = static_cast<int>(rank * bins / static_cast<long>(numbers.size()));
            }
        }
        groupCount = byValue ? static_cast<int>(uniqueValues.size()) : bins;
    } else {
        std::map<std::string, int> choiceIndex;
        for (size_t i = 0; i < scored.size(); ++i) {
            const auto found = scored[i]->params.find(parameter);
            if (found == scored[i]->params.end())
                continue;
            const auto inserted =
                choiceIndex.emplace(found->second.json, static_cast<int>(choiceIndex.size()));
            groups[i] = inserted.first->second;
        }
        groupCount = static_cast<int>(choiceIndex.size());
    }
    return groups;
}

// The share of the variance that the grouping explains, corrected for the share that random groups
// of the same sizes would explain ((k - 1) within-group mean squares), so that a noise parameter
// split into many bins scores near 0 rather than near (k - 1) / (n - 1).
double explainedVariance(const std::vector<double>& values, const std::vector<int>& groups, int groupCount) {
    const size_t n = values.size();
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
    double total = 0.0;
    for (double v : values)
        total += (v - mean) * (v - mean);
    if (total <= 0.0)
        return 0.0;
    // Slot 0 holds the trials where the parameter did not apply.
    std::vector<double> sums(static_cast<size_t>(groupCount) + 1, 0.0);
    std::vector<double> counts(sums.size(), 0.0);
    for (size_t i = 0; i < n; ++i) {
        const auto slot = static_cast<size_t>(groups[i] + 1);
        sums[slot] += values[i];
        counts[slot] += 1.0;
    }
    double between = 0.0;
    int nonEmpty = 0;
    for (size_t g = 0; g < sums.size(); ++g) {
        if (counts[g] == 0.0)
            continue;
        ++nonEmpty;
        const double groupMean = sums[g] / counts[g];
        between += counts[g] * (groupMean - mean) * (groupMean - mean);
    }
    if (nonEmpty < 2)
        return 0.0;
    const double within = total - between;
    const double freedom = static_cast<double>(n) - nonEmpty;
    const double withinMeanSquare = freedom > 0.0 ? within / freedom : 0.0;
    const double corrected = between - (nonEmpty - 1) * withinMeanSquare;
    return std::max(0.0, corrected / total);
}

} // namespace

std::vector<ParameterImportance> parameterImportance(const std::vector<TrialRecord>& trials,
                                                     const std::vector<std::string>& parameters,
                                                     const ObjectiveSpec& objective) {
    std::vector<const TrialRecord*> scored;
    std::vector<double> values;
    for (const TrialRecord& trial : trials) {
        if (trial.state == TrialState::Complete && std::isfinite(trial.value)) {
            scored.push_back(&trial);
            values.push_back(towardsMinimum(objective, trial.value));
        }
    }
    std::vector<ParameterImportance> result;
    result.reserve(parameters.size());
    for (const std::string& parameter : parameters) {
        ParameterImportance entry{parameter, 0.0};
        if (scored.size() >= 2) {
            int groupCount = 0;
            const std::vector<int> groups = groupsOf(scored, parameter, groupCount);
            entry.importance = explainedVariance(values, groups, groupCount);
        }
        result.push_back(entry);
    }
    const double sum =
        std::accumulate(result.begin(), result.end(), 0.0,
                        [](double acc, const ParameterImportance& e) { return acc + e.importance; });
    if (sum > 0.0) {
        for (auto& entry : result)
            entry.importance /= sum;
    }
    // Most important first; ties keep the order the parameters were given in.
    std::stable_sort(result.begin(), result.end(),
                     [](const ParameterImportance& a, const ParameterImportance& b) {
                         return a.importance > b.importance;
                     });
    return result;
}

std::vector<TrialRecord> importanceTrials(const std::vector<TrialRecord>& trials,
                                          const ObjectiveSpec& objective, ImportanceBasis& basis) {
    basis = ImportanceBasis{};
    std::vector<TrialRecord> chosen;
    std::map<int, int> reached; // epoch -> finished trials with a value there
    for (const TrialRecord& trial : trials) {
        const bool complete = trial.state == TrialState::Complete && std::isfinite(trial.value);
        basis.complete += complete ? 1 : 0;
        basis.pruned += trial.state == TrialState::Pruned ? 1 : 0;
        if (complete)
            chosen.push_back(trial);
        if (complete || trial.state == TrialState::Pruned)
            for (const auto& [epoch, value] : trial.intermediate)
                reached[epoch] += std::isfinite(value) ? 1 : 0;
    }
    if (basis.complete >= kImportanceMinimumTrials) {
        basis.trials = basis.complete;
        return chosen;
    }
    chosen.clear();
    for (auto it = reached.rbegin(); it != reached.rend(); ++it) {
        if (it->second < kImportanceMinimumTrials)
            continue;
        basis.epoch = it->first;
        for (const TrialRecord& trial : trials) {
            if (trial.state != TrialState::Complete && trial.state != TrialState::Pruned)
                continue;
            const auto& values = trial.intermediate;
            if (!values.count(basis.epoch))
                continue;
            TrialRecord scored = trial;
            scored.state = TrialState::Complete;
            scored.value = objectiveOverEpochs(
                std::map<int, double>(values.begin(), values.upper_bound(basis.epoch)), objective);
            if (std::isfinite(scored.value))
                chosen.push_back(std::move(scored));
        }
        basis.trials = static_cast<int>(chosen.size());
        return chosen;
    }
    basis.missing = "importance needs " + std::to_string(kImportanceMinimumTrials) +
                    " complete trials, or 3 that reached the same epoch; the study has " +
                    std::to_string(basis.complete) + " complete and " + std::to_string(basis.pruned) +
                    " pruned";
    return chosen;
}

std::vector<std::pair<int64_t, double>> bestSoFar(const std::vector<TrialRecord>& trials,
                                                  const ObjectiveSpec& objective) {
    std::vector<const TrialRecord*> complete;
    for (const TrialRecord& trial : trials) {
        if (trial.state == TrialState::Complete && std::isfinite(trial.value))
            complete.push_back(&trial);
    }
    std::sort(complete.begin(), complete.end(),
              [](const TrialRecord* a, const TrialRecord* b) { return a->number < b->number; });
    std::vector<std::pair<int64_t, double>> result;
    result.reserve(complete.size());
    double best = kNoValue;
    for (const TrialRecord* trial : complete) {
        if (std::isnan(best) || isBetter(objective, trial->value, best))
            best = trial->value;
        result.emplace_back(trial->number, best);
    }
    return result;
}

} // namespace tunelab
