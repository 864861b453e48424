#pragma once

// Private to the GP sampler (gp_sampler.cpp): what a candidate is worth, given the model's posterior.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace tunelab::detail {

// The log expected improvement of a candidate x while other trials are still running at points p:
//   log E[max(0, min(best, min_p f_p) - f_x)],
// the expectation over the joint posterior of (f_p, f_x). It is the batch expected improvement (q-EI)
// of {p..., x} less that of the pending points alone, which does not depend on x, so maximising it
// picks the best addition to the trials already running: near a pending point f_x and f_p move
// together, and a candidate there adds little that the pending trial does not already bring.
//
// The pending values are drawn kSamples times from their joint posterior (quasi-random: scrambled
// Sobol points through the normal quantile, as BoTorch's samplers do), the same draws for every
// candidate, so that candidates are compared on the same draws and the search over candidates sees a
// deterministic, smooth function. Given a draw, f_x is normal, and its expected improvement is taken
// in closed form rather than drawn too: the same expectation as drawing f_x, with less variance.
// With no pending points this is exactly the analytic log expected improvement,
// log(sigma) + log EI((best - mean) / sigma).
class PendingImprovement {
public:
    static constexpr size_t kSamples = 64;

    // best: the value to improve on; pendingMean and pendingCovariance (row-major): the joint
    // posterior of the pending points' values; seed: the draws.
    PendingImprovement(double best, const std::vector<double>& pendingMean,
                       const std::vector<double>& pendingCovariance, uint64_t seed);

    // mean, variance: the candidate's posterior; covariance: of its value with each pending point's.
    // Where pending points make the value cost more and it cannot exceed `cutoff`, a bound at or below
    // `cutoff` comes back instead, so that `logValue(...) > cutoff` answers as the value would.
    double logValue(double mean, double variance, const std::vector<double>& covariance,
                    double cutoff = -std::numeric_limits<double>::infinity()) const;

    size_t pendingCount() const { return m_count; }

private:
    double m_best;
    size_t m_count;
    // The lower Cholesky factor of the pending covariance; a point whose value is fixed by those
    // before it (the same point twice, or one on an observed point) has a zero column.
    std::vector<double> m_factor;
    std::vector<double> m_draws;      // m_count x kSamples standard normal draws
    std::vector<double> m_thresholds; // min(best, min_p f_p) for each draw
};

// The side of the GP's trust region, a box around the best trial in the unit cube where candidates
// are sought, replayed from the results in trial order as TuRBO does (Eriksson et al., "Scalable
// global optimization via local Bayesian optimization", 2019, with its defaults): it starts at
// kTrustRegionStart; a result better than every one before by more than 1e-3 of the best's size is a
// success, any other a failure; kTrustRegionSuccesses successes in a row double the side (to at most
// kTrustRegionLargest), max(4, dimensions) failures in a row halve it, and a side below
// kTrustRegionSmallest starts again at kTrustRegionStart. The first `startup` results (the random
// start) set the best without counting.
constexpr double kTrustRegionStart = 0.8;
constexpr double kTrustRegionLargest = 1.6;
constexpr double kTrustRegionSmallest = 0.0078125; // 0.5^7
constexpr int kTrustRegionSuccesses = 3;
double trustRegionSide(const std::vector<double>& valuesInTrialOrder, size_t startup, size_t dimensions);

} // namespace tunelab::detail
