#pragma once

// Private to the engine: included only by engine .cpp files, never by a public header.

#include "spec/spec.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstdint>
#include <random>

namespace tunelab::detail {

// One training batch as a step sees it. With mixup, every sample is mixed with a partner:
// the loss is mix * loss(y) + (1 - mix) * loss(partnerY).
struct TrainingBatch {
    torch::Tensor x, y, teacher;
    torch::Tensor partnerY; // defined only with mixup
    double mix = 1.0;
};

// Applies a run's "augment" section to its training batches (docs/experiment-format.md). Every random
// draw comes from the run's seed and the epoch, so the same seed gives the same augmented batches
// (bit for bit on the CPU), and a run continued from a checkpoint augments its next epochs as the
// uninterrupted run would. Draws are made for the whole global batch and a data-parallel process
// takes its share of them, so N processes augment their rows as one process would.
class Augmenter {
public:
    Augmenter() = default;
    Augmenter(const AugmentSpec& augment, uint64_t seed);

    bool enabled() const { return m_augment.enabled(); }
    void beginEpoch(int epoch);

    // Rows [first, first + x.size(0)) of a global batch of `batchRows` rows.
    TrainingBatch apply(TrainingBatch batch, int64_t first, int64_t batchRows);

private:
    torch::Tensor uniform(int64_t rows, double low, double high);
    torch::Tensor geometric(const torch::Tensor& x, int64_t first, int64_t batchRows);
    torch::Tensor cutout(const torch::Tensor& x, int64_t first, int64_t batchRows);
    torch::Tensor flipAndShift(const torch::Tensor& x, const torch::Tensor& flipX, const torch::Tensor& flipY,
                               const torch::Tensor& shiftX, const torch::Tensor& shiftY);

    AugmentSpec m_augment;
    uint64_t m_seed = 0;
    at::Generator m_generator;
    std::mt19937_64 m_mixRandom;
};

} // namespace tunelab::detail
