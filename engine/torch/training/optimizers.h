#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"

#include <torch/torch.h>

#include <memory>

namespace tunelab::detail {

// An optimizer over one flat parameter buffer and its flat gradient buffer (see
// flattenParameters). Follows the update rules of torch.optim with the same defaults.
//
// On the CPU (float32) each step is one fused loop over the buffers: penalties, gradient
// scaling, the update and zeroing the gradient for the next backward pass, in a single pass
// over memory. Elsewhere it is a handful of whole-buffer tensor operations, whatever the number
// of layers, and the caller zeroes the gradient.
class FlatOptimizer {
public:
    virtual ~FlatOptimizer() = default;

    // Applies one step. `gradScale` multiplies the gradient first (clipping). May modify `grads`;
    // when fusedCpu(), leaves it zeroed.
    void step(torch::Tensor& params, torch::Tensor& grads, double lr, double gradScale = 1.0);

    bool fusedCpu() const { return m_fusedCpu; }

protected:
    FlatOptimizer(const OptimizerSpec& spec, const torch::Tensor& params);

    virtual void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) = 0;
    virtual void updateCpu(float* params, float* grads, int64_t count, double lr, double gradScale) = 0;

    OptimizerSpec m_spec;
    int64_t m_steps = 0;
    bool m_fusedCpu = false;
};

std::unique_ptr<FlatOptimizer> makeOptimizer(const OptimizerSpec& spec, const torch::Tensor& params);

// The L2 norm of a flat float32 CPU buffer, accumulated in double.
double flatNormCpu(const torch::Tensor& values);

} // namespace tunelab::detail
