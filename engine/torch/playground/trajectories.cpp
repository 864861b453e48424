#include "playground/trajectories.h"

#include <torch/torch.h>

#include <cmath>
#include <memory>
#include <string>

namespace tunelab {

namespace {

// Coordinates beyond this count as diverged: the path has left every view and only grows.
constexpr double kDivergenceLimit = 1e6;
constexpr double kPi = 3.14159265358979323846;

// The formulas of surfaceValue() (engine/loss_surfaces.cpp) as torch operations on a two-element
// tensor, so autograd gives the exact gradient.
torch::Tensor surfaceTensor(const Surface& surface, const torch::Tensor& point) {
    const torch::Tensor x = point[0];
    const torch::Tensor y = point[1];
    switch (surface.kind) {
    case SurfaceKind::Rosenbrock:
        return (1.0 - x).pow(2) + 100.0 * (y - x.pow(2)).pow(2);
    case SurfaceKind::Beale:
        return (1.5 - x + x * y).pow(2) + (2.25 - x + x * y.pow(2)).pow(2) +
               (2.625 - x + x * y.pow(3)).pow(2);
    case SurfaceKind::Himmelblau:
        return (x.pow(2) + y - 11.0).pow(2) + (x + y.pow(2) - 7.0).pow(2);
    case SurfaceKind::Saddle:
        return x.pow(2) + 0.25 * y.pow(4) - 0.5 * y.pow(2);
    case SurfaceKind::IllConditionedQuadratic: {
        const double c = std::isfinite(surface.conditionNumber) && surface.conditionNumber > 0.0
                             ? surface.conditionNumber
                             : 1.0;
        return 0.5 * (x.pow(2) + c * y.pow(2));
    }
    case SurfaceKind::Rastrigin:
        return 20.0 + x.pow(2) - 10.0 * torch::cos(2.0 * kPi * x) + y.pow(2) -
               10.0 * torch::cos(2.0 * kPi * y);
    }
    return x * 0.0;
}

std::unique_ptr<torch::optim::Optimizer> makeTorchOptimizer(const OptimizerSpec& spec,
                                                            const torch::Tensor& point) {
    std::vector<torch::Tensor> parameters{point};
    switch (spec.type) {
    case OptimizerType::Sgd:
        return std::make_unique<torch::optim::SGD>(parameters, torch::optim::SGDOptions(spec.lr)
                                                                   .momentum(spec.momentum)
                                                                   .nesterov(spec.nesterov)
                                                                   .weight_decay(spec.weightDecay));
    case OptimizerType::Adagrad:
        return std::make_unique<torch::optim::Adagrad>(parameters,
                                                       torch::optim::AdagradOptions(spec.lr)
                                                           .initial_accumulator_value(spec.initialAccumulator)
                                                           .eps(spec.eps)
                                                           .weight_decay(spec.weightDecay));
    case OptimizerType::RmsProp:
        return std::make_unique<torch::optim::RMSprop>(parameters, torch::optim::RMSpropOptions(spec.lr)
                                                                       .alpha(spec.alpha)
                                                                       .eps(spec.eps)
                                                                       .momentum(spec.momentum)
                                                                       .weight_decay(spec.weightDecay));
    case OptimizerType::Adam:
        return std::make_unique<torch::optim::Adam>(parameters,
                                                    torch::optim::AdamOptions(spec.lr)
                                                        .betas(std::make_tuple(spec.beta1, spec.beta2))
                                                        .eps(spec.eps)
                                                        .weight_decay(spec.weightDecay));
    case OptimizerType::AdamW:
        return std::make_unique<torch::optim::AdamW>(parameters,
                                                     torch::optim::AdamWOptions(spec.lr)
                                                         .betas(std::make_tuple(spec.beta1, spec.beta2))
                                                         .eps(spec.eps)
                                                         .weight_decay(spec.weightDecay));
    }
    return nullptr;
}

bool insideFiniteRange(double x, double y, double loss) {
    return std::isfinite(x) && std::isfinite(y) && std::isfinite(loss) && std::abs(x) <= kDivergenceLimit &&
           std::abs(y) <= kDivergenceLimit;
}

} // namespace

Result<Trajectory> optimizerTrajectory(const Surface& surface, const OptimizerSpec& optimizer, double x0,
                                       double y0, int steps) {
    if (steps < 0)
        return Result<Trajectory>::failure("steps: " + std::to_string(steps) + " is negative");
    if (!(optimizer.lr > 0.0) || !std::isfinite(optimizer.lr))
        return Result<Trajectory>::failure("optimizer.lr: must be a positive number");
    if (!std::isfinite(x0) || !std::isfinite(y0))
        return Result<Trajectory>::failure("start: the point must be finite");

    Trajectory trajectory;
    trajectory.points.reserve(static_cast<size_t>(steps) + 1);
    try {
        torch::Tensor point =
            torch::tensor({x0, y0}, torch::TensorOptions().dtype(torch::kDouble)).requires_grad_(true);
        auto torchOptimizer = makeTorchOptimizer(optimizer, point);
        // Each step's forward pass gives the loss of the point the previous step reached.
        for (int step = 0; step <= steps; ++step) {
            torchOptimizer->zero_grad();
            torch::Tensor loss = surfaceTensor(surface, point);
            const double lossValue = loss.item<double>();
            const double x = point[0].item<double>();
            const double y = point[1].item<double>();
            if (!insideFiniteRange(x, y, lossValue)) {
                trajectory.diverged = true;
                break;
            }
            trajectory.points.push_back({x, y, lossValue});
            if (step == steps)
                break;
            loss.backward();
            if (optimizer.l1 > 0.0) {
                torch::NoGradGuard noGrad;
                point.grad().add_(point.sign(), optimizer.l1);
            }
            torchOptimizer->step();
        }
    } catch (const std::exception& error) {
        return Result<Trajectory>::failure(std::string("optimizer: ") + error.what());
    }
    return trajectory;
}

} // namespace tunelab
