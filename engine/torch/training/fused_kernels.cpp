#include "training/fused_kernels.h"

#include <cmath>

namespace tunelab::detail {

namespace {

// The loops below are inlined into each instruction-set build (the bottom of this file), so they
// are compiled once per build. The restrict parameters let them vectorise without alias checks.
#if defined(__GNUC__)
#define TUNELAB_LOOP inline __attribute__((always_inline))
#else
#define TUNELAB_LOOP inline
#endif

TUNELAB_LOOP float gradient(const GradientTerms& t, float g, float w) {
    g *= t.scale;
    if (t.l1 != 0.0f)
        g += t.l1 * static_cast<float>((w > 0.0f) - (w < 0.0f));
    return g + t.weightDecay * w;
}

TUNELAB_LOOP void sgdLoop(float* __restrict p, float* __restrict g, int64_t n, GradientTerms t, SgdState c) {
    for (int64_t i = 0; i < n; ++i) {
        p[i] -= c.lr * gradient(t, g[i], p[i]);
        g[i] = 0.0f;
    }
}

template <bool Nesterov>
TUNELAB_LOOP void sgdMomentumLoop(float* __restrict p, float* __restrict g, float* __restrict v, int64_t n,
                                  GradientTerms t, SgdState c) {
    for (int64_t i = 0; i < n; ++i) {
        const float grad = gradient(t, g[i], p[i]);
        v[i] = c.keep * v[i] + c.damping * grad;
        p[i] -= c.lr * (Nesterov ? grad + c.momentum * v[i] : v[i]);
        g[i] = 0.0f;
    }
}

TUNELAB_LOOP void sgd(const FlatSpan& s, const GradientTerms& t, const SgdState& c) {
    if (!c.velocity)
        sgdLoop(s.params, s.grads, s.count, t, c);
    else if (c.nesterov)
        sgdMomentumLoop<true>(s.params, s.grads, c.velocity, s.count, t, c);
    else
        sgdMomentumLoop<false>(s.params, s.grads, c.velocity, s.count, t, c);
}

TUNELAB_LOOP void adagradLoop(float* __restrict p, float* __restrict g, float* __restrict sum, int64_t n,
                              GradientTerms t, AdagradState c) {
    for (int64_t i = 0; i < n; ++i) {
        const float grad = gradient(t, g[i], p[i]);
        sum[i] += grad * grad;
        p[i] -= c.lr * grad / (std::sqrt(sum[i]) + c.eps);
        g[i] = 0.0f;
    }
}

TUNELAB_LOOP void adagrad(const FlatSpan& s, const GradientTerms& t, const AdagradState& c) {
    adagradLoop(s.params, s.grads, c.sum, s.count, t, c);
}

// eps is added outside the square root, as in torch.optim.
template <bool Centered, bool Momentum>
TUNELAB_LOOP void rmsPropLoop(float* __restrict p, float* __restrict g, float* __restrict square,
                              float* __restrict mean, float* __restrict buffer, int64_t n, GradientTerms t,
                              RmsPropState c) {
    for (int64_t i = 0; i < n; ++i) {
        const float grad = gradient(t, g[i], p[i]);
        square[i] = c.alpha * square[i] + c.oneMinusAlpha * grad * grad;
        float variance = square[i];
        if (Centered) {
            mean[i] = c.alpha * mean[i] + c.oneMinusAlpha * grad;
            variance -= mean[i] * mean[i];
        }
        const float denominator = std::sqrt(variance) + c.eps;
        if (Momentum) {
            buffer[i] = c.momentum * buffer[i] + grad / denominator;
            p[i] -= c.lr * buffer[i];
        } else {
            p[i] -= c.lr * grad / denominator;
        }
        g[i] = 0.0f;
    }
}

TUNELAB_LOOP void rmsProp(const FlatSpan& s, const GradientTerms& t, const RmsPropState& c) {
    float* mean = c.gradAverage;
    float* buffer = c.momentumBuffer;
    if (mean && buffer)
        rmsPropLoop<true, true>(s.params, s.grads, c.squareAverage, mean, buffer, s.count, t, c);
    else if (mean)
        rmsPropLoop<true, false>(s.params, s.grads, c.squareAverage, mean, buffer, s.count, t, c);
    else if (buffer)
        rmsPropLoop<false, true>(s.params, s.grads, c.squareAverage, mean, buffer, s.count, t, c);
    else
        rmsPropLoop<false, false>(s.params, s.grads, c.squareAverage, mean, buffer, s.count, t, c);
}

template <bool AmsGrad>
TUNELAB_LOOP void adamLoop(float* __restrict p, float* __restrict g, float* __restrict m, float* __restrict v,
                           float* __restrict vMax, int64_t n, GradientTerms t, AdamState c) {
    for (int64_t i = 0; i < n; ++i) {
        const float grad = gradient(t, g[i], p[i]);
        m[i] = c.beta1 * m[i] + c.oneMinusBeta1 * grad;
        v[i] = c.beta2 * v[i] + c.oneMinusBeta2 * grad * grad;
        float second = v[i];
        if (AmsGrad) {
            vMax[i] = vMax[i] > second ? vMax[i] : second;
            second = vMax[i];
        }
        p[i] = p[i] * c.shrink - c.stepSize * m[i] / (std::sqrt(second) * c.inverseRoot + c.eps);
        g[i] = 0.0f;
    }
}

TUNELAB_LOOP void adam(const FlatSpan& s, const GradientTerms& t, const AdamState& c) {
    if (c.maxSquareAverage)
        adamLoop<true>(s.params, s.grads, c.average, c.squareAverage, c.maxSquareAverage, s.count, t, c);
    else
        adamLoop<false>(s.params, s.grads, c.average, c.squareAverage, nullptr, s.count, t, c);
}

TUNELAB_LOOP double squaredNorm(const float* __restrict x, int64_t n) {
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
    return total;
}

// One build of every loop, compiled with ATTRIBUTES (a target instruction set, or nothing): the loops
// above are inlined into run<...>, so each build has its own copy of each.
#define TUNELAB_FUSED_KERNELS(BUILD, NAME, ATTRIBUTES)                                                       \
    namespace BUILD {                                                                                        \
    template <class State, void (*loop)(const FlatSpan&, const GradientTerms&, const State&)>                \
    ATTRIBUTES void run(const FlatSpan& s, const GradientTerms& t, const State& c) {                         \
        loop(s, t, c);                                                                                       \
    }                                                                                                        \
    ATTRIBUTES double norm(const float* x, int64_t n) {                                                      \
        return squaredNorm(x, n);                                                                            \
    }                                                                                                        \
    const FusedKernels kKernels{NAME,                                                                        \
                                run<SgdState, sgd>,                                                          \
                                run<AdagradState, adagrad>,                                                  \
                                run<RmsPropState, rmsProp>,                                                  \
                                run<AdamState, adam>,                                                        \
                                norm};                                                                       \
    }

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TUNELAB_X86_BUILDS 1
TUNELAB_FUSED_KERNELS(avx512, "avx512f", __attribute__((target("avx512f"))))
TUNELAB_FUSED_KERNELS(avx2, "avx2", __attribute__((target("avx2"))))
TUNELAB_FUSED_KERNELS(portable, "x86-64", )
#else
TUNELAB_FUSED_KERNELS(portable, "portable", )
#endif

} // namespace

const std::vector<const FusedKernels*>& fusedKernelBuilds() {
    static const std::vector<const FusedKernels*> builds = [] {
        std::vector<const FusedKernels*> supported;
#ifdef TUNELAB_X86_BUILDS
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f"))
            supported.push_back(&avx512::kKernels);
        if (__builtin_cpu_supports("avx2"))
            supported.push_back(&avx2::kKernels);
#endif
        supported.push_back(&portable::kKernels);
        return supported;
    }();
    return builds;
}

const FusedKernels& fusedKernels() {
    static const FusedKernels& best = *fusedKernelBuilds().front();
    return best;
}

} // namespace tunelab::detail
