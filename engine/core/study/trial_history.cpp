#include "study/trial_history.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace tunelab {

TrialHistory::TrialHistory(ObjectiveSpec objective)
    : m_objective(std::move(objective)) {}

TrialHistory::TrialHistory(std::vector<ObjectiveSpec> objectives)
    : m_objective(objectives.empty() ? ObjectiveSpec{} : objectives.front()) {
    if (objectives.size() > 1)
        m_moreObjectives.assign(objectives.begin() + 1, objectives.end());
}

size_t TrialHistory::slot(int64_t number) {
    // Trials arrive in number order almost always: the new one goes at the end.
    if (m_numbers.empty() || m_numbers.back() < number) {
        m_numbers.push_back(number);
        m_sampler.emplace_back();
        m_curves.emplace_back();
        return m_numbers.size() - 1;
    }
    const auto found = std::lower_bound(m_numbers.begin(), m_numbers.end(), number);
    const auto index = static_cast<size_t>(found - m_numbers.begin());
    if (*found != number) {
        m_numbers.insert(found, number);
        m_sampler.insert(m_sampler.begin() + static_cast<std::ptrdiff_t>(index), FinishedTrial{});
        m_curves.insert(m_curves.begin() + static_cast<std::ptrdiff_t>(index), TrialCurve{});
    }
    return index;
}

void TrialHistory::update(const TrialRecord& trial) {
    const size_t index = slot(trial.number);
    FinishedTrial& item = m_sampler[index];
    item.number = trial.number;
    item.assignment = trial.params;
    item.state = trial.state == TrialState::Waiting ? TrialState::Running : trial.state;
    item.value = 0.0;
    item.values.clear();
    item.violation = 0.0;
    if (trial.state == TrialState::Complete) {
        item.value = towardsMinimum(m_objective, trial.value);
        if (!m_moreObjectives.empty()) {
            item.values.push_back(item.value);
            for (size_t i = 0; i < m_moreObjectives.size(); ++i)
                item.values.push_back(towardsMinimum(
                    m_moreObjectives[i], i < trial.moreValues.size() ? trial.moreValues[i] : kNoValue));
            std::vector<ObjectiveSpec> objectives{m_objective};
            objectives.insert(objectives.end(), m_moreObjectives.begin(), m_moreObjectives.end());
            item.violation = boundsViolation(objectives, trialValues(trial));
        }
    } else if (trial.state == TrialState::Pruned) {
        const double last = trial.intermediate.empty() ? kNoValue : trial.intermediate.rbegin()->second;
        item.value = towardsMinimum(m_objective, std::isfinite(trial.value) ? trial.value : last);
    }
    TrialCurve& curve = m_curves[index];
    curve.number = trial.number;
    curve.finished = isFinal(trial.state);
    curve.values.clear();
    for (const auto& [epoch, value] : trial.intermediate)
        curve.values.emplace_hint(curve.values.end(), epoch, towardsMinimum(m_objective, value));
}

void TrialHistory::addIntermediate(int64_t number, int epoch, double value) {
    const size_t index = slot(number);
    m_curves[index].number = number;
    m_curves[index].values[epoch] = towardsMinimum(m_objective, value);
}

} // namespace tunelab
