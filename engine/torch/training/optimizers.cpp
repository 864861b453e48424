#include "training/optimizers.h"

#include <cmath>

namespace tunelab::detail {

namespace {

// The fused loops are compiled for several instruction sets and picked at load time, so one
// portable binary still uses AVX2/AVX-512 where the CPU has them.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TUNELAB_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TUNELAB_VECTOR_CLONES
#endif

float* floats(torch::Tensor& tensor) {
    return tensor.data_ptr<float>();
}

// The L2 and L1 penalties and the clipping scale, as one gradient value.
struct GradientTerms {
    float scale;
    float weightDecay;
    float l1;

    float operator()(float gradient, float parameter) const {
        float g = gradient * scale + weightDecay * parameter;
        if (l1 != 0.0f)
            g += l1 * static_cast<float>((parameter > 0.0f) - (parameter < 0.0f));
        return g;
    }
};

class Sgd final : public FlatOptimizer {
public:
    Sgd(const OptimizerSpec& spec, const torch::Tensor& params)
        : FlatOptimizer(spec, params) {
        if (spec.momentum > 0.0)
            m_velocity = torch::zeros_like(params);
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
            m_velocity.mul_(m_spec.momentum).add_(grads);
        if (m_spec.nesterov)
            params.add_(grads.add_(m_velocity, m_spec.momentum), -lr);
        else
            params.add_(m_velocity, -lr);
    }

    void updateCpu(float* __restrict p, float* __restrict g, int64_t n, double lr, double scale) override {
        const GradientTerms terms = gradientTerms(scale);
        const float rate = static_cast<float>(lr);
        if (!m_velocity.defined()) {
            for (int64_t i = 0; i < n; ++i) {
                p[i] -= rate * terms(g[i], p[i]);
                g[i] = 0.0f;
            }
            return;
        }
        float* __restrict v = floats(m_velocity);
        const float momentum = static_cast<float>(m_spec.momentum);
        const float keep = m_steps == 1 ? 0.0f : momentum; // the first step starts the velocity at g
        const bool nesterov = m_spec.nesterov;
        for (int64_t i = 0; i < n; ++i) {
            const float grad = terms(g[i], p[i]);
            v[i] = keep * v[i] + grad;
            p[i] -= rate * (nesterov ? grad + momentum * v[i] : v[i]);
            g[i] = 0.0f;
        }
    }

    GradientTerms gradientTerms(double scale) const {
        return {static_cast<float>(scale), static_cast<float>(m_spec.weightDecay),
                static_cast<float>(m_spec.l1)};
    }

    torch::Tensor m_velocity;
};

class Adagrad final : public FlatOptimizer {
public:
    Adagrad(const OptimizerSpec& spec, const torch::Tensor& params)
        : FlatOptimizer(spec, params)
        , m_sum(torch::full_like(params, spec.initialAccumulator)) {}

private:
    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        m_sum.addcmul_(grads, grads, 1.0);
        params.addcdiv_(grads, m_sum.sqrt().add_(m_spec.eps), -lr);
    }

    void updateCpu(float* __restrict p, float* __restrict g, int64_t n, double lr, double scale) override {
        const GradientTerms terms{static_cast<float>(scale), static_cast<float>(m_spec.weightDecay),
                                  static_cast<float>(m_spec.l1)};
        float* __restrict sum = floats(m_sum);
        const float rate = static_cast<float>(lr);
        const float eps = static_cast<float>(m_spec.eps);
        for (int64_t i = 0; i < n; ++i) {
            const float grad = terms(g[i], p[i]);
            sum[i] += grad * grad;
            p[i] -= rate * grad / (std::sqrt(sum[i]) + eps);
            g[i] = 0.0f;
        }
    }

    torch::Tensor m_sum;
};

class RmsProp final : public FlatOptimizer {
public:
    RmsProp(const OptimizerSpec& spec, const torch::Tensor& params)
        : FlatOptimizer(spec, params)
        , m_squareAverage(torch::zeros_like(params)) {
        if (spec.momentum > 0.0)
            m_momentum = torch::zeros_like(params);
    }

private:
    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        m_squareAverage.mul_(m_spec.alpha).addcmul_(grads, grads, 1.0 - m_spec.alpha);
        auto average = m_squareAverage.sqrt().add_(m_spec.eps);
        if (m_momentum.defined()) {
            m_momentum.mul_(m_spec.momentum).addcdiv_(grads, average);
            params.add_(m_momentum, -lr);
        } else {
            params.addcdiv_(grads, average, -lr);
        }
    }

    void updateCpu(float* __restrict p, float* __restrict g, int64_t n, double lr, double scale) override {
        const GradientTerms terms{static_cast<float>(scale), static_cast<float>(m_spec.weightDecay),
                                  static_cast<float>(m_spec.l1)};
        float* __restrict square = floats(m_squareAverage);
        const float alpha = static_cast<float>(m_spec.alpha);
        const float rate = static_cast<float>(lr);
        const float eps = static_cast<float>(m_spec.eps);
        if (m_momentum.defined()) {
            float* __restrict buffer = floats(m_momentum);
            const float momentum = static_cast<float>(m_spec.momentum);
            for (int64_t i = 0; i < n; ++i) {
                const float grad = terms(g[i], p[i]);
                square[i] = alpha * square[i] + (1.0f - alpha) * grad * grad;
                buffer[i] = momentum * buffer[i] + grad / (std::sqrt(square[i]) + eps);
                p[i] -= rate * buffer[i];
                g[i] = 0.0f;
            }
            return;
        }
        for (int64_t i = 0; i < n; ++i) {
            const float grad = terms(g[i], p[i]);
            square[i] = alpha * square[i] + (1.0f - alpha) * grad * grad;
            p[i] -= rate * grad / (std::sqrt(square[i]) + eps);
            g[i] = 0.0f;
        }
    }

    torch::Tensor m_squareAverage;
    torch::Tensor m_momentum;
};

struct AdamConstants {
    float shrink, beta1, beta2, stepSize, inverseRoot, eps;
};

TUNELAB_VECTOR_CLONES
void adamKernel(float* __restrict p, float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
                GradientTerms terms, AdamConstants c) {
    for (int64_t i = 0; i < n; ++i) {
        const float grad = terms(g[i], p[i]);
        m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * grad;
        v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * grad * grad;
        p[i] = p[i] * c.shrink - c.stepSize * m[i] / (std::sqrt(v[i]) * c.inverseRoot + c.eps);
        g[i] = 0.0f;
    }
}

class Adam final : public FlatOptimizer {
public:
    Adam(const OptimizerSpec& spec, const torch::Tensor& params)
        : FlatOptimizer(spec, params)
        , m_average(torch::zeros_like(params))
        , m_squareAverage(torch::zeros_like(params)) {}

private:
    bool decoupled() const { return m_spec.type == OptimizerType::AdamW; }

    void updateTensors(torch::Tensor& params, torch::Tensor& grads, double lr) override {
        if (decoupled() && m_spec.weightDecay > 0.0)
            params.mul_(1.0 - lr * m_spec.weightDecay);
        const double step = static_cast<double>(m_steps);
        const double correction1 = 1.0 - std::pow(m_spec.beta1, step);
        const double correction2 = 1.0 - std::pow(m_spec.beta2, step);
        m_average.lerp_(grads, 1.0 - m_spec.beta1);
        m_squareAverage.mul_(m_spec.beta2).addcmul_(grads, grads, 1.0 - m_spec.beta2);
        // grads is free scratch space here: it is zeroed before the next backward pass.
        torch::sqrt_out(grads, m_squareAverage).div_(std::sqrt(correction2)).add_(m_spec.eps);
        params.addcdiv_(m_average, grads, -lr / correction1);
    }

    void updateCpu(float* __restrict p, float* __restrict g, int64_t n, double lr, double scale) override {
        const GradientTerms terms{static_cast<float>(scale),
                                  decoupled() ? 0.0f : static_cast<float>(m_spec.weightDecay),
                                  static_cast<float>(m_spec.l1)};
        const double step = static_cast<double>(m_steps);
        AdamConstants constants;
        constants.shrink = decoupled() ? static_cast<float>(1.0 - lr * m_spec.weightDecay) : 1.0f;
        constants.beta1 = static_cast<float>(m_spec.beta1);
        constants.beta2 = static_cast<float>(m_spec.beta2);
        constants.stepSize = static_cast<float>(lr / (1.0 - std::pow(m_spec.beta1, step)));
        constants.inverseRoot = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(m_spec.beta2, step)));
        constants.eps = static_cast<float>(m_spec.eps);
        adamKernel(p, g, floats(m_average), floats(m_squareAverage), n, terms, constants);
    }

    torch::Tensor m_average;
    torch::Tensor m_squareAverage;
};

} // namespace

FlatOptimizer::FlatOptimizer(const OptimizerSpec& spec, const torch::Tensor& params)
    : m_spec(spec)
    , m_fusedCpu(params.device().is_cpu() && params.scalar_type() == torch::kFloat &&
                 params.is_contiguous()) {}

void FlatOptimizer::step(torch::Tensor& params, torch::Tensor& grads, double lr, double gradScale) {
    torch::NoGradGuard noGrad;
    ++m_steps;
    if (m_fusedCpu) {
        updateCpu(floats(params), floats(grads), params.numel(), lr, gradScale);
        return;
    }
    if (gradScale != 1.0)
        grads.mul_(gradScale);
    if (m_spec.weightDecay > 0.0 && m_spec.type != OptimizerType::AdamW)
        grads.add_(params, m_spec.weightDecay);
    if (m_spec.l1 > 0.0)
        grads.add_(params.sign(), m_spec.l1);
    updateTensors(params, grads, lr);
}

std::unique_ptr<FlatOptimizer> makeOptimizer(const OptimizerSpec& spec, const torch::Tensor& params) {
    switch (spec.type) {
    case OptimizerType::Sgd:
        return std::make_unique<Sgd>(spec, params);
    case OptimizerType::Adagrad:
        return std::make_unique<Adagrad>(spec, params);
    case OptimizerType::RmsProp:
        return std::make_unique<RmsProp>(spec, params);
    case OptimizerType::Adam:
    case OptimizerType::AdamW:
        break;
    }
    return std::make_unique<Adam>(spec, params);
}

TUNELAB_VECTOR_CLONES
double flatNormCpu(const torch::Tensor& values) {
    const float* __restrict x = values.data_ptr<float>();
    const int64_t n = values.numel();
    // Four float partial sums vectorise; the total is formed in double.
    float partial[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int lane = 0; lane < 4; ++lane)
            partial[lane] += x[i + lane] * x[i + lane];
    }
    double total = static_cast<double>(partial[0]) + partial[1] + partial[2] + partial[3];
    for (; i < n; ++i)
        total += static_cast<double>(x[i]) * x[i];
    return std::sqrt(total);
}

} // namespace tunelab::detail
