#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace tunelab {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool hasNaN(const ObjectivePoint& point) {
    return std::any_of(point.begin(), point.end(), [](double v) { return std::isnan(v); });
}

// A NaN violation is an unknown one: it counts as the worst.
double infeasibility(double violation) {
    return std::isnan(violation) ? kInfinity : std::max(violation, 0.0);
}

// Points of one dimension stored one after another, so that the recursion of the hypervolume copies
// flat buffers instead of vectors of vectors.
struct PointSet {
    size_t dimension = 0;
    std::vector<double> coordinates;

    size_t size() const { return dimension == 0 ? 0 : coordinates.size() / dimension; }
    const double* at(size_t i) const { return coordinates.data() + i * dimension; }
};

bool weaklyDominates(const double* a, const double* b, size_t dimension) {
    for (size_t d = 0; d < dimension; ++d) {
        if (a[d] > b[d])
            return false;
    }
    return true;
}

// The points no other one weakly dominates, one copy of each, in lexicographic order. Dropping
// the others leaves the hypervolume as it is.
PointSet nondominatedSubset(const PointSet& points) {
    const size_t n = points.size(), dimension = points.dimension;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return std::lexicographical_compare(points.at(a), points.at(a) + dimension, points.at(b),
                                            points.at(b) + dimension);
    });
    PointSet kept{dimension, {}};
    // In lexicographic order a point can only be weakly dominated by one before it.
    if (dimension == 2) {
        double bestSecond = kInfinity;
        for (size_t i : order) {
            if (points.at(i)[1] < bestSecond) {
                bestSecond = points.at(i)[1];
                kept.coordinates.insert(kept.coordinates.end(), points.at(i), points.at(i) + 2);
            }
        }
        return kept;
    }
    for (size_t i : order) {
        bool dominated = false;
        for (size_t k = 0; k < kept.size() && !dominated; ++k)
            dominated = weaklyDominates(kept.at(k), points.at(i), dimension);
        if (!dominated)
            kept.coordinates.insert(kept.coordinates.end(), points.at(i), points.at(i) + dimension);
    }
    return kept;
}

// Sweep over the first objective of a set sorted lexicographically with no point dominated.
double sweepVolume2d(const PointSet& front, const double* reference) {
    double volume = 0.0, previousSecond = reference[1];
    for (size_t i = 0; i < front.size(); ++i) {
        const double* p = front.at(i);
        volume += (reference[0] - p[0]) * (previousSecond - p[1]);
        previousSecond = p[1];
    }
    return volume;
}

// WFG (While, Bradstreet and Barone 2012) with the slicing of the last objective: with the points
// sorted worst first in the last objective, the volume point k adds to the points after it is a
// slab (reference - its last coordinate) thick whose section is its box minus the hypervolume of
// the later points limited to its box, one dimension lower. Every point strictly dominates
// `reference` and none weakly dominates another.
double wfgVolume(const PointSet& front, const double* reference) {
    const size_t n = front.size(), dimension = front.dimension;
    if (n == 0)
        return 0.0;
    if (dimension == 1)
        return reference[0] - front.at(0)[0];
    if (dimension == 2)
        return sweepVolume2d(front, reference);
    const size_t last = dimension - 1;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return front.at(a)[last] > front.at(b)[last]; });
    double volume = 0.0;
    PointSet limited{last, {}};
    for (size_t k = 0; k < n; ++k) {
        const double* p = front.at(order[k]);
        double box = 1.0;
        for (size_t d = 0; d < last; ++d)
            box *= reference[d] - p[d];
        limited.coordinates.clear();
        for (size_t j = k + 1; j < n; ++j) {
            const double* q = front.at(order[j]);
            for (size_t d = 0; d < last; ++d)
                limited.coordinates.push_back(std::max(p[d], q[d]));
        }
        const double covered = limited.size() == 0 ? 0.0 : wfgVolume(nondominatedSubset(limited), reference);
        volume += (reference[last] - p[last]) * (box - covered);
    }
    return volume;
}

bool countsForVolume(const ObjectivePoint& point, const ObjectivePoint& reference) {
    if (point.size() != reference.size())
        return false;
    for (size_t d = 0; d < point.size(); ++d) {
        // Also false for a NaN; an infinite coordinate would make every volume infinite.
        if (!(point[d] < reference[d]) || !std::isfinite(point[d]))
            return false;
    }
    return true;
}

PointSet volumePoints(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference,
                      size_t skipped = std::numeric_limits<size_t>::max()) {
    PointSet set{reference.size(), {}};
    for (size_t i = 0; i < points.size(); ++i) {
        if (i != skipped && countsForVolume(points[i], reference))
            set.coordinates.insert(set.coordinates.end(), points[i].begin(), points[i].end());
    }
    return set;
}

} // namespace

bool dominates(const ObjectivePoint& a, const ObjectivePoint& b) {
    if (a.size() != b.size() || hasNaN(a))
        return false;
    if (hasNaN(b))
        return true;
    bool better = false;
    for (size_t d = 0; d < a.size(); ++d) {
        if (a[d] > b[d])
            return false;
        better = better || a[d] < b[d];
    }
    return better;
}

bool constrainedDominates(const ObjectivePoint& a, double violationA, const ObjectivePoint& b,
                          double violationB) {
    const double infeasibleA = infeasibility(violationA), infeasibleB = infeasibility(violationB);
    if (infeasibleA == 0.0 && infeasibleB == 0.0)
        return dominates(a, b);
    return infeasibleA < infeasibleB;
}

std::vector<int> nondominatedRanks(const std::vector<ObjectivePoint>& points,
                                   const std::vector<double>& violations) {
    const size_t n = points.size();
    std::vector<double> infeasibilities(n, 0.0);
    std::vector<char> withNaN(n, 0);
    for (size_t i = 0; i < n; ++i) {
        infeasibilities[i] = violations.empty() ? 0.0 : infeasibility(violations[i]);
        withNaN[i] = hasNaN(points[i]) ? 1 : 0;
    }
    // Efficient non-dominated sort (Zhang et al. 2015, sequential search): in this order a point can
    // only be dominated by one before it, so each point joins the first front none of whose
    // members dominates it. Much faster than comparing every pair when there are few fronts.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (infeasibilities[a] != infeasibilities[b])
            return infeasibilities[a] < infeasibilities[b];
        if (withNaN[a] != withNaN[b])
            return withNaN[a] < withNaN[b];
        return std::lexicographical_compare(points[a].begin(), points[a].end(), points[b].begin(),
                                            points[b].end());
    });
    auto dominatesSorted = [&](size_t a, size_t b) {
        if (infeasibilities[a] != 0.0 || infeasibilities[b] != 0.0)
            return infeasibilities[a] < infeasibilities[b];
        if (withNaN[a] || points[a].size() != points[b].size())
            return false;
        if (withNaN[b])
            return true;
        bool better = false;
        for (size_t d = 0; d < points[a].size(); ++d) {
            if (points[a][d] > points[b][d])
                return false;
            better = better || points[a][d] < points[b][d];
        }
        return better;
    };
    std::vector<int> ranks(n, 0);
    std::vector<std::vector<size_t>> fronts;
    for (size_t i : order) {
        size_t front = 0;
        for (; front < fronts.size(); ++front) {
            // The latest members are the likeliest to dominate the next point.
            const auto& members = fronts[front];
            const bool dominated = std::any_of(members.rbegin(), members.rend(),
                                               [&](size_t member) { return dominatesSorted(member, i); });
            if (!dominated)
                break;
        }
        if (front == fronts.size())
            fronts.emplace_back();
        fronts[front].push_back(i);
        ranks[i] = static_cast<int>(front);
    }
    return ranks;
}

std::vector<size_t> paretoFront(const std::vector<ObjectivePoint>& points,
                                const std::vector<double>& violations) {
    const std::vector<int> ranks = nondominatedRanks(points, violations);
    std::vector<size_t> front;
    for (size_t i = 0; i < ranks.size(); ++i) {
        if (ranks[i] == 0)
            front.push_back(i);
    }
    return front;
}

std::vector<double> crowdingDistances(const std::vector<ObjectivePoint>& points,
                                      const std::vector<size_t>& front) {
    const size_t n = front.size();
    if (n <= 2)
        return std::vector<double>(n, kInfinity);
    std::vector<double> distances(n, 0.0);
    const size_t objectives = points[front[0]].size();
    std::vector<size_t> order(n);
    for (size_t m = 0; m < objectives; ++m) {
        // A point without this objective counts as one without a value.
        auto valueAt = [&](size_t k) { return m < points[front[k]].size() ? points[front[k]][m] : kNaN; };
        std::iota(order.begin(), order.end(), size_t{0});
        // NaN last, so that a point without a value is an extreme rather than a neighbour.
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            const double va = valueAt(a), vb = valueAt(b);
            return std::isnan(vb) ? !std::isnan(va) : va < vb;
        });
        distances[order.front()] = kInfinity;
        distances[order.back()] = kInfinity;
        const double range = valueAt(order.back()) - valueAt(order.front());
        if (!(range > 0.0) || !std::isfinite(range))
            continue;
        for (size_t k = 1; k + 1 < n; ++k)
            distances[order[k]] += (valueAt(order[k + 1]) - valueAt(order[k - 1])) / range;
    }
    return distances;
}

double hypervolume(const std::vector<ObjectivePoint>& points, const ObjectivePoint& reference) {
    const PointSet set = volumePoints(points, reference);
    if (set.size() == 0)
        return 0.0;
    return wfgVolume(nondominatedSubset(set), reference.data());
}

std::vector<double> hypervolumeContributions(const std::vector<ObjectivePoint>& points,
                                             const ObjectivePoint& reference) {
    const size_t n = points.size(), dimension = reference.size();
    std::vector<double> contributions(n, 0.0);
    std::vector<size_t> counted;
    for (size_t i = 0; i < n; ++i) {
        if (countsForVolume(points[i], reference))
            counted.push_back(i);
    }
    PointSet limited{dimension, {}};
    for (size_t i : counted) {
        const ObjectivePoint& p = points[i];
        // A point another one weakly dominates (or repeats) adds nothing alone.
        const bool covered = std::any_of(counted.begin(), counted.end(), [&](size_t j) {
            return j != i && weaklyDominates(points[j].data(), p.data(), dimension);
        });
        if (covered)
            continue;
        // What p alone adds: its box less the part the others cover, which is the hypervolume of
        // the others limited to the box. Every point counts here, those p dominates too.
        limited.coordinates.clear();
        for (size_t j : counted) {
            if (j == i)
                continue;
            for (size_t d = 0; d < dimension; ++d)
                limited.coordinates.push_back(std::max(p[d], points[j][d]));
        }
        double box = 1.0;
        for (size_t d = 0; d < dimension; ++d)
            box *= reference[d] - p[d];
        const double others =
            limited.size() == 0 ? 0.0 : wfgVolume(nondominatedSubset(limited), reference.data());
        contributions[i] = std::max(0.0, box - others);
    }
    return contributions;
}

} // namespace tunelab
