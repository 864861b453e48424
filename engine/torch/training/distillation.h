#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"
#include "training/trainer.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tunelab::detail {

// The teacher's logits for the student's training rows (`rows` are dataset rows), computed by the
// teacher's saved network on its own standardization of the same data, on the CPU. Throws
// std::runtime_error naming distill.teacher_run when the teacher cannot be rebuilt, was trained on
// other data, or has another number of outputs than `classes`.
torch::Tensor teacherLogits(const TeacherModel& teacher, const std::vector<int64_t>& rows,
                            int64_t datasetRows, int classes);

// alpha * cross_entropy(student, labels) + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student /
// T)), averaged over the batch; the T^2 keeps the soft targets' gradients on the labels' scale.
torch::Tensor distillationLoss(const torch::Tensor& student, const torch::Tensor& labels,
                               const torch::Tensor& teacher, const DistillSpec& distill);

} // namespace tunelab::detail
