#include "training/distillation.h"

#include "training/saved_model.h"

#include <stdexcept>
#include <string>

namespace tunelab::detail {

torch::Tensor teacherLogits(const TeacherModel& teacher, const std::vector<int64_t>& rows,
                            int64_t datasetRows, int classes) {
    const std::string where = "distill.teacher_run: run " + std::to_string(teacher.run) + " ";
    auto loaded = loadSavedModel(teacher.spec, teacher.model);
    if (!loaded.ok())
        throw std::runtime_error(where + "cannot teach: " + loaded.error());
    SavedModel& saved = loaded.value();
    if (saved.data.rows != datasetRows || saved.data.classes != classes)
        throw std::runtime_error(where + "was trained on other data (" + std::to_string(saved.data.rows) +
                                 " rows, " + std::to_string(saved.data.classes) + " classes; this run has " +
                                 std::to_string(datasetRows) + " rows, " + std::to_string(classes) +
                                 " classes); a teacher must know the student's data");
    torch::NoGradGuard noGrad;
    constexpr int64_t kChunk = 4096;
    std::vector<torch::Tensor> parts;
    for (size_t start = 0; start < rows.size(); start += kChunk) {
        const size_t end = std::min(rows.size(), start + static_cast<size_t>(kChunk));
        const std::vector<int64_t> chunk(rows.begin() + static_cast<std::ptrdiff_t>(start),
                                         rows.begin() + static_cast<std::ptrdiff_t>(end));
        parts.push_back(saved.network->forward(saved.features(chunk)));
    }
    auto logits = torch::cat(parts);
    if (logits.dim() != 2 || logits.size(1) != classes)
        throw std::runtime_error(where + "has " + std::to_string(logits.dim() == 2 ? logits.size(1) : 0) +
                                 " outputs per sample, the student " + std::to_string(classes));
    return logits;
}

torch::Tensor distillationLoss(const torch::Tensor& student, const torch::Tensor& labels,
                               const torch::Tensor& teacher, const DistillSpec& distill) {
    const double temperature = distill.temperature;
    auto task = torch::nn::functional::cross_entropy(student, labels);
    auto softTargets = torch::softmax(teacher / temperature, 1);
    auto studentLog = torch::log_softmax(student / temperature, 1);
    auto soft = torch::nn::functional::kl_div(
        studentLog, softTargets, torch::nn::functional::KLDivFuncOptions().reduction(torch::kBatchMean));
    return distill.alpha * task + (1.0 - distill.alpha) * temperature * temperature * soft;
}

} // namespace tunelab::detail
