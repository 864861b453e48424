#include "search/sampler_support.h"
#include "search/samplers.h"

#include "search/random_forest.h"
#include "search/space_encoding.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace tunelab {

namespace {

using namespace sampler_support;

using detail::RandomForest;

// SMAC3's defaults for hyperparameter optimisation (its HPO facade), except where noted:
// the share of suggestions drawn at random between model-based ones (its probability random design),
constexpr double kRandomShare = 0.2;
// the random configurations the acquisition is evaluated at (the challengers of its local and sorted
// random search: 5,000 by default there, which its HPO facade raises to 10,000; TuneLab keeps 5,000 so
// that a suggestion over 1,000 trials of 20 parameters stays within 50 ms),
constexpr int kChallengers = 5000;
// the local searches started from each of: the observed configurations with the best predicted value,
// and the best random configurations (its local search iterations),
constexpr size_t kLocalSearchStarts = 10;
// a numeric parameter's neighbours in a local search: draws around its unit coordinate. Not SMAC3's
// one-exchange neighbourhood (4 draws with spread 0.2, drawn afresh after a step without a better
// one): that measured no better on the development functions of bench_sampler_quality,
constexpr int kNumericNeighbours = 8;
constexpr double kNeighbourSpread = 0.05;
// the moves to an equally good neighbour a local search may make before it stops (its plateau walk),
constexpr int kPlateauSteps = 10;
// and the percentile whose distance to the best value estimates how far the best still is from the
// optimum (its log-scaled cost: log(y - min + (q - min)), q that percentile of y).
constexpr double kGapPercentile = 0.05;
// Not SMAC's: a guard on the moves of one local search (all but kPlateauSteps of them improve the
// acquisition, so it ends anyway; this bounds the time of a suggestion).
constexpr int kMaxLocalSteps = 200;
// Not SMAC's either: numeric parameters are split at thresholds drawn over their whole range at a node
// (extremely randomized trees) rather than at the best cut between two values. Chosen on the
// development functions of bench_sampler_quality: the mean of the trees then slopes towards the best
// observations instead of stepping, so the expected improvement points somewhere inside the best cell.
constexpr bool kRandomThresholds = true;
// A floor for the predicted variance, so that the acquisition stays defined where all trees agree.
constexpr double kMinVariance = 1e-12;

// The forest's targets: log(y - shift), shift below the best value by the distance from the best to
// the kGapPercentile percentile (where they tie, to the next larger value: the smallest gap the
// values show). Only the shift matters to the acquisition: a common factor of y - shift adds the same
// constant to every target and to the incumbent. Works for negative objectives alike.
std::vector<double> logTargets(const std::vector<double>& values) {
    std::vector<double> targets(values.size(), 0.0);
    double scale = 0.0;
    for (double v : values)
        scale = std::max(scale, std::fabs(v));
    if (values.empty() || !(scale > 0.0) || !std::isfinite(scale))
        return targets;
    std::vector<double> sorted;
    for (double v : values)
        sorted.push_back(v / scale); // so that differences of values cannot overflow
    std::sort(sorted.begin(), sorted.end());
    const double lowest = sorted.front(), highest = sorted.back();
    const double position = kGapPercentile * static_cast<double>(sorted.size() - 1);
    const size_t below = static_cast<size_t>(position);
    const size_t above = std::min(below + 1, sorted.size() - 1);
    const double percentile =
        sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
    double gap = percentile - lowest;
    if (!(gap > 0.0)) {
        const auto next = std::upper_bound(sorted.begin(), sorted.end(), lowest);
        gap = next == sorted.end() ? 0.0 : *next - lowest;
    }
    if (!(gap > 0.0))
        return targets; // every value is the same
    const double shift = lowest - gap;
    for (size_t i = 0; i < values.size(); ++i)
        targets[i] = std::log((values[i] / scale - shift) / (highest - shift));
    return targets;
}

// log E[max(e^best - e^Y, 0)] for Y ~ N(mean, variance): the expected improvement on the scale of
// y - shift when the forest models log(y - shift). With v = (best - mean) / sigma it is
// e^best (Phi(v) - e^(sigma^2/2 - v sigma) Phi(v - sigma)); the second term is phi(v) R(sigma - v)
// with R the Mills ratio, which keeps it finite. Where the difference is lost to rounding (an
// improvement that is small or very unlikely) the small-step limit e^best sigma (phi(v) + v Phi(v))
// takes over.
double logExpectedImprovementOfLog(double best, double mean, double variance) {
    const double sigma = std::sqrt(std::max(variance, kMinVariance));
    const double v = (best - mean) / sigma;
    if (v > -30.0) {
        const double t = sigma - v;
        double second = 0.0;
        if (t < 30.0) {
            second = std::exp(0.5 * sigma * sigma - v * sigma + std::log(std::max(normalCdf(-t), 1e-300)));
        } else {
            const double t2 = t * t;
            const double mills = (1.0 - 1.0 / t2 + 3.0 / (t2 * t2) - 15.0 / (t2 * t2 * t2)) / t;
            second = std::exp(-0.5 * v * v) / std::sqrt(2.0 * M_PI) * mills;
        }
        const double first = normalCdf(v);
        if (first - second > 1e-9 * first)
            return best + std::log(first - second);
    }
    return best + std::log(sigma) + logExpectedImprovementFactor(v);
}

struct ScoredConfiguration {
    std::vector<double> x;
    double score;
};

// A first-improvement local search over the points one parameter away (SMAC's one-exchange
// neighbourhood), with a bounded walk over neighbours that are exactly as good: the forest is flat
// between its splits. A numeric parameter's neighbours are kNumericNeighbours Gaussian draws around
// its coordinate (and the neighbouring cells of a grid), a choice's are its other choices.
// Parameters that do not apply have no neighbours. A neighbour that only moves a numeric parameter
// on which no condition depends differs from the current point in one feature, and is predicted from
// the current point's paths through the trees.
class LocalSearch {
public:
    LocalSearch(const SpaceEncoding& encoding, const RandomForest& forest, double best)
        : m_encoding(encoding)
        , m_forest(forest)
        , m_best(best) {
        const auto& columns = encoding.columns();
        m_featureOf.assign(columns.size(), -1);
        m_switches.assign(columns.size(), 0);
        int feature = 0;
        for (size_t i = 0; i < columns.size(); ++i) {
            if (columns[i].width > 0)
                m_featureOf[i] = feature++;
            for (const auto& condition : columns[i].conditions) {
                if (condition.parent >= 0)
                    m_switches[static_cast<size_t>(condition.parent)] = 1;
            }
        }
    }

    double score(const std::vector<double>& values) const {
        double mean = 0.0, variance = 0.0;
        m_forest.predict(values.data(), mean, variance);
        return logExpectedImprovementOfLog(m_best, mean, variance);
    }

    ScoredConfiguration run(ScoredConfiguration start, Rng& rng) {
        m_x = std::move(start.x);
        m_encoding.parameterValues(m_x, m_values);
        m_forest.trace(m_values.data(), m_trace);
        double current = start.score;
        int plateau = 0;
        for (int step = 0; step < kMaxLocalSteps; ++step) {
            // Parameters in a random order, each one's neighbours when it is reached: the first
            // better neighbour ends the step, so most are never drawn.
            m_order.clear();
            for (size_t i = 0; i < m_featureOf.size(); ++i) {
                if (m_featureOf[i] >= 0 && !std::isnan(m_values[static_cast<size_t>(m_featureOf[i])]))
                    m_order.push_back(i);
            }
            for (size_t i = m_order.size(); i > 1; --i)
                std::swap(m_order[i - 1], m_order[rng.index(i)]);
            m_equal.clear();
            bool moved = false;
            for (size_t c = 0; c < m_order.size() && !moved; ++c) {
                listMoves(m_order[c], rng);
                for (size_t i = 0; i < m_moves.size() && !moved; ++i) {
                    const double score = evaluate(m_moves[i], current);
                    if (score > current) {
                        accept(m_moves[i]);
                        current = score;
                        moved = true;
                    } else if (score == current) {
                        m_equal.push_back(m_moves[i]);
                    }
                }
            }
            if (moved)
                continue;
            if (m_equal.empty() || plateau >= kPlateauSteps)
                break;
            ++plateau;
            accept(m_equal[rng.index(m_equal.size())]);
        }
        return {m_x, current};
    }

private:
    struct Move {
        size_t column;
        double value; // the new unit coordinate, or the new choice
    };

    // The neighbours of the current point in one parameter.
    void listMoves(size_t i, Rng& rng) {
        m_moves.clear();
        const auto& column = m_encoding.columns()[i];
        const size_t offset = static_cast<size_t>(column.offset);
        if (column.choice) {
            for (int c = 0; c < column.width; ++c) {
                if (m_x[offset + static_cast<size_t>(c)] != 1.0)
                    m_moves.push_back({i, static_cast<double>(c)});
            }
            return;
        }
        const double u = m_x[offset];
        auto add = [&](double to) {
            const double snapped = snapUnit(*column.parameter, to);
            if (snapped == u)
                return;
            for (const Move& move : m_moves) {
                if (move.value == snapped)
                    return;
            }
            m_moves.push_back({i, snapped});
        };
        if (const int64_t cells = gridCells(*column.parameter)) {
            add(u - 1.0 / static_cast<double>(cells));
            add(u + 1.0 / static_cast<double>(cells));
        }
        for (int k = 0; k < kNumericNeighbours; ++k) {
            double to = u + kNeighbourSpread * rng.normal();
            for (int attempt = 0; attempt < 16 && (to < 0.0 || to > 1.0); ++attempt)
                to = u + kNeighbourSpread * rng.normal();
            add(std::clamp(to, 0.0, 1.0));
        }
    }

    bool local(const Move& move) const {
        return !m_encoding.columns()[move.column].choice && !m_switches[move.column];
    }

    // The point after `move`, made valid, with its parameter values.
    void applied(const Move& move, std::vector<double>& x, std::vector<double>& values) const {
        const auto& column = m_encoding.columns()[move.column];
        const size_t offset = static_cast<size_t>(column.offset);
        x = m_x;
        if (column.choice) {
            std::fill(x.begin() + static_cast<std::ptrdiff_t>(offset),
                      x.begin() + static_cast<std::ptrdiff_t>(offset + static_cast<size_t>(column.width)),
                      0.0);
            x[offset + static_cast<size_t>(move.value)] = 1.0;
        } else {
            x[offset] = move.value;
        }
        m_encoding.normalise(x, &values);
    }

    double evaluate(const Move& move, double current) {
        double mean = 0.0, variance = 0.0;
        if (local(move)) {
            const size_t feature = static_cast<size_t>(m_featureOf[move.column]);
            const double was = m_values[feature];
            m_values[feature] = move.value;
            const bool changed =
                m_forest.predictChanged(m_values.data(), m_trace, static_cast<int>(feature), mean, variance);
            m_values[feature] = was;
            if (!changed)
                return current; // the same leaves: the same score
        } else {
            applied(move, m_y, m_yValues);
            m_forest.predict(m_yValues.data(), mean, variance);
        }
        return logExpectedImprovementOfLog(m_best, mean, variance);
    }

    void accept(const Move& move) {
        if (local(move)) {
            m_x[static_cast<size_t>(m_encoding.columns()[move.column].offset)] = move.value;
            m_values[static_cast<size_t>(m_featureOf[move.column])] = move.value;
        } else {
            applied(move, m_y, m_yValues);
            std::swap(m_x, m_y);
            std::swap(m_values, m_yValues);
        }
        m_forest.trace(m_values.data(), m_trace);
    }

    const SpaceEncoding& m_encoding;
    const RandomForest& m_forest;
    double m_best;
    std::vector<int> m_featureOf; // per column: its feature, -1 for a parameter without columns
    std::vector<char> m_switches; // per column: a condition depends on it
    std::vector<double> m_x, m_values, m_y, m_yValues;
    RandomForest::Trace m_trace;
    std::vector<size_t> m_order; // the parameters of a step, in the order tried
    std::vector<Move> m_moves;
    std::vector<Move> m_equal;
};

} // namespace

std::optional<Assignment> RfSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                             const std::vector<FinishedTrial>& history) {
    const SpaceEncoding encoding(space);
    const EncodedHistory encoded = encodeHistory(encoding, history, trialNumber);
    // The Sobol start counts the trials that are running as well as those with results, so that it is
    // `startupTrials` long however many workers share the study; the forest still needs a result.
    if (encoded.points.empty() ||
        encoded.points.size() + encoded.running.size() <
            static_cast<size_t>(std::max(1, m_settings.startupTrials)) ||
        encoding.modelledParameters() == 0)
        return SobolSampler(m_settings.seed).suggest(space, trialNumber, history);
    Rng rng(trialStreamKey(m_settings.seed, trialNumber) ^ 0x72665F73616D706Cull);
    if (rng.uniform() < kRandomShare)
        return RandomSampler(m_settings.seed).suggest(space, trialNumber, history);

    std::vector<int> categories;
    for (const auto& column : encoding.columns()) {
        if (column.width > 0)
            categories.push_back(column.choice ? column.width : 0);
    }
    const size_t observed = encoded.points.size();
    std::vector<std::vector<double>> rows(observed);
    for (size_t i = 0; i < observed; ++i)
        encoding.parameterValues(encoded.points[i], rows[i]);
    std::vector<double> targets = logTargets(encoded.targets);
    // Pending trials join at the mean of the observed targets (a constant liar), so suggestions for
    // parallel workers spread out: near a pending point the forest expects an average result.
    if (!encoded.running.empty()) {
        double mean = 0.0;
        for (double target : targets)
            mean += target / static_cast<double>(targets.size());
        for (const auto& point : encoded.running) {
            rows.emplace_back();
            encoding.parameterValues(point, rows.back());
            targets.push_back(mean);
        }
    }
    detail::ForestSettings forestSettings;
    forestSettings.randomThresholds = kRandomThresholds;
    RandomForest forest(categories, forestSettings);
    forest.fit(rows, targets, rng.next());

    // The incumbent is the observed configuration with the best predicted value.
    std::vector<double> predicted(observed);
    double best = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < observed; ++i) {
        double variance = 0.0;
        forest.predict(rows[i].data(), predicted[i], variance);
        best = std::min(best, predicted[i]);
    }
    LocalSearch search(encoding, forest, best);

    // Random configurations, then local searches from the observed ones with the best predicted values
    // and from the best random ones.
    std::vector<ScoredConfiguration> pool;
    pool.reserve(static_cast<size_t>(kChallengers) + 2 * kLocalSearchStarts);
    std::vector<double> x, values;
    for (int i = 0; i < kChallengers; ++i) {
        encoding.randomPoint(rng, x, &values);
        pool.push_back({x, search.score(values)});
    }
    auto byScore = [](const ScoredConfiguration& a, const ScoredConfiguration& b) {
        return a.score > b.score;
    };
    std::stable_sort(pool.begin(), pool.end(), byScore);

    std::vector<size_t> byPrediction(observed);
    for (size_t i = 0; i < observed; ++i)
        byPrediction[i] = i;
    std::stable_sort(byPrediction.begin(), byPrediction.end(),
                     [&](size_t a, size_t b) { return predicted[a] < predicted[b]; });
    std::vector<ScoredConfiguration> starts;
    for (size_t i = 0; i < std::min(kLocalSearchStarts, observed); ++i)
        starts.push_back({encoded.points[byPrediction[i]], search.score(rows[byPrediction[i]])});
    for (size_t i = 0; i < std::min(kLocalSearchStarts, pool.size()); ++i)
        starts.push_back(pool[i]);
    std::set<std::vector<double>> started;
    const size_t challengers = pool.size();
    for (auto& start : starts) {
        if (started.insert(start.x).second)
            pool.push_back(search.run(std::move(start), rng));
    }
    // On a tie a random configuration comes first: while the forest is flat, suggestions stay random.
    std::stable_sort(pool.begin() + static_cast<std::ptrdiff_t>(challengers), pool.end(), byScore);
    std::inplace_merge(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(challengers), pool.end(),
                       byScore);

    // The best candidate that is neither observed nor pending.
    std::set<std::vector<double>> taken(encoded.points.begin(), encoded.points.end());
    taken.insert(encoded.running.begin(), encoded.running.end());
    for (const auto& candidate : pool) {
        if (!taken.count(candidate.x))
            return encoding.decode(candidate.x);
    }
    encoding.randomPoint(rng, x);
    return encoding.decode(x);
}

} // namespace tunelab
