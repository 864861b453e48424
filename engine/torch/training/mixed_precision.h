#pragma once

// Private to the engine: included only by engine .cpp files.

#include "spec/spec.h"

#include <torch/torch.h>

#include <functional>

namespace tunelab::detail {

// The network's output for `x`, computed in the step's precision (training.precision): with bf16,
// under LibTorch's autocast on the input's device, and handed back in float32 so that the loss and
// everything after it stay in float32. The weights and their gradients are float32 either way.
torch::Tensor forwardInPrecision(Precision precision, const std::function<torch::Tensor()>& forward,
                                 const torch::Device& device);

} // namespace tunelab::detail
