#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"
#include "training/network.h"

#include <memory>
#include <string>
#include <vector>

namespace tunelab::detail {

// Starts the network from trained weights (spec.init): `given` (a stored run's model, read by the
// caller that has the store) or else the state dict file init.file. Copies every parameter and
// buffer whose name and shape match (the store's "0.weight" names or an export's
// "layers.0.linear.weight"). Returns a note for the user naming the layers that start fresh; throws
// std::runtime_error naming the key when the weights cannot be read or fit nothing.
std::string initialiseFromTrained(Network& network, const InitSpec& init,
                                  const std::shared_ptr<const std::vector<char>>& given);

// The parameters of the first `layers` layers, held where they were when it was made: their
// gradients zeroed after the backward pass (so clipping ignores them) and their values restored
// after each step (decoupled weight decay and momentum would move them otherwise).
class FrozenLayers {
public:
    FrozenLayers() = default;
    FrozenLayers(Network& network, const FlatParameters& flat, int layers);

    bool empty() const { return m_ranges.empty(); }
    void holdGradients(FlatParameters& flat) const;
    void holdValues(FlatParameters& flat) const;

private:
    struct Range {
        int64_t offset, count;
        torch::Tensor values;
    };
    std::vector<Range> m_ranges;
};

// Per-layer learning-rate multipliers (a layer's lr_multiplier): each step's update of a layer's
// parameters scaled by its multiplier, whatever the optimizer (the update, not the gradient, is
// scaled, so Adam's normalisation cannot undo it). Layers at 1 cost nothing.
class LayerRates {
public:
    LayerRates() = default;
    LayerRates(Network& network, const ModelSpec& model);

    bool empty() const { return m_ranges.empty(); }
    void beforeStep(const FlatParameters& flat);
    void afterStep(FlatParameters& flat);

private:
    struct Range {
        int64_t offset, count;
        double multiplier;
        torch::Tensor before;
    };
    std::vector<Range> m_ranges;
};

} // namespace tunelab::detail
