#pragma once

#include "spec/spec.h"

#include <string>
#include <vector>

namespace tunelab {

// The graph a ModelSpec describes: which layers each layer reads, and an order to compute them in.
// A layer reads the layers named in its `inputs` ("input" is the network's input; a block
// instance's name stands for its last layer), or the layer written before it when it names none.
// The last layer written is the network's output. Pure bookkeeping, no shapes and no tensors.
struct NetworkGraph {
    static constexpr int kNetworkInput = -1;

    std::vector<std::vector<int>> inputs; // per layer: the indexes of the layers it reads, or kNetworkInput
    std::vector<int> order; // every layer after the layers it reads; the written order when it is one
    int output = -1;
    // A straight stack: every layer reads the one written before it (the first reads the input).
    bool chain = true;
    // Unknown or repeated names, cycles, layers whose output nothing reads: each names the layer.
    std::vector<std::string> errors;

    bool ok() const { return errors.empty(); }
};

NetworkGraph buildNetworkGraph(const ModelSpec& model);

// How messages name a layer: "layer 3 (conv2d)", or "conv2d 'res1/conv'" when it has a name.
std::string layerLabel(const ModelSpec& model, int index);
// How messages name what a layer reads: "'conv1'", "layer 2" or "the input".
std::string inputLabel(const ModelSpec& model, int index);

} // namespace tunelab
