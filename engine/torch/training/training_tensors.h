#pragma once

// Private to the engine: included only by engine .cpp files.

#include "data/dataset.h"
#include "spec/spec.h"

#include <torch/torch.h>

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

} // namespace tunelab::detail
