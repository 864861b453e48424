#include "training/training_tensors.h"

#include "training/losses.h"

#include <algorithm>

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

ValidationScores scoreValidation(Network& network, const TrainingTensors& tensors, const LossSpec& loss,
                                 TaskKind task) {
    torch::NoGradGuard noGrad;
    network->eval();
    const int64_t rows = tensors.valX.size(0);
    constexpr int64_t kChunk = 8192;
    const auto options = torch::TensorOptions().device(tensors.valX.device());
    auto lossSum = torch::zeros({}, options);
    auto scoreSum = torch::zeros({}, options);
    for (int64_t start = 0; start < rows; start += kChunk) {
        const int64_t length = std::min(kChunk, rows - start);
        auto x = tensors.valX.narrow(0, start, length);
        auto y = tensors.valY.narrow(0, start, length);
        auto output = network->forward(x);
        lossSum += computeLoss(loss, output, y, torch::Reduction::Sum);
        if (loss.type == LossType::CrossEntropy)
            scoreSum += output.argmax(1).eq(y).sum();
        else if (loss.type == LossType::BceWithLogits)
            scoreSum += output.gt(0).eq(y.gt(0.5)).sum();
        else
            scoreSum += (output - y).abs().sum();
    }
    network->train();
    const double count = static_cast<double>(rows);
    ValidationScores scores;
    scores.loss = lossSum.item<double>() / count;
    if (task == TaskKind::Classification)
        scores.accuracy = scoreSum.item<double>() / count;
    else
        scores.mae = scoreSum.item<double>() / count;
    return scores;
}

} // namespace tunelab::detail
