#include "search/gp_acquisition.h"

#include "search/sampler_support.h"
#include "search/samplers.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab::detail {

namespace {

constexpr double kMinVariance = 1e-12;

// phi(z) + z Phi(z), the standardised expected improvement, for z > -10 (log EI's direct branch).
double expectedImprovementFactor(double z) {
    const double phi = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI);
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    return std::max(phi + z * cdf, 0.0);
}

// The standard normal quantile: Acklam's rational approximation, refined by one Halley step.
double normalQuantile(double p) {
    static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                                   1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                   6.680131188771972e+01, -1.328068155288572e+01};
    static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                   -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                   3.754408661907416e+00};
    constexpr double kLow = 0.02425;
    double x = 0.0;
    if (p < kLow || p > 1.0 - kLow) {
        const double q = std::sqrt(-2.0 * std::log(p < kLow ? p : 1.0 - p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
        if (p > 1.0 - kLow)
            x = -x;
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    }
    const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
    const double u = e * std::sqrt(2.0 * M_PI) * std::exp(0.5 * x * x);
    return x - u / (1.0 + 0.5 * x * u);
}

} // namespace

PendingImprovement::PendingImprovement(double best, const std::vector<double>& pendingMean,
                                       const std::vector<double>& pendingCovariance, uint64_t seed)
    : m_best(best)
    , m_count(pendingMean.size()) {
    if (m_count == 0)
        return;
    const size_t n = m_count;
    // Cholesky factor, semi-definite: a diagonal left with nothing (up to rounding) of its own
    // variance is a value that the earlier points fix, and gets a zero column.
    m_factor.assign(n * n, 0.0);
    for (size_t j = 0; j < n; ++j) {
        double diagonal = pendingCovariance[j * n + j];
        for (size_t k = 0; k < j; ++k)
            diagonal -= m_factor[j * n + k] * m_factor[j * n + k];
        if (!(diagonal > 1e-9 * std::max(pendingCovariance[j * n + j], kMinVariance)))
            continue;
        const double root = std::sqrt(diagonal);
        m_factor[j * n + j] = root;
        for (size_t i = j + 1; i < n; ++i) {
            double sum = pendingCovariance[i * n + j];
            for (size_t k = 0; k < j; ++k)
                sum -= m_factor[i * n + k] * m_factor[j * n + k];
            m_factor[i * n + j] = sum / root;
        }
    }
    // Quasi-random draws: the first kSamples Sobol points, shifted by a random digital shift per
    // dimension, through the normal quantile; dimensions past the Sobol table draw at random.
    sampler_support::Rng rng(seed);
    m_draws.resize(n * kSamples);
    for (size_t p = 0; p < n; ++p) {
        const bool sobol = p < static_cast<size_t>(SobolSampler::kMaxDimensions);
        const uint32_t shift = static_cast<uint32_t>(rng.next() >> 32);
        double* draws = &m_draws[p * kSamples];
        for (size_t s = 0; s < kSamples; ++s) {
            if (!sobol) {
                draws[s] = rng.normal();
                continue;
            }
            const uint32_t bits = SobolSampler::sobolInteger(s, static_cast<int>(p)) ^ shift;
            draws[s] = normalQuantile((static_cast<double>(bits) + 0.5) * 0x1.0p-32);
        }
    }
    m_thresholds.assign(kSamples, best);
    for (size_t p = 0; p < n; ++p) {
        for (size_t s = 0; s < kSamples; ++s) {
            double value = pendingMean[p];
            for (size_t k = 0; k <= p; ++k)
                value += m_factor[p * n + k] * m_draws[k * kSamples + s];
            m_thresholds[s] = std::min(m_thresholds[s], value);
        }
    }
}

double PendingImprovement::logValue(double mean, double variance, const std::vector<double>& covariance,
                                    double cutoff) const {
    using sampler_support::logExpectedImprovementFactor;
    if (m_count == 0) {
        const double sigma = std::sqrt(variance);
        return std::log(sigma) + logExpectedImprovementFactor((m_best - mean) / sigma);
    }
    const size_t n = m_count;
    // f_x = mean + loading . z + rest * e, with z the pending points' standard draws and e independent
    // of them: loading solves L loading = covariance.
    thread_local std::vector<double> loading;
    loading.assign(n, 0.0);
    double explained = 0.0;
    for (size_t p = 0; p < n; ++p) {
        const double diagonal = m_factor[p * n + p];
        if (diagonal == 0.0)
            continue;
        double sum = covariance[p];
        for (size_t k = 0; k < p; ++k)
            sum -= m_factor[p * n + k] * loading[k];
        loading[p] = sum / diagonal;
        explained += loading[p] * loading[p];
    }
    const double rest = std::sqrt(std::max(variance - explained, kMinVariance));
    // z[s]: the draw's improvement threshold less the candidate's conditional mean, over `rest`.
    thread_local std::vector<double> z;
    z.resize(kSamples);
    for (size_t s = 0; s < kSamples; ++s)
        z[s] = m_thresholds[s] - mean;
    for (size_t p = 0; p < n; ++p) {
        const double* draws = &m_draws[p * kSamples];
        const double weight = loading[p];
        for (size_t s = 0; s < kSamples; ++s)
            z[s] -= weight * draws[s];
    }
    const double inverse = 1.0 / rest;
    double largest = -std::numeric_limits<double>::infinity();
    for (size_t s = 0; s < kSamples; ++s) {
        z[s] *= inverse;
        largest = std::max(largest, z[s]);
    }
    // The mean of the draws' terms is at most the largest term: most candidates of a search end here,
    // without the special functions of every draw.
    const double bound = std::log(rest) + logExpectedImprovementFactor(largest);
    if (bound <= cutoff)
        return bound;
    if (largest > -10.0) {
        // A term 8 below the largest is under 3e-15 of it (phi(z) falls as exp(-z^2 / 2)): left out.
        const double smallest = std::max(-40.0, largest - 8.0);
        double sum = 0.0;
        for (double value : z)
            sum += value > smallest ? expectedImprovementFactor(value) : 0.0;
        return std::log(rest) + std::log(std::max(sum / static_cast<double>(kSamples), 1e-300));
    }
    // Every draw is far from improving: add the terms in log space.
    double sum = 0.0;
    const double top = logExpectedImprovementFactor(largest);
    for (double value : z)
        sum += std::exp(logExpectedImprovementFactor(value) - top);
    return std::log(rest) + top + std::log(sum / static_cast<double>(kSamples));
}

double trustRegionSide(const std::vector<double>& valuesInTrialOrder, size_t startup, size_t dimensions) {
    const size_t failuresToHalve = std::max<size_t>(4, dimensions);
    double side = kTrustRegionStart;
    double best = std::numeric_limits<double>::infinity();
    size_t successes = 0, failures = 0;
    for (size_t i = 0; i < valuesInTrialOrder.size(); ++i) {
        const double value = valuesInTrialOrder[i];
        if (i >= startup) {
            if (!std::isfinite(best) || value < best - 1e-3 * std::fabs(best)) {
                ++successes;
                failures = 0;
            } else {
                ++failures;
                successes = 0;
            }
            if (successes >= static_cast<size_t>(kTrustRegionSuccesses)) {
                side = std::min(kTrustRegionLargest, 2.0 * side);
                successes = 0;
            }
            if (failures >= failuresToHalve) {
                side /= 2.0;
                failures = 0;
            }
            if (side < kTrustRegionSmallest)
                side = kTrustRegionStart;
        }
        best = std::min(best, value);
    }
    return side;
}

} // namespace tunelab::detail
