#include "study/pareto_results.h"

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

// A complete trial's point towards the minimum of every objective; false when a value is missing or
// the trial breaks a bound (it is not a trade-off anyone may pick).
bool minimizedPoint(const std::vector<ObjectiveSpec>& objectives, const TrialRecord& trial,
                    ObjectivePoint& point) {
    if (trial.state != TrialState::Complete)
        return false;
    const std::vector<double> values = trialValues(trial);
    if (boundsViolation(objectives, values) > 0.0)
        return false;
    point.assign(objectives.size(), kNoValue);
    for (size_t i = 0; i < objectives.size(); ++i) {
        if (i >= values.size() || !std::isfinite(values[i]))
            return false;
        point[i] = towardsMinimum(objectives[i], values[i]);
    }
    return true;
}

std::vector<const TrialRecord*> inNumberOrder(const std::vector<TrialRecord>& trials) {
    std::vector<const TrialRecord*> ordered;
    for (const TrialRecord& trial : trials)
        ordered.push_back(&trial);
    std::sort(ordered.begin(), ordered.end(),
              [](const TrialRecord* a, const TrialRecord* b) { return a->number < b->number; });
    return ordered;
}

} // namespace

std::vector<TrialRecord> paretoTrials(const std::vector<ObjectiveSpec>& objectives,
                                      const std::vector<TrialRecord>& trials) {
    std::vector<const TrialRecord*> candidates;
    std::vector<ObjectivePoint> points;
    for (const TrialRecord* trial : inNumberOrder(trials)) {
        ObjectivePoint point;
        if (minimizedPoint(objectives, *trial, point)) {
            candidates.push_back(trial);
            points.push_back(std::move(point));
        }
    }
    std::vector<TrialRecord> front;
    for (const size_t index : paretoFront(points))
        front.push_back(*candidates[index]);
    std::sort(front.begin(), front.end(),
              [](const TrialRecord& a, const TrialRecord& b) { return a.number < b.number; });
    return front;
}

std::vector<double> hypervolumeReference(const std::vector<ObjectiveSpec>& objectives,
                                         const std::vector<TrialRecord>& trials) {
    std::vector<ObjectivePoint> points;
    for (const TrialRecord& trial : trials) {
        ObjectivePoint point;
        if (minimizedPoint(objectives, trial, point))
            points.push_back(std::move(point));
    }
    if (points.empty())
        return {};
    std::vector<double> reference(objectives.size());
    for (size_t i = 0; i < objectives.size(); ++i) {
        if (std::isfinite(objectives[i].reference)) {
            reference[i] = objectives[i].reference;
            continue;
        }
        double best = points.front()[i], worst = points.front()[i];
        for (const ObjectivePoint& point : points) {
            best = std::min(best, point[i]);
            worst = std::max(worst, point[i]);
        }
        const double margin = worst > best ? 0.1 * (worst - best) : 1.0;
        // Back from "towards the minimum" to the objective's own direction.
        reference[i] =
            objectives[i].direction == ObjectiveDirection::Maximize ? -(worst + margin) : worst + margin;
    }
    return reference;
}

std::vector<HypervolumeAt> hypervolumeHistory(const std::vector<ObjectiveSpec>& objectives,
                                              const std::vector<TrialRecord>& trials,
                                              const std::vector<double>& reference) {
    std::vector<HypervolumeAt> history;
    if (reference.size() != objectives.size())
        return history;
    ObjectivePoint minimizedReference(objectives.size());
    for (size_t i = 0; i < objectives.size(); ++i)
        minimizedReference[i] = towardsMinimum(objectives[i], reference[i]);
    std::vector<ObjectivePoint> front; // the non-dominated points so far: all the volume needs
    double volume = 0.0;
    int64_t finished = 0;
    for (const TrialRecord* trial : inNumberOrder(trials)) {
        if (!isFinal(trial->state))
            continue;
        ++finished;
        ObjectivePoint point;
        if (minimizedPoint(objectives, *trial, point)) {
            const bool dominated = std::any_of(front.begin(), front.end(), [&](const ObjectivePoint& kept) {
                return kept == point || dominates(kept, point);
            });
            if (!dominated) {
                front.erase(
                    std::remove_if(front.begin(), front.end(),
                                   [&](const ObjectivePoint& kept) { return dominates(point, kept); }),
                    front.end());
                front.push_back(std::move(point));
                volume = hypervolume(front, minimizedReference);
            }
        }
        history.push_back({trial->number, finished, volume});
    }
    return history;
}

} // namespace tunelab
