#pragma once

// Private to the GP sampler (gp_sampler.cpp): the Gaussian-process model behind its suggestions.
// The sampler encodes trials as points in [0, 1]^width; this model knows nothing of search spaces.

#include <cstddef>
#include <vector>

namespace tunelab::detail {

// How the input columns of a point enter the kernel's distance: column c adds
// weight[c] * d^2 / lengthScale[scaleOf[c]]^2, so the columns of one parameter share a length scale.
struct KernelColumns {
    std::vector<int> scaleOf;
    std::vector<double> weight;
    int scales = 0;
};

// A Gaussian process with a Matern-5/2 kernel over standardised targets.
class GaussianProcess {
public:
    // Hyperparameters: log length scales, then log signal variance, then log noise variance.
    GaussianProcess(KernelColumns columns, std::vector<std::vector<double>> points,
                    std::vector<double> targets);

    // Fits the hyperparameters on at most kMaxFitPoints points (the best half and a spread of the
    // rest): the likelihood costs O(n^3) per evaluation, and a few hundred trials add little to it.
    void fit(bool thorough);

    // The posterior of the latent function at x: its mean and variance.
    void predict(const std::vector<double>& x, double& mean, double& variance) const;

    // The joint posterior at points whose evaluations are pending (trials still running): the
    // means, and the covariance of their values, row-major.
    struct Pending {
        std::vector<std::vector<double>> points;
        std::vector<std::vector<double>> solved; // L^-1 k(X, p) for each point, L the factor of K(X, X)
        std::vector<double> mean;
        std::vector<double> covariance;
    };
    Pending pending(std::vector<std::vector<double>> points) const;

    // predict, and the posterior covariance of the value at x with each pending point's value. With
    // no pending points the mean and variance are exactly predict's.
    void predict(const std::vector<double>& x, const Pending& pending, double& mean, double& variance,
                 std::vector<double>& covariance) const;

private:
    // predict, leaving L^-1 k(X, x) in `solved`.
    void predictSolved(const std::vector<double>& x, double& mean, double& variance,
                       std::vector<double>& solved) const;
    void chooseFitPoints();
    double scaledDistance(const std::vector<double>& a, const std::vector<double>& b) const;
    static void bounds(size_t index, size_t scales, double& low, double& high);
    double objective(const std::vector<double>& theta, std::vector<double>& gradient) const;
    double minimise(std::vector<double>& theta, int iterations) const;
    void factorise();

    KernelColumns m_columns;
    std::vector<std::vector<double>> m_points;
    std::vector<double> m_targets;
    std::vector<std::vector<double>> m_fitPoints;
    std::vector<double> m_fitTargets;
    std::vector<double> m_pairDistances;
    std::vector<double> m_theta;
    std::vector<double> m_inverseSquaredScales;
    double m_signal = 1.0;
    std::vector<double> m_factor;
    std::vector<double> m_alpha;
};

} // namespace tunelab::detail
