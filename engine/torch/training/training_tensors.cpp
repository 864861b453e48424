#include "training/training_tensors.h"

namespace tunelab::detail {

namespace {

torch::Tensor rowsOf(const torch::Tensor& all, const std::vector<int64_t>& rows) {
    auto index = torch::from_blob(const_cast<int64_t*>(rows.data()), {static_cast<int64_t>(rows.size())},
                                  torch::kLong);
    return all.index_select(0, index);
}

} // namespace

TrainingTensors makeTrainingTensors(const Dataset& data, const DataSplit& split, LossType loss,
                                    const torch::Device& device) {
    std::vector<int64_t> featureShape{data.rows};
    featureShape.insert(featureShape.end(), data.sampleShape.begin(), data.sampleShape.end());
    auto features = torch::from_blob(const_cast<float*>(data.features.data()), featureShape, torch::kFloat);
    auto targets = torch::from_blob(const_cast<float*>(data.targets.data()), {data.rows}, torch::kFloat);
    if (loss == LossType::CrossEntropy)
        targets = targets.to(torch::kLong);
    else
        targets = targets.unsqueeze(1);
    TrainingTensors tensors;
    tensors.trainX = rowsOf(features, split.train).to(device);
    tensors.trainY = rowsOf(targets, split.train).to(device);
    if (!split.validation.empty()) {
        tensors.valX = rowsOf(features, split.validation).to(device);
        tensors.valY = rowsOf(targets, split.validation).to(device);
    }
    return tensors;
}

} // namespace tunelab::detail
