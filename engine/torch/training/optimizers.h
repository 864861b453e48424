#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"
#include "training/fused_kernels.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tunelab::detail {

// An optimizer over one flat parameter buffer and its flat gradient buffer (see
// flattenParameters). Follows the update rules of torch.optim (SGD, Adagrad, RMSprop, Adam, AdamW
// with all their options) step for step; tests/tst_optimizers.cpp compares 100-step trajectories
// with torch.optim's, and docs/optimizers.md writes the rules down.
//
// On the CPU (float32) each step is one fused loop over the buffers (fused_kernels.h): penalties,
// gradient scaling, the update and zeroing the gradient for the next backward pass, in a single
// pass over memory. Elsewhere (CUDA, float64) it is a handful of whole-buffer tensor operations,
// the same ones torch.optim runs, whatever the number of layers, and the caller zeroes the gradient.
class FlatOptimizer {
public:
    virtual ~FlatOptimizer() = default;

    // Applies one step. `gradScale` multiplies the gradient first (clipping). May modify `grads`;
    // when fusedCpu(), leaves it zeroed.
    void step(torch::Tensor& params, torch::Tensor& grads, double lr, double gradScale = 1.0);

    bool fusedCpu() const { return m_fusedCpu; }

    // A step replayed from a recorded CUDA graph cannot take numbers that change from step to step
    // (the learning rate, the bias corrections, whether it is the first step) as constants: they
    // would be recorded once. nextStepScalars counts the step, as step() does, and returns those
    // numbers as a small float tensor on the CPU; stepWithScalars reads them from a copy of it on
    // the buffers' device. Never the fused CPU loop: the caller zeroes the gradient, and clips it.
    torch::Tensor nextStepScalars(double lr);
    void stepWithScalars(torch::Tensor& params, torch::Tensor& grads, const torch::Tensor& scalars);

    // Its state, for checkpoints: the steps taken and the buffers it keeps, by the names
    // torch.optim gives them ("momentum_buffer", "exp_avg", ...); buffers it does not use are left
    // out. Restoring copies the buffers this optimizer uses and the checkpoint has; the others stay
    // as a fresh optimizer has them.
    int64_t steps() const { return m_steps; }
    void setSteps(int64_t steps) { m_steps = steps; }
    virtual std::vector<std::pair<std::string, torch::Tensor*>> stateBuffers() = 0;

protected:
    FlatOptimizer(const OptimizerSpec& spec, const torch::Tensor& params, const FusedKernels& kernels);

    virtual void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) = 0;
    virtual void updateCpu(const FlatSpan& buffers, const GradientTerms& terms, double lr) = 0;
    // The numbers of the step being taken (m_steps already counts it), and the update that reads them.
    virtual std::vector<double> stepScalars(double lr) const = 0;
    virtual void updateWithScalars(torch::Tensor& params, torch::Tensor& grads,
                                   const torch::Tensor& scalars) = 0;
    // The penalties the fused loops add to the gradient: L1, then the optimizer's L2.
    void addPenalties(const torch::Tensor& params, torch::Tensor& grads) const;

    // The penalties and the clipping scale, as the fused loops apply them.
    GradientTerms gradientTerms(double gradScale) const;

    OptimizerSpec m_spec;
    const FusedKernels& m_kernels;
    int64_t m_steps = 0;
    bool m_fusedCpu = false;
};

// `kernels` picks the instruction-set build of the fused CPU loops (tests run every build the
// CPU has); the trainer takes the default, the best one.
std::unique_ptr<FlatOptimizer> makeOptimizer(const OptimizerSpec& spec, const torch::Tensor& params,
                                             const FusedKernels& kernels = fusedKernels());

// The L2 norm of a flat float32 CPU buffer, accumulated in double.
double flatNormCpu(const torch::Tensor& values);

} // namespace tunelab::detail
