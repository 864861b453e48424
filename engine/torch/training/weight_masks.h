#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"
#include "training/network.h"

#include <string>
#include <vector>

namespace tunelab::detail {

// Magnitude pruning while training (spec.prune): which weights of the flat parameter buffer are
// pruned, held at zero through every step (their gradients zeroed before the optimizer, their values
// after it, so momentum and decoupled weight decay cannot revive them).
class WeightMasks {
public:
    WeightMasks() = default;
    // The weights of the linear and conv2d layers that prune.layers names (all when empty).
    WeightMasks(Network& network, const FlatParameters& flat, const ModelSpec& model, const PruneSpec& prune,
                int epochs);

    bool empty() const { return m_ranges.empty(); }

    // The sparsity the schedule asks for during `epoch` (1-based).
    double targetSparsity(int epoch) const;
    // Before `epoch` trains: where the schedule raises the sparsity, prunes the smallest weights by
    // magnitude up to it (pruned weights are zero, so masks only ever grow) and zeroes them.
    void beginEpoch(int epoch, FlatParameters& flat);

    void holdGradients(FlatParameters& flat) const;
    void holdValues(FlatParameters& flat) const;

    // The share of the prunable weights that are pruned now, and a line for the run's message.
    double sparsity() const;
    std::string summary() const;

private:
    struct Range {
        int64_t offset, count;
    };
    void prune(double sparsity, const FlatParameters& flat);

    PruneSpec m_prune;
    int m_epochs = 0;
    std::vector<Range> m_ranges;
    int64_t m_prunable = 0;
    torch::Tensor m_mask; // as long as the flat buffer: 0 where pruned, 1 elsewhere
    double m_applied = 0.0;
};

// Quantization-aware training (spec.fake_quantize): before each forward pass the linear and conv2d
// weights are replaced by their int8 roundings (symmetric, per output neuron or channel or per layer),
// and after the backward pass the float weights come back, so the optimizer updates the float weights
// with gradients taken at the rounded ones (the straight-through estimator).
class FakeQuantizedWeights {
public:
    FakeQuantizedWeights() = default;
    FakeQuantizedWeights(Network& network, const ModelSpec& model, const FakeQuantizeSpec& fake);

    bool empty() const { return m_weights.empty(); }
    void round();
    void restore();

private:
    struct Weight {
        torch::Tensor values; // a view into the flat buffer, shaped like the weight
        torch::Tensor saved;
    };
    std::vector<Weight> m_weights;
    bool m_perChannel = true;
};

} // namespace tunelab::detail
