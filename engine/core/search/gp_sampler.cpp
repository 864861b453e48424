#include "search/sampler_support.h"
#include "search/samplers.h"

#include "search/gaussian_process.h"
#include "search/gp_acquisition.h"
#include "search/space_encoding.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

using namespace sampler_support;

using detail::GaussianProcess;
using detail::KernelColumns;
using detail::PendingImprovement;

// The GP's input columns: each parameter has one length scale, shared by the columns of a one-hot block.
KernelColumns kernelColumnsOf(const SpaceEncoding& encoding) {
    KernelColumns kernel;
    kernel.scaleOf.assign(static_cast<size_t>(encoding.width()), 0);
    kernel.weight.assign(static_cast<size_t>(encoding.width()), 1.0);
    for (const auto& column : encoding.columns()) {
        if (column.width == 0)
            continue;
        const int scale = kernel.scales++;
        for (int c = 0; c < column.width; ++c) {
            kernel.scaleOf[static_cast<size_t>(column.offset + c)] = scale;
            // Two differing one-hot choices are at squared distance 1, like a full numeric range.
            kernel.weight[static_cast<size_t>(column.offset + c)] = column.choice ? 0.5 : 1.0;
        }
    }
    return kernel;
}

struct Scored {
    std::vector<double> x;
    double score;
};

} // namespace

std::optional<Assignment> GpSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                             const std::vector<FinishedTrial>& history) {
    const SpaceEncoding encoding(space);
    EncodedHistory encoded = encodeHistory(encoding, history, trialNumber);
    std::vector<std::vector<double>>& points = encoded.points;
    std::vector<double>& targets = encoded.targets;
    const std::vector<std::vector<double>>& running = encoded.running;
    std::vector<double> x;
    // The random start counts the trials that are running as well as those with results, so that
    // it is `startupTrials` long however many workers share the study.
    if (points.empty() ||
        points.size() + running.size() < static_cast<size_t>(std::max(1, m_settings.startupTrials)) ||
        encoding.width() == 0)
        return SobolSampler(m_settings.seed).suggest(space, trialNumber, history);

    // The trust region, from the completed trials' results in trial order (see trustRegionSide).
    const double trustSide = detail::trustRegionSide(
        std::vector<double>(targets.begin(),
                            targets.begin() + static_cast<std::ptrdiff_t>(encoded.completed)),
        static_cast<size_t>(std::max(0, m_settings.startupTrials)),
        static_cast<size_t>(encoding.modelledParameters()));
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
    GaussianProcess process(kernelColumnsOf(encoding), std::move(points), std::move(targets));
    process.fit(n <= 100);
    // Running trials are pending evaluations: a candidate is worth what it adds to them (see
    // PendingImprovement), their values drawn from the posterior jointly with the candidate's.
    const GaussianProcess::Pending pending = process.pending(running);
    const uint64_t stream = trialStreamKey(m_settings.seed, trialNumber);
    const PendingImprovement improvement(incumbent, pending.mean, pending.covariance,
                                         stream ^ 0x70656E64696E6721ull);
    std::vector<double> covariance;
    // The score of a candidate; one that cannot beat `cutoff` may get a bound below it instead.
    auto acquisition = [&](const std::vector<double>& candidate,
                           double cutoff = -std::numeric_limits<double>::infinity()) {
        double mu = 0.0, variance = 0.0;
        process.predict(candidate, pending, mu, variance, covariance);
        return improvement.logValue(mu, variance, covariance, cutoff);
    };

    Rng rng(stream ^ 0x67705F73616D706Cull);
    const size_t total = n + running.size();
    const int randomCount =
        static_cast<int>(std::clamp(2.4e7 / static_cast<double>(total * total), 500.0, 2000.0));
    std::vector<Scored> scored;
    scored.reserve(static_cast<size_t>(randomCount) * 3 / 2);
    // Only the five best candidates go on, so each is scored against the fifth best so far.
    std::vector<double> fiveBest;
    auto screen = [&](const std::vector<double>& candidate) {
        const double cutoff =
            fiveBest.size() < 5 ? -std::numeric_limits<double>::infinity() : fiveBest.front();
        const double score = acquisition(candidate, cutoff);
        if (score > cutoff) {
            fiveBest.insert(std::upper_bound(fiveBest.begin(), fiveBest.end(), score), score);
            if (fiveBest.size() > 5)
                fiveBest.erase(fiveBest.begin());
        }
        scored.push_back({candidate, score});
    };
    // Candidates are sought in the trust region: a box of side trustSide around the best trial in
    // every numeric column, cut at the cube's faces (choices are free, and so is a parameter that does
    // not apply to the best trial). An int or stepped parameter's box reaches at least the
    // neighbouring values, or a small box would hold its best value alone.
    std::vector<double> incumbentValues;
    encoding.parameterValues(incumbentPoint, incumbentValues);
    struct Bound {
        size_t offset; // the numeric column
        double low, high;
    };
    std::vector<Bound> region;
    size_t feature = 0;
    for (const auto& column : encoding.columns()) {
        if (column.width == 0)
            continue;
        const bool applies = !std::isnan(incumbentValues[feature++]);
        if (column.choice)
            continue;
        const size_t offset = static_cast<size_t>(column.offset);
        if (!applies) {
            region.push_back({offset, 0.0, 1.0});
            continue;
        }
        const double centre = incumbentPoint[offset];
        const int64_t cells = gridCells(*column.parameter);
        const double half = std::max(trustSide / 2.0, cells > 0 ? 1.0 / static_cast<double>(cells) : 0.0);
        region.push_back({offset, std::max(0.0, centre - half), std::min(1.0, centre + half)});
    }
    auto keepInRegion = [&](std::vector<double>& point) {
        for (const Bound& bound : region)
            point[bound.offset] = std::clamp(point[bound.offset], bound.low, bound.high);
        encoding.normalise(point);
    };
    for (int i = 0; i < randomCount; ++i) {
        encoding.randomPoint(rng, x);
        for (const Bound& bound : region) // a uniform point of the box
            x[bound.offset] = bound.low + x[bound.offset] * (bound.high - bound.low);
        keepInRegion(x);
        screen(x);
    }
    for (int i = 0; i < randomCount / 2; ++i) {
        x = bestObserved[static_cast<size_t>(i) % bestObserved.size()];
        encoding.perturb(rng, i % 2 == 0 ? 0.05 : 0.15, x);
        keepInRegion(x);
        screen(x);
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
                        const double score = acquisition(x, start.score);
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
                    keepInRegion(x);
                    if (x == start.x)
                        continue;
                    const double score = acquisition(x, start.score);
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
