#include "training/training_step.h"

#include "training/distillation.h"
#include "training/losses.h"
#include "training/mixed_precision.h"

#include <optional>
#include <tuple>

#if defined(TUNELAB_WITH_CUDA) && !defined(TUNELAB_NO_CUDA_GRAPHS) && __has_include(<ATen/cuda/CUDAGraph.h>) && \
    __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#define TUNELAB_RECORDS_CUDA_GRAPHS 1
#endif

namespace tunelab::detail {

namespace {

// Steps run eagerly before one is recorded: cuBLAS, cuDNN and the caching allocator set themselves
// up in the first steps, which a recording must not contain.
constexpr int64_t kEagerStepsFirst = 3;

bool sameShape(const torch::Tensor& a, const torch::Tensor& b) {
    return a.defined() == b.defined() && (!a.defined() || a.sizes() == b.sizes());
}

torch::Tensor bufferLike(const torch::Tensor& tensor) {
    return tensor.defined() ? torch::empty_like(tensor) : tensor;
}

void copyInto(torch::Tensor& buffer, const torch::Tensor& values) {
    if (buffer.defined())
        buffer.copy_(values, /*non_blocking=*/true);
}

} // namespace

torch::Tensor lossWithGradients(Network& network, const TrainingBatch& batch, const ExperimentSpec& spec,
                                const torch::Device& device, double share) {
    auto output = forwardInPrecision(
        spec.training.precision, [&] { return network->forward(batch.x); }, device);
    auto loss = computeLoss(spec.loss, output, batch.y);
    if (batch.partnerY.defined()) // mixup: the mixed samples' labels, mixed alike
        loss = loss * batch.mix + computeLoss(spec.loss, output, batch.partnerY) * (1.0 - batch.mix);
    if (batch.teacher.defined())
        loss = distillationLoss(output, loss, batch.teacher, spec.distill);
    if (share < 1.0)
        loss = loss * share;
    loss.backward();
    return loss;
}

bool ReplayedStep::available() {
#ifdef TUNELAB_RECORDS_CUDA_GRAPHS
    return true;
#else
    return false;
#endif
}

ReplayedStep::ReplayedStep(Body body, const torch::Device& device)
    : m_body(std::move(body))
    , m_device(device) {}

ReplayedStep::~ReplayedStep() = default;

bool ReplayedStep::takes(const TrainingBatch& batch) const {
    if (batch.partnerY.defined() || batch.x.size(0) == 0)
        return false; // mixup's weight changes every batch
    if (!m_batch.x.defined())
        return true; // the first batch sets the shapes
    return sameShape(batch.x, m_batch.x) && sameShape(batch.y, m_batch.y) &&
           sameShape(batch.teacher, m_batch.teacher);
}

void ReplayedStep::copyIn(const TrainingBatch& batch, const torch::Tensor& hostScalars) {
    if (!m_batch.x.defined()) {
        m_batch.x = bufferLike(batch.x);
        m_batch.y = bufferLike(batch.y);
        m_batch.teacher = bufferLike(batch.teacher);
        m_scalars =
            torch::empty(hostScalars.sizes(), torch::TensorOptions().dtype(torch::kFloat).device(m_device));
    }
    copyInto(m_batch.x, batch.x);
    copyInto(m_batch.y, batch.y);
    copyInto(m_batch.teacher, batch.teacher);
    // From pinned memory, so that the copy does not wait for the device.
    m_scalars.copy_(m_device.is_cuda() ? hostScalars.pin_memory() : hostScalars, /*non_blocking=*/true);
}

std::pair<torch::Tensor, torch::Tensor> ReplayedStep::run(const TrainingBatch& batch,
                                                          const torch::Tensor& hostScalars) {
    copyIn(batch, hostScalars);
    const int64_t call = m_calls++;
#ifdef TUNELAB_RECORDS_CUDA_GRAPHS
    if (m_device.is_cuda() && call >= kEagerStepsFirst && m_problem.empty()) {
        if (!m_graph) {
            // Recorded on a stream other than the device's default one: a run on a GPU has its own
            // (OwnStream); otherwise a side stream while recording.
            const auto index = m_device.index();
            const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(index);
            current.synchronize();
            std::optional<c10::cuda::CUDAStreamGuard> side;
            if (current == c10::cuda::getDefaultCUDAStream(index))
                side.emplace(c10::cuda::getStreamFromPool(false, index));
            auto graph = std::make_shared<at::cuda::CUDAGraph>();
            graph->capture_begin();
            try {
                std::tie(m_loss, m_norm) = m_body(m_batch, m_scalars);
                graph->capture_end();
            } catch (const std::exception& error) {
                // Something in the step cannot be recorded: the run goes on with eager steps. The
                // recording ran nothing, so this step runs eagerly below.
                m_problem = error.what();
                try {
                    graph->capture_end();
                } catch (const std::exception&) {
                }
            }
            side.reset();
            if (m_problem.empty())
                m_graph = graph;
        }
    }
    if (m_graph) {
        static_cast<at::cuda::CUDAGraph*>(m_graph.get())->replay();
        ++m_replayed;
        return {m_loss.clone(), m_norm.clone()};
    }
#else
    (void)call;
#endif
    return m_body(m_batch, m_scalars);
}

} // namespace tunelab::detail
