#pragma once

#include "events/run_events.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tunelab {

// Per-layer gradient health of a run (docs/gradient-health.md): gradient norms and update-to-weight
// ratios sampled at the metric flushes (LayerHealthSample, run_events.h), weight histograms at epoch
// ends (WeightHistogram, run_events.h), and the flags derived from them.

enum class HealthFlagKind { Vanishing, Exploding };

struct HealthFlag {
    HealthFlagKind kind = HealthFlagKind::Vanishing;
    int32_t layer = 0;
    int64_t firstStep = 0;
    int32_t epoch = 0;   // > 0: seen in the layer's weights at the end of this epoch (firstStep is 0)
    std::string message; // what was seen
    std::string advice;  // what usually helps
};

struct HealthThresholds {
    double vanishingNorm = 1e-7;  // a layer's gradient norm below this ...
    int vanishingSamples = 20;    // ... for this many consecutive samples
    double explodingJump = 1e3;   // a norm this many times its running median (when that median is at
                                  // least vanishingNorm), or non-finite
    int explodingMinHistory = 3;  // earlier samples a layer needs before a jump counts
    double explodingWeight = 1e4; // a layer's weights reaching this magnitude, or non-finite
};

// Flags from a run's samples and weight histograms, in any order (each layer and kind flagged once,
// at its first step); the result is sorted by step, then layer. Exploding weights or gradients take
// precedence: a layer whose gradients vanish in a run that exploded is a saturated or dead layer,
// and its advice is the exploding one (a lower learning rate), never a higher learning rate.
std::vector<HealthFlag> detectHealthFlags(const std::vector<LayerHealthSample>& samples,
                                          const HealthThresholds& thresholds = {},
                                          const std::vector<WeightHistogram>& histograms = {});
const char* toString(HealthFlagKind kind);
// What usually helps against that kind of problem.
const char* healthAdvice(HealthFlagKind kind);
// One line for a table cell's tooltip: "Exploding gradients: layer 2 from step 340; vanishing
// gradients: layers 0, 1". Empty when there are no flags.
std::string healthSummary(const std::vector<HealthFlag>& flags);

// FNV-1a (64 bit) over bytes, continuing from `hash`; used for the fairness hashes of RunSummary.
constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
uint64_t fnv1a64(const void* data, size_t size, uint64_t hash = kFnvOffsetBasis);

} // namespace tunelab
