// Shape inference runs on every edit in the network editor: time it for a 50-layer network.

#include "model/shape_inference.h"

#include <chrono>
#include <cstdio>

int main() {
    using namespace tunelab;
    ModelSpec model;
    LayerSpec conv;
    conv.type = LayerType::Conv2d;
    conv.outChannels = 16;
    conv.padding = 1;
    LayerSpec relu;
    model.layers = {conv, relu};
    for (int i = 0; i < 20; ++i)
        model.layers.insert(model.layers.end(), {conv, relu});
    LayerSpec flatten;
    flatten.type = LayerType::Flatten;
    model.layers.push_back(flatten);
    for (int i = 0; i < 3; ++i) {
        LayerSpec linear;
        linear.type = LayerType::Linear;
        linear.outFeatures = 64;
        model.layers.insert(model.layers.end(), {linear, relu});
    }
    constexpr int kRepeats = 10000;
    const auto start = std::chrono::steady_clock::now();
    int64_t checksum = 0;
    for (int i = 0; i < kRepeats; ++i)
        checksum += inferShapes(model, {3, 32, 32}).totalParams;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("shape inference, %zu layers: %.1f us per call (checksum %lld)\n", model.layers.size(),
                seconds / kRepeats * 1e6, static_cast<long long>(checksum));
    return 0;
}
