#include "health/gradient_health.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace tunelab {

namespace {

std::string formatThreeDigits(double value) {
    std::ostringstream text;
    text.precision(3);
    text << value;
    return text.str();
}

// The median of a sorted, non-empty list.
double medianOf(const std::vector<double>& sorted) {
    const size_t middle = sorted.size() / 2;
    return sorted.size() % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle]);
}

HealthFlag makeFlag(HealthFlagKind kind, int32_t layer, int64_t step, std::string message) {
    HealthFlag flag;
    flag.kind = kind;
    flag.layer = layer;
    flag.firstStep = step;
    flag.message = std::move(message);
    flag.advice = healthAdvice(kind);
    return flag;
}

// Weights that grew past the threshold (or became non-finite) mark their layer as exploding, at the
// first epoch it shows, unless its gradients were flagged already.
void addExplodingWeightFlags(const std::vector<WeightHistogram>& histograms,
                             const HealthThresholds& thresholds, std::vector<HealthFlag>& flags) {
    std::map<int32_t, const WeightHistogram*> firstLarge;
    for (const WeightHistogram& histogram : histograms) {
        const double magnitude = std::max(std::abs(double(histogram.low)), std::abs(double(histogram.high)));
        if (std::isfinite(magnitude) && magnitude < thresholds.explodingWeight)
            continue;
        auto& first = firstLarge[histogram.layer];
        if (!first || histogram.epoch < first->epoch)
            first = &histogram;
    }
    for (const auto& [layer, histogram] : firstLarge) {
        const bool flagged = std::any_of(flags.begin(), flags.end(), [layer = layer](const HealthFlag& flag) {
            return flag.kind == HealthFlagKind::Exploding && flag.layer == layer;
        });
        if (flagged)
            continue;
        const double magnitude =
            std::max(std::abs(double(histogram->low)), std::abs(double(histogram->high)));
        HealthFlag flag = makeFlag(HealthFlagKind::Exploding, layer, 0,
                                   "layer " + std::to_string(layer) + ": the weights reached ±" +
                                       formatThreeDigits(magnitude) + " by the end of epoch " +
                                       std::to_string(histogram->epoch));
        flag.epoch = histogram->epoch;
        flags.push_back(std::move(flag));
    }
}

} // namespace

const char* toString(HealthFlagKind kind) {
    return kind == HealthFlagKind::Vanishing ? "vanishing" : "exploding";
}

const char* healthAdvice(HealthFlagKind kind) {
    if (kind == HealthFlagKind::Vanishing)
        return "Gradients this small barely move the layer. Usually helps: an activation that does not "
               "saturate (ReLU, LeakyReLU, GELU instead of sigmoid or tanh), normalization layers "
               "(BatchNorm, LayerNorm), a larger initial scale or a higher learning rate, fewer layers.";
    return "Gradients this large overshoot. Usually helps: a lower learning rate (or a warmup), "
           "gradient clipping (training.grad_clip_norm), normalization layers (BatchNorm, LayerNorm), "
           "standardized inputs.";
}

std::vector<HealthFlag> detectHealthFlags(const std::vector<LayerHealthSample>& samples,
                                          const HealthThresholds& thresholds,
                                          const std::vector<WeightHistogram>& histograms) {
    std::map<int32_t, std::vector<LayerHealthSample>> byLayer;
    for (const LayerHealthSample& sample : samples)
        byLayer[sample.layer].push_back(sample);
    std::vector<HealthFlag> flags;
    for (auto& [layer, layerSamples] : byLayer) {
        std::stable_sort(
            layerSamples.begin(), layerSamples.end(),
            [](const LayerHealthSample& a, const LayerHealthSample& b) { return a.step < b.step; });
        bool vanishingFlagged = false;
        bool explodingFlagged = false;
        int smallRun = 0;
        int64_t smallSince = 0;
        std::vector<double> earlier; // finite norms seen so far, sorted
        for (const LayerHealthSample& sample : layerSamples) {
            const double norm = sample.gradNorm;
            if (!explodingFlagged) {
                if (!std::isfinite(norm) || !std::isfinite(sample.updateRatio)) {
                    explodingFlagged = true;
                    flags.push_back(makeFlag(
                        HealthFlagKind::Exploding, layer, sample.step,
                        "layer " + std::to_string(layer) + ": the gradient became " +
                            (std::isnan(norm) || std::isnan(sample.updateRatio) ? "NaN" : "infinite") +
                            " at step " + std::to_string(sample.step)));
                } else if (static_cast<int>(earlier.size()) >= thresholds.explodingMinHistory) {
                    const double median = medianOf(earlier);
                    // Against a median that is itself vanishingly small, a jump is a recovery.
                    if (median >= thresholds.vanishingNorm && norm > thresholds.explodingJump * median) {
                        explodingFlagged = true;
                        flags.push_back(
                            makeFlag(HealthFlagKind::Exploding, layer, sample.step,
                                     "layer " + std::to_string(layer) + ": the gradient norm jumped to " +
                                         formatThreeDigits(norm) + " at step " + std::to_string(sample.step) +
                                         ", " + formatThreeDigits(norm / median) + " times its median of " +
                                         formatThreeDigits(median)));
                    }
                }
            }
            if (!vanishingFlagged) {
                if (std::isfinite(norm) && norm < thresholds.vanishingNorm) {
                    if (smallRun++ == 0)
                        smallSince = sample.step;
                    if (smallRun >= thresholds.vanishingSamples) {
                        vanishingFlagged = true;
                        flags.push_back(makeFlag(HealthFlagKind::Vanishing, layer, smallSince,
                                                 "layer " + std::to_string(layer) +
                                                     ": the gradient norm stayed below " +
                                                     formatThreeDigits(thresholds.vanishingNorm) + " for " +
                                                     std::to_string(smallRun) + " samples from step " +
                                                     std::to_string(smallSince)));
                    }
                } else {
                    smallRun = 0;
                }
            }
            if (std::isfinite(norm))
                earlier.insert(std::upper_bound(earlier.begin(), earlier.end(), norm), norm);
            if (vanishingFlagged && explodingFlagged)
                break;
        }
    }
    addExplodingWeightFlags(histograms, thresholds, flags);
    const bool exploded = std::any_of(flags.begin(), flags.end(), [](const HealthFlag& flag) {
        return flag.kind == HealthFlagKind::Exploding;
    });
    if (exploded) {
        for (HealthFlag& flag : flags) {
            if (flag.kind != HealthFlagKind::Vanishing)
                continue;
            flag.message +=
                " (the run exploded first: a saturated or dead layer, not a too-small learning rate)";
            flag.advice = healthAdvice(HealthFlagKind::Exploding);
        }
    }
    std::sort(flags.begin(), flags.end(), [](const HealthFlag& a, const HealthFlag& b) {
        return a.firstStep != b.firstStep ? a.firstStep < b.firstStep : a.layer < b.layer;
    });
    return flags;
}

std::string healthSummary(const std::vector<HealthFlag>& flags) {
    std::string summary;
    for (HealthFlagKind kind : {HealthFlagKind::Exploding, HealthFlagKind::Vanishing}) {
        std::vector<const HealthFlag*> ofKind;
        for (const HealthFlag& flag : flags) {
            if (flag.kind == kind)
                ofKind.push_back(&flag);
        }
        if (ofKind.empty())
            continue;
        std::string part = std::string(kind == HealthFlagKind::Exploding ? "Exploding" : "Vanishing") +
                           " gradients: layer" + (ofKind.size() > 1 ? "s " : " ");
        // Steps where the gradients showed it; else the epoch where the weights did.
        int64_t first = -1;
        int32_t firstEpoch = 0;
        for (size_t i = 0; i < ofKind.size(); ++i) {
            part += (i > 0 ? ", " : "") + std::to_string(ofKind[i]->layer);
            if (ofKind[i]->epoch > 0)
                firstEpoch = firstEpoch == 0 ? ofKind[i]->epoch : std::min(firstEpoch, ofKind[i]->epoch);
            else
                first = first < 0 ? ofKind[i]->firstStep : std::min(first, ofKind[i]->firstStep);
        }
        part +=
            first >= 0 ? " from step " + std::to_string(first) : " by epoch " + std::to_string(firstEpoch);
        if (!summary.empty())
            part[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(part[0])));
        summary += (summary.empty() ? "" : "; ") + part;
    }
    return summary;
}

uint64_t fnv1a64(const void* data, size_t size, uint64_t hash) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

} // namespace tunelab
