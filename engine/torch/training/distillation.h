#pragma once

// Private to the engine: included only by engine .cpp files.

#include "data/dataset.h"
#include "spec/spec.h"
#include "training/network.h"
#include "training/trainer.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tunelab::detail {

// A distilling run's teacher, rebuilt on the run's device, labelling the student's samples as the
// student sees them. Each run turns the values it reads into network inputs its own way (its scale,
// and its standardization by its own training rows), so the teacher takes the student's inputs
// turned back into the values as read and then into its own inputs. A run that augments asks it for
// every batch as augmented (the same noise, flips, mixed pairs), which logits of the plain rows could
// not give; other runs ask once for all their training rows.
class TeacherOnDevice {
public:
    // `studentData` as read (scaled, not standardized), `studentSplit` its split. Throws
    // std::runtime_error naming distill.teacher_run when the teacher cannot be rebuilt, was trained on
    // other data (another number of rows, classes or values per sample), or has another number of
    // outputs than the student's classes.
    TeacherOnDevice(const TeacherModel& teacher, const DataSpec& studentSpec, const Dataset& studentData,
                    const DataSplit& studentSplit, const torch::Device& device);

    // The teacher's logits for a batch of the student's inputs, without gradients.
    torch::Tensor logits(const torch::Tensor& studentInputs);
    // The same for many rows, a chunk at a time.
    torch::Tensor logitsOfRows(const torch::Tensor& studentInputs);

private:
    Network m_network{nullptr};
    torch::Tensor m_scale, m_shift;      // the teacher's input = the student's * m_scale + m_shift
    std::vector<int64_t> m_teacherShape; // a batch as the teacher takes it: -1, then its sample shape
};

// alpha * task + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the
// batch; `task` is the labels' loss (with mixup, of both labels of the mixed samples). The T^2 keeps
// the soft targets' gradients on the labels' scale.
torch::Tensor distillationLoss(const torch::Tensor& student, const torch::Tensor& task,
                               const torch::Tensor& teacher, const DistillSpec& distill);

} // namespace tunelab::detail
