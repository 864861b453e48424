#include "training/training_tensors.h"

#include "common/machine_limits.h"
#include "data/dataset_cache.h"
#include "model/shape_inference.h"
#include "model/validation.h"
#include "training/distillation.h"
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

RunData prepareRunData(const ExperimentSpec& spec, const TeacherModel* teacher, const torch::Device& device) {
    auto loaded = loadDatasetCached(spec.data, spec.seed);
    if (!loaded.ok())
        throw std::runtime_error(loaded.error());
    RunData run;
    run.data = *loaded.value(); // a copy: standardization below changes it
    run.split = splitDataset(run.data.rows, spec.data.validationFraction, spec.seed);
    if (run.split.train.empty())
        throw std::runtime_error("data: no rows are left for training after the validation split");
    if (spec.data.standardize)
        standardizeFeatures(run.data, run.split.train);
    if (const std::string problem = lossTaskError(spec.loss.type, run.data.task, run.data.classes);
        !problem.empty())
        throw std::runtime_error(problem);
    const ShapeReport shapes = inferShapes(spec.model, run.data.sampleShape,
                                           OutputTarget{run.data.task, run.data.classes, spec.loss.type});
    std::vector<std::string> errors = shapes.errors;
    for (std::string& problem : augmentationErrors(spec, run.data.sampleShape))
        errors.push_back(std::move(problem));
    if (!errors.empty())
        throw std::runtime_error(Errors{errors}.joined("; "));
    if (device.is_cpu()) {
        if (const std::string problem = trainingMemoryProblem(shapes.totalParams); !problem.empty())
            throw std::runtime_error(problem);
    }
    run.tensors = makeTrainingTensors(run.data, run.split, spec.loss.type, device);
    if (spec.distill.enabled()) {
        if (!teacher)
            throw std::runtime_error(
                "distill.teacher_run: the teacher's model was not handed to this run (train "
                "it through a run store)");
        auto onDevice =
            std::make_shared<TeacherOnDevice>(*teacher, spec.data, *loaded.value(), run.split, device);
        if (spec.augment.enabled())
            run.tensors.teacher = std::move(onDevice); // it labels every batch as augmented
        else
            run.tensors.teacherLogits = onDevice->logitsOfRows(run.tensors.trainX);
    }
    return run;
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
