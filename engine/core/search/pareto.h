#pragma once

// Pareto dominance, non-dominated sorting, crowding and hypervolume for studies with several
// objectives. Points are vectors of objective values, every one towards its minimum.

#include <cstddef>
#include <vector>

namespace tunelab {

using ObjectivePoint = std::vector<double>;

// Whether `a` is at least as good as `b` in every objective and better in one. A point with a NaN
// dominates nothing and is dominated by every point without one.
bool dominates(const ObjectivePoint& a, const ObjectivePoint& b);

// Whether `a` dominates `b` when constraints count first (Deb's rule): a feasible point (violation
// 0) dominates an infeasible one, of two infeasible points the smaller violation dominates, and
// two feasible points compare by dominates().
bool constrainedDominates(const ObjectivePoint& a, double violationA, const ObjectivePoint& b,
                          double violationB);

// The non-domination rank of every point: 0 for the Pareto front, 1 for the front once the first
// is removed, and so on. `violations` may be empty (all feasible) or hold one value per point.
std::vector<int> nondominatedRanks(const std::vector<ObjectivePoint>& points,
                                   const std::vector<double>& violations = {});

// The indices of the points of rank 0.
std::vector<size_t> paretoFront(const std::vector<ObjectivePoint>& points,
                                const std::vector<double>& violations = {});

// NSGA-II's crowding distance of each of the points `front` names (indices into `points`), in the
// order of `front`; the extreme points of each objective get infinity.
std::vector<double> crowdingDistances(const std::vector<ObjectivePoint>& points,
                                      const std::vector<size_t>& front);

// The volume dominated by the points and bounded by `reference` (a point worse than every one
// that counts): exact, for any number of objectives. Points that do not dominate the reference
// point, or hold a NaN, add nothing; so does a point with an infinite objective, which would make
// the volume infinite. Slicing WFG: a few hundred points in 3 or 4 objectives take milliseconds.
double hypervolume(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference);

// What each point alone adds to the hypervolume of all of them (0 for a dominated point).
std::vector<double> hypervolumeContributions(const std::vector<ObjectivePoint>& points,
                                             const ObjectivePoint& reference);

} // namespace tunelab
