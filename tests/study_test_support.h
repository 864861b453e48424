#pragma once

// Helpers shared by the study suites. Engine only: the engine suites link no widgets.

#include "spec/spec.h"

#include <cstdint>
#include <string>

namespace tunelab::test {

// Three Gaussian blobs and a one-hidden-layer MLP: trains in well under a second on a CPU.
inline ExperimentSpec tinyBlobsExperiment(const std::string& name, uint64_t seed) {
    ExperimentSpec spec;
    spec.name = name;
    spec.seed = seed;
    spec.device = "cpu";
    spec.data.kind = DataKind::Blobs;
    spec.data.samples = 200;
    spec.data.classes = 3;
    spec.data.features = 4;
    spec.data.noise = 0.3;
    LayerSpec hidden;
    hidden.type = LayerType::Linear;
    hidden.outFeatures = 8;
    LayerSpec activation;
    activation.type = LayerType::ReLU;
    LayerSpec output;
    output.type = LayerType::Linear;
    output.outFeatures = 3;
    spec.model.layers = {hidden, activation, output};
    spec.training.epochs = 3;
    spec.training.batchSize = 32;
    return spec;
}

} // namespace tunelab::test
