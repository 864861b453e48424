#pragma once

#include "common/result.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

// One experiment spec describes one training run. The JSON format is documented in
// docs/experiment-format.md; every field below has the default listed there.

enum class TaskKind { Classification, Regression };

enum class DataKind { Csv, Mnist, Cifar10, ImageFolder, Spirals, Moons, Circles, Xor, Blobs, Regression };

// Data made by a built-in generator, not read from files.
inline bool isGeneratedData(DataKind kind) {
    return kind != DataKind::Csv && kind != DataKind::Mnist && kind != DataKind::Cifar10 &&
           kind != DataKind::ImageFolder;
}
// Images read from files, which data.limit caps.
inline bool isImageFileData(DataKind kind) {
    return kind == DataKind::Mnist || kind == DataKind::Cifar10 || kind == DataKind::ImageFolder;
}

struct DataSpec {
    DataKind kind = DataKind::Spirals;
    std::string path;     // csv file or mnist/cifar10/image folder, absolute after parsing
    std::string target;   // csv: target column by name; empty with targetIndex < 0 means the last column
    int targetIndex = -1; // csv: target column by 0-based index
    char delimiter = ',';
    TaskKind task = TaskKind::Classification;
    double validationFraction = 0.2;
    bool standardize = false; // z-score features with statistics of the training part only
    double scale = 1.0;       // multiply every feature (applied before standardization)
    // Built-in generators.
    int64_t samples = 1000;
    double noise = 0.1;
    int classes = 2;  // spirals (arms) and blobs
    int features = 2; // blobs and regression
    // Image files: at most this many samples (0 = all).
    int64_t limit = 0;
    // Image folders (one sub-folder per class): the [height, width] every image is resized to (empty:
    // all images must have one size), and whether they are read as one gray channel instead of RGB.
    std::vector<int64_t> imageSize;
    bool grayscale = false;
    // Optional per-sample shape, e.g. [1, 8, 8] to feed 64 csv columns to conv layers.
    std::vector<int64_t> inputShape;
};

enum class LayerType {
    Linear,
    Conv2d,
    MaxPool2d,
    AvgPool2d,
    BatchNorm,
    LayerNorm,
    Dropout,
    Flatten,
    ReLU,
    LeakyReLU,
    ELU,
    GELU,
    SiLU,
    Tanh,
    Sigmoid,
    // Graph layers: pass one input on unchanged, or merge several (docs/experiment-format.md).
    Identity,
    Add,      // element-wise sum of inputs of one shape
    Concat,   // along channels (images) or features
    Multiply, // element-wise product; a side of size 1 is repeated along the other's
};

struct LayerSpec {
    LayerType type = LayerType::ReLU;
    int64_t outFeatures = 0; // linear
    int64_t outChannels = 0; // conv2d
    int64_t kernelSize = 3;  // conv2d, pools
    int64_t stride = 0;      // conv2d default 1, pools default kernel_size; 0 means "default"
    int64_t padding = 0;
    bool bias = true;
    double p = 0.5;              // dropout
    double negativeSlope = 0.01; // leaky_relu
    double alpha = 1.0;          // elu
    double eps = 1e-5;           // batchnorm, layernorm
    double momentum = 0.1;       // batchnorm running statistics
    double lrMultiplier = 1.0;   // linear, conv2d, batchnorm, layernorm: scales the layer's updates
    // A network is a graph: a layer reads the layers named in `inputs` ("input" is the network's
    // input), or the layer before it when `inputs` is empty. The last layer is the output.
    std::string name;
    std::vector<std::string> inputs;
    // Layers that an instance of a block expanded into carry the instance's and the block's names;
    // the instance's name stands for its last layer.
    std::string instance;
    std::string block;
};

// Layers written once and used as often as wanted ({"type": "block", "block": NAME, "name": ...}).
// Inside, "input" is the instance's input and names are the block's own.
struct BlockSpec {
    std::string name;
    std::vector<LayerSpec> layers;
};

struct ModelSpec {
    std::vector<LayerSpec> layers; // block instances expanded, in the written order
    std::vector<BlockSpec> blocks;
};

enum class LossType { Mse, L1, Huber, CrossEntropy, BceWithLogits };

struct LossSpec {
    LossType type = LossType::CrossEntropy;
    double delta = 1.0; // huber
};

enum class OptimizerType { Sgd, Adagrad, RmsProp, Adam, AdamW };

struct OptimizerSpec {
    OptimizerType type = OptimizerType::Adam;
    double lr = 1e-3;
    double weightDecay = 0.0; // L2 (AdamW: decoupled)
    double l1 = 0.0;          // L1 penalty added to the gradient as l1 * sign(w)
    double momentum = 0.0;    // sgd, rmsprop
    double dampening = 0.0;   // sgd
    bool nesterov = false;    // sgd
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    bool amsgrad = false;            // adam, adamw
    double alpha = 0.99;             // rmsprop smoothing
    bool centered = false;           // rmsprop
    double initialAccumulator = 0.0; // adagrad
    double lrDecay = 0.0;            // adagrad
};

enum class ScheduleType { Constant, Step, Exponential, Cosine, LinearWarmup, ReduceOnPlateau };

struct ScheduleSpec {
    ScheduleType type = ScheduleType::Constant;
    double warmupEpochs = 0.0; // linear warm-up from 0 before any schedule
    int stepSize = 10;         // step: epochs between decays
    double gamma = 0.1;        // step, exponential: decay factor
    double minLr = 0.0;        // cosine floor; reduce_on_plateau floor
    double factor = 0.1;       // reduce_on_plateau
    int patience = 5;          // reduce_on_plateau, in epochs
    double threshold = 1e-4;   // reduce_on_plateau: relative improvement that counts
};

enum class MetricKind { TrainLoss, ValLoss, ValAccuracy, ValMae };

struct EarlyStoppingSpec {
    bool enabled = false;
    MetricKind metric = MetricKind::ValLoss;
    int patience = 5;
    double minDelta = 0.0;
};

// The arithmetic of a training step's forward pass: float32 throughout, or bfloat16 mixed precision
// (LibTorch's autocast: matrix products and convolutions in bfloat16, the rest, the loss and the
// weights in float32).
enum class Precision { Float32, BFloat16 };

struct TrainingSpec {
    int epochs = 10;
    int64_t batchSize = 32;
    bool fullBatch = false; // "batch_size": "full"
    double gradClipNorm = 0.0;
    bool shuffle = true;
    // Deterministic algorithms on a GPU (cuDNN, cuBLAS), so that a seed gives the same run every time
    // where LibTorch can; the run names the operations it could not make deterministic.
    bool deterministic = false;
    Precision precision = Precision::Float32;
    EarlyStoppingSpec earlyStopping;
};

// Fine-tuning (docs/experiment-format.md, "init"): the network starts from the saved weights of a run
// in the run store (`run`) or of a state dict file (`file`, absolute after parsing; TuneLab's exported
// state dicts and the store's both load) instead of a random initialisation. Every parameter whose
// layer and shape match is copied; the others (a head for another number of classes) start fresh.
// The first `freezeLayers` layers of model.layers do not train, batch norm statistics included unless
// `freezeBatchNorm` is false.
struct InitSpec {
    int64_t run = 0;
    std::string file;
    int freezeLayers = 0;
    bool freezeBatchNorm = true;
    bool fromWeights() const { return run > 0 || !file.empty(); }
};

// Magnitude pruning while training (docs/experiment-format.md, "prune"): the smallest weights of the
// linear and conv2d layers (of `layers`, every one when empty) are set to zero and held there, each
// layer to `sparsity` (scope layer) or all of them below one threshold (scope global). One shot prunes
// before the first epoch; gradual raises the sparsity at the start of each epoch from `startEpoch` to
// `endEpoch` along the cubic schedule of Zhu and Gupta, s(e) = sparsity * (1 - (1 - p)^3) with p the
// share of the pruning epochs begun, and fine-tunes with the final masks after. Biases and norms stay.
enum class PruneScope { Layer, Global };
enum class PruneSchedule { OneShot, Gradual };

struct PruneSpec {
    double sparsity = 0.0; // in [0, 1); 0 means no pruning
    PruneScope scope = PruneScope::Global;
    PruneSchedule schedule = PruneSchedule::OneShot;
    int startEpoch = 1;
    int endEpoch = 0; // gradual: 0 means three quarters of training.epochs, rounded up
    std::vector<int> layers;
    bool enabled() const { return sparsity > 0.0; }
    int lastPruningEpoch(int epochs) const {
        return endEpoch > 0 ? endEpoch : std::max(startEpoch, (3 * epochs + 3) / 4);
    }
};

// Knowledge distillation (docs/experiment-format.md, "distill"): the network learns from a trained
// teacher, a run of the store, as well as from the labels. The training loss is
//   alpha * cross_entropy(student, labels) + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student /
//   T))
// with T the temperature. Validation reports the task loss alone.
struct DistillSpec {
    int64_t teacherRun = 0; // 0: no distillation
    double temperature = 4.0;
    double alpha = 0.5;
    bool enabled() const { return teacherRun > 0; }
};

// Quantization-aware training (docs/experiment-format.md, "fake_quantize"): every step's forward and
// backward pass see the linear and conv2d weights rounded to int8 (symmetric, one scale per output
// neuron or channel, or one per layer), and the update goes to the float weights (the straight-through
// estimator), so that the trained weights lose little when they are quantized afterwards. With
// `activations`, each of those layers' inputs is rounded too in training, to the unsigned 8-bit grid
// of the range it was seen to take (a moving average of each batch's minimum and maximum).
struct FakeQuantizeSpec {
    bool enabled = false;
    bool perChannel = true;
    bool activations = false;
};

// Training-time augmentation (docs/experiment-format.md, "augment"): random changes drawn for every
// training sample of every epoch from the run's own generator (the same seed, the same batches),
// never applied to validation rows. Geometric ones need image samples ([channels, height, width]).
struct AugmentSpec {
    bool flipHorizontal = false;
    bool flipVertical = false;
    int64_t cropPadding = 0; // pad every side by this many pixels, then crop back at a random place
    double rotation = 0.0;   // degrees, uniform in [-rotation, rotation]
    double scaleMin = 1.0;   // zoom, uniform in [scaleMin, scaleMax]
    double scaleMax = 1.0;
    double translate = 0.0;  // shift by up to this fraction of the width and the height
    double brightness = 0.0; // add, uniform in [-brightness, brightness]
    double contrast = 0.0;   // stretch about the sample's mean by uniform [1 - contrast, 1 + contrast]
    double noise = 0.0;      // Gaussian noise of this standard deviation
    int64_t cutout = 0;      // a square of this side set to zero at a random place
    double mixup = 0.0;      // mix pairs of samples and their labels by Beta(mixup, mixup); 0: off

    bool geometric() const {
        return flipHorizontal || flipVertical || cropPadding > 0 || rotation > 0.0 || scaleMin != 1.0 ||
               scaleMax != 1.0 || translate > 0.0;
    }
    bool enabled() const {
        return geometric() || brightness > 0.0 || contrast > 0.0 || noise > 0.0 || cutout > 0 || mixup > 0.0;
    }
};

struct ExperimentSpec {
    std::string name = "experiment";
    uint64_t seed = 0;
    std::string device = "auto"; // auto, cpu, cuda, cuda:N
    DataSpec data;
    ModelSpec model;
    LossSpec loss;
    OptimizerSpec optimizer;
    ScheduleSpec schedule;
    TrainingSpec training;
    InitSpec init;
    PruneSpec prune;
    DistillSpec distill;
    FakeQuantizeSpec fakeQuantize;
    AugmentSpec augment;
};

// Parses a spec. Relative data paths resolve against baseDir. Every error names its JSON path.
Result<ExperimentSpec> parseExperimentSpec(std::string_view jsonText, const std::string& baseDir = ".");
// Reads and parses a spec file; relative paths resolve against the file's folder.
Result<ExperimentSpec> loadExperimentSpec(const std::string& path);
// The resolved spec, every default written out, as JSON that parses back to the same spec.
std::string experimentSpecToJson(const ExperimentSpec& spec, int indent = 2);
// The built-in default experiment: two spirals and a small MLP; needs no files.
ExperimentSpec defaultExperiment();

// Checks a device string ("auto", "cpu", "cuda", "cuda:N"); empty result when valid.
std::string deviceStringError(const std::string& device);

const char* toString(DataKind kind);
const char* toString(LayerType type);
const char* toString(LossType type);
const char* toString(OptimizerType type);
const char* toString(ScheduleType type);
const char* toString(MetricKind metric);
const char* toString(PruneScope scope);
const char* toString(PruneSchedule schedule);
const char* toString(TaskKind task);
const char* toString(Precision precision);
bool isActivation(LayerType type);
// Linear, conv2d, batch norm and layer norm: the layers with trainable parameters.
bool hasWeights(LayerType type);
// add, concat, multiply: layers that read several inputs.
bool isMergeLayer(LayerType type);
// Whether `name` can name a layer: letters, digits and _ - . /, not "input" (spec/model_reader.cpp).
bool isLayerName(const std::string& name);
std::vector<LayerType> allLayerTypes();

} // namespace tunelab
