#pragma once

// Private to the engine: included only by engine .cpp files, never by a public header.

#include "spec/spec.h"

#include <torch/torch.h>

namespace tunelab::detail {

// The experiment's loss between a network's output and its targets, averaged over the rows unless
// `reduction` asks for their sum.
inline torch::Tensor computeLoss(const LossSpec& loss, const torch::Tensor& output,
                                 const torch::Tensor& target,
                                 torch::Reduction::Reduction reduction = torch::Reduction::Mean) {
    switch (loss.type) {
    case LossType::Mse:
        return torch::mse_loss(output, target, reduction);
    case LossType::L1:
        return torch::l1_loss(output, target, reduction);
    case LossType::Huber:
        return torch::huber_loss(output, target, reduction, loss.delta);
    case LossType::BceWithLogits:
        return torch::binary_cross_entropy_with_logits(output, target, {}, {}, reduction);
    case LossType::CrossEntropy:
        break;
    }
    namespace F = torch::nn::functional;
    auto options = F::CrossEntropyFuncOptions();
    if (reduction == torch::Reduction::Sum)
        options.reduction(torch::kSum);
    return F::cross_entropy(output, target, options);
}

} // namespace tunelab::detail
