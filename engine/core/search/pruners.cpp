#include "search/pruners.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr double kWorst = std::numeric_limits<double>::infinity();

// NaN (a diverged or missing value) ranks behind every real value.
double comparable(double value) {
    return std::isnan(value) ? kWorst : value;
}

const TrialCurve* findCurve(int64_t trialNumber, const std::vector<TrialCurve>& curves) {
    for (const TrialCurve& curve : curves) {
        if (curve.number == trialNumber)
            return &curve;
    }
    return nullptr;
}

// The best (lowest) value of a curve at epochs up to `epoch`; NaN values count as worst.
double bestUpTo(const TrialCurve& curve, int epoch) {
    double best = kWorst;
    for (auto it = curve.values.begin(); it != curve.values.end() && it->first <= epoch; ++it)
        best = std::min(best, comparable(it->second));
    return best;
}

double median(std::vector<double> values) {
    const size_t middle = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + middle, values.end());
    const double upper = values[middle];
    if (values.size() % 2 == 1)
        return upper;
    const double lower = *std::max_element(values.begin(), values.begin() + middle);
    // inf + inf stays inf; a mean with one infinite half would drag a finite median to inf too.
    return std::isinf(upper) ? upper : (lower + upper) / 2.0;
}

// A fixed mix of the trial number (splitmix64), so bracket choice needs no state and no seed.
uint64_t mixed(int64_t number) {
    uint64_t z = static_cast<uint64_t>(number) + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

} // namespace

bool MedianPruner::shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) {
    if (epoch <= m_settings.warmupEpochs)
        return false;
    const TrialCurve* own = findCurve(trialNumber, curves);
    if (!own || own->values.empty())
        return false;
    int finished = 0;
    for (const TrialCurve& curve : curves)
        finished += curve.finished && curve.number != trialNumber ? 1 : 0;
    if (finished < m_settings.startupTrials)
        return false;
    std::vector<double> others;
    for (const TrialCurve& curve : curves) {
        if (curve.number != trialNumber && curve.values.count(epoch))
            others.push_back(bestUpTo(curve, epoch));
    }
    if (others.empty() || static_cast<int>(others.size()) < m_settings.minTrialsAtEpoch)
        return false;
    return bestUpTo(*own, epoch) > median(std::move(others));
}

std::vector<int> AshaPruner::rungs(int maxEpochs) const {
    const int eta = std::max(2, m_settings.reductionFactor);
    std::vector<int> epochs;
    int64_t rung = std::max(1, m_settings.minEpochs);
    for (int shift = 0; shift < m_settings.bracket && rung <= maxEpochs; ++shift)
        rung *= eta;
    for (; rung <= maxEpochs; rung *= eta)
        epochs.push_back(static_cast<int>(rung));
    return epochs;
}

bool AshaPruner::shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) {
    return decide(trialNumber, epoch, curves, [](int64_t) { return true; });
}

bool AshaPruner::decide(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves,
                        const std::function<bool(int64_t)>& compared) const {
    const auto epochRungs = rungs(epoch);
    if (epochRungs.empty() || epochRungs.back() != epoch || epoch <= m_settings.warmupEpochs)
        return false;
    const TrialCurve* own = findCurve(trialNumber, curves);
    if (!own)
        return false;
    if (m_settings.startupTrials > 0) {
        int finished = 0;
        for (const TrialCurve& curve : curves)
            finished += curve.finished && curve.number != trialNumber && compared(curve.number) ? 1 : 0;
        if (finished < m_settings.startupTrials)
            return false;
    }
    const auto ownValue = own->values.find(epoch);
    if (ownValue == own->values.end())
        return false;
    const double value = comparable(ownValue->second);
    // Ties favour the trial: only strictly better values rank ahead of it.
    int64_t reached = 0;
    int64_t ahead = 0;
    for (const TrialCurve& curve : curves) {
        const auto found = curve.values.find(epoch);
        if (found == curve.values.end() || (curve.number != trialNumber && !compared(curve.number)))
            continue;
        ++reached;
        if (curve.number != trialNumber && comparable(found->second) < value)
            ++ahead;
    }
    const int64_t kept = std::max<int64_t>(1, reached / std::max(2, m_settings.reductionFactor));
    return ahead >= kept;
}

HyperbandPruner::HyperbandPruner(HyperbandSettings settings)
    : m_settings(settings) {
    m_settings.minEpochs = std::max(1, m_settings.minEpochs);
    m_settings.reductionFactor = std::max(2, m_settings.reductionFactor);
    m_settings.maxEpochs = std::max(m_settings.minEpochs, m_settings.maxEpochs);
    const int eta = m_settings.reductionFactor;
    int largest = 0; // s_max = floor(log_eta(maxEpochs / minEpochs)), in integers
    for (int64_t resource = m_settings.minEpochs; resource * eta <= m_settings.maxEpochs; resource *= eta)
        ++largest;
    // Hyperband starts ceil((s_max + 1) / (s_max - b + 1) * eta^(s_max - b)) configurations in the
    // bracket whose first rung is b rungs up: aggressive brackets see the most trials.
    double total = 0.0;
    for (int bracket = 0; bracket <= largest; ++bracket) {
        const int rate = largest - bracket;
        total += std::ceil(double(largest + 1) / double(rate + 1) * std::pow(double(eta), rate));
        m_bracketWeights.push_back(total);
    }
    for (double& weight : m_bracketWeights)
        weight /= total;
}

int HyperbandPruner::bracketCount() const {
    return static_cast<int>(m_bracketWeights.size());
}

int HyperbandPruner::bracketOf(int64_t trialNumber) const {
    const double u = double(mixed(trialNumber) >> 11) * 0x1.0p-53; // uniform in [0, 1)
    const auto found = std::upper_bound(m_bracketWeights.begin(), m_bracketWeights.end(), u);
    return static_cast<int>(std::min<ptrdiff_t>(found - m_bracketWeights.begin(), bracketCount() - 1));
}

bool HyperbandPruner::shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) {
    const int bracket = bracketOf(trialNumber);
    const AshaPruner asha({m_settings.minEpochs, m_settings.reductionFactor, bracket, m_settings.warmupEpochs,
                           m_settings.startupTrials});
    return asha.decide(trialNumber, epoch, curves,
                       [this, bracket](int64_t number) { return bracketOf(number) == bracket; });
}

const std::vector<std::string>& prunerNames() {
    static const std::vector<std::string> names = {"none", "median", "asha", "hyperband"};
    return names;
}

Result<std::unique_ptr<Pruner>> makePruner(const PrunerSettings& settings, int maxEpochs) {
    using Made = Result<std::unique_ptr<Pruner>>;
    const auto& names = prunerNames();
    if (std::find(names.begin(), names.end(), settings.type) == names.end()) {
        std::string known;
        for (const auto& name : names)
            known += (known.empty() ? "" : ", ") + name;
        return Made::failure("pruner.type: unknown pruner \"" + settings.type + "\" (known: " + known + ")");
    }
    if (settings.type == "none")
        return Made(std::unique_ptr<Pruner>(std::make_unique<NoPruner>()));
    if (settings.type == "median") {
        if (settings.startupTrials < 0)
            return Made::failure("pruner.startup_trials: must be at least 0, not " +
                                 std::to_string(settings.startupTrials));
        if (settings.warmupEpochs < 0)
            return Made::failure("pruner.warmup_epochs: must be at least 0, not " +
                                 std::to_string(settings.warmupEpochs));
        MedianPrunerSettings median;
        median.startupTrials = settings.startupTrials;
        median.warmupEpochs = settings.warmupEpochs;
        return Made(std::unique_ptr<Pruner>(std::make_unique<MedianPruner>(median)));
    }
    if (settings.minEpochs < 1)
        return Made::failure("pruner.min_epochs: must be at least 1, not " +
                             std::to_string(settings.minEpochs));
    if (settings.reductionFactor < 2)
        return Made::failure("pruner.reduction_factor: must be at least 2, not " +
                             std::to_string(settings.reductionFactor));
    if (settings.startupTrials < 0 || settings.warmupEpochs < 0)
        return Made::failure("pruner.startup_trials and pruner.warmup_epochs: must be at least 0");
    if (settings.type == "asha")
        return Made(std::unique_ptr<Pruner>(
            std::make_unique<AshaPruner>(AshaSettings{settings.minEpochs, settings.reductionFactor, 0,
                                                      settings.warmupEpochs, settings.startupTrials})));
    HyperbandSettings hyperband;
    hyperband.minEpochs = settings.minEpochs;
    hyperband.maxEpochs = std::max(settings.minEpochs, maxEpochs);
    hyperband.reductionFactor = settings.reductionFactor;
    hyperband.warmupEpochs = settings.warmupEpochs;
    hyperband.startupTrials = settings.startupTrials;
    return Made(std::unique_ptr<Pruner>(std::make_unique<HyperbandPruner>(hyperband)));
}

PrunerSettings scaledPrunerDefaults(const std::string& type, int epochs, int64_t trialBudget) {
    PrunerSettings settings;
    settings.type = type;
    settings.reductionFactor = 3;
    settings.warmupEpochs = epochs > 0 ? std::max(1, epochs / 10) : 1;
    settings.minEpochs = settings.warmupEpochs + 1;
    settings.startupTrials =
        trialBudget > 0 ? static_cast<int>(std::clamp<int64_t>(trialBudget / 5, 3, 10)) : 5;
    return settings;
}

std::vector<int> pruningEpochs(const PrunerSettings& settings, int epochs) {
    std::vector<int> found;
    if (settings.type == "median") {
        for (int epoch = settings.warmupEpochs + 1; epoch < epochs; ++epoch)
            found.push_back(epoch);
    } else if (settings.type == "asha" || settings.type == "hyperband") {
        const AshaPruner asha({settings.minEpochs, settings.reductionFactor, 0, 0, 0});
        for (int rung : asha.rungs(std::max(0, epochs - 1)))
            if (rung > settings.warmupEpochs)
                found.push_back(rung);
    }
    return found;
}

} // namespace tunelab
