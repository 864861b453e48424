#pragma once

// Private to the engine: the fused CPU float32 loops of the flat optimizers (optimizers.cpp) and
// the gradient norm.
//
// Each optimizer loop makes one pass over memory: it forms the gradient (clipping scale and
// penalties), updates the optimizer's state and the parameter, and zeroes the gradient for the
// next backward pass. Every loop is written once and built for several instruction sets (AVX-512,
// AVX2 and plain x86-64 with GCC on x86-64; one portable build elsewhere); the best build the CPU
// runs is picked at first use, so one portable binary still uses the wide vectors where they exist.

#include <cstdint>
#include <vector>

namespace tunelab::detail {

// The flat float32 parameter and gradient buffers of one step.
struct FlatSpan {
    float* params;
    float* grads;
    int64_t count;
};

// The gradient an update uses: g * scale + l1 * sign(w) + weightDecay * w, in that order: the
// clipping scale, TuneLab's L1 term (added to the gradient before the optimizer sees it), then
// the optimizer's own L2 term, as torch.optim adds it.
struct GradientTerms {
    float scale;
    float l1;
    float weightDecay;
};

struct SgdState {
    float* velocity; // null without momentum
    float lr;
    float momentum;
    float keep;    // 0 on the first step (the velocity starts as the gradient), else momentum
    float damping; // 1 on the first step, else 1 - dampening
    bool nesterov;
};

struct AdagradState {
    float* sum;
    float lr; // already decayed: lr / (1 + (step - 1) * lr_decay)
    float eps;
};

struct RmsPropState {
    float* squareAverage;
    float* gradAverage;    // centered only, else null
    float* momentumBuffer; // null without momentum
    float lr;
    float alpha;
    float oneMinusAlpha; // formed in double, as torch.optim does: 1 - float(alpha) is off by up to 1e-6
    float eps;
    float momentum;
};

struct AdamState {
    float* average;
    float* squareAverage;
    float* maxSquareAverage; // amsgrad only, else null
    float shrink;            // AdamW's decoupled decay, 1 - lr * weight_decay; 1 for Adam
    float beta1;
    float beta2;
    // Formed in double, as torch.optim does: 1 - float(0.999) is off by 1.3e-5, which would scale
    // every step by 1 + 6e-6.
    float oneMinusBeta1;
    float oneMinusBeta2;
    float stepSize;    // lr / (1 - beta1^t)
    float inverseRoot; // 1 / sqrt(1 - beta2^t)
    float eps;
};

// One instruction-set build of every loop.
struct FusedKernels {
    const char* name;
    void (*sgd)(const FlatSpan&, const GradientTerms&, const SgdState&);
    void (*adagrad)(const FlatSpan&, const GradientTerms&, const AdagradState&);
    void (*rmsProp)(const FlatSpan&, const GradientTerms&, const RmsPropState&);
    void (*adam)(const FlatSpan&, const GradientTerms&, const AdamState&);
    // The sum of squares of a buffer, accumulated in double.
    double (*squaredNorm)(const float* values, int64_t count);
};

// Every build this CPU can run, best first.
const std::vector<const FusedKernels*>& fusedKernelBuilds();
// The best of them: what the optimizers use unless told otherwise.
const FusedKernels& fusedKernels();

} // namespace tunelab::detail
