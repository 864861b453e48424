#include "training/optimizers.h"

#include <cmath>

namespace tunelab::detail {

namespace {

float* floats(torch::Tensor& tensor) {
    return tensor.defined() ? tensor.data_ptr<float>() : nullptr;
}

float asFloat(double value) {
    return static_cast<float>(value);
}

// torch.optim.SGD: d = g (+ wd * w); b = d on the first step, else b = momentum * b + (1 - dampening) * d;
// w -= lr * (nesterov ? d + momentum * b : b).
class Sgd final : public FlatOptimizer {
public:
    Sgd(const OptimizerSpec& spec, const torch::Tensor& params, const FusedKernels& kernels)
        : FlatOptimizer(spec, params, kernels) {
        if (spec.momentum > 0.0)
            m_velocity = torch::zeros_like(params);
    }

    std::vector<std::pair<std::string, torch::Tensor*>> stateBuffers() override {
        return {{"momentum_buffer", &m_velocity}};
    }

private:
    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        if (!m_velocity.defined()) {
            params.add_(grads, -lr);
            return;
        }
        if (m_steps == 1)
            m_velocity.copy_(grads);
        else
            m_velocity.mul_(m_spec.momentum).add_(grads, 1.0 - m_spec.dampening);
        if (m_spec.nesterov)
            params.add_(grads.add_(m_velocity, m_spec.momentum), -lr);
        else
            params.add_(m_velocity, -lr);
    }

    void updateCpu(const FlatSpan& buffers, const GradientTerms& terms, double lr) override {
        const bool first = m_steps == 1;
        m_kernels.sgd(buffers, terms,
                      SgdState{floats(m_velocity), asFloat(lr), asFloat(m_spec.momentum),
                               first ? 0.0f : asFloat(m_spec.momentum),
                               first ? 1.0f : asFloat(1.0 - m_spec.dampening), m_spec.nesterov});
    }

    // lr, then the velocity's decay and the gradient's weight in it (0 and 1 on the first step).
    std::vector<double> stepScalars(double lr) const override {
        const bool first = m_steps == 1;
        return {lr, first ? 0.0 : m_spec.momentum, first ? 1.0 : 1.0 - m_spec.dampening};
    }

    void updateWithScalars(torch::Tensor& params, torch::Tensor& grads, const torch::Tensor& s) override {
        if (!m_velocity.defined()) {
            params.addcmul_(grads, s[0], -1.0);
            return;
        }
        m_velocity.mul_(s[1]).addcmul_(grads, s[2]);
        if (m_spec.nesterov)
            params.addcmul_(grads.add_(m_velocity, m_spec.momentum), s[0], -1.0);
        else
            params.addcmul_(m_velocity, s[0], -1.0);
    }

    torch::Tensor m_velocity;
};

// torch.optim.Adagrad: s += g^2; w -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps).
class Adagrad final : public FlatOptimizer {
public:
    Adagrad(const OptimizerSpec& spec, const torch::Tensor& params, const FusedKernels& kernels)
        : FlatOptimizer(spec, params, kernels)
        , m_sum(torch::full_like(params, spec.initialAccumulator)) {}

    std::vector<std::pair<std::string, torch::Tensor*>> stateBuffers() override { return {{"sum", &m_sum}}; }

private:
    double decayedRate(double lr) const {
        return lr / (1.0 + static_cast<double>(m_steps - 1) * m_spec.lrDecay);
    }

    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        m_sum.addcmul_(grads, grads, 1.0);
        params.addcdiv_(grads, m_sum.sqrt().add_(m_spec.eps), -decayedRate(lr));
    }

    void updateCpu(const FlatSpan& buffers, const GradientTerms& terms, double lr) override {
        m_kernels.adagrad(buffers, terms,
                          AdagradState{floats(m_sum), asFloat(decayedRate(lr)), asFloat(m_spec.eps)});
    }

    std::vector<double> stepScalars(double lr) const override { return {decayedRate(lr)}; }

    void updateWithScalars(torch::Tensor& params, torch::Tensor& grads, const torch::Tensor& s) override {
        m_sum.addcmul_(grads, grads, 1.0);
        params.addcmul_(grads.div_(m_sum.sqrt().add_(m_spec.eps)), s[0], -1.0);
    }

    torch::Tensor m_sum;
};

// torch.optim.RMSprop: v = alpha * v + (1 - alpha) * g^2; centered: a = alpha * a + (1 - alpha) * g and
// v - a^2 replaces v; d = sqrt(v) + eps; w -= lr * g / d, or with momentum b = momentum * b + g / d,
// w -= lr * b.
class RmsProp final : public FlatOptimizer {
public:
    RmsProp(const OptimizerSpec& spec, const torch::Tensor& params, const FusedKernels& kernels)
        : FlatOptimizer(spec, params, kernels)
        , m_squareAverage(torch::zeros_like(params)) {
        if (spec.centered)
            m_gradAverage = torch::zeros_like(params);
        if (spec.momentum > 0.0)
            m_momentum = torch::zeros_like(params);
    }

    std::vector<std::pair<std::string, torch::Tensor*>> stateBuffers() override {
        return {
            {"square_avg", &m_squareAverage}, {"grad_avg", &m_gradAverage}, {"momentum_buffer", &m_momentum}};
    }

private:
    // Updates the averages with the gradient; returns sqrt(v) + eps (centered: sqrt(v - a^2) + eps).
    torch::Tensor denominator(const torch::Tensor& grads) {
        m_squareAverage.mul_(m_spec.alpha).addcmul_(grads, grads, 1.0 - m_spec.alpha);
        torch::Tensor denominator;
        if (m_gradAverage.defined()) {
            m_gradAverage.mul_(m_spec.alpha).add_(grads, 1.0 - m_spec.alpha);
            denominator = m_squareAverage.addcmul(m_gradAverage, m_gradAverage, -1.0).sqrt_();
        } else {
            denominator = m_squareAverage.sqrt();
        }
        return denominator.add_(m_spec.eps);
    }

    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        const torch::Tensor denominator = this->denominator(grads);
        if (m_momentum.defined()) {
            m_momentum.mul_(m_spec.momentum).addcdiv_(grads, denominator);
            params.add_(m_momentum, -lr);
        } else {
            params.addcdiv_(grads, denominator, -lr);
        }
    }

    void updateCpu(const FlatSpan& buffers, const GradientTerms& terms, double lr) override {
        m_kernels.rmsProp(buffers, terms,
                          RmsPropState{floats(m_squareAverage), floats(m_gradAverage), floats(m_momentum),
                                       asFloat(lr), asFloat(m_spec.alpha), asFloat(1.0 - m_spec.alpha),
                                       asFloat(m_spec.eps), asFloat(m_spec.momentum)});
    }

    std::vector<double> stepScalars(double lr) const override { return {lr}; }

    void updateWithScalars(torch::Tensor& params, torch::Tensor& grads, const torch::Tensor& s) override {
        const torch::Tensor denominator = this->denominator(grads);
        if (m_momentum.defined()) {
            m_momentum.mul_(m_spec.momentum).addcdiv_(grads, denominator);
            params.addcmul_(m_momentum, s[0], -1.0);
        } else {
            params.addcmul_(grads.div_(denominator), s[0], -1.0);
        }
    }

    torch::Tensor m_squareAverage;
    torch::Tensor m_gradAverage;
    torch::Tensor m_momentum;
};

// torch.optim.Adam and AdamW: AdamW first shrinks w by (1 - lr * wd) (Adam adds wd * w to g instead);
// m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g^2; amsgrad: vmax = max(vmax, v)
// replaces v; w -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
class Adam final : public FlatOptimizer {
public:
    Adam(const OptimizerSpec& spec, const torch::Tensor& params, const FusedKernels& kernels)
        : FlatOptimizer(spec, params, kernels)
        , m_average(torch::zeros_like(params))
        , m_squareAverage(torch::zeros_like(params)) {
        if (spec.amsgrad)
            m_maxSquareAverage = torch::zeros_like(params);
    }

    std::vector<std::pair<std::string, torch::Tensor*>> stateBuffers() override {
        return {{"exp_avg", &m_average},
                {"exp_avg_sq", &m_squareAverage},
                {"max_exp_avg_sq", &m_maxSquareAverage}};
    }

private:
    bool decoupled() const { return m_spec.type == OptimizerType::AdamW; }
    double correction1() const { return 1.0 - std::pow(m_spec.beta1, static_cast<double>(m_steps)); }
    double correction2() const { return 1.0 - std::pow(m_spec.beta2, static_cast<double>(m_steps)); }

    // Updates the averages with the gradient; returns the second moment the step divides by (amsgrad:
    // its running maximum).
    const torch::Tensor& secondMoment(const torch::Tensor& grads) {
        m_average.mul_(m_spec.beta1).add_(grads, 1.0 - m_spec.beta1);
        m_squareAverage.mul_(m_spec.beta2).addcmul_(grads, grads, 1.0 - m_spec.beta2);
        if (!m_maxSquareAverage.defined())
            return m_squareAverage;
        torch::maximum_out(m_maxSquareAverage, m_maxSquareAverage, m_squareAverage);
        return m_maxSquareAverage;
    }

    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        if (decoupled() && m_spec.weightDecay > 0.0)
            params.mul_(1.0 - lr * m_spec.weightDecay);
        const torch::Tensor& second = secondMoment(grads);
        // grads is free scratch space here: it is zeroed before the next backward pass.
        torch::sqrt_out(grads, second).div_(std::sqrt(correction2())).add_(m_spec.eps);
        params.addcdiv_(m_average, grads, -lr / correction1());
    }

    void updateCpu(const FlatSpan& buffers, const GradientTerms& terms, double lr) override {
        m_kernels.adam(buffers, terms,
                       AdamState{floats(m_average), floats(m_squareAverage), floats(m_maxSquareAverage),
                                 decoupled() ? asFloat(1.0 - lr * m_spec.weightDecay) : 1.0f,
                                 asFloat(m_spec.beta1), asFloat(m_spec.beta2), asFloat(1.0 - m_spec.beta1),
                                 asFloat(1.0 - m_spec.beta2), asFloat(lr / correction1()),
                                 asFloat(1.0 / std::sqrt(correction2())), asFloat(m_spec.eps)});
    }

    // AdamW's shrink factor, the step size lr / (1 - beta1^t) and 1 / sqrt(1 - beta2^t).
    std::vector<double> stepScalars(double lr) const override {
        return {decoupled() ? 1.0 - lr * m_spec.weightDecay : 1.0, lr / correction1(),
                1.0 / std::sqrt(correction2())};
    }

    void updateWithScalars(torch::Tensor& params, torch::Tensor& grads, const torch::Tensor& s) override {
        if (decoupled() && m_spec.weightDecay > 0.0)
            params.mul_(s[0]);
        const torch::Tensor& second = secondMoment(grads);
        torch::sqrt_out(grads, second).mul_(s[2]).add_(m_spec.eps);
        params.addcmul_(m_average / grads, s[1], -1.0);
    }

    torch::Tensor m_average;
    torch::Tensor m_squareAverage;
    torch::Tensor m_maxSquareAverage;
};

} // namespace

FlatOptimizer::FlatOptimizer(const OptimizerSpec& spec, const torch::Tensor& params,
                             const FusedKernels& kernels)
    : m_spec(spec)
    , m_kernels(kernels)
    , m_fusedCpu(params.device().is_cpu() && params.scalar_type() == torch::kFloat &&
                 params.is_contiguous()) {}

GradientTerms FlatOptimizer::gradientTerms(double gradScale) const {
    // AdamW's weight decay is decoupled: it shrinks the weights instead of adding to the gradient.
    const bool l2 = m_spec.type != OptimizerType::AdamW;
    return {asFloat(gradScale), asFloat(m_spec.l1), l2 ? asFloat(m_spec.weightDecay) : 0.0f};
}

void FlatOptimizer::step(torch::Tensor& params, torch::Tensor& grads, double lr, double gradScale) {
    torch::NoGradGuard noGrad;
    ++m_steps;
    if (m_fusedCpu) {
        updateCpu(FlatSpan{floats(params), floats(grads), params.numel()}, gradientTerms(gradScale), lr);
        return;
    }
    // The order of the fused loops' gradient (fused_kernels.h): scale, L1, then the optimizer's L2.
    if (gradScale != 1.0)
        grads.mul_(gradScale);
    addPenalties(params, grads);
    updateTensors(params, grads, lr);
}

void FlatOptimizer::addPenalties(const torch::Tensor& params, torch::Tensor& grads) const {
    if (m_spec.l1 > 0.0)
        grads.add_(params.sign(), m_spec.l1);
    if (m_spec.weightDecay > 0.0 && m_spec.type != OptimizerType::AdamW)
        grads.add_(params, m_spec.weightDecay);
}

torch::Tensor FlatOptimizer::nextStepScalars(double lr) {
    ++m_steps;
    const std::vector<double> values = stepScalars(lr);
    return torch::tensor(std::vector<float>(values.begin(), values.end()), torch::kFloat);
}

void FlatOptimizer::stepWithScalars(torch::Tensor& params, torch::Tensor& grads,
                                    const torch::Tensor& scalars) {
    torch::NoGradGuard noGrad;
    addPenalties(params, grads);
    updateWithScalars(params, grads, scalars);
}

std::unique_ptr<FlatOptimizer> makeOptimizer(const OptimizerSpec& spec, const torch::Tensor& params,
                                             const FusedKernels& kernels) {
    switch (spec.type) {
    case OptimizerType::Sgd:
        return std::make_unique<Sgd>(spec, params, kernels);
    case OptimizerType::Adagrad:
        return std::make_unique<Adagrad>(spec, params, kernels);
    case OptimizerType::RmsProp:
        return std::make_unique<RmsProp>(spec, params, kernels);
    case OptimizerType::Adam:
    case OptimizerType::AdamW:
        break;
    }
    return std::make_unique<Adam>(spec, params, kernels);
}

double flatNormCpu(const torch::Tensor& values) {
    return std::sqrt(fusedKernels().squaredNorm(values.data_ptr<float>(), values.numel()));
}

} // namespace tunelab::detail
