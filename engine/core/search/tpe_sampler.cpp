#include "search/sampler_support.h"
#include "search/samplers.h"
#include "search/tpe_core.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

using namespace sampler_support;
using tpe_core::Observation;
using tpe_core::RankClass;

constexpr double kPriorWeight = 1.0;
// The share of observations in the good group and the multivariate bandwidth at one observation.
// Tuned on Branin, Hartmann-6 and Rosenbrock-4 (bench/bench_sampler_quality.cpp): a slightly larger
// good group and narrower joint kernels than the usual 0.1 and 0.2 find better points in 60 trials.
constexpr double kGoodFraction = 0.15;
constexpr double kBandwidthScale = 0.15;
// Trials older than the most recent kFlatWeightTrials get linearly smaller weights.
constexpr int kFlatWeightTrials = 25;
constexpr double kLogSqrtTwoPi = 0.91893853320467274178;

// TPE's order: completed by value, then pruned by value, then running ones.
bool rankedBefore(const Observation& a, const Observation& b) {
    if (a.rankClass != b.rankClass)
        return a.rankClass < b.rankClass;
    if (a.rankClass != RankClass::Running && a.trial->value != b.trial->value)
        return a.trial->value < b.trial->value;
    return a.trial->number < b.trial->number;
}

std::vector<double> recencyWeights(size_t count) {
    std::vector<double> weights(count, 1.0);
    if (count <= static_cast<size_t>(kFlatWeightTrials))
        return weights;
    const size_t ramp = count - kFlatWeightTrials;
    for (size_t i = 0; i < ramp; ++i) {
        const double t = ramp == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(ramp - 1);
        weights[i] = 1.0 / static_cast<double>(count) + t * (1.0 - 1.0 / static_cast<double>(count));
    }
    return weights;
}

// Points of one group of parameters: numeric ones as unit coordinates, choices as indices.
struct GroupPoint {
    std::vector<double> units;
    std::vector<int> choices;
    int64_t number = 0;
};

// A mixture of product kernels (one per observation plus a prior kernel): truncated Gaussians on
// [0, 1] for numeric dimensions, smoothed frequencies for choices.
class ParzenEstimator {
public:
    ParzenEstimator(const std::vector<const SearchParameter*>& group, std::vector<GroupPoint> points,
                    bool multivariate)
        : m_group(group) {
        std::sort(points.begin(), points.end(),
                  [](const GroupPoint& a, const GroupPoint& b) { return a.number < b.number; });
        const size_t n = points.size();
        const size_t kernels = n + 1;
        std::vector<double> weights = recencyWeights(n);
        weights.push_back(kPriorWeight);
        double total = 0.0;
        for (double w : weights)
            total += w;
        m_logWeights.resize(kernels);
        for (size_t k = 0; k < kernels; ++k)
            m_logWeights[k] = std::log(weights[k] / total);

        size_t numeric = 0;
        for (const auto* parameter : group)
            numeric += isChoice(*parameter) ? 0 : 1;
        const double minSigma = 1.0 / std::min(100.0, 1.0 + static_cast<double>(kernels));
        size_t numericIndex = 0, choiceIndex = 0;
        for (const auto* parameter : group) {
            if (isChoice(*parameter)) {
                const size_t count = std::max<size_t>(1, parameter->values.size());
                std::vector<double> logProbabilities(kernels * count);
                const double smoothing = kPriorWeight / static_cast<double>(kernels);
                for (size_t k = 0; k < kernels; ++k) {
                    const int observed = k < n ? points[k].choices[choiceIndex] : -1;
                    const double sum = smoothing * count + (observed >= 0 ? 1.0 : 0.0);
                    for (size_t c = 0; c < count; ++c) {
                        const double mass = smoothing + (static_cast<int>(c) == observed ? 1.0 : 0.0);
                        logProbabilities[k * count + c] = std::log(mass / sum);
                    }
                }
                m_choiceCounts.push_back(count);
                m_choiceLogProbabilities.push_back(std::move(logProbabilities));
                ++choiceIndex;
                continue;
            }
            std::vector<double> mus(kernels), sigmas(kernels);
            for (size_t k = 0; k < n; ++k)
                mus[k] = points[k].units[numericIndex];
            mus[n] = 0.5;
            if (multivariate) {
                // Scott-like bandwidth shrinking with the number of observations and growing with dimension.
                const double sigma = kBandwidthScale * std::pow(static_cast<double>(std::max<size_t>(n, 1)),
                                                                -1.0 / (static_cast<double>(numeric) + 4.0));
                std::fill(sigmas.begin(), sigmas.end(), sigma);
            } else {
                // The larger gap to a neighbouring observation (the range ends count as neighbours).
                std::vector<size_t> order(kernels);
                for (size_t k = 0; k < kernels; ++k)
                    order[k] = k;
                std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return mus[a] < mus[b]; });
                for (size_t i = 0; i < kernels; ++i) {
                    const double left = i == 0 ? 0.0 : mus[order[i - 1]];
                    const double right = i + 1 == kernels ? 1.0 : mus[order[i + 1]];
                    sigmas[order[i]] = std::max(mus[order[i]] - left, right - mus[order[i]]);
                }
            }
            sigmas[n] = 1.0;
            std::vector<double> logNormalisers(kernels);
            for (size_t k = 0; k < kernels; ++k) {
                sigmas[k] = std::clamp(sigmas[k], minSigma, 1.0);
                const double mass = normalCdf((1.0 - mus[k]) / sigmas[k]) - normalCdf(-mus[k] / sigmas[k]);
                logNormalisers[k] = -std::log(std::max(mass, 1e-300)) - std::log(sigmas[k]) - kLogSqrtTwoPi;
            }
            m_mus.push_back(std::move(mus));
            m_sigmas.push_back(std::move(sigmas));
            m_logNormalisers.push_back(std::move(logNormalisers));
            ++numericIndex;
        }
    }

    GroupPoint sample(Rng& rng) const {
        double u = rng.uniform();
        size_t kernel = m_logWeights.size() - 1;
        for (size_t k = 0; k < m_logWeights.size(); ++k) {
            u -= std::exp(m_logWeights[k]);
            if (u < 0.0) {
                kernel = k;
                break;
            }
        }
        GroupPoint point;
        size_t numericIndex = 0, choiceIndex = 0;
        for (const auto* parameter : m_group) {
            if (isChoice(*parameter)) {
                const size_t count = m_choiceCounts[choiceIndex];
                const double* logP = &m_choiceLogProbabilities[choiceIndex][kernel * count];
                double r = rng.uniform();
                int chosen = static_cast<int>(count) - 1;
                for (size_t c = 0; c < count; ++c) {
                    r -= std::exp(logP[c]);
                    if (r < 0.0) {
                        chosen = static_cast<int>(c);
                        break;
                    }
                }
                point.choices.push_back(chosen);
                ++choiceIndex;
                continue;
            }
            const double mu = m_mus[numericIndex][kernel], sigma = m_sigmas[numericIndex][kernel];
            double x = std::clamp(mu, 0.0, 1.0);
            for (int attempt = 0; attempt < 64; ++attempt) {
                const double draw = mu + sigma * rng.normal();
                if (draw >= 0.0 && draw <= 1.0) {
                    x = draw;
                    break;
                }
            }
            point.units.push_back(snapUnit(*parameter, x));
            ++numericIndex;
        }
        return point;
    }

    double logDensity(const GroupPoint& point) const {
        const size_t kernels = m_logWeights.size();
        std::vector<double> terms(m_logWeights);
        for (size_t d = 0; d < m_mus.size(); ++d) {
            const double x = point.units[d];
            const double* mus = m_mus[d].data();
            const double* sigmas = m_sigmas[d].data();
            const double* norms = m_logNormalisers[d].data();
            for (size_t k = 0; k < kernels; ++k) {
                const double z = (x - mus[k]) / sigmas[k];
                terms[k] += norms[k] - 0.5 * z * z;
            }
        }
        for (size_t d = 0; d < m_choiceCounts.size(); ++d) {
            const size_t count = m_choiceCounts[d];
            const int chosen = point.choices[d];
            for (size_t k = 0; k < kernels; ++k)
                terms[k] += m_choiceLogProbabilities[d][k * count + static_cast<size_t>(chosen)];
        }
        const double top = *std::max_element(terms.begin(), terms.end());
        double sum = 0.0;
        for (double t : terms) {
            // Kernels this far below the largest add less than 1e-16 of it: skip their exp.
            if (t > top - 37.0)
                sum += std::exp(t - top);
        }
        return top + std::log(sum);
    }

private:
    std::vector<const SearchParameter*> m_group;
    std::vector<double> m_logWeights;
    std::vector<std::vector<double>> m_mus, m_sigmas, m_logNormalisers;
    std::vector<size_t> m_choiceCounts;
    std::vector<std::vector<double>> m_choiceLogProbabilities;
};

// Every parameter of one trial as a unit coordinate or a choice index; NaN where it did not apply
// or cannot be read. Read once per suggestion, since the JSON values are slow to parse.
std::vector<double> decodeTrial(const SearchSpace& space, const FinishedTrial& trial) {
    const auto& parameters = space.parameters();
    std::vector<double> coordinates(parameters.size(), std::numeric_limits<double>::quiet_NaN());
    for (size_t i = 0; i < parameters.size(); ++i) {
        auto found = trial.assignment.find(parameters[i].path);
        if (found == trial.assignment.end())
            continue;
        if (isChoice(parameters[i])) {
            const int choice = choiceOf(parameters[i], found->second);
            if (choice >= 0)
                coordinates[i] = choice;
        } else if (double number = 0.0; readNumber(found->second, number)) {
            coordinates[i] = unitOf(parameters[i], number);
        }
    }
    return coordinates;
}

// The group's coordinates in one trial, or false when a parameter of the group did not apply to it.
bool groupPointOf(const std::vector<const SearchParameter*>& group, const std::vector<size_t>& indices,
                  const std::vector<double>& coordinates, int64_t number, GroupPoint& point) {
    point.units.clear();
    point.choices.clear();
    point.number = number;
    for (size_t g = 0; g < group.size(); ++g) {
        const double coordinate = coordinates[indices[g]];
        if (std::isnan(coordinate))
            return false;
        if (isChoice(*group[g]))
            point.choices.push_back(static_cast<int>(coordinate));
        else
            point.units.push_back(coordinate);
    }
    return true;
}

void assignGroup(const std::vector<const SearchParameter*>& group, const GroupPoint& point,
                 Assignment& assignment) {
    size_t numericIndex = 0, choiceIndex = 0;
    for (const auto* parameter : group) {
        if (isChoice(*parameter)) {
            const int choice = point.choices[choiceIndex++];
            assignment[parameter->path] = parameter->values.empty()
                                              ? valueAtUnit(*parameter, 0.0)
                                              : parameter->values[static_cast<size_t>(choice)];
        } else {
            assignment[parameter->path] = valueAtUnit(*parameter, point.units[numericIndex++]);
        }
    }
}

GroupPoint uniformPoint(const std::vector<const SearchParameter*>& group, Rng& rng) {
    GroupPoint point;
    for (const auto* parameter : group) {
        if (isChoice(*parameter))
            point.choices.push_back(
                static_cast<int>(rng.index(std::max<size_t>(1, parameter->values.size()))));
        else
            point.units.push_back(snapUnit(*parameter, rng.uniform()));
    }
    return point;
}

std::string conditionKey(const SearchParameter& parameter) {
    std::string key;
    for (const auto& condition : parameter.when) {
        key += condition.parameter + "=";
        for (const auto& value : condition.values)
            key += value.json + "|";
        key += ";";
    }
    return key;
}

} // namespace

size_t tpe_core::goodCount(size_t observations, double goodFraction) {
    return std::min<size_t>(kMaxGoodTrials,
                            static_cast<size_t>(std::ceil(goodFraction * static_cast<double>(observations))));
}

std::optional<Assignment> TpeSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                              const std::vector<FinishedTrial>& history) {
    std::vector<Observation> observations;
    size_t usable = 0, running = 0;
    for (const auto& trial : history) {
        const bool finite = std::isfinite(trial.value);
        if (trial.state == TrialState::Complete && finite) {
            observations.push_back({&trial, RankClass::Complete});
            ++usable;
        } else if (trial.state == TrialState::Pruned && finite) {
            observations.push_back({&trial, RankClass::Pruned});
            ++usable;
        } else if (trial.state == TrialState::Running && trial.number != trialNumber) {
            ++running;
            if (m_settings.constantLiar)
                observations.push_back({&trial, RankClass::Running});
        }
    }
    // The random start counts the trials that are running as well as those with results, so that
    // it is `startupTrials` long however many workers share the study; the model still needs a result.
    if (usable == 0 || usable + running < static_cast<size_t>(std::max(1, m_settings.startupTrials)))
        return RandomSampler(m_settings.seed).suggest(space, trialNumber, history);
    // Sorted on content alone, so the order of `history` does not matter.
    std::sort(observations.begin(), observations.end(), rankedBefore);
    return tpe_core::suggestFromRanking(m_settings, space, trialNumber, observations, kGoodFraction);
}

Assignment tpe_core::suggestFromRanking(const TpeSettings& settings, const SearchSpace& space,
                                        int64_t trialNumber, const std::vector<Observation>& observations,
                                        double goodFraction) {
    std::vector<std::vector<double>> decoded;
    decoded.reserve(observations.size());
    for (const auto& observation : observations)
        decoded.push_back(decodeTrial(space, *observation.trial));

    Rng rng(trialStreamKey(settings.seed, trialNumber) ^ 0x7470655F73616D70ull);
    const int candidates = std::max(1, settings.candidates);
    Assignment assignment;
    const auto& parameters = space.parameters();
    std::vector<bool> done(parameters.size(), false);
    // Rounds: the parameters that apply given what is chosen so far, grouped by their condition
    // (multivariate) or one by one (independent); a choice can switch on further parameters.
    for (;;) {
        std::vector<std::vector<const SearchParameter*>> groups;
        std::vector<std::string> keys;
        for (size_t i = 0; i < parameters.size(); ++i) {
            if (done[i] || !space.isActive(parameters[i], assignment))
                continue;
            done[i] = true;
            const std::string key = settings.multivariate ? conditionKey(parameters[i]) : parameters[i].path;
            auto found = std::find(keys.begin(), keys.end(), key);
            if (found == keys.end()) {
                keys.push_back(key);
                groups.push_back({&parameters[i]});
            } else {
                groups[static_cast<size_t>(found - keys.begin())].push_back(&parameters[i]);
            }
        }
        if (groups.empty())
            break;
        for (const auto& group : groups) {
            std::vector<GroupPoint> good, bad;
            std::vector<GroupPoint> relevant;
            std::vector<RankClass> classes;
            std::vector<size_t> indices;
            for (const auto* parameter : group)
                indices.push_back(static_cast<size_t>(parameter - parameters.data()));
            GroupPoint point;
            for (size_t o = 0; o < observations.size(); ++o) {
                if (groupPointOf(group, indices, decoded[o], observations[o].trial->number, point)) {
                    relevant.push_back(point);
                    classes.push_back(observations[o].rankClass);
                }
            }
            const size_t goodCount = tpe_core::goodCount(relevant.size(), goodFraction);
            for (size_t i = 0; i < relevant.size(); ++i) {
                if (i < goodCount && classes[i] != RankClass::Running)
                    good.push_back(relevant[i]);
                else
                    bad.push_back(relevant[i]);
            }
            if (good.empty()) {
                assignGroup(group, uniformPoint(group, rng), assignment);
                continue;
            }
            const ParzenEstimator below(group, std::move(good), settings.multivariate);
            const ParzenEstimator above(group, std::move(bad), settings.multivariate);
            GroupPoint best;
            double bestScore = -std::numeric_limits<double>::infinity();
            for (int c = 0; c < candidates; ++c) {
                GroupPoint candidate = below.sample(rng);
                const double score = below.logDensity(candidate) - above.logDensity(candidate);
                if (c == 0 || score > bestScore) {
                    bestScore = score;
                    best = std::move(candidate);
                }
            }
            assignGroup(group, best, assignment);
        }
    }
    return assignment;
}

} // namespace tunelab
