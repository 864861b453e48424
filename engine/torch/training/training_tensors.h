#pragma once

// Private to the engine: included only by engine .cpp files.

#include "data/dataset.h"
#include "spec/spec.h"
#include "training/network.h"

#include <torch/torch.h>

#include <limits>

namespace tunelab::detail {

// A run's rows on its device: features and targets of the training and validation rows (targets as
// class indexes for cross entropy, else one column), and a distilling run's teacher logits for the
// training rows, in the same order.
struct TrainingTensors {
    torch::Tensor trainX, trainY, valX, valY;
    torch::Tensor teacherLogits;
};

TrainingTensors makeTrainingTensors(const Dataset& data, const DataSplit& split, LossType loss,
                                    const torch::Device& device);

// The network's mean loss on the validation rows, and their accuracy (classification) or mean
// absolute error (regression); the other one is kNoValue.
struct ValidationScores {
    double loss = 0.0;
    double accuracy = std::numeric_limits<double>::quiet_NaN();
    double mae = std::numeric_limits<double>::quiet_NaN();
};
ValidationScores scoreValidation(Network& network, const TrainingTensors& tensors, const LossSpec& loss,
                                 TaskKind task);

} // namespace tunelab::detail
