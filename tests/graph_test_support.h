#pragma once

// Networks shared by the graph editor's suites (tst_graph_editor, tst_layer_wiring).

#include "experiment/layer_catalog.h"
#include "spec/spec.h"

#include <string>
#include <vector>

namespace tunelab::test {

inline LayerSpec layer(LayerType type, const std::string& name = {}, std::vector<std::string> inputs = {}) {
    LayerSpec spec = LayerCatalog::defaultLayer(type);
    spec.outFeatures = 8;
    spec.name = name;
    spec.inputs = std::move(inputs);
    return spec;
}

// linear 8, relu, linear 8, add (reading the linear before it), linear 3 on [8]: valid.
inline ModelSpec chainWithAdd() {
    ModelSpec model;
    model.layers = {layer(LayerType::Linear), layer(LayerType::ReLU), layer(LayerType::Linear),
                    layer(LayerType::Add), layer(LayerType::Linear)};
    model.layers.back().outFeatures = 3;
    return model;
}

// The chain with names: a, r, b, then sum reading b and a, then the output layer.
inline ModelSpec namedChain() {
    ModelSpec model = chainWithAdd();
    model.layers[0].name = "a";
    model.layers[1].name = "r";
    model.layers[2].name = "b";
    model.layers[3].name = "sum";
    model.layers[3].inputs = {"b", "a"};
    return model;
}

inline ModelSpec residualExample() {
    auto spec = loadExperimentSpec(TUNELAB_SOURCE_DIR "/resources/experiments/digits-resnet.json");
    return spec.ok() ? spec.value().model : ModelSpec();
}

inline int layerNamed(const ModelSpec& model, const std::string& name) {
    for (int layer = 0; layer < int(model.layers.size()); ++layer)
        if (model.layers[layer].name == name)
            return layer;
    return -1;
}

} // namespace tunelab::test
