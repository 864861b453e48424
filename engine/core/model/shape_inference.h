#pragma once

#include "data/dataset.h"
#include "model/network_graph.h"
#include "spec/spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tunelab {

struct LayerShape {
    int index = 0;
    LayerType type = LayerType::ReLU;
    Shape input;        // of its first input
    Shape output;       // empty when the layer is invalid or its input is unknown
    int64_t params = 0; // trainable parameters
    int64_t flops = 0;  // forward FLOPs per sample; a multiply-add counts as 2
    std::string error;  // empty when the layer fits its input
};

struct ShapeReport {
    NetworkGraph graph; // which layers each layer reads
    Shape input;
    Shape output;
    std::vector<LayerShape> layers;
    int64_t totalParams = 0;
    int64_t totalFlops = 0;
    std::vector<std::string> errors; // per-layer errors and the output/task check, in order

    bool ok() const { return errors.empty(); }
};

// What the network's output must match; classes == 0 means "unknown, do not check".
struct OutputTarget {
    TaskKind task = TaskKind::Classification;
    int classes = 0;
    LossType loss = LossType::CrossEntropy;
};

// Pure arithmetic, no tensors: cheap enough to call on every edit (a 200-layer graph takes well
// under a millisecond). Layers that do not depend on an invalid one are still inferred; errors
// name the layer (its index, or its name when it has one), the inputs and their shapes.
ShapeReport inferShapes(const ModelSpec& model, const Shape& input);
ShapeReport inferShapes(const ModelSpec& model, const Shape& input, const OutputTarget& target);

} // namespace tunelab
