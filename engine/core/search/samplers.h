#pragma once

#include "common/result.h"
#include "search/search_space.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tunelab {

// Waiting: queued (re-queued after a crash or asked for but not yet started). Running: being
// evaluated; samplers that support it treat these as pending (constant liar).
enum class TrialState { Waiting, Running, Complete, Pruned, Failed };

const char* toString(TrialState state);
bool parseTrialState(const std::string& text, TrialState& state);
bool isFinal(TrialState state);

// A trial as samplers see it. `value` is always "lower is better": a study that maximizes
// hands samplers the negated objective. Pruned trials carry their last intermediate value.
// In a study with several objectives, `values` holds every objective towards its minimum
// (values[0] == value) and `violation` how far the trial lies outside the study's constraints
// (0: it meets them all); single-objective studies leave `values` empty.
struct FinishedTrial {
    int64_t number = 0;
    Assignment assignment;
    double value = 0.0;
    TrialState state = TrialState::Complete;
    std::vector<double> values = {};
    double violation = 0.0;
};

// Every objective of a trial towards its minimum: `values`, or `value` alone in a single-objective
// study.
std::vector<double> objectivesOf(const FinishedTrial& trial);

// Suggests the parameter values of trial `trialNumber`. The assignment holds only the parameters
// that apply (conditions met). Samplers are seeded and depend on (seed, trial number) only, so a
// resumed or parallel study gets the same assignments as a sequential one. An empty optional means
// the sampler has nothing left (a finished grid).
class Sampler {
public:
    virtual ~Sampler() = default;
    virtual std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                              const std::vector<FinishedTrial>& history) = 0;
};

// Independent uniform draws (log-uniform for log parameters).
class RandomSampler : public Sampler {
public:
    explicit RandomSampler(uint64_t seed)
        : m_seed(seed) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    uint64_t m_seed;
};

// Every combination of the explicit values, once each. Trial N gets combination N, so a resumed
// study continues where it stopped. With conditions the grid holds the distinct active assignments.
class GridSampler : public Sampler {
public:
    // Fails for a float parameter without explicit "values" or a grid above a million points.
    static Result<GridSampler> create(const SearchSpace& space);
    int64_t gridSize() const { return static_cast<int64_t>(m_grid.size()); }
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    std::vector<Assignment> m_grid;
};

// Scrambled Sobol points: point N for trial N, one dimension per parameter in space order, scrambled
// by a seeded random digital shift. Parameters beyond the supported dimensions draw like RandomSampler.
class SobolSampler : public Sampler {
public:
    static constexpr int kMaxDimensions = 21;

    explicit SobolSampler(uint64_t seed)
        : m_seed(seed) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

    // The unscrambled 32-bit Sobol integer of point `index` in `dimension` (0-based).
    static uint32_t sobolInteger(uint64_t index, int dimension);

private:
    uint64_t m_seed;
};

// Tree-structured Parzen estimator. The first `startupTrials` trials (running ones counted with
// those that have results) draw like RandomSampler; after that, finished trials split into the best
// gamma(n) ("good") and the rest, each side is modelled by Parzen estimators (truncated Gaussians
// per numeric parameter in its unit or log space, smoothed frequencies per categorical), and the
// candidate with the highest l(x)/g(x) ratio among `candidates` draws from the good model wins.
// Independent: one estimator per parameter. Multivariate: one joint kernel per trial over the
// parameters that are active together, which also handles conditional spaces (a parameter's model
// uses only the trials where it applied). Running trials count as bad ones (constant liar), so
// parallel suggestions spread out.
struct TpeSettings {
    uint64_t seed = 0;
    bool multivariate = true;
    int startupTrials = 10;
    int candidates = 24;
    bool constantLiar = true;
};

class TpeSampler : public Sampler {
public:
    explicit TpeSampler(TpeSettings settings)
        : m_settings(settings) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    TpeSettings m_settings;
};

// Gaussian-process Bayesian optimisation: a Matern-5/2 kernel with one length scale per dimension,
// fitted with the signal and noise variances by maximising the log marginal likelihood; the next
// point maximises log expected improvement. Numeric parameters live in [0, 1] (log parameters in
// log space, integers rounded to their grid); categorical ones are one-hot with the kernel taken
// over the chosen category, and candidates are evaluated at valid categories only. Inactive
// conditional parameters are put at a fixed point so they do not affect the kernel. The first `startupTrials`
// trials (running ones counted with those that have results) are scrambled Sobol points. A candidate is worth
// what it adds to the running trials (batch expected improvement, gp_acquisition.h): parallel ones spread.
struct GpSettings {
    uint64_t seed = 0;
    int startupTrials = 10;
};

class GpSampler : public Sampler {
public:
    explicit GpSampler(GpSettings settings)
        : m_settings(settings) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    GpSettings m_settings;
};

// Random-forest Bayesian optimisation in the manner of SMAC3's defaults for hyperparameter
// optimisation. A forest of 10 regression trees, each grown on a bootstrap sample of the trials,
// models the log of the objective (shifted below the best value by the distance from it to the 5th
// percentile, so it works for negative objectives too); the mean and variance over the trees give the
// expected improvement. Numeric parameters are split by thresholds on their unit coordinate (log
// parameters in log space), categorical ones by sets of choices; a parameter that does not apply to a
// trial is not a number to the trees: each split sends such trials to the side that fits them best.
// The next point maximises the expected improvement over 5,000 random configurations refined by local
// searches (one parameter at a time) from the best observed and the best random ones; one suggestion
// in five is drawn at random instead. The first `startupTrials` trials (running ones counted with those
// that have results) are scrambled Sobol points. Running trials join the forest at the mean of the
// observed values (a constant liar), so parallel suggestions spread out.
struct RfSettings {
    uint64_t seed = 0;
    int startupTrials = 10;
};

class RfSampler : public Sampler {
public:
    explicit RfSampler(RfSettings settings)
        : m_settings(settings) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    RfSettings m_settings;
};

// NSGA-II for studies with several objectives (Deb et al. 2002). Trial N belongs to generation
// N / populationSize; generation 0 draws like RandomSampler. The parents of generation g are the
// elite of the complete trials of the earlier generations: sorted into fronts by constrained
// non-domination (a feasible trial before an infeasible one), taken front by front, and the front
// that does not fit whole cut by crowding distance. A child's two parents win binary tournaments
// on (front, crowding distance). With `crossoverProbability` the child mixes them: numeric
// parameters by simulated binary crossover in their unit coordinates (log parameters in log space),
// choices by taking the second parent's value with `swappingProbability`; otherwise it copies its
// first parent. Each parameter is then drawn afresh from its prior with `mutationProbability`
// (below 0: one over the number of parameters). In a conditional space a child takes each
// parameter that applies from a parent that has it and draws the ones neither parent has. Failed,
// pruned and running trials are never parents; with fewer than two complete trials it draws at
// random. A single-objective history is one objective, `value`.
struct NsgaIISettings {
    uint64_t seed = 0;
    int populationSize = 50;
    double crossoverProbability = 0.9;
    double swappingProbability = 0.5;
    double mutationProbability = -1.0;
};

class NsgaIISampler : public Sampler {
public:
    explicit NsgaIISampler(NsgaIISettings settings)
        : m_settings(settings) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    NsgaIISettings m_settings;
};

// Multi-objective TPE in the manner of Optuna's TPESampler for several objectives: TpeSampler with
// a tenth of the trials (at most 25) in the good group, chosen by constrained non-domination rank,
// front by front, and within the front that does not fit whole by greedy hypervolume subset
// selection (the point that adds the most hypervolume to those already chosen, measured against a
// point just beyond the front's worst). Everything else (the startup trials, the Parzen estimators
// and their weights, the constant liar) is TpeSampler's; unlike Optuna's, the good trials are not
// weighted by their hypervolume contributions. A single-objective history is one objective, `value`.
class MotpeSampler : public Sampler {
public:
    explicit MotpeSampler(TpeSettings settings)
        : m_settings(settings) {}
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;

private:
    TpeSettings m_settings;
};

// The default sampler: the Gaussian process while its suggestions stay cheap, then multivariate TPE.
// On the 60-trial suite of bench/bench_sampler_suite.py the GP found the best value most often, but its
// cost grows with the cube of the trials it models (about 40 ms a suggestion at 200 trials, seconds
// at a few thousand), while TPE's stays near a millisecond. So the GP suggests while fewer than
// kGpTrials trials (complete, pruned or running) exist, and TPE after. The limit is a cost, chosen
// from the suggestion times, not from the quality on any test function.
struct AutoSettings {
    uint64_t seed = 0;
    int startupTrials = 10;
};

class AutoSampler : public Sampler {
public:
    static constexpr size_t kGpTrials = 200;

    explicit AutoSampler(AutoSettings settings);
    std::optional<Assignment> suggest(const SearchSpace& space, int64_t trialNumber,
                                      const std::vector<FinishedTrial>& history) override;
    // Which sampler suggests after this history: "gp" or "tpe".
    static const char* choiceFor(const std::vector<FinishedTrial>& history);

private:
    GpSampler m_gp;
    TpeSampler m_tpe;
};

// A sampler by name: "auto" (the default: GP, then TPE), "random", "grid", "sobol", "tpe"
// (multivariate), "tpe-independent", "gp", "rf", and for several objectives "nsga2" and "motpe".
struct SamplerSettings {
    std::string type = "auto";
    uint64_t seed = 0;
    int startupTrials = 10;
};
Result<std::unique_ptr<Sampler>> makeSampler(const SamplerSettings& settings, const SearchSpace& space);
const std::vector<std::string>& samplerNames();

// Shared by the samplers: the value a parameter takes at u in [0, 1).
ParamValue valueAtUnit(const SearchParameter& parameter, double u);
// splitmix64 finaliser, for deriving per-trial and per-parameter streams.
uint64_t mixBits(uint64_t x);
// The random stream of one trial of a seeded sampler: depends on the seed and the trial number
// only, so suggestions do not depend on call order (parallel and resumed studies reproduce).
uint64_t trialStreamKey(uint64_t seed, int64_t trialNumber);

} // namespace tunelab
