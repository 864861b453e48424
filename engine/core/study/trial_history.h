#pragma once

#include "search/pruners.h"
#include "search/samplers.h"
#include "store/study_records.h"
#include "study/study.h"

#include <cstdint>
#include <vector>

namespace tunelab {

// A study's trials as its sampler and its pruner see them, in trial-number order, kept current one
// changed trial at a time. Building them afresh before every suggestion and every epoch's pruning
// decision cost time in proportion to the whole study, so a study's total overhead grew with the
// square of its trials.
class TrialHistory {
public:
    explicit TrialHistory(ObjectiveSpec objective);
    // A study with several objectives: samplers see every objective's value (FinishedTrial::values).
    explicit TrialHistory(std::vector<ObjectiveSpec> objectives);

    // Adds the trial, or replaces the one with its number.
    void update(const TrialRecord& trial);
    // A running trial reported `value` at `epoch`.
    void addIntermediate(int64_t number, int epoch, double value);

    // Values turned towards a minimum; waiting trials count as running.
    const std::vector<FinishedTrial>& samplerHistory() const { return m_sampler; }
    const std::vector<TrialCurve>& prunerCurves() const { return m_curves; }

private:
    // The index of `number`, inserted in order when it is new.
    size_t slot(int64_t number);

    ObjectiveSpec m_objective;
    std::vector<ObjectiveSpec> m_moreObjectives;
    std::vector<int64_t> m_numbers; // ascending
    std::vector<FinishedTrial> m_sampler;
    std::vector<TrialCurve> m_curves;
};

} // namespace tunelab
