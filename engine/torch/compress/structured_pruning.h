#pragma once

// Private to the engine: included only by engine .cpp files.

#include "common/result.h"
#include "data/dataset.h"
#include "spec/spec.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tunelab::detail {

// How structured pruning ranks a layer's neurons (linear outputs) or channels (conv2d outputs):
// by the L1 or L2 norm of each one's incoming weights (a row of the linear weight, a whole conv2d
// filter), as the state dict holds them (biases do not count); or by the first-order Taylor estimate
// of the loss change its removal makes (Molchanov et al., 2019): per training batch, the sum over its
// weights and bias of gradient times weight, squared, and summed over the batches. Unlike a norm it
// sees what follows the neuron (an output nobody reads costs nothing) and the scale a batch norm
// after it takes away.
enum class NeuronImportance { L1, L2, Taylor };

// Taylor importance's inputs, from taylorContributions (compress/taylor_importance.h): per linear or
// conv2d layer (by index in model.layers), `batches` rows of one value per output neuron: the sum of
// gradient times weight over the neuron's weights and bias on that batch.
struct TaylorContributions {
    int64_t batches = 0;
    std::map<int, std::vector<double>> layers; // batches x outputs, row-major
};

struct StructuredPruneOptions {
    // The share of each prunable layer's neurons or channels removed, in [0, 1). A layer of n keeps
    // ceil((1 - fraction) * n), at least 1: never more is removed than asked for.
    double fraction = 0.5;
    NeuronImportance importance = NeuronImportance::L1;
    TaylorContributions taylor; // Taylor: every hidden linear and conv2d layer's
};

// One hidden linear or conv2d layer: its neurons or channels before and after (equal when the
// fraction was too small to remove one of them).
struct ShrunkLayer {
    int layer = 0; // index in model.layers
    int64_t before = 0;
    int64_t after = 0;
    std::vector<int64_t> kept; // the neurons or channels kept, by their index before, ascending
};

// A smaller, ordinary network: its spec (narrower layers) and its weights (the kept rows, columns,
// channels and batch norm entries), in the state dict format of saveStateDict, which loadStateDict
// reads into the network that `model` builds.
struct ShrunkNetwork {
    ModelSpec model;
    std::vector<char> stateDict;
    std::vector<ShrunkLayer> layers; // every hidden linear and conv2d layer, in order (whole ones too)
};

// Removes the least important `fraction` of the neurons of every hidden linear layer and of the
// channels of every hidden conv2d layer, physically. A layer whose output makes the network's output
// (directly or through layers without weights) keeps its size. Each layer is ranked on its own weights;
// among equal norms the earlier neuron stays. On a graph, layers whose outputs an add or multiply
// combines form one group, ranked on the sum of their norms (L2: the root of the summed squares) and
// cut alike; a group that a merge adds to the network's input, or to a tensor laid out differently
// (a concat of two layers added to one), keeps every channel. The layers that read a cut tensor lose
// the matching inputs: batch norm its weight, bias and running statistics (num_batches_tracked stays),
// layer norm the entries of its weight and bias (it normalizes over the whole sample, so its statistics
// then cover the kept features only: unlike the other layers its output changes even where the removed
// neurons gave zeros), a flatten lays each kept channel out as its block of height * width features, a
// concat puts its inputs' kept entries one after another, and the next linear or conv2d layer keeps
// only the matching input columns or channels. Pools, dropout and activations pass the kept entries
// through. `input` is one sample's shape, `stateDict` the model's weights (saveStateDict's format).
//
// Fails, naming the place ("model.layers[3] (linear): ..."), on a fraction outside [0, 1), shapes that
// do not fit, a state dict that is not the model's (a missing, extra or differently shaped tensor),
// weights that are not finite, a network with no hidden linear or conv2d layer it may cut, and a layer
// after a cut one that it does not know how to narrow.
Result<ShrunkNetwork> shrinkNetwork(const ModelSpec& model, const Shape& input,
                                    const std::vector<char>& stateDict,
                                    const StructuredPruneOptions& options);

} // namespace tunelab::detail
