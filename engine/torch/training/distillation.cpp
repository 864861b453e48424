#include "training/distillation.h"

#include "data/dataset_cache.h"
#include "training/saved_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace tunelab::detail {

namespace {

std::string teacherPlace(const TeacherModel& teacher) {
    return "distill.teacher_run: run " + std::to_string(teacher.run) + " ";
}

SavedModel loadTeacher(const TeacherModel& teacher, int64_t datasetRows, int classes) {
    const std::string where = teacherPlace(teacher);
    auto loaded = loadSavedModel(teacher.spec, teacher.model);
    if (!loaded.ok())
        throw std::runtime_error(where + "cannot teach: " + loaded.error());
    SavedModel saved = loaded.take();
    if (saved.data.rows != datasetRows || saved.data.classes != classes)
        throw std::runtime_error(where + "was trained on other data (" + std::to_string(saved.data.rows) +
                                 " rows, " + std::to_string(saved.data.classes) + " classes; this run has " +
                                 std::to_string(datasetRows) + " rows, " + std::to_string(classes) +
                                 " classes); a teacher must know the student's data");
    return saved;
}

// A run's network inputs from the values in its data's file, per value of a sample: input = a * value
// + b (the data's scale, then its standardization by the run's training rows). `read` is the data as
// loaded: scaled, not standardized.
struct InputScaling {
    std::vector<double> a, b;
};

InputScaling inputScaling(const DataSpec& spec, const Dataset& read, const std::vector<int64_t>& trainRows) {
    const size_t width = static_cast<size_t>(shapeElements(read.sampleShape));
    // `read` is already scaled: a value as read is the file's times spec.scale.
    InputScaling scaling{std::vector<double>(width, spec.scale), std::vector<double>(width, 0.0)};
    if (spec.standardize) {
        // (value read - shift) * factor, where the value read is the file's times the scale.
        const FeatureStandardization z = featureStandardization(read, trainRows);
        for (size_t j = 0; j < width && j < z.factor.size(); ++j) {
            scaling.a[j] = spec.scale * z.factor[j];
            scaling.b[j] = -static_cast<double>(z.shift[j]) * z.factor[j];
        }
    }
    return scaling;
}

void checkOutputs(const TeacherModel& teacher, const torch::Tensor& logits, int classes) {
    if (logits.dim() != 2 || logits.size(1) != classes)
        throw std::runtime_error(teacherPlace(teacher) + "has " +
                                 std::to_string(logits.dim() == 2 ? logits.size(1) : 0) +
                                 " outputs per sample, the student " + std::to_string(classes));
}

} // namespace

TeacherOnDevice::TeacherOnDevice(const TeacherModel& teacher, const DataSpec& studentSpec,
                                 const Dataset& studentData, const DataSplit& studentSplit,
                                 const torch::Device& device) {
    SavedModel saved = loadTeacher(teacher, studentData.rows, studentData.classes);
    auto teacherRead = loadDatasetCached(teacher.spec.data, teacher.spec.seed);
    if (!teacherRead.ok())
        throw std::runtime_error(teacherPlace(teacher) + "cannot teach: " + teacherRead.error());
    const int64_t width = shapeElements(studentData.sampleShape);
    if (shapeElements(teacherRead.value()->sampleShape) != width)
        throw std::runtime_error(teacherPlace(teacher) + "takes samples of " +
                                 formatShape(teacherRead.value()->sampleShape) + ", this run's are " +
                                 formatShape(studentData.sampleShape) +
                                 "; a teacher must know the student's data");
    // The same values in every row, up to each run's scale: not generated data of another seed, or
    // another file of as many rows.
    const std::vector<float>& theirs = teacherRead.value()->features;
    const std::vector<float>& ours = studentData.features;
    for (size_t i = 0; i < ours.size() && i < theirs.size(); ++i) {
        const double mine = ours[i] / studentSpec.scale, taught = theirs[i] / teacher.spec.data.scale;
        if (!(std::fabs(mine - taught) <= 1e-5 * (1.0 + std::max(std::fabs(mine), std::fabs(taught)))))
            throw std::runtime_error(teacherPlace(teacher) + "was trained on other data (row " +
                                     std::to_string(i / static_cast<size_t>(std::max<int64_t>(1, width))) +
                                     " holds other values than this run's: generated data of another "
                                     "seed, or another file); a teacher must know the student's data");
    }
    // The student's input back to the value as read, then on to the teacher's input.
    const InputScaling student = inputScaling(studentSpec, studentData, studentSplit.train);
    const InputScaling taught = inputScaling(teacher.spec.data, *teacherRead.value(), saved.split.train);
    std::vector<float> scale(static_cast<size_t>(width)), shift(static_cast<size_t>(width));
    for (size_t j = 0; j < scale.size(); ++j) {
        const double ratio = taught.a[j] / student.a[j];
        scale[j] = static_cast<float>(ratio);
        shift[j] = static_cast<float>(taught.b[j] - ratio * student.b[j]);
    }
    const std::vector<int64_t>& shape = studentData.sampleShape;
    m_scale = torch::tensor(scale).reshape(shape).to(device);
    m_shift = torch::tensor(shift).reshape(shape).to(device);
    // The same values, in the teacher's shape: a CNN on [1, 8, 8] images may teach an MLP on 64 features.
    m_teacherShape = {-1};
    m_teacherShape.insert(m_teacherShape.end(), teacherRead.value()->sampleShape.begin(),
                          teacherRead.value()->sampleShape.end());
    m_network = saved.network;
    m_network->to(device);
    m_network->eval();
    checkOutputs(teacher, logits(torch::zeros(shape, torch::kFloat).unsqueeze(0).to(device)),
                 studentData.classes);
}

torch::Tensor TeacherOnDevice::logits(const torch::Tensor& studentInputs) {
    torch::NoGradGuard noGrad;
    return m_network->forward((studentInputs * m_scale + m_shift).reshape(m_teacherShape));
}

torch::Tensor TeacherOnDevice::logitsOfRows(const torch::Tensor& studentInputs) {
    constexpr int64_t kChunk = 4096;
    std::vector<torch::Tensor> parts;
    for (int64_t start = 0; start < studentInputs.size(0); start += kChunk)
        parts.push_back(
            logits(studentInputs.narrow(0, start, std::min(kChunk, studentInputs.size(0) - start))));
    return torch::cat(parts);
}

torch::Tensor distillationLoss(const torch::Tensor& student, const torch::Tensor& task,
                               const torch::Tensor& teacher, const DistillSpec& distill) {
    const double temperature = distill.temperature;
    auto softTargets = torch::softmax(teacher / temperature, 1);
    auto studentLog = torch::log_softmax(student / temperature, 1);
    auto soft = torch::nn::functional::kl_div(
        studentLog, softTargets, torch::nn::functional::KLDivFuncOptions().reduction(torch::kBatchMean));
    return distill.alpha * task + (1.0 - distill.alpha) * temperature * temperature * soft;
}

} // namespace tunelab::detail
