#pragma once

// The networks and helpers of the structured pruning tests: stacks, residual, concatenating and
// gated graphs, and building, loading and measuring them.

#include "collecting_sink.h"
#include "compress/structured_pruning.h"
#include "training/network.h"
#include "training/saved_model.h"

#include <torch/torch.h>

#include <QtGlobal>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace tunelab::test::pruning {

using tunelab::detail::Network;
using tunelab::detail::NeuronImportance;
using tunelab::detail::ShrunkNetwork;
using tunelab::detail::StructuredPruneOptions;

inline LayerSpec conv(int64_t channels, int64_t kernel, int64_t padding = 0) {
    LayerSpec spec = layer(LayerType::Conv2d);
    spec.outChannels = channels;
    spec.kernelSize = kernel;
    spec.padding = padding;
    return spec;
}

inline LayerSpec pool(int64_t kernel) {
    LayerSpec spec = layer(LayerType::MaxPool2d);
    spec.kernelSize = kernel;
    return spec;
}

// linear - batch norm - relu - linear - relu - linear, on 10 features.
inline ModelSpec mlp() {
    ModelSpec model;
    model.layers = {layer(LayerType::Linear, 16), layer(LayerType::BatchNorm), layer(LayerType::ReLU),
                    layer(LayerType::Linear, 12), layer(LayerType::ReLU),      layer(LayerType::Linear, 4)};
    return model;
}

// conv - batch norm - relu - max pool - conv - relu - flatten - linear - relu - linear, on 1x10x10:
// the second conv makes 6 channels of 3x3, so the flatten gives 54 features in blocks of 9.
inline ModelSpec cnn() {
    ModelSpec model;
    model.layers = {conv(8, 3, 1),
                    layer(LayerType::BatchNorm),
                    layer(LayerType::ReLU),
                    pool(2),
                    conv(6, 3),
                    layer(LayerType::ReLU),
                    layer(LayerType::Flatten),
                    layer(LayerType::Linear, 16),
                    layer(LayerType::ReLU),
                    layer(LayerType::Linear, 10)};
    return model;
}

// 64 -> 256 -> 256 -> 10, the shape of a digits classifier.
inline ModelSpec digitsMlp() {
    ModelSpec model;
    model.layers = {layer(LayerType::Linear, 256), layer(LayerType::ReLU), layer(LayerType::Linear, 256),
                    layer(LayerType::ReLU), layer(LayerType::Linear, 10)};
    return model;
}

inline LayerSpec named(LayerSpec spec, const std::string& name, std::vector<std::string> inputs = {}) {
    spec.name = name;
    spec.inputs = std::move(inputs);
    return spec;
}

// Two residual blocks on 1x8x8: the stem's channels and both blocks' second convolutions are added
// together, so they are one group; each block's first convolution is its own.
inline ModelSpec residual() {
    ModelSpec model;
    model.layers = {named(conv(8, 3, 1), "stem"), layer(LayerType::BatchNorm),
                    named(layer(LayerType::ReLU), "r0")};
    for (const auto& [middle, block] : {std::pair<int64_t, std::string>{8, "1"}, {6, "2"}}) {
        const std::vector<LayerSpec> layers{
            conv(middle, 3, 1),
            layer(LayerType::BatchNorm),
            layer(LayerType::ReLU),
            conv(8, 3, 1),
            named(layer(LayerType::BatchNorm), "b" + block),
            named(layer(LayerType::Add), "add" + block, {"b" + block, block == "1" ? "r0" : "r1"}),
            named(layer(LayerType::ReLU), "r" + block)};
        model.layers.insert(model.layers.end(), layers.begin(), layers.end());
    }
    for (const LayerSpec& last : {pool(2), layer(LayerType::Flatten), layer(LayerType::Linear, 10)})
        model.layers.push_back(last);
    return model;
}

// Concatenations on 1x6x6: a convolution reads two groups side by side, and the flatten lays out
// two groups' channels as blocks of 36 features.
inline ModelSpec concatenated() {
    ModelSpec model;
    model.layers = {conv(6, 3, 1),
                    named(layer(LayerType::ReLU), "r1"),
                    conv(4, 3, 1),
                    named(layer(LayerType::ReLU), "r2"),
                    named(layer(LayerType::Concat), "both", {"r1", "r2"}),
                    conv(6, 3, 1),
                    named(layer(LayerType::ReLU), "r3"),
                    named(layer(LayerType::Concat), "again", {"r3", "r2"}),
                    layer(LayerType::Flatten),
                    layer(LayerType::Linear, 3)};
    return model;
}

// A gate on 10 features: a hidden layer times one sigmoid unit, which broadcasts and ties nothing.
inline ModelSpec gated() {
    ModelSpec model;
    model.layers = {named(layer(LayerType::Linear, 8), "h"),
                    named(layer(LayerType::Linear, 1), "g", {"input"}),
                    named(layer(LayerType::Sigmoid), "gate"),
                    named(layer(LayerType::Multiply), "gated", {"h", "gate"}),
                    layer(LayerType::ReLU),
                    layer(LayerType::Linear, 3)};
    return model;
}

// Two linear layers of 4 on 3 features, added together ("p" + "q"), then ReLU and a linear head.
inline ModelSpec addedPair() {
    ModelSpec model;
    model.layers = {
        named(layer(LayerType::Linear, 4), "p"), named(layer(LayerType::Linear, 4), "q", {"input"}),
        named(layer(LayerType::Add), "sum", {"p", "q"}), layer(LayerType::ReLU), layer(LayerType::Linear, 2)};
    return model;
}

inline Network build(const ModelSpec& model, const Shape& input, uint64_t seed) {
    Network network(model, input, at::make_generator<at::CPUGeneratorImpl>(seed));
    network->eval();
    return network;
}

inline torch::Tensor tensorOf(Network& network, const std::string& name) {
    for (const auto& item : network->named_parameters())
        if (item.key() == name)
            return item.value();
    for (const auto& item : network->named_buffers())
        if (item.key() == name)
            return item.value();
    return {};
}

inline int64_t parameterCount(Network& network) {
    int64_t count = 0;
    for (const auto& parameter : network->parameters())
        count += parameter.numel();
    return count;
}

inline Result<ShrunkNetwork> shrink(const ModelSpec& model, const Shape& input,
                                    const std::vector<char>& weights, double fraction,
                                    NeuronImportance importance = NeuronImportance::L1) {
    StructuredPruneOptions options;
    options.fraction = fraction;
    options.importance = importance;
    return tunelab::detail::shrinkNetwork(model, input, weights, options);
}

// The shrunk network, built and loaded as a caller would.
inline Network loadShrunk(const ShrunkNetwork& shrunk, const Shape& input) {
    Network network = build(shrunk.model, input, 1234);
    const std::string problem = tunelab::detail::loadStateDict(*network, shrunk.stateDict);
    if (!problem.empty())
        qFatal("the shrunk state dict does not load: %s", problem.c_str());
    network->eval();
    return network;
}

inline std::vector<int64_t> others(int64_t width, const std::vector<int64_t>& removed) {
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < width; ++i)
        if (std::find(removed.begin(), removed.end(), i) == removed.end())
            kept.push_back(i);
    return kept;
}

inline double medianForwardMicroseconds(Network& network, const torch::Tensor& input, int repeats) {
    torch::NoGradGuard noGrad;
    for (int i = 0; i < 20; ++i)
        network->forward(input);
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        const auto start = std::chrono::steady_clock::now();
        network->forward(input);
        times.push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    }
    std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
    return times[static_cast<size_t>(repeats / 2)];
}

} // namespace tunelab::test::pruning
