#pragma once

// Private to the engine: included only by engine .cpp files.

#include "data/dataset.h"
#include "spec/spec.h"
#include "training/network.h"
#include "training/trainer.h"

#include <torch/torch.h>

#include <limits>
#include <memory>

namespace tunelab::detail {

class TeacherOnDevice;

// A run's rows on its device: features and targets of the training and validation rows (targets as
// class indexes for cross entropy, else one column), and a distilling run's teacher: its logits for
// the training rows, in the same order, or, when the run augments, the teacher itself, which labels
// each augmented batch.
struct TrainingTensors {
    torch::Tensor trainX, trainY, valX, valY;
    torch::Tensor teacherLogits;
    std::shared_ptr<TeacherOnDevice> teacher;
};

TrainingTensors makeTrainingTensors(const Dataset& data, const DataSplit& split, LossType loss,
                                    const torch::Device& device);

// A run's data ready to train on: loaded (through the cache), split by the run's seed, standardized by
// its training rows when the spec asks, checked against the loss, the network's shapes, the
// augmentation and this machine's memory, and on the device with a distilling run's teacher logits.
// Throws std::runtime_error with the message the run fails with.
struct RunData {
    Dataset data;
    DataSplit split;
    TrainingTensors tensors;
};
RunData prepareRunData(const ExperimentSpec& spec, const TeacherModel* teacher, const torch::Device& device);

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
