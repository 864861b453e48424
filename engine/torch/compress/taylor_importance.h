#pragma once

// Private to the engine: included only by engine .cpp files (and the engine's tests).
//
// What structured pruning's Taylor importance reads (compress/structured_pruning.h): for each linear
// and conv2d layer and each training batch, the sum over each output neuron's weights and bias of
// the loss's gradient times the weight. Removing a neuron sets those weights to zero, so the sum is
// the first-order estimate of the loss change (with its sign); the ranking squares it per batch.

#include "common/result.h"
#include "compress/structured_pruning.h"
#include "spec/spec.h"
#include "training/network.h"

#include <cstdint>
#include <vector>

namespace tunelab::detail {

// The training rows the scores are taken on, at most: the first of the run's shuffled training rows.
constexpr int64_t kTaylorRows = 1024;

// On `features` and `targets` (class indexes for cross entropy, else one column) in batches of
// `batchSize`, with `network` in evaluation mode (batch norm uses its running statistics, dropout
// passes everything: the network as it will run). Fails on a loss that is not finite.
Result<TaylorContributions> taylorContributions(const ModelSpec& model, NetworkImpl& network,
                                                const torch::Tensor& features, const torch::Tensor& targets,
                                                const LossSpec& loss, int64_t batchSize);

// The same for a trained run: its weights, its training rows (the trainer's split and
// standardization), its loss and batch size.
Result<TaylorContributions> taylorContributions(const ExperimentSpec& spec,
                                                const std::vector<char>& stateDict,
                                                int64_t rows = kTaylorRows);

} // namespace tunelab::detail
