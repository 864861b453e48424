#include "search/pareto.h"
#include "search/sampler_support.h"
#include "search/samplers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace tunelab {

namespace {

using namespace sampler_support;

// The distribution index of simulated binary crossover (larger keeps children nearer their
// parents) and the chance that a numeric parameter both parents have is crossed rather than taken
// from one of them: Deb's usual 20 and 0.5. Checked on the development problems of
// bench/bench_multi_objective.cpp only (ZDT3, ZDT6, DTLZ2; never ZDT1 or ZDT2): indices from 2 to
// 40 and crossing every parameter did no better there at 200 trials.
constexpr double kCrossoverEta = 20.0;
constexpr double kSbxVariableProbability = 0.5;
// Parents closer than this in a unit coordinate are treated as equal (SBX would divide by 0).
constexpr double kSameUnit = 1e-14;

// One member of the elite: a trial with its front and its crowding distance within the front.
struct EliteMember {
    const FinishedTrial* trial;
    int rank;
    double crowding;
};

// NSGA-II's survival over every complete trial numbered below `firstOfGeneration`: whole fronts
// while they fit, then the front that overflows by crowding distance, largest first (ties to the earlier
// trial, so the choice does not depend on the order of the history).
std::vector<EliteMember> elitePopulation(const std::vector<FinishedTrial>& history, int64_t firstOfGeneration,
                                         size_t populationSize) {
    size_t objectiveCount = 1;
    for (const auto& trial : history) {
        if (trial.state == TrialState::Complete)
            objectiveCount = std::max(objectiveCount, trial.values.size());
    }
    // A trial without every objective cannot be compared with the others: it is no parent.
    std::vector<const FinishedTrial*> candidates;
    for (const auto& trial : history) {
        if (trial.state == TrialState::Complete && trial.number < firstOfGeneration &&
            std::max<size_t>(1, trial.values.size()) == objectiveCount)
            candidates.push_back(&trial);
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const FinishedTrial* a, const FinishedTrial* b) { return a->number < b->number; });
    std::vector<ObjectivePoint> points;
    std::vector<double> violations;
    for (const auto* trial : candidates) {
        points.push_back(objectivesOf(*trial));
        violations.push_back(trial->violation);
    }
    const std::vector<int> ranks = nondominatedRanks(points, violations);
    const int worstRank = ranks.empty() ? -1 : *std::max_element(ranks.begin(), ranks.end());
    std::vector<EliteMember> elite;
    for (int rank = 0; rank <= worstRank && elite.size() < populationSize; ++rank) {
        std::vector<size_t> front;
        for (size_t i = 0; i < ranks.size(); ++i) {
            if (ranks[i] == rank)
                front.push_back(i);
        }
        const std::vector<double> crowding = crowdingDistances(points, front);
        std::vector<size_t> order(front.size());
        std::iota(order.begin(), order.end(), size_t{0});
        if (elite.size() + front.size() > populationSize) {
            std::stable_sort(order.begin(), order.end(),
                             [&](size_t a, size_t b) { return crowding[a] > crowding[b]; });
            order.resize(populationSize - elite.size());
        }
        for (size_t k : order)
            elite.push_back({candidates[front[k]], rank, crowding[k]});
    }
    return elite;
}

bool winsTournament(const EliteMember& a, const EliteMember& b) {
    if (a.rank != b.rank)
        return a.rank < b.rank;
    return a.crowding > b.crowding;
}

// Binary tournament on (front, crowding distance) among the elite, leaving out `excluded`.
size_t tournament(const std::vector<EliteMember>& elite, Rng& rng, size_t excluded) {
    auto draw = [&]() {
        if (excluded >= elite.size())
            return rng.index(elite.size());
        const size_t k = rng.index(elite.size() - 1);
        return k >= excluded ? k + 1 : k;
    };
    const size_t first = draw();
    const size_t second = draw();
    // A tie (the same member, or equal front and crowding) goes to the first drawn.
    return winsTournament(elite[second], elite[first]) ? second : first;
}

// Simulated binary crossover of two unit coordinates bounded by [0, 1] (Deb and Agrawal 1995, in
// the bounded form of Deb's NSGA-II code); one of the two children at random.
double simulatedBinaryCrossover(double a, double b, Rng& rng) {
    const double low = std::min(a, b), high = std::max(a, b);
    const double spread = high - low;
    const double exponent = 1.0 / (kCrossoverEta + 1.0);
    auto spreadFactor = [&](double beta, double u) {
        const double alpha = 2.0 - std::pow(beta, -(kCrossoverEta + 1.0));
        return u <= 1.0 / alpha ? std::pow(u * alpha, exponent) : std::pow(1.0 / (2.0 - u * alpha), exponent);
    };
    const double u = rng.uniform();
    const double lowChild = 0.5 * (low + high - spreadFactor(1.0 + 2.0 * low / spread, u) * spread);
    const double highChild = 0.5 * (low + high + spreadFactor(1.0 + 2.0 * (1.0 - high) / spread, u) * spread);
    return std::clamp(rng.uniform() < 0.5 ? lowChild : highChild, 0.0, 1.0);
}

// A parent's value of `parameter` as the space now reads it: a valid choice index or unit
// coordinate; false when the parent does not have it or holds a value the space no longer allows.
bool readParent(const SearchParameter& parameter, const Assignment& parent, double& coordinate) {
    auto found = parent.find(parameter.path);
    if (found == parent.end())
        return false;
    if (isChoice(parameter)) {
        const int choice = choiceOf(parameter, found->second);
        coordinate = choice;
        return choice >= 0;
    }
    double number = 0.0;
    if (!readNumber(found->second, number) || number < parameter.low || number > parameter.high)
        return false;
    coordinate = unitOf(parameter, number);
    return true;
}

// The value of a numeric parameter a child copies from a parent: the parent's own text, so that a
// copied float is not moved by a round trip through its unit coordinate.
ParamValue copiedValue(const SearchParameter& parameter, const Assignment& parent, double unit) {
    if (gridCells(parameter) > 0 || parameter.kind == ParamKind::Int)
        return valueAtUnit(parameter, snapUnit(parameter, unit));
    return parent.at(parameter.path);
}

ParamValue priorDraw(const SearchParameter& parameter, Rng& rng) {
    return valueAtUnit(parameter, rng.uniform());
}

Assignment makeChild(const SearchSpace& space, const Assignment& first, const Assignment& second,
                     bool crossover, double swappingProbability, double mutationProbability, Rng& rng) {
    Assignment child;
    // In space order, so that a parameter is decided after those its condition names.
    for (const auto& parameter : space.parameters()) {
        if (!space.isActive(parameter, child))
            continue;
        double a = 0.0, b = 0.0;
        const bool inFirst = readParent(parameter, first, a);
        const bool inSecond = crossover && readParent(parameter, second, b);
        auto fromParent = [&](const Assignment& parent, double coordinate) {
            return isChoice(parameter) ? parameter.values[static_cast<size_t>(coordinate)]
                                       : copiedValue(parameter, parent, coordinate);
        };
        ParamValue value;
        if (!inFirst && !inSecond)
            value = priorDraw(parameter, rng);
        else if (!inSecond)
            value = fromParent(first, a);
        else if (!inFirst)
            value = fromParent(second, b);
        else if (!isChoice(parameter) && std::fabs(a - b) > kSameUnit &&
                 rng.uniform() < kSbxVariableProbability)
            value = valueAtUnit(parameter, snapUnit(parameter, simulatedBinaryCrossover(a, b, rng)));
        else
            value = rng.uniform() < swappingProbability ? fromParent(second, b) : fromParent(first, a);
        if (rng.uniform() < mutationProbability)
            value = priorDraw(parameter, rng);
        child[parameter.path] = std::move(value);
    }
    return child;
}

} // namespace

std::optional<Assignment> NsgaIISampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                                 const std::vector<FinishedTrial>& history) {
    const int64_t populationSize = std::max(2, m_settings.populationSize);
    const int64_t generation = trialNumber / populationSize;
    if (generation <= 0)
        return RandomSampler(m_settings.seed).suggest(space, trialNumber, history);
    const std::vector<EliteMember> elite =
        elitePopulation(history, generation * populationSize, static_cast<size_t>(populationSize));
    if (elite.size() < 2)
        return RandomSampler(m_settings.seed).suggest(space, trialNumber, history);

    Rng rng(trialStreamKey(m_settings.seed, trialNumber) ^ 0x6E73676132736D70ull);
    const size_t firstParent = tournament(elite, rng, elite.size());
    const size_t secondParent = tournament(elite, rng, firstParent);
    const bool crossover = rng.uniform() < m_settings.crossoverProbability;
    const double mutationProbability =
        m_settings.mutationProbability >= 0.0
            ? m_settings.mutationProbability
            : 1.0 / static_cast<double>(std::max<size_t>(1, space.parameters().size()));
    return makeChild(space, elite[firstParent].trial->assignment, elite[secondParent].trial->assignment,
                     crossover, m_settings.swappingProbability, mutationProbability, rng);
}

} // namespace tunelab
