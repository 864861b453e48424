// Shape inference runs on every edit in the network editor: time it for a 49-layer stack and for
// 200-layer graphs (target: at most 10 ms for 200 nodes). Two graph shapes: dense blocks (every
// layer of a block concatenates all before it) and a residual tower of blocks written once.

#include "model/shape_inference.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using namespace tunelab;

LayerSpec layer(LayerType type, const std::string& name = {}, std::vector<std::string> inputs = {}) {
    LayerSpec spec;
    spec.type = type;
    spec.name = name;
    spec.inputs = std::move(inputs);
    spec.outChannels = 4;
    spec.outFeatures = 64;
    spec.padding = 1;
    return spec;
}

ModelSpec stack() {
    ModelSpec model;
    for (int i = 0; i < 21; ++i)
        model.layers.insert(model.layers.end(), {layer(LayerType::Conv2d), layer(LayerType::ReLU)});
    model.layers.push_back(layer(LayerType::Flatten));
    for (int i = 0; i < 3; ++i)
        model.layers.insert(model.layers.end(), {layer(LayerType::Linear), layer(LayerType::ReLU)});
    return model;
}

// 22 dense blocks of 4 convolutions and 4 concatenations, with a 1x1 transition: 200 layers.
ModelSpec denseGraph() {
    ModelSpec model;
    model.layers.push_back(layer(LayerType::Conv2d, "s0"));
    for (int block = 0; block < 22; ++block) {
        std::vector<std::string> joined = {"s" + std::to_string(block)};
        for (int k = 0; k < 4; ++k) {
            const std::string id = "b" + std::to_string(block) + "_" + std::to_string(k);
            model.layers.push_back(layer(LayerType::Conv2d, id + "c", {k ? joined.back() : joined.front()}));
            if (k)
                joined.pop_back();
            joined.push_back(id + "c");
            model.layers.push_back(layer(LayerType::Concat, id + "j", joined));
            joined.push_back(id + "j");
        }
        LayerSpec transition = layer(LayerType::Conv2d, "s" + std::to_string(block + 1));
        transition.kernelSize = 1;
        transition.padding = 0;
        model.layers.push_back(transition);
    }
    model.layers.resize(198);
    model.layers.push_back(layer(LayerType::Flatten));
    model.layers.push_back(layer(LayerType::Linear));
    return model;
}

// A residual tower (held out: the target was set before this shape was timed): 28 blocks of
// conv, batch norm, relu, conv, batch norm, add, relu.
ModelSpec residualGraph() {
    ModelSpec model;
    model.layers.push_back(layer(LayerType::Conv2d, "stem"));
    std::string previous = "stem";
    for (int block = 0; model.layers.size() + 7 <= 198; ++block) {
        const std::string id = "r" + std::to_string(block);
        model.layers.push_back(layer(LayerType::Conv2d, id + "a", {previous}));
        model.layers.push_back(layer(LayerType::BatchNorm));
        model.layers.push_back(layer(LayerType::ReLU));
        model.layers.push_back(layer(LayerType::Conv2d));
        model.layers.push_back(layer(LayerType::BatchNorm, id + "n"));
        model.layers.push_back(layer(LayerType::Add, id + "add", {id + "n", previous}));
        model.layers.push_back(layer(LayerType::ReLU, id));
        previous = id;
    }
    while (model.layers.size() < 198)
        model.layers.push_back(layer(LayerType::ReLU));
    model.layers.push_back(layer(LayerType::Flatten));
    model.layers.push_back(layer(LayerType::Linear));
    return model;
}

void time(const char* what, const ModelSpec& model, const Shape& input) {
    const ShapeReport check = inferShapes(model, input);
    if (!check.ok()) {
        std::printf("%s: %s\n", what, check.errors.front().c_str());
        return;
    }
    std::vector<double> micros;
    int64_t checksum = 0;
    for (int round = 0; round < 21; ++round) {
        constexpr int kRepeats = 200;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kRepeats; ++i)
            checksum += inferShapes(model, input).totalParams;
        micros.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                         kRepeats * 1e6);
    }
    std::sort(micros.begin(), micros.end());
    std::printf("%-34s %3zu layers: median %7.1f us, max %7.1f us per call (checksum %lld)\n", what,
                model.layers.size(), micros[micros.size() / 2], micros.back(),
                static_cast<long long>(checksum));
}

} // namespace

int main() {
    time("stack of conv and linear layers", stack(), {3, 32, 32});
    time("dense blocks (concat)", denseGraph(), {1, 8, 8});
    time("residual tower (add), held out", residualGraph(), {4, 8, 8});
    return 0;
}
