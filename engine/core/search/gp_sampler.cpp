#include "search/sampler_support.h"
#include "search/samplers.h"

#include "search/gaussian_process.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

namespace tunelab {

namespace {

using namespace sampler_support;

using detail::GaussianProcess;
using detail::KernelColumns;
using detail::logExpectedImprovementFactor;

constexpr double kInactiveCoordinate = 0.5;

// How the parameters of a space map onto the GP's input columns: one column per numeric parameter,
// a one-hot block per choice parameter (none for a single choice). Each parameter has one length scale.
class Encoding {
public:
    struct Condition {
        int parent;
        std::vector<int> allowedChoices;       // parent is a choice parameter
        std::vector<ParamValue> allowedValues; // parent is numeric
    };
    struct Column {
        const SearchParameter* parameter;
        int offset = 0;
        int width = 0;  // 1 numeric, k one-hot, 0 none
        int scale = -1; // length-scale index, -1 when the parameter has no column
        bool choice = false;
        std::vector<Condition> conditions;
    };

    explicit Encoding(const SearchSpace& space) {
        std::map<std::string, int> indexOf;
        for (const auto& parameter : space.parameters()) {
            Column column;
            column.parameter = &parameter;
            column.choice = isChoice(parameter);
            column.offset = m_width;
            column.width = column.choice
                               ? (parameter.values.size() > 1 ? static_cast<int>(parameter.values.size()) : 0)
                               : 1;
            if (column.width > 0)
                column.scale = m_kernelColumns.scales++;
            m_width += column.width;
            for (const auto& condition : parameter.when) {
                Condition c;
                auto found = indexOf.find(condition.parameter);
                c.parent = found == indexOf.end() ? -1 : found->second;
                if (c.parent >= 0 && m_columns[static_cast<size_t>(c.parent)].choice) {
                    for (const auto& value : condition.values) {
                        const int choice =
                            choiceOf(*m_columns[static_cast<size_t>(c.parent)].parameter, value);
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
        m_kernelColumns.scaleOf.assign(static_cast<size_t>(m_width), 0);
        m_kernelColumns.weight.assign(static_cast<size_t>(m_width), 1.0);
        for (const auto& column : m_columns) {
            for (int c = 0; c < column.width; ++c) {
                m_kernelColumns.scaleOf[static_cast<size_t>(column.offset + c)] = column.scale;
                // Two differing one-hot choices are at squared distance 1, like a full numeric range.
                m_kernelColumns.weight[static_cast<size_t>(column.offset + c)] = column.choice ? 0.5 : 1.0;
            }
        }
    }

    int width() const { return m_width; }
    // The length scale and distance weight of every column, for the Gaussian process.
    const KernelColumns& kernelColumns() const { return m_kernelColumns; }

    // A trial's point; false when a value cannot be read.
    bool encode(const Assignment& assignment, std::vector<double>& x) const {
        x.assign(static_cast<size_t>(m_width), 0.0);
        for (const auto& column : m_columns) {
            if (column.width == 0)
                continue;
            auto found = assignment.find(column.parameter->path);
            if (found == assignment.end()) {
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

    // Makes a raw candidate valid: numeric coordinates snapped to their values, one-hot blocks set to
    // their largest entry, parameters that do not apply put at the fixed point.
    void normalise(std::vector<double>& x) const {
        std::vector<char> active(m_columns.size(), 0);
        std::vector<int> chosen(m_columns.size(), 0);
        for (size_t i = 0; i < m_columns.size(); ++i) {
            const Column& column = m_columns[i];
            active[i] = isActive(column, x, active, chosen) ? 1 : 0;
            if (column.width == 0)
                continue;
            if (!active[i]) {
                setInactive(column, x);
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
            } else {
                block[0] = snapUnit(*column.parameter, block[0]);
            }
        }
    }

    Assignment decode(const std::vector<double>& x) const {
        Assignment assignment;
        std::vector<char> active(m_columns.size(), 0);
        std::vector<int> chosen(m_columns.size(), 0);
        for (size_t i = 0; i < m_columns.size(); ++i) {
            const Column& column = m_columns[i];
            active[i] = isActive(column, x, active, chosen) ? 1 : 0;
            if (!active[i])
                continue;
            const SearchParameter& parameter = *column.parameter;
            if (column.choice) {
                int best = 0;
                for (int c = 1; c < column.width; ++c) {
                    if (x[static_cast<size_t>(column.offset + c)] >
                        x[static_cast<size_t>(column.offset + best)])
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

    void randomPoint(Rng& rng, std::vector<double>& x) const {
        x.resize(static_cast<size_t>(m_width));
        for (auto& value : x)
            value = rng.uniform();
        normalise(x);
    }

    // A nearby point: Gaussian steps on numeric columns, an occasional other choice.
    void perturb(Rng& rng, double sigma, std::vector<double>& x) const {
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

    const std::vector<Column>& columns() const { return m_columns; }

private:
    static void setInactive(const Column& column, std::vector<double>& x) {
        for (int c = 0; c < column.width; ++c)
            x[static_cast<size_t>(column.offset + c)] = column.choice ? 0.0 : kInactiveCoordinate;
    }

    bool isActive(const Column& column, const std::vector<double>& x, const std::vector<char>& active,
                  const std::vector<int>& chosen) const {
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
                const ParamValue value =
                    valueAtUnit(*parent.parameter, x[static_cast<size_t>(parent.offset)]);
                bool allowed = false;
                double number = 0.0, candidateNumber = 0.0;
                const bool numeric = readNumber(value, number);
                for (const auto& candidate : condition.allowedValues)
                    allowed =
                        allowed || candidate == value ||
                        (numeric && readNumber(candidate, candidateNumber) && candidateNumber == number);
                if (!allowed)
                    return false;
            }
        }
        return true;
    }

    std::vector<Column> m_columns;
    KernelColumns m_kernelColumns;
    int m_width = 0;
};

struct Scored {
    std::vector<double> x;
    double score;
};

} // namespace

std::optional<Assignment> GpSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                             const std::vector<FinishedTrial>& history) {
    const Encoding encoding(space);
    // Content order, so the result does not depend on the order of `history`.
    std::vector<const FinishedTrial*> trials;
    for (const auto& trial : history)
        trials.push_back(&trial);
    std::sort(trials.begin(), trials.end(), [](const FinishedTrial* a, const FinishedTrial* b) {
        if (a->number != b->number)
            return a->number < b->number;
        return a->value < b->value;
    });

    std::vector<std::vector<double>> points, running;
    std::vector<double> targets;
    std::vector<std::vector<double>> prunedPoints;
    std::vector<double> prunedValues;
    double worstComplete = -std::numeric_limits<double>::infinity();
    std::vector<double> x;
    for (const FinishedTrial* trial : trials) {
        if (trial->state == TrialState::Running) {
            if (trial->number != trialNumber && encoding.encode(trial->assignment, x))
                running.push_back(x);
            continue;
        }
        if ((trial->state != TrialState::Complete && trial->state != TrialState::Pruned) ||
            !std::isfinite(trial->value) || !encoding.encode(trial->assignment, x))
            continue;
        if (trial->state == TrialState::Complete) {
            points.push_back(x);
            targets.push_back(trial->value);
            worstComplete = std::max(worstComplete, trial->value);
        } else {
            prunedPoints.push_back(x);
            prunedValues.push_back(trial->value);
        }
    }
    // A pruned trial was stopped for looking worse than its peers: it counts, but never better
    // than the worst completed trial.
    for (size_t i = 0; i < prunedPoints.size(); ++i) {
        points.push_back(prunedPoints[i]);
        targets.push_back(std::isfinite(worstComplete) ? std::max(prunedValues[i], worstComplete)
                                                       : prunedValues[i]);
    }
    if (points.size() < static_cast<size_t>(std::max(1, m_settings.startupTrials)) || encoding.width() == 0)
        return SobolSampler(m_settings.seed).suggest(space, trialNumber, history);

    double mean = 0.0;
    for (double y : targets)
        mean += y;
    mean /= static_cast<double>(targets.size());
    double spread = 0.0;
    for (double y : targets)
        spread += (y - mean) * (y - mean);
    spread = std::sqrt(spread / static_cast<double>(targets.size()));
    if (!(spread > 1e-12))
        spread = 1.0;
    size_t bestIndex = 0;
    for (size_t i = 0; i < targets.size(); ++i) {
        targets[i] = (targets[i] - mean) / spread;
        if (targets[i] < targets[bestIndex])
            bestIndex = i;
    }
    const double incumbent = targets[bestIndex];
    const std::vector<double> incumbentPoint = points[bestIndex];
    // The best few observed points seed the local search.
    std::vector<size_t> order(points.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return targets[a] < targets[b]; });
    std::vector<std::vector<double>> bestObserved;
    for (size_t i = 0; i < std::min<size_t>(5, order.size()); ++i)
        bestObserved.push_back(points[order[i]]);

    const size_t n = points.size();
    GaussianProcess process(encoding.kernelColumns(), std::move(points), std::move(targets));
    process.fit(n <= 100);
    for (const auto& point : running)
        process.addBeliever(point);

    auto acquisition = [&](const std::vector<double>& candidate) {
        double mu = 0.0, variance = 0.0;
        process.predict(candidate, mu, variance);
        const double sigma = std::sqrt(variance);
        return std::log(sigma) + logExpectedImprovementFactor((incumbent - mu) / sigma);
    };

    Rng rng(trialStreamKey(m_settings.seed, trialNumber) ^ 0x67705F73616D706Cull);
    const size_t total = n + running.size();
    const int randomCount =
        static_cast<int>(std::clamp(2.4e7 / static_cast<double>(total * total), 500.0, 2000.0));
    std::vector<Scored> scored;
    scored.reserve(static_cast<size_t>(randomCount) * 3 / 2);
    for (int i = 0; i < randomCount; ++i) {
        encoding.randomPoint(rng, x);
        scored.push_back({x, acquisition(x)});
    }
    for (int i = 0; i < randomCount / 2; ++i) {
        x = bestObserved[static_cast<size_t>(i) % bestObserved.size()];
        encoding.perturb(rng, i % 2 == 0 ? 0.05 : 0.15, x);
        scored.push_back({x, acquisition(x)});
    }
    std::partial_sort(scored.begin(), scored.begin() + std::min<std::ptrdiff_t>(5, scored.size()),
                      scored.end(), [](const Scored& a, const Scored& b) { return a.score > b.score; });
    scored.resize(std::min<size_t>(5, scored.size()));
    scored.push_back({incumbentPoint, acquisition(incumbentPoint)});

    // Pattern search from each start: try a step either way along every numeric column and every
    // other choice; halve the step when nothing improves.
    const int maxRounds = total <= 100 ? 40 : 15;
    Scored best = scored.front();
    for (auto start : scored) {
        double step = 0.05;
        for (int round = 0; round < maxRounds && step > 1e-4; ++round) {
            bool improved = false;
            for (const auto& column : encoding.columns()) {
                if (column.width == 0)
                    continue;
                const size_t offset = static_cast<size_t>(column.offset);
                if (column.choice) {
                    for (int c = 0; c < column.width; ++c) {
                        if (start.x[offset + static_cast<size_t>(c)] == 1.0)
                            continue;
                        x = start.x;
                        std::fill(x.begin() + static_cast<std::ptrdiff_t>(offset),
                                  x.begin() +
                                      static_cast<std::ptrdiff_t>(offset + static_cast<size_t>(column.width)),
                                  0.0);
                        x[offset + static_cast<size_t>(c)] = 1.0;
                        encoding.normalise(x);
                        const double score = acquisition(x);
                        if (score > start.score) {
                            start = {x, score};
                            improved = true;
                        }
                    }
                    continue;
                }
                for (double direction : {-1.0, 1.0}) {
                    x = start.x;
                    const int64_t cells = gridCells(*column.parameter);
                    const double move = cells > 0 ? std::max(step, 1.0 / static_cast<double>(cells)) : step;
                    x[offset] = std::clamp(x[offset] + direction * move, 0.0, 1.0);
                    encoding.normalise(x);
                    if (x == start.x)
                        continue;
                    const double score = acquisition(x);
                    if (score > start.score) {
                        start = {x, score};
                        improved = true;
                    }
                }
            }
            if (!improved)
                step *= 0.5;
        }
        if (start.score > best.score)
            best = start;
    }
    return encoding.decode(best.x);
}

} // namespace tunelab
