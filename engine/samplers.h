#pragma once

#include "engine/result.h"
#include "engine/search_space.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace tunelab {

enum class TrialState { Complete, Pruned, Failed };

struct FinishedTrial {
    int64_t number = 0;
    Assignment assignment;
    double value = 0.0;
    TrialState state = TrialState::Complete;
};

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

// Shared by the samplers: the value a parameter takes at u in [0, 1).
ParamValue valueAtUnit(const SearchParameter& parameter, double u);
// splitmix64 finaliser, for deriving per-trial and per-parameter streams.
uint64_t mixBits(uint64_t x);
// The random stream of one trial of a seeded sampler: depends on the seed and the trial number
// only, so suggestions do not depend on call order (parallel and resumed studies reproduce).
uint64_t trialStreamKey(uint64_t seed, int64_t trialNumber);

} // namespace tunelab
