#pragma once

// TPE's models and its choice among candidates given the trials ranked best first, shared by
// TpeSampler and MotpeSampler, which differ only in how they rank; private to
// engine/core/search/*_sampler.cpp.

#include "search/samplers.h"
#include "search/search_space.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace tunelab::tpe_core {

// A finished or running trial with its place in TPE's order: complete trials first (best first),
// then pruned ones (stopped early, so worse than any completed one), then running ones (the
// constant liar).
enum class RankClass { Complete = 0, Pruned = 1, Running = 2 };

struct Observation {
    const FinishedTrial* trial;
    RankClass rankClass;
};

// The most trials the good group holds, whatever the number of trials.
constexpr int kMaxGoodTrials = 25;

// The good group's share of the observations that a parameter group applies to, capped at
// kMaxGoodTrials; running trials are never good.
size_t goodCount(size_t observations, double goodFraction);

// TPE's suggestion for trial `trialNumber` given `ranked`, sorted best first, holding at least one
// complete or pruned trial. `goodFraction` is the share of the good group.
Assignment suggestFromRanking(const TpeSettings& settings, const SearchSpace& space, int64_t trialNumber,
                              const std::vector<Observation>& ranked, double goodFraction);

} // namespace tunelab::tpe_core
