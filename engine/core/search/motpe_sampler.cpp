#include "search/pareto.h"
#include "search/samplers.h"
#include "search/tpe_core.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace tunelab {

namespace {

using tpe_core::Observation;
using tpe_core::RankClass;

// The share of the trials in the good group, Optuna's MOTPE's tenth rather than TpeSampler's
// single-objective choice. Chosen on the development problems of bench/bench_multi_objective.cpp
// only (ZDT3, ZDT6, DTLZ2; never ZDT1 or ZDT2): of 0.05, 0.1, 0.15 and 0.25 at 200 trials, 0.1 did
// best over the three.
constexpr double kMotpeGoodFraction = 0.1;
// Optuna's reference point for the subset selection: a tenth beyond the front's worst point, or
// this much above an objective whose worst is 0.
constexpr double kReferenceMargin = 0.1;
constexpr double kZeroReference = 1e-12;

// The point just beyond the worst of `points` in every objective.
ObjectivePoint referenceBeyond(const std::vector<ObjectivePoint>& points) {
    ObjectivePoint reference = points.front();
    for (const auto& point : points) {
        for (size_t d = 0; d < reference.size(); ++d)
            reference[d] = std::max(reference[d], point[d]);
    }
    for (double& r : reference)
        r = r == 0.0 ? kZeroReference : r + kReferenceMargin * std::fabs(r);
    return reference;
}

// Reorders `members` (indices into `points`, one front, in trial order) so that its first `picks`
// are chosen greedily, each the one that adds the most hypervolume to those chosen before it (the
// hypervolume subset selection of Optuna's MOTPE); ties go to the earlier trial. What a point adds
// only shrinks as more are chosen, so a gain measured in an earlier round bounds the current one
// and only the candidates whose bound leads are measured again (lazy greedy).
void orderByGreedyContribution(const std::vector<ObjectivePoint>& points, std::vector<size_t>& members,
                               size_t picks) {
    std::vector<ObjectivePoint> front;
    for (size_t index : members)
        front.push_back(points[index]);
    const ObjectivePoint reference = referenceBeyond(front);
    const size_t count = members.size();
    std::vector<double> bounds(count);
    std::vector<size_t> measuredInRound(count, 0);
    std::vector<bool> taken(count, false);
    for (size_t k = 0; k < count; ++k)
        bounds[k] = hypervolume({front[k]}, reference);
    std::vector<ObjectivePoint> chosen;
    std::vector<size_t> ordered;
    double chosenVolume = 0.0;
    for (size_t round = 0; round < picks && round < count; ++round) {
        for (;;) {
            size_t leader = count;
            for (size_t k = 0; k < count; ++k) {
                if (!taken[k] && (leader == count || bounds[k] > bounds[leader]))
                    leader = k;
            }
            if (measuredInRound[leader] == round) {
                taken[leader] = true;
                ordered.push_back(members[leader]);
                chosen.push_back(front[leader]);
                chosenVolume = hypervolume(chosen, reference);
                break;
            }
            chosen.push_back(front[leader]);
            bounds[leader] = hypervolume(chosen, reference) - chosenVolume;
            chosen.pop_back();
            measuredInRound[leader] = round;
        }
    }
    for (size_t k = 0; k < count; ++k) {
        if (!taken[k])
            ordered.push_back(members[k]);
    }
    members = std::move(ordered);
}

} // namespace

std::optional<Assignment> MotpeSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                                const std::vector<FinishedTrial>& history) {
    std::vector<const FinishedTrial*> complete;
    std::vector<Observation> pruned, running;
    std::vector<ObjectivePoint> points;
    std::vector<double> violations;
    size_t objectiveCount = 1, runningCount = 0;
    for (const auto& trial : history) {
        if (trial.state == TrialState::Complete)
            objectiveCount = std::max(objectiveCount, trial.values.size());
    }
    for (const auto& trial : history) {
        if (trial.state == TrialState::Complete) {
            ObjectivePoint objectives = objectivesOf(trial);
            // A trial without every objective cannot be placed among the others: like a failed one.
            const bool usable =
                objectives.size() == objectiveCount &&
                std::all_of(objectives.begin(), objectives.end(), [](double v) { return std::isfinite(v); });
            if (usable) {
                complete.push_back(&trial);
                points.push_back(std::move(objectives));
                violations.push_back(trial.violation);
            }
        } else if (trial.state == TrialState::Pruned && std::isfinite(trial.value)) {
            pruned.push_back({&trial, RankClass::Pruned});
        } else if (trial.state == TrialState::Running && trial.number != trialNumber) {
            ++runningCount;
            if (m_settings.constantLiar)
                running.push_back({&trial, RankClass::Running});
        }
    }
    // The random start counts the trials that are running as well as those with results, as TPE's
    // does, so that it is `startupTrials` long however many workers share the study.
    const size_t withResults = complete.size() + pruned.size();
    if (withResults == 0 ||
        withResults + runningCount < static_cast<size_t>(std::max(1, m_settings.startupTrials)))
        return RandomSampler(m_settings.seed).suggest(space, trialNumber, history);

    // Complete trials front by front (trial order within a front, so the order of `history` does
    // not matter); the fronts that reach into the good group are ordered by subset selection.
    const std::vector<int> ranks = nondominatedRanks(points, violations);
    std::vector<size_t> order(complete.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (ranks[a] != ranks[b])
            return ranks[a] < ranks[b];
        return complete[a]->number < complete[b]->number;
    });
    const size_t observationCount = complete.size() + pruned.size() + running.size();
    const size_t goodLimit = tpe_core::goodCount(observationCount, kMotpeGoodFraction);
    for (size_t begin = 0; begin < order.size() && begin < goodLimit;) {
        size_t end = begin;
        while (end < order.size() && ranks[order[end]] == ranks[order[begin]])
            ++end;
        if (end > goodLimit) {
            std::vector<size_t> members(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                        order.begin() + static_cast<std::ptrdiff_t>(end));
            orderByGreedyContribution(points, members, goodLimit - begin);
            std::copy(members.begin(), members.end(), order.begin() + static_cast<std::ptrdiff_t>(begin));
        }
        begin = end;
    }

    std::vector<Observation> ranked;
    ranked.reserve(observationCount);
    for (size_t index : order)
        ranked.push_back({complete[index], RankClass::Complete});
    std::sort(pruned.begin(), pruned.end(), [](const Observation& a, const Observation& b) {
        if (a.trial->value != b.trial->value)
            return a.trial->value < b.trial->value;
        return a.trial->number < b.trial->number;
    });
    std::sort(running.begin(), running.end(),
              [](const Observation& a, const Observation& b) { return a.trial->number < b.trial->number; });
    ranked.insert(ranked.end(), pruned.begin(), pruned.end());
    ranked.insert(ranked.end(), running.begin(), running.end());
    return tpe_core::suggestFromRanking(m_settings, space, trialNumber, ranked, kMotpeGoodFraction);
}

} // namespace tunelab
