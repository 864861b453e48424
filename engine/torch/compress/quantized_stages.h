#pragma once

// Private to the engine: included only by engine .cpp files.
//
// A trained network as the int8 quantizer sees it: one stage per layer that computes, in an order in
// which every stage comes after the stages it reads, with each batch norm that directly follows a
// linear or conv2d layer (as the only reader of its output) folded into its weights, each ReLU that
// follows one so fused into its kernel, and dropout, identity and merges of one input (the identity in
// evaluation) left out. A linear or conv2d stage runs in float or in int8; ReLU, the pools, flatten
// and leaky ReLU run on whichever tensor they get, quantized or not; every other layer (the merges
// add, concat and multiply too) runs in float.
//
// And LibTorch's int8 kernels as TuneLab calls them (compress/quantized_ops.cpp): through the
// dispatcher (the quantized:: operators take their packed weights as IValues of LibTorch's own
// packed-parameter classes), on one of the quantized engines this LibTorch was built with, and the
// arithmetic of their scales: weights as symmetric qint8, activations as affine quint8.

#include "spec/spec.h"
#include "training/model_export.h"
#include "training/network.h"

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tunelab::detail {

// The engine that packs int8 weights and runs them. Debian's LibTorch has oneDNN and QNNPACK (no
// FBGEMM): oneDNN is the faster on x86 from batches of a few rows and wide layers, QNNPACK on single
// rows through narrow layers. Auto measures both on the model and keeps the faster.
enum class QuantizedEngine { Auto, Onednn, Qnnpack };

const char* toString(QuantizedEngine engine); // "auto", "onednn", "qnnpack"
bool parseQuantizedEngine(const std::string& text, QuantizedEngine& engine);

// The engines of this LibTorch that TuneLab uses, oneDNN first.
std::vector<QuantizedEngine> availableEngines();

// Makes `engine` LibTorch's process-wide quantized engine for the scope's life, and restores the
// previous one after. Packing a weight reads that setting (so does loading a saved int8 model, which
// packs its weights again); a packed weight keeps its engine's kernels after the scope ends. Scopes
// are serialised across threads: a second one waits for the first to end.
class EngineScope {
public:
    explicit EngineScope(QuantizedEngine engine);
    ~EngineScope();
    EngineScope(const EngineScope&) = delete;
    EngineScope& operator=(const EngineScope&) = delete;

private:
    std::unique_lock<std::mutex> m_lock;
    at::QEngine m_previous;
};

// A weight as symmetric qint8: integers in [-127, 127] times one scale per output row or channel
// (per channel), or one scale for the whole weight. Scales are float32, so that the file holds them
// as they are used.
struct Int8Weight {
    torch::Tensor values; // int8, the weight's shape
    torch::Tensor scales; // float32, [outputs] per channel, [1] per tensor
    bool perChannel = true;

    torch::Tensor quantized() const; // the qint8 tensor the packing operators take
    torch::Tensor dequantized() const;
};

Int8Weight quantizeWeight(const torch::Tensor& weight, bool perChannel);

// An activation's quint8 affine parameters for the range [min, max] widened to hold zero: 256 levels,
// zero exactly representable.
struct ActivationQuant {
    double min = 0.0;
    double max = 0.0;
    double scale = 1.0;
    int64_t zeroPoint = 0;
};

ActivationQuant activationQuant(double min, double max);

// The range of `values` the quantizer keeps: their minimum and maximum at percentile 100, else the
// (100 - p)th and pth percentiles (of an even sample of at most 2^22 values).
std::pair<double, double> observedRange(const torch::Tensor& values, double percentile);

torch::Tensor quantizeActivation(const torch::Tensor& input, const ActivationQuant& quant);

// quantized::linear_prepack and quantized::conv2d_prepack on the current engine.
c10::IValue packLinear(const Int8Weight& weight, const torch::Tensor& bias);
c10::IValue packConv2d(const Int8Weight& weight, const torch::Tensor& bias, int64_t stride, int64_t padding);

// quantized::linear (linear_relu) and quantized::conv2d.new (conv2d_relu.new): a quint8 input to a
// quint8 output of `output`'s scale and zero point.
torch::Tensor runLinear(const torch::Tensor& input, const c10::IValue& packed, const ActivationQuant& output,
                        bool relu);
torch::Tensor runConv2d(const torch::Tensor& input, const c10::IValue& packed, const ActivationQuant& output,
                        bool relu);

// Counts of `values` in `bins` equal bins over [low, high] (a zero-width range is widened).
std::vector<int64_t> histogram(const torch::Tensor& values, double low, double high, int bins);

struct QuantizedStage {
    static constexpr int kNetworkInput = -1;

    int layer = 0; // its index in model.layers
    LayerSpec spec;
    std::vector<int> inputs;   // the stages it reads, by index in the stage list, or kNetworkInput
    std::vector<int> absorbed; // later layers taken into this one: folded batch norm, fused ReLU, dropout
    bool foldedNorm = false;
    bool fusedRelu = false;

    torch::Tensor weight, bias;     // linear, conv2d (batch norm folded in), layer norm
    torch::Tensor scale, shift;     // a batch norm that stays in float, as input * scale + shift
    std::vector<int64_t> normShape; // layer norm

    // The int8 form of a linear or conv2d stage.
    bool int8 = false;
    Int8Weight int8Weight;
    ActivationQuant input;  // a float input is quantized with this (calibrated on the layer's input)
    ActivationQuant output; // the kernel's output (calibrated after the fused ReLU)
    c10::IValue packed;     // the engine's packed weight and bias

    bool quantizable() const { return spec.type == LayerType::Linear || spec.type == LayerType::Conv2d; }
    // Runs on a quantized tensor as it is (ReLU, pools, flatten, leaky ReLU).
    bool passesQuantized() const;
    // "model.layers[3] (conv2d)", for messages.
    std::string name() const;
};

// The stages of `network` (built from `model`, a valid graph, in evaluation mode), with copies of its
// weights. The last stage computes the network's output.
std::vector<QuantizedStage> buildStages(const ModelSpec& model, NetworkImpl& network);

// The stage in float (pass-through stages also on a quantized tensor), on its one input, or a merge
// on its inputs.
torch::Tensor runFloat(const QuantizedStage& stage, const torch::Tensor& input);
torch::Tensor runFloat(const QuantizedStage& stage, const std::vector<torch::Tensor>& inputs);
// Packs a linear or conv2d stage's int8 weight and its bias on the current engine.
c10::IValue packStage(const QuantizedStage& stage);
// A linear or conv2d stage's int8 kernel: quint8 in, quint8 out.
torch::Tensor runInt8(const QuantizedStage& stage, const torch::Tensor& input);

// What the quantized network does between its stages: a float tensor is quantized just before the
// int8 stage that takes it (with that stage's input range), a quantized one dequantized just before
// the float stage that takes it, and at the end. A stage that passes quantized tensors gives what it
// gets.
enum class Conversion { None, Quantize, Dequantize };

struct ConversionPlan {
    std::vector<std::vector<Conversion>> inputs; // per stage, per input
    std::vector<bool> quantizedOutput;           // per stage
    bool dequantizeOutput = false;               // the last stage's output, before it leaves

    int count(Conversion kind) const; // in all, the network's output included
};

// With each stage's int8 flag, or with `int8` (per stage) instead.
ConversionPlan planConversions(const std::vector<QuantizedStage>& stages);
ConversionPlan planConversions(const std::vector<QuantizedStage>& stages, const std::vector<bool>& int8);

// Whether stage `i`'s output reaches a float stage (or the network's output) without passing an
// int8 stage: then an int8 stage `i` pays for a dequantize after it.
bool outputNeedsFloat(const std::vector<QuantizedStage>& stages, const std::vector<bool>& int8, size_t i);

// The stage as one TorchScript expression of its inputs' expressions, its tensors named self.layerN_*.
std::string scriptLine(const QuantizedStage& stage, const std::vector<std::string>& inputs);

} // namespace tunelab::detail
