#pragma once

// The digits read as 1x8x8 images through every kind of layer TuneLab has, for the suites that
// write models out (exports, int8): conv, batch norm, ReLU, max and average pooling, leaky ReLU, ELU,
// flatten, layer norm, linear, GELU, dropout, SiLU, tanh and sigmoid.

#include "collecting_sink.h"
#include "spec/spec.h"

#include <string>

namespace tunelab::test {

inline ExperimentSpec everyLayerExperiment(int epochs) {
    ExperimentSpec spec;
    spec.name = "every-layer";
    spec.seed = 3;
    spec.device = "cpu";
    spec.data.kind = DataKind::Csv;
    spec.data.path = std::string(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    spec.data.target = "digit";
    spec.data.validationFraction = 0.2;
    spec.data.standardize = true;
    spec.data.inputShape = {1, 8, 8};
    LayerSpec conv = layer(LayerType::Conv2d);
    conv.outChannels = 6;
    conv.kernelSize = 3;
    conv.padding = 1;
    LayerSpec pool = layer(LayerType::MaxPool2d);
    pool.kernelSize = 2;
    LayerSpec second = layer(LayerType::Conv2d);
    second.outChannels = 8;
    second.kernelSize = 3;
    LayerSpec average = layer(LayerType::AvgPool2d);
    average.kernelSize = 1;
    LayerSpec leaky = layer(LayerType::LeakyReLU);
    leaky.negativeSlope = 0.05;
    LayerSpec elu = layer(LayerType::ELU);
    elu.alpha = 0.7;
    LayerSpec dropout = layer(LayerType::Dropout);
    dropout.p = 0.2;
    spec.model.layers = {conv,
                         layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),
                         pool,
                         second,
                         leaky,
                         average,
                         elu,
                         layer(LayerType::Flatten),
                         layer(LayerType::LayerNorm),
                         layer(LayerType::Linear, 24),
                         layer(LayerType::BatchNorm),
                         layer(LayerType::GELU),
                         dropout,
                         layer(LayerType::Linear, 16),
                         layer(LayerType::SiLU),
                         layer(LayerType::Tanh),
                         layer(LayerType::Sigmoid),
                         layer(LayerType::Linear, 10)};
    spec.training.epochs = epochs;
    return spec;
}

} // namespace tunelab::test
