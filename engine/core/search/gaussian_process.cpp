#include "search/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace tunelab::detail {

namespace {

constexpr double kSqrt5 = 2.23606797749978969641;
constexpr double kLogTwoPi = 1.83787706640934548356;
constexpr double kMinNoise = 1e-6;
constexpr double kJitter = 1e-9;

double matern52(double r2) {
    const double r = std::sqrt(r2);
    return (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * std::exp(-kSqrt5 * r);
}

// In-place lower Cholesky factor of a row-major n x n matrix; false when not positive definite.
bool cholesky(std::vector<double>& a, size_t n) {
    for (size_t j = 0; j < n; ++j) {
        double* rowJ = &a[j * n];
        double diagonal = rowJ[j];
        for (size_t k = 0; k < j; ++k)
            diagonal -= rowJ[k] * rowJ[k];
        if (!(diagonal > 0.0))
            return false;
        const double root = std::sqrt(diagonal);
        rowJ[j] = root;
        for (size_t i = j + 1; i < n; ++i) {
            double* rowI = &a[i * n];
            double sum = rowI[j];
            for (size_t k = 0; k < j; ++k)
                sum -= rowI[k] * rowJ[k];
            rowI[j] = sum / root;
        }
    }
    for (size_t i = 0; i < n; ++i)
        std::fill(a.begin() + static_cast<std::ptrdiff_t>(i * n + i + 1),
                  a.begin() + static_cast<std::ptrdiff_t>((i + 1) * n), 0.0);
    return true;
}

// Solves L z = b in place.
void forwardSolve(const std::vector<double>& l, size_t n, double* b) {
    for (size_t i = 0; i < n; ++i) {
        const double* row = &l[i * n];
        double sum = b[i];
        for (size_t k = 0; k < i; ++k)
            sum -= row[k] * b[k];
        b[i] = sum / row[i];
    }
}

// Solves L^T z = b in place.
void backwardSolve(const std::vector<double>& l, size_t n, double* b) {
    for (size_t i = n; i-- > 0;) {
        double sum = b[i];
        for (size_t k = i + 1; k < n; ++k)
            sum -= l[k * n + i] * b[k];
        b[i] = sum / l[i * n + i];
    }
}

} // namespace

GaussianProcess::GaussianProcess(KernelColumns columns, std::vector<std::vector<double>> points,
                                 std::vector<double> targets)
    : m_columns(std::move(columns))
    , m_points(std::move(points))
    , m_targets(std::move(targets)) {}

void GaussianProcess::fit(bool thorough) {
    const size_t scales = static_cast<size_t>(m_columns.scales);
    chooseFitPoints();
    const size_t n = m_fitPoints.size();
    // Per-scale squared distances of every pair, reused by every likelihood evaluation.
    m_pairDistances.assign(scales * n * n, 0.0);
    const auto& columnScale = m_columns.scaleOf;
    const auto& columnWeight = m_columns.weight;
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < i; ++j) {
            for (size_t c = 0; c < columnScale.size(); ++c) {
                const double d = m_fitPoints[i][c] - m_fitPoints[j][c];
                m_pairDistances[static_cast<size_t>(columnScale[c]) * n * n + i * n + j] +=
                    columnWeight[c] * d * d;
            }
        }
    }
    std::vector<std::vector<double>> starts;
    std::vector<double> start(scales + 2, std::log(0.5));
    start[scales] = 0.0;
    start[scales + 1] = std::log(1e-4);
    starts.push_back(start);
    if (thorough) {
        std::fill(start.begin(), start.begin() + static_cast<std::ptrdiff_t>(scales), std::log(0.15));
        starts.push_back(start);
    }
    double bestObjective = std::numeric_limits<double>::infinity();
    std::vector<double> best = starts.front();
    for (auto& theta : starts) {
        const double objective = minimise(theta, thorough ? 60 : 25);
        if (objective < bestObjective) {
            bestObjective = objective;
            best = theta;
        }
    }
    m_theta = best;
    factorise();
}

// All points when there are at most kMaxFitPoints; otherwise the best half by target and an even
// spread over the rest.
void GaussianProcess::chooseFitPoints() {
    constexpr size_t kMaxFitPoints = 100;
    const size_t n = m_points.size();
    if (n <= kMaxFitPoints) {
        m_fitPoints = m_points;
        m_fitTargets = m_targets;
        return;
    }
    std::vector<size_t> order(n);
    for (size_t i = 0; i < n; ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return m_targets[a] < m_targets[b]; });
    std::vector<char> chosen(n, 0);
    for (size_t i = 0; i < kMaxFitPoints / 2; ++i)
        chosen[order[i]] = 1;
    const size_t rest = n - kMaxFitPoints / 2;
    for (size_t k = 0; k < kMaxFitPoints / 2; ++k)
        chosen[order[kMaxFitPoints / 2 + k * rest / (kMaxFitPoints / 2)]] = 1;
    m_fitPoints.clear();
    m_fitTargets.clear();
    for (size_t i = 0; i < n; ++i) {
        if (chosen[i]) {
            m_fitPoints.push_back(m_points[i]);
            m_fitTargets.push_back(m_targets[i]);
        }
    }
}

void GaussianProcess::predict(const std::vector<double>& x, double& mean, double& variance) const {
    thread_local std::vector<double> solved;
    predictSolved(x, mean, variance, solved);
}

void GaussianProcess::predictSolved(const std::vector<double>& x, double& mean, double& variance,
                                    std::vector<double>& solved) const {
    const size_t n = m_points.size();
    std::vector<double>& k = solved;
    k.resize(n);
    for (size_t i = 0; i < n; ++i)
        k[i] = m_signal * matern52(scaledDistance(x, m_points[i]));
    mean = 0.0;
    for (size_t i = 0; i < n; ++i)
        mean += k[i] * m_alpha[i];
    forwardSolve(m_factor, n, k.data());
    double explained = 0.0;
    for (size_t i = 0; i < n; ++i)
        explained += k[i] * k[i];
    variance = std::max(m_signal - explained, 1e-12);
}

GaussianProcess::Pending GaussianProcess::pending(std::vector<std::vector<double>> points) const {
    Pending result;
    const size_t count = points.size();
    result.points = std::move(points);
    result.solved.resize(count);
    result.mean.resize(count);
    std::vector<double> variances(count);
    for (size_t p = 0; p < count; ++p)
        predictSolved(result.points[p], result.mean[p], variances[p], result.solved[p]);
    result.covariance.assign(count * count, 0.0);
    for (size_t p = 0; p < count; ++p) {
        result.covariance[p * count + p] = variances[p];
        for (size_t q = 0; q < p; ++q) {
            double explained = 0.0;
            for (size_t i = 0; i < m_points.size(); ++i)
                explained += result.solved[p][i] * result.solved[q][i];
            result.covariance[p * count + q] = result.covariance[q * count + p] =
                m_signal * matern52(scaledDistance(result.points[p], result.points[q])) - explained;
        }
    }
    return result;
}

void GaussianProcess::predict(const std::vector<double>& x, const Pending& pending, double& mean,
                              double& variance, std::vector<double>& covariance) const {
    thread_local std::vector<double> solved;
    predictSolved(x, mean, variance, solved);
    const size_t n = m_points.size();
    covariance.resize(pending.points.size());
    for (size_t p = 0; p < pending.points.size(); ++p) {
        const std::vector<double>& other = pending.solved[p];
        double explained = 0.0;
        for (size_t i = 0; i < n; ++i)
            explained += solved[i] * other[i];
        covariance[p] = m_signal * matern52(scaledDistance(x, pending.points[p])) - explained;
    }
}

double GaussianProcess::scaledDistance(const std::vector<double>& a, const std::vector<double>& b) const {
    const auto& columnScale = m_columns.scaleOf;
    const auto& columnWeight = m_columns.weight;
    double r2 = 0.0;
    for (size_t c = 0; c < columnScale.size(); ++c) {
        const double d = a[c] - b[c];
        r2 += columnWeight[c] * d * d * m_inverseSquaredScales[static_cast<size_t>(columnScale[c])];
    }
    return r2;
}

void GaussianProcess::bounds(size_t index, size_t scales, double& low, double& high) {
    if (index < scales) {
        low = std::log(0.01), high = std::log(20.0);
    } else if (index == scales) {
        low = std::log(0.05), high = std::log(20.0);
    } else {
        low = std::log(kMinNoise), high = std::log(1.0);
    }
}

// Negative log posterior of the hyperparameters and its gradient: the marginal likelihood plus
// weak priors (length scales around 0.5, signal variance around 1, small noise).
double GaussianProcess::objective(const std::vector<double>& theta, std::vector<double>& gradient) const {
    const size_t scales = static_cast<size_t>(m_columns.scales);
    const size_t n = m_fitPoints.size();
    std::vector<double> inverseSquared(scales);
    for (size_t s = 0; s < scales; ++s)
        inverseSquared[s] = std::exp(-2.0 * theta[s]);
    const double signal = std::exp(theta[scales]);
    const double noise = std::exp(theta[scales + 1]);
    std::vector<double> kernel(n * n, 0.0), slope(n * n, 0.0);
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < i; ++j) {
            double r2 = 0.0;
            for (size_t s = 0; s < scales; ++s)
                r2 += m_pairDistances[s * n * n + i * n + j] * inverseSquared[s];
            const double r = std::sqrt(r2);
            const double e = std::exp(-kSqrt5 * r);
            kernel[i * n + j] = kernel[j * n + i] = signal * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r2) * e;
            slope[i * n + j] = signal * -5.0 / 6.0 * (1.0 + kSqrt5 * r) * e;
        }
        kernel[i * n + i] = signal + noise + kJitter;
    }
    std::vector<double> factor = kernel;
    if (!cholesky(factor, n))
        return std::numeric_limits<double>::infinity();
    std::vector<double> alpha = m_fitTargets;
    forwardSolve(factor, n, alpha.data());
    double logLikelihood = 0.0;
    for (size_t i = 0; i < n; ++i)
        logLikelihood -= 0.5 * alpha[i] * alpha[i] + std::log(factor[i * n + i]);
    logLikelihood -= 0.5 * static_cast<double>(n) * kLogTwoPi;
    backwardSolve(factor, n, alpha.data());

    // K^-1 = L^-T L^-1: invert L in place (lower), then multiply.
    std::vector<double> inverseFactor(n * n, 0.0);
    for (size_t j = 0; j < n; ++j) {
        inverseFactor[j * n + j] = 1.0 / factor[j * n + j];
        for (size_t i = j + 1; i < n; ++i) {
            double sum = 0.0;
            for (size_t k = j; k < i; ++k)
                sum -= factor[i * n + k] * inverseFactor[k * n + j];
            inverseFactor[i * n + j] = sum / factor[i * n + i];
        }
    }
    // W = alpha alpha^T - K^-1, lower triangle with the diagonal.
    gradient.assign(theta.size(), 0.0);
    double trace = 0.0;
    for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j <= i; ++j) {
            double inverse = 0.0;
            for (size_t k = i; k < n; ++k)
                inverse += inverseFactor[k * n + i] * inverseFactor[k * n + j];
            const double w = alpha[i] * alpha[j] - inverse;
            if (i == j) {
                trace += w;
                gradient[scales] += 0.5 * w * signal;
                continue;
            }
            // Off-diagonal entries count twice (symmetry), halving cancels the 0.5.
            gradient[scales] += w * kernel[i * n + j];
            const double common = w * slope[i * n + j];
            for (size_t s = 0; s < scales; ++s)
                gradient[s] += common * -2.0 * m_pairDistances[s * n * n + i * n + j] * inverseSquared[s];
        }
    }
    gradient[scales + 1] = 0.5 * trace * noise;

    double logPrior = 0.0;
    for (size_t s = 0; s < scales; ++s) {
        // Gamma(3, 6) on the length scale, written over its logarithm.
        logPrior += 3.0 * theta[s] - 6.0 * std::exp(theta[s]);
        gradient[s] += 3.0 - 6.0 * std::exp(theta[s]);
    }
    logPrior += 2.0 * theta[scales] - 0.15 * signal;
    gradient[scales] += 2.0 - 0.15 * signal;
    const double noiseOffset = (theta[scales + 1] - std::log(1e-4)) / 4.0;
    logPrior -= 0.5 * noiseOffset * noiseOffset;
    gradient[scales + 1] -= noiseOffset / 4.0;

    for (auto& g : gradient)
        g = -g;
    return -(logLikelihood + logPrior);
}

// Limited-memory BFGS with a backtracking line search, projected onto the hyperparameter box.
double GaussianProcess::minimise(std::vector<double>& theta, int iterations) const {
    const size_t scales = static_cast<size_t>(m_columns.scales);
    const size_t size = theta.size();
    auto project = [&](std::vector<double>& point) {
        for (size_t i = 0; i < size; ++i) {
            double low, high;
            bounds(i, scales, low, high);
            point[i] = std::clamp(point[i], low, high);
        }
    };
    project(theta);
    std::vector<double> gradient;
    double value = objective(theta, gradient);
    if (!std::isfinite(value))
        return value;
    constexpr size_t kMemory = 6;
    std::vector<std::vector<double>> steps, changes;
    std::vector<double> rhos;
    for (int iteration = 0; iteration < iterations; ++iteration) {
        std::vector<double> direction(size);
        for (size_t i = 0; i < size; ++i)
            direction[i] = -gradient[i];
        std::vector<double> alphas(steps.size());
        for (size_t m = steps.size(); m-- > 0;) {
            double dot = 0.0;
            for (size_t i = 0; i < size; ++i)
                dot += steps[m][i] * direction[i];
            alphas[m] = rhos[m] * dot;
            for (size_t i = 0; i < size; ++i)
                direction[i] -= alphas[m] * changes[m][i];
        }
        if (!steps.empty()) {
            double sy = 0.0, yy = 0.0;
            for (size_t i = 0; i < size; ++i) {
                sy += steps.back()[i] * changes.back()[i];
                yy += changes.back()[i] * changes.back()[i];
            }
            for (auto& d : direction)
                d *= sy / yy;
        }
        for (size_t m = 0; m < steps.size(); ++m) {
            double dot = 0.0;
            for (size_t i = 0; i < size; ++i)
                dot += changes[m][i] * direction[i];
            const double beta = rhos[m] * dot;
            for (size_t i = 0; i < size; ++i)
                direction[i] += steps[m][i] * (alphas[m] - beta);
        }
        double slope = 0.0;
        for (size_t i = 0; i < size; ++i)
            slope += direction[i] * gradient[i];
        if (!(slope < 0.0)) {
            steps.clear(), changes.clear(), rhos.clear();
            for (size_t i = 0; i < size; ++i)
                direction[i] = -gradient[i];
            slope = 0.0;
            for (size_t i = 0; i < size; ++i)
                slope += direction[i] * gradient[i];
        }
        // Keep the first step moderate: hyperparameters live on a log scale.
        double length = 1.0;
        double largest = 0.0;
        for (double d : direction)
            largest = std::max(largest, std::fabs(d));
        if (steps.empty() && largest > 1.0)
            length = 1.0 / largest;
        bool moved = false;
        std::vector<double> next(size), nextGradient;
        double nextValue = value;
        for (int backtrack = 0; backtrack < 12; ++backtrack) {
            for (size_t i = 0; i < size; ++i)
                next[i] = theta[i] + length * direction[i];
            project(next);
            nextValue = objective(next, nextGradient);
            if (std::isfinite(nextValue) && nextValue <= value + 1e-4 * length * slope) {
                moved = true;
                break;
            }
            length *= 0.3;
        }
        if (!moved)
            break;
        std::vector<double> step(size), change(size);
        double sy = 0.0;
        for (size_t i = 0; i < size; ++i) {
            step[i] = next[i] - theta[i];
            change[i] = nextGradient[i] - gradient[i];
            sy += step[i] * change[i];
        }
        const double improvement = value - nextValue;
        theta = next;
        gradient = nextGradient;
        value = nextValue;
        if (sy > 1e-12) {
            steps.push_back(step);
            changes.push_back(change);
            rhos.push_back(1.0 / sy);
            if (steps.size() > kMemory) {
                steps.erase(steps.begin());
                changes.erase(changes.begin());
                rhos.erase(rhos.begin());
            }
        }
        if (improvement < 1e-6 * std::max(1.0, std::fabs(value)))
            break;
    }
    return value;
}

void GaussianProcess::factorise() {
    const size_t scales = static_cast<size_t>(m_columns.scales);
    const size_t n = m_points.size();
    m_inverseSquaredScales.resize(scales);
    for (size_t s = 0; s < scales; ++s)
        m_inverseSquaredScales[s] = std::exp(-2.0 * m_theta[s]);
    m_signal = std::exp(m_theta[scales]);
    double noise = std::exp(m_theta[scales + 1]);
    for (int attempt = 0; attempt < 8; ++attempt, noise *= 10.0) {
        m_factor.assign(n * n, 0.0);
        for (size_t i = 0; i < n; ++i) {
            for (size_t j = 0; j < i; ++j)
                m_factor[i * n + j] = m_factor[j * n + i] =
                    m_signal * matern52(scaledDistance(m_points[i], m_points[j]));
            m_factor[i * n + i] = m_signal + noise + kJitter;
        }
        if (cholesky(m_factor, n))
            break;
    }
    m_alpha = m_targets;
    forwardSolve(m_factor, n, m_alpha.data());
    backwardSolve(m_factor, n, m_alpha.data());
}

} // namespace tunelab::detail
