#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"
#include "training/augmentation.h"
#include "training/network.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace tunelab::detail {

// The forward pass of one batch in the run's precision, its loss (mixup's two labels, a teacher's
// outputs), scaled by `share` (this process's part of a data-parallel batch), and the backward pass.
// Returns the loss.
torch::Tensor lossWithGradients(Network& network, const TrainingBatch& batch, const ExperimentSpec& spec,
                                const torch::Device& device, double share);

// A training step recorded once as a CUDA graph and replayed for every later batch of the same shape:
// one launch per step instead of one per kernel, which is what a small network's step costs on a GPU.
// The graph holds the forward and backward passes, the gradient's norm and clipping and the
// optimizer's update; before each replay the batch is copied into the graph's own input buffers and
// the step's numbers (FlatOptimizer::nextStepScalars) into a small device tensor. The first steps run
// eagerly through the same code (CUDA libraries set themselves up there), then one is recorded.
class ReplayedStep {
public:
    // Runs one step on a batch, reading the step's numbers from `scalars` (on the device); returns the
    // loss and the gradient's norm, on the device.
    using Body = std::function<std::pair<torch::Tensor, torch::Tensor>(const TrainingBatch& batch,
                                                                       const torch::Tensor& scalars)>;

    // Whether this build records CUDA graphs (LibTorch with CUDA).
    static bool available();

    ReplayedStep(Body body, const torch::Device& device);
    ~ReplayedStep();
    ReplayedStep(const ReplayedStep&) = delete;
    ReplayedStep& operator=(const ReplayedStep&) = delete;

    // Whether `batch` can be replayed: its tensors have the shapes of the first batch it ran (the
    // last batch of an epoch is often smaller, and runs eagerly).
    bool takes(const TrainingBatch& batch) const;
    std::pair<torch::Tensor, torch::Tensor> run(const TrainingBatch& batch, const torch::Tensor& hostScalars);
    // Steps replayed from the graph so far.
    int64_t replayed() const { return m_replayed; }
    // Why the step could not be recorded ("" while it could): the run goes on with eager steps.
    const std::string& problem() const { return m_problem; }

private:
    void copyIn(const TrainingBatch& batch, const torch::Tensor& hostScalars);

    Body m_body;
    torch::Device m_device;
    TrainingBatch m_batch;   // the graph's input buffers
    torch::Tensor m_scalars; // on the device
    torch::Tensor m_loss, m_norm;
    int64_t m_calls = 0;
    int64_t m_replayed = 0;
    std::string m_problem;
    std::shared_ptr<void> m_graph; // at::cuda::CUDAGraph where the build has it
};

} // namespace tunelab::detail
