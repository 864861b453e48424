#pragma once

#include "common/result.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tunelab {

// The per-epoch intermediate values of one trial ("lower is better": a study that maximizes hands
// pruners the negated objective). Epochs are 1-based.
struct TrialCurve {
    int64_t number = 0;
    std::map<int, double> values; // epoch -> intermediate value
    bool finished = false;        // complete, pruned or failed (not running)
};

// Decides at the end of each epoch whether a running trial should stop early. Decisions depend on
// the curves passed in only, so a resumed study decides as the original one would have. Pruners
// are called from several trial threads through the study runner, which serialises the calls.
// A NaN value (a diverged trial) counts as the worst value there is.
class Pruner {
public:
    virtual ~Pruner() = default;
    // `curves` holds every trial of the study, the one being decided included (by number).
    virtual bool shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) = 0;
};

// Never prunes.
class NoPruner : public Pruner {
public:
    bool shouldPrune(int64_t, int, const std::vector<TrialCurve>&) override { return false; }
};

// Median stopping: after `warmupEpochs` epochs (from epoch warmupEpochs + 1 on) and once
// `startupTrials` other trials have finished, prunes a trial whose best value so far is worse than
// the median of the other trials' values at the same epoch (their best up to that epoch), among
// the trials that reached that epoch.
struct MedianPrunerSettings {
    int startupTrials = 5;
    int warmupEpochs = 1;
    int minTrialsAtEpoch = 3; // fewer trials that reached the epoch: no decision
};

class MedianPruner : public Pruner {
public:
    explicit MedianPruner(MedianPrunerSettings settings)
        : m_settings(settings) {}
    bool shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) override;

private:
    MedianPrunerSettings m_settings;
};

// Asynchronous successive halving. Rungs sit at minEpochs * reductionFactor^k epochs (shifted by
// `bracket` rungs for Hyperband). At a rung, a trial continues only when its value is among the
// best 1/reductionFactor of the values every trial reported at that rung so far; otherwise it is
// pruned. Precisely: with n values at the rung (this trial's included), the trial continues when
// the number of strictly better values is below max(1, floor(n / reductionFactor)), so ties favour
// the trial and a trial alone at a rung continues. Epochs between rungs never prune, nor do rungs
// inside the warm-up (epoch <= warmupEpochs), nor any rung before `startupTrials` other trials
// finished.
struct AshaSettings {
    int minEpochs = 1;
    int reductionFactor = 3;
    int bracket = 0; // minimum early-stopping rate s: the first rung is at minEpochs * eta^s
    int warmupEpochs = 0;
    int startupTrials = 0;
};

class AshaPruner : public Pruner {
public:
    explicit AshaPruner(AshaSettings settings)
        : m_settings(settings) {}
    bool shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) override;
    // The epochs at which trials are compared, up to maxEpochs.
    std::vector<int> rungs(int maxEpochs) const;
    // shouldPrune, comparing only with the trials for which `compared(number)` holds (Hyperband
    // passes its bracket).
    bool decide(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves,
                const std::function<bool(int64_t)>& compared) const;

private:
    AshaSettings m_settings;
};

// Hyperband over ASHA: brackets s = 0 .. s_max = floor(log_eta(maxEpochs / minEpochs)), each an
// ASHA with its first rung at minEpochs * eta^s. A trial's bracket follows from a fixed hash of its
// number, bracket s drawn with weight ceil((s_max + 1) / (s_max - s + 1) * eta^(s_max - s)), the
// number of trials Hyperband starts in it; a trial is compared only with the trials of its bracket.
struct HyperbandSettings {
    int minEpochs = 1;
    int maxEpochs = 27;
    int reductionFactor = 3;
    int warmupEpochs = 0;  // as for ASHA
    int startupTrials = 0; // as for ASHA
};

class HyperbandPruner : public Pruner {
public:
    explicit HyperbandPruner(HyperbandSettings settings);
    bool shouldPrune(int64_t trialNumber, int epoch, const std::vector<TrialCurve>& curves) override;
    int bracketCount() const;
    int bracketOf(int64_t trialNumber) const;

private:
    HyperbandSettings m_settings;
    std::vector<double> m_bracketWeights; // cumulative, for bracketOf
};

// A pruner by name: "none", "median", "asha", "hyperband". `maxEpochs` is the base experiment's
// epoch budget (Hyperband's largest resource).
struct PrunerSettings {
    std::string type = "none";
    int minEpochs = 1;
    int reductionFactor = 3;
    int startupTrials = 5;
    int warmupEpochs = 1;
};
Result<std::unique_ptr<Pruner>> makePruner(const PrunerSettings& settings, int maxEpochs);
const std::vector<std::string>& prunerNames();

// The settings a pruner of `type` starts with for a study whose trials train `epochs` epochs
// (0: not known, as for ask/tell) with a budget of `trialBudget` trials (0: no limit). They scale,
// so that a small study still finishes enough trials to learn from: the warm-up is a tenth of the
// epochs (at least 1), the first rung comes right after it, and nothing is pruned before a fifth of
// the budget (3 to 10 trials; 5 without a limit) finished.
PrunerSettings scaledPrunerDefaults(const std::string& type, int epochs, int64_t trialBudget);

// The epochs at which `settings` can prune a trial of `epochs` epochs: after the warm-up and before
// the last epoch (which has nothing left to save), on a rung for ASHA and Hyperband (Hyperband's
// most aggressive bracket). Empty when the pruner never prunes.
std::vector<int> pruningEpochs(const PrunerSettings& settings, int epochs);

} // namespace tunelab
