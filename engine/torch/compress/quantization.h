#pragma once

// Private to the engine: included only by engine .cpp files (and the engine's tests).
//
// Int8 post-training quantization of a trained network (docs/compression.md, "int8").
//
// Each linear and conv2d layer (with a batch norm that directly follows it folded into its weights,
// and a ReLU that follows it fused into its kernel) gets symmetric qint8 weights, one scale per
// output neuron or channel or one per layer, and quint8 affine activations whose ranges are observed
// on calibration rows. The int8 layers run LibTorch's quantized kernels (quantized::linear,
// quantized::conv2d.new and their _relu forms, called through the dispatcher on weights packed by
// quantized::linear_prepack and quantized::conv2d_prepack). Tensors stay quantized between int8
// layers through ReLU, max and average pooling, flatten and leaky ReLU; they are dequantized only
// before a layer without a quantized kernel, which stays in float (the merges of a graph network:
// add, concat, multiply), and at the end.
//
// Whether a layer runs in int8 is measured, not assumed: each layer is timed at batch 1 and 64 in float
// and in int8 (with the quantize and dequantize its place in the network needs) and its int8 output is
// compared with its float output on the calibration rows. A layer stays float where int8 is not
// faster at the deciding batch (1, or 64: QuantizationOptions::decisionBatch) or its error is too
// large, and its report says which. `allInt8` overrides the measurement. With the engine left on Auto,
// the layers are measured on oneDNN and on QNNPACK and the engine whose network measures faster at
// the deciding batch is kept.
//
// The file. saveQuantizedModel writes a TorchScript module that torch::jit::load and Python's
// torch.jit.load run without TuneLab: its forward calls quantized::* on packed weights held as
// attributes of LibTorch's own classes (LinearPackedParamsBase, Conv2dPackedParamsBase). Packed
// weights can be saved as they are, but they pickle each per-channel scale as a double and its zero
// point as an int64 beside a separate record per tensor, which costs a small network most of the
// 4x it gains. So the module defines __getstate__ and __setstate__ (which LibTorch's pickler and
// unpickler call): the file holds all int8 weights in one int8 tensor and every scale, bias and float
// layer's parameter in one float32 tensor, and loading packs the weights again from those, on the
// quantized engine current in the loading process. loadQuantizedModel makes that engine the one the
// model was measured on (named in the file's extra record "tunelab_int8.json"), so a reloaded model
// computes what the in-memory one does, bit for bit. In Python, setting
// torch.backends.quantized.engine to that engine before torch.jit.load does the same; on another
// engine the weights are packed for that one and the outputs differ by rounding.

#include "common/result.h"
#include "compress/quantized_stages.h"
#include "events/run_events.h"
#include "spec/spec.h"
#include "training/network.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tunelab::detail {

struct QuantizationOptions {
    bool perChannel = true;        // one weight scale per output neuron or channel, else one per layer
    int64_t calibrationRows = 512; // quantizeModel: the training rows whose activations set the ranges
    // Activation ranges: at 100, the smallest and largest value seen; below, the (100 - p)th and pth
    // percentiles, which clip rare outliers for a finer step. On standardized inputs the rare large
    // values carry the signal, and clipping them at 99.99 raised the layers' error, hence the default.
    double calibrationPercentile = 100.0;
    bool allInt8 = false; // every linear and conv2d layer int8, whatever was measured
    // A layer whose int8 output error (RMS, relative to the float output's) is larger stays float.
    double maxRelativeError = 0.05;
    QuantizedEngine engine = QuantizedEngine::Auto;
    // The batch, 1 or 64, whose measured latency decides which layers run int8 and which engine is
    // kept: 1 for a model that answers one request at a time, 64 for one that serves batches.
    int decisionBatch = 1;
    int timingRepeats = 200; // batch-1 forwards per timing (batch 64: a quarter, at least 10)
};

constexpr int kQuantizationHistogramBins = 20;

// One linear or conv2d layer after quantization, for the per-layer table and histograms.
struct QuantizedLayerReport {
    int layer = 0;             // index in model.layers
    std::string kind;          // "linear", "conv2d"
    std::vector<int> absorbed; // folded batch norm, fused ReLU (and dropout between), by index
    bool int8 = false;
    std::string why; // the measurement that decided it
    // Median times of this layer alone. int8 counts the quantize before it where its input arrives in
    // float and the dequantize after it where a float layer (or the end) takes its output.
    double floatMs = kNoValue; // batch 1
    double int8Ms = kNoValue;  // batch 1
    double floatBatch64Ms = kNoValue;
    double int8Batch64Ms = kNoValue;
    // |int8 - float| of the layer's outputs on the calibration rows, each fed the same float input.
    double maxAbsError = kNoValue;
    double relativeError = kNoValue; // RMS of the error over RMS of the float output
    double errorMax = 0.0;           // the histogram spans [0, errorMax]
    std::vector<int64_t> errorBins;
    // The float weights (batch norm folded) over [weightMin, weightMax], and how int8 represents them.
    double weightMin = 0.0;
    double weightMax = 0.0;
    std::vector<int64_t> weightBins;
    double weightScale = 0.0; // the largest int8 step; int8 spans [-127, 127] steps
    double weightMaxAbsError = kNoValue;
    double weightRmsError = kNoValue;
    // Calibrated activation ranges: the layer's input, and its output (after a fused ReLU).
    double inputMin = 0.0;
    double inputMax = 0.0;
    double outputMin = 0.0;
    double outputMax = 0.0;
};

// A quantized network in memory: float rows in, float outputs out, batch first, on the CPU.
// Copies share their packed weights.
class QuantizedNetwork {
public:
    QuantizedNetwork() = default;
    QuantizedNetwork(std::vector<QuantizedStage> stages, QuantizedEngine engine);

    torch::Tensor forward(const torch::Tensor& input) const;

    const std::vector<QuantizedStage>& stages() const { return m_stages; }
    QuantizedEngine engine() const { return m_engine; }
    int int8Layers() const;

private:
    std::vector<QuantizedStage> m_stages;
    QuantizedEngine m_engine = QuantizedEngine::Onednn;
    ConversionPlan m_plan;
};

struct QuantizationResult {
    QuantizedNetwork network;
    std::vector<QuantizedLayerReport> layers; // one per linear and conv2d layer, in order
    std::string engineWhy;                    // the engine kept, and its measured time against the others'
    int64_t calibrationRows = 0;
    // quantizeModel: the float and the int8 model on the same validation rows (the training rows
    // without a validation split), in this process: accuracy for classification, MAE for regression.
    TaskKind task = TaskKind::Classification;
    int64_t evaluatedRows = 0;
    double floatAccuracy = kNoValue;
    double int8Accuracy = kNoValue;
    double floatMae = kNoValue;
    double int8Mae = kNoValue;
    // Median whole-network CPU latency on this thread's LibTorch thread count.
    double floatMs = kNoValue;
    double int8Ms = kNoValue;
    double floatBatch64Ms = kNoValue;
    double int8Batch64Ms = kNoValue;
    int64_t floatStateDictBytes = 0;
    torch::Tensor checkInput; // up to 512 evaluated rows: saveQuantizedModel checks its file on them
};

// Quantizes `network` (built from `model`, in evaluation mode) with activation ranges observed on the
// rows of `calibration`. Fails naming the layer: a network without a linear or conv2d layer, weights
// or calibrated activations that are not finite, a layer LibTorch cannot pack or run in int8.
Result<QuantizationResult> quantizeNetwork(const ModelSpec& model, NetworkImpl& network,
                                           const torch::Tensor& calibration,
                                           const QuantizationOptions& options);

// Quantizes a run's saved model (RunStore::model) of the resolved spec `spec`: calibrated on the first
// `options.calibrationRows` rows of its training split, then the float and the int8 model measured on
// its validation split (accuracy or MAE, latency at batch 1 and 64).
Result<QuantizationResult> quantizeModel(const ExperimentSpec& spec, const std::vector<char>& stateDict,
                                         const QuantizationOptions& options);

// What saveQuantizedModel wrote and how the file checked itself: loaded back (loadQuantizedModel)
// and run on the check rows, its outputs compared with the in-memory network's. Both pack the same
// int8 weights on the same engine and run the same kernels on the same inputs, so they agree exactly;
// the tolerance, 1e-5 of the largest output (at least 1e-5), only allows for a float layer's sums
// taken in another order. It is far below one int8 step of any output, which is the least a wrong
// scale, weight or layer in the file would cost.
struct QuantizedSaveReport {
    std::string path;
    int64_t bytes = 0;
    int64_t checkedRows = 0;
    double maxAbsDifference = kNoValue;
    double tolerance = 1e-5;
    bool verified() const { return checkedRows > 0 && maxAbsDifference <= tolerance; }
};

// Writes the quantized model to `path` atomically, then verifies it on `checkInput`. Fails with the
// reason when it cannot be written or computes other outputs (then nothing is left at `path`).
Result<QuantizedSaveReport> saveQuantizedModel(const QuantizedNetwork& network,
                                               const torch::Tensor& checkInput, const std::string& path);
Result<QuantizedSaveReport> saveQuantizedModel(const QuantizationResult& result, const std::string& path);

// A saved int8 model read back: its TorchScript module, loaded on the engine it was measured on.
class QuantizedModelFile {
public:
    torch::Tensor forward(const torch::Tensor& input);
    QuantizedEngine engine() const { return m_engine; }

private:
    friend Result<QuantizedModelFile> loadQuantizedModel(const std::string& path);
    torch::jit::Module m_module;
    QuantizedEngine m_engine = QuantizedEngine::Onednn;
};

Result<QuantizedModelFile> loadQuantizedModel(const std::string& path);

} // namespace tunelab::detail
