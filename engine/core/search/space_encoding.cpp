#include "search/space_encoding.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace tunelab::sampler_support {

namespace {

constexpr double kInactiveCoordinate = 0.5;

// Whether each column applies and its chosen value, as a point is read column by column; on the stack
// for spaces of the usual size (a suggestion reads tens of thousands of points).
class ColumnState {
public:
    explicit ColumnState(size_t columns) {
        if (columns > kOnStack) {
            m_heapActive.assign(columns, 0);
            m_heapChosen.assign(columns, 0);
        } else {
            std::fill(m_active, m_active + columns, 0);
            std::fill(m_chosen, m_chosen + columns, 0);
        }
    }
    char* active() { return m_heapActive.empty() ? m_active : m_heapActive.data(); }
    int* chosen() { return m_heapChosen.empty() ? m_chosen : m_heapChosen.data(); }

private:
    static constexpr size_t kOnStack = 64;
    char m_active[kOnStack];
    int m_chosen[kOnStack];
    std::vector<char> m_heapActive;
    std::vector<int> m_heapChosen;
};

} // namespace

SpaceEncoding::SpaceEncoding(const SearchSpace& space) {
    std::map<std::string, int> indexOf;
    for (const auto& parameter : space.parameters()) {
        Column column;
        column.parameter = &parameter;
        column.choice = isChoice(parameter);
        column.offset = m_width;
        column.width =
            column.choice ? (parameter.values.size() > 1 ? static_cast<int>(parameter.values.size()) : 0) : 1;
        if (column.width > 0)
            ++m_modelled;
        m_width += column.width;
        for (const auto& condition : parameter.when) {
            Condition c;
            auto found = indexOf.find(condition.parameter);
            c.parent = found == indexOf.end() ? -1 : found->second;
            if (c.parent >= 0 && m_columns[static_cast<size_t>(c.parent)].choice) {
                for (const auto& value : condition.values) {
                    const int choice = choiceOf(*m_columns[static_cast<size_t>(c.parent)].parameter, value);
                    if (choice >= 0)
                        c.allowedChoices.push_back(choice);
                }
            } else {
                c.allowedValues = condition.values;
            }
            column.conditions.push_back(std::move(c));
        }
        indexOf[parameter.path] = static_cast<int>(m_columns.size());
        m_columns.push_back(std::move(column));
    }
    for (const auto& [path, index] : indexOf) {
        if (m_columns[static_cast<size_t>(index)].width > 0)
            m_byPath.push_back(index);
    }
}

bool SpaceEncoding::encode(const Assignment& assignment, std::vector<double>& x) const {
    x.assign(static_cast<size_t>(m_width), 0.0);
    // Columns in path order walk the assignment (a map by path) once, instead of a look-up each.
    auto found = assignment.begin();
    for (const int index : m_byPath) {
        const Column& column = m_columns[static_cast<size_t>(index)];
        const std::string& path = column.parameter->path;
        while (found != assignment.end() && found->first < path)
            ++found;
        if (found == assignment.end() || found->first != path) {
            setInactive(column, x);
            continue;
        }
        if (column.choice) {
            const int choice = choiceOf(*column.parameter, found->second);
            if (choice < 0)
                return false;
            x[static_cast<size_t>(column.offset + choice)] = 1.0;
        } else {
            double number = 0.0;
            if (!readNumber(found->second, number))
                return false;
            x[static_cast<size_t>(column.offset)] = unitOf(*column.parameter, number);
        }
    }
    return true;
}

void SpaceEncoding::normalise(std::vector<double>& x, std::vector<double>* values) const {
    ColumnState state(m_columns.size());
    char* active = state.active();
    int* chosen = state.chosen();
    if (values)
        values->resize(static_cast<size_t>(m_modelled));
    size_t feature = 0;
    for (size_t i = 0; i < m_columns.size(); ++i) {
        const Column& column = m_columns[i];
        active[i] = isActive(column, x, active, chosen) ? 1 : 0;
        if (column.width == 0)
            continue;
        if (!active[i]) {
            setInactive(column, x);
            if (values)
                (*values)[feature++] = std::numeric_limits<double>::quiet_NaN();
            continue;
        }
        double* block = &x[static_cast<size_t>(column.offset)];
        if (column.choice) {
            int best = 0;
            for (int c = 1; c < column.width; ++c) {
                if (block[c] > block[best])
                    best = c;
            }
            for (int c = 0; c < column.width; ++c)
                block[c] = c == best ? 1.0 : 0.0;
            chosen[i] = best;
            if (values)
                (*values)[feature++] = static_cast<double>(best);
        } else {
            block[0] = snapUnit(*column.parameter, block[0]);
            if (values)
                (*values)[feature++] = block[0];
        }
    }
}

Assignment SpaceEncoding::decode(const std::vector<double>& x) const {
    Assignment assignment;
    ColumnState state(m_columns.size());
    char* active = state.active();
    int* chosen = state.chosen();
    for (size_t i = 0; i < m_columns.size(); ++i) {
        const Column& column = m_columns[i];
        active[i] = isActive(column, x, active, chosen) ? 1 : 0;
        if (!active[i])
            continue;
        const SearchParameter& parameter = *column.parameter;
        if (column.choice) {
            int best = 0;
            for (int c = 1; c < column.width; ++c) {
                if (x[static_cast<size_t>(column.offset + c)] > x[static_cast<size_t>(column.offset + best)])
                    best = c;
            }
            chosen[i] = best;
            assignment[parameter.path] = parameter.values.empty()
                                             ? valueAtUnit(parameter, 0.0)
                                             : parameter.values[static_cast<size_t>(best)];
        } else {
            assignment[parameter.path] = valueAtUnit(parameter, x[static_cast<size_t>(column.offset)]);
        }
    }
    return assignment;
}

void SpaceEncoding::randomPoint(Rng& rng, std::vector<double>& x, std::vector<double>* values) const {
    x.resize(static_cast<size_t>(m_width));
    for (auto& value : x)
        value = rng.uniform();
    normalise(x, values);
}

void SpaceEncoding::perturb(Rng& rng, double sigma, std::vector<double>& x) const {
    for (const auto& column : m_columns) {
        if (column.width == 0)
            continue;
        double* block = &x[static_cast<size_t>(column.offset)];
        if (column.choice) {
            if (rng.uniform() < 0.2) {
                std::fill(block, block + column.width, 0.0);
                block[rng.index(static_cast<size_t>(column.width))] = 1.0;
            }
        } else {
            block[0] = std::clamp(block[0] + sigma * rng.normal(), 0.0, 1.0);
        }
    }
    normalise(x);
}

void SpaceEncoding::parameterValues(const std::vector<double>& x, std::vector<double>& values) const {
    values.resize(static_cast<size_t>(m_modelled));
    ColumnState state(m_columns.size());
    char* active = state.active();
    int* chosen = state.chosen();
    size_t feature = 0;
    for (size_t i = 0; i < m_columns.size(); ++i) {
        const Column& column = m_columns[i];
        active[i] = isActive(column, x, active, chosen) ? 1 : 0;
        if (column.width == 0)
            continue;
        const double* block = &x[static_cast<size_t>(column.offset)];
        if (column.choice) {
            int best = 0;
            for (int c = 1; c < column.width; ++c) {
                if (block[c] > block[best])
                    best = c;
            }
            chosen[i] = best;
            values[feature++] =
                active[i] ? static_cast<double>(best) : std::numeric_limits<double>::quiet_NaN();
        } else {
            values[feature++] = active[i] ? block[0] : std::numeric_limits<double>::quiet_NaN();
        }
    }
}

void SpaceEncoding::setInactive(const Column& column, std::vector<double>& x) {
    for (int c = 0; c < column.width; ++c)
        x[static_cast<size_t>(column.offset + c)] = column.choice ? 0.0 : kInactiveCoordinate;
}

bool SpaceEncoding::isActive(const Column& column, const std::vector<double>& x, const char* active,
                             const int* chosen) const {
    for (const auto& condition : column.conditions) {
        if (condition.parent < 0 || !active[static_cast<size_t>(condition.parent)])
            return false;
        const Column& parent = m_columns[static_cast<size_t>(condition.parent)];
        if (parent.choice) {
            const int choice = parent.width == 0 ? 0 : chosen[static_cast<size_t>(condition.parent)];
            if (std::find(condition.allowedChoices.begin(), condition.allowedChoices.end(), choice) ==
                condition.allowedChoices.end())
                return false;
        } else {
            const ParamValue value = valueAtUnit(*parent.parameter, x[static_cast<size_t>(parent.offset)]);
            bool allowed = false;
            double number = 0.0, candidateNumber = 0.0;
            const bool numeric = readNumber(value, number);
            for (const auto& candidate : condition.allowedValues)
                allowed = allowed || candidate == value ||
                          (numeric && readNumber(candidate, candidateNumber) && candidateNumber == number);
            if (!allowed)
                return false;
        }
    }
    return true;
}

EncodedHistory encodeHistory(const SpaceEncoding& encoding, const std::vector<FinishedTrial>& history,
                             int64_t trialNumber) {
    std::vector<const FinishedTrial*> trials;
    for (const auto& trial : history)
        trials.push_back(&trial);
    std::sort(trials.begin(), trials.end(), [](const FinishedTrial* a, const FinishedTrial* b) {
        if (a->number != b->number)
            return a->number < b->number;
        return a->value < b->value;
    });

    EncodedHistory encoded;
    std::vector<std::vector<double>> prunedPoints;
    std::vector<double> prunedValues;
    double worstComplete = -std::numeric_limits<double>::infinity();
    std::vector<double> x;
    for (const FinishedTrial* trial : trials) {
        if (trial->state == TrialState::Running) {
            if (trial->number != trialNumber && encoding.encode(trial->assignment, x))
                encoded.running.push_back(x);
            continue;
        }
        if ((trial->state != TrialState::Complete && trial->state != TrialState::Pruned) ||
            !std::isfinite(trial->value) || !encoding.encode(trial->assignment, x))
            continue;
        if (trial->state == TrialState::Complete) {
            encoded.points.push_back(x);
            encoded.targets.push_back(trial->value);
            worstComplete = std::max(worstComplete, trial->value);
        } else {
            prunedPoints.push_back(x);
            prunedValues.push_back(trial->value);
        }
    }
    encoded.completed = encoded.points.size();
    for (size_t i = 0; i < prunedPoints.size(); ++i) {
        encoded.points.push_back(prunedPoints[i]);
        encoded.targets.push_back(std::isfinite(worstComplete) ? std::max(prunedValues[i], worstComplete)
                                                               : prunedValues[i]);
    }
    return encoded;
}

} // namespace tunelab::sampler_support
