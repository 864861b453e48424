#include "spec/spec_names.h"

#include "spec/optimizer_catalog.h"

#include <algorithm>
#include <cctype>

namespace tunelab {

const NameTable<DataKind>& dataKindNames() {
    static const NameTable<DataKind> names = {
        {DataKind::Csv, "csv"},         {DataKind::Mnist, "mnist"},
        {DataKind::Cifar10, "cifar10"}, {DataKind::ImageFolder, "image_folder"},
        {DataKind::Spirals, "spirals"}, {DataKind::Moons, "moons"},
        {DataKind::Circles, "circles"}, {DataKind::Xor, "xor"},
        {DataKind::Blobs, "blobs"},     {DataKind::Regression, "regression"},
    };
    return names;
}

const NameTable<LayerType>& layerTypeNames() {
    static const NameTable<LayerType> names = {
        {LayerType::Linear, "linear"},
        {LayerType::Conv2d, "conv2d"},
        {LayerType::MaxPool2d, "maxpool2d"},
        {LayerType::AvgPool2d, "avgpool2d"},
        {LayerType::BatchNorm, "batchnorm"},
        {LayerType::LayerNorm, "layernorm"},
        {LayerType::Dropout, "dropout"},
        {LayerType::Flatten, "flatten"},
        {LayerType::ReLU, "relu"},
        {LayerType::LeakyReLU, "leaky_relu"},
        {LayerType::ELU, "elu"},
        {LayerType::GELU, "gelu"},
        {LayerType::SiLU, "silu"},
        {LayerType::Tanh, "tanh"},
        {LayerType::Sigmoid, "sigmoid"},
        {LayerType::Identity, "identity"},
        {LayerType::Add, "add"},
        {LayerType::Concat, "concat"},
        {LayerType::Multiply, "multiply"},
    };
    return names;
}

const NameTable<LossType>& lossTypeNames() {
    static const NameTable<LossType> names = {
        {LossType::Mse, "mse"},
        {LossType::L1, "l1"},
        {LossType::Huber, "huber"},
        {LossType::CrossEntropy, "cross_entropy"},
        {LossType::BceWithLogits, "bce_with_logits"},
    };
    return names;
}

const NameTable<OptimizerType>& optimizerTypeNames() {
    static const NameTable<OptimizerType> names = [] {
        NameTable<OptimizerType> table;
        for (const OptimizerInfo& info : optimizerCatalog())
            table.emplace_back(info.type, info.json);
        return table;
    }();
    return names;
}

const NameTable<ScheduleType>& scheduleTypeNames() {
    static const NameTable<ScheduleType> names = {
        {ScheduleType::Constant, "constant"},          {ScheduleType::Step, "step"},
        {ScheduleType::Exponential, "exponential"},    {ScheduleType::Cosine, "cosine"},
        {ScheduleType::LinearWarmup, "linear_warmup"}, {ScheduleType::ReduceOnPlateau, "reduce_on_plateau"},
    };
    return names;
}

const NameTable<MetricKind>& metricNames() {
    static const NameTable<MetricKind> names = {
        {MetricKind::TrainLoss, "train_loss"},
        {MetricKind::ValLoss, "val_loss"},
        {MetricKind::ValAccuracy, "val_accuracy"},
        {MetricKind::ValMae, "val_mae"},
    };
    return names;
}

const NameTable<TaskKind>& taskNames() {
    static const NameTable<TaskKind> names = {
        {TaskKind::Classification, "classification"},
        {TaskKind::Regression, "regression"},
    };
    return names;
}

const NameTable<PruneScope>& pruneScopeNames() {
    static const NameTable<PruneScope> names = {{PruneScope::Layer, "layer"}, {PruneScope::Global, "global"}};
    return names;
}

const NameTable<Precision>& precisionNames() {
    static const NameTable<Precision> names = {{Precision::Float32, "fp32"}, {Precision::BFloat16, "bf16"}};
    return names;
}

const NameTable<PruneSchedule>& pruneScheduleNames() {
    static const NameTable<PruneSchedule> names = {{PruneSchedule::OneShot, "one_shot"},
                                                   {PruneSchedule::Gradual, "gradual"}};
    return names;
}

const char* toString(DataKind kind) {
    return enumName(dataKindNames(), kind);
}
const char* toString(LayerType type) {
    return enumName(layerTypeNames(), type);
}
const char* toString(LossType type) {
    return enumName(lossTypeNames(), type);
}
const char* toString(OptimizerType type) {
    return enumName(optimizerTypeNames(), type);
}
const char* toString(ScheduleType type) {
    return enumName(scheduleTypeNames(), type);
}
const char* toString(MetricKind metric) {
    return enumName(metricNames(), metric);
}
const char* toString(PruneScope scope) {
    return enumName(pruneScopeNames(), scope);
}
const char* toString(PruneSchedule schedule) {
    return enumName(pruneScheduleNames(), schedule);
}
const char* toString(TaskKind task) {
    return enumName(taskNames(), task);
}
const char* toString(Precision precision) {
    return enumName(precisionNames(), precision);
}

bool isActivation(LayerType type) {
    switch (type) {
    case LayerType::ReLU:
    case LayerType::LeakyReLU:
    case LayerType::ELU:
    case LayerType::GELU:
    case LayerType::SiLU:
    case LayerType::Tanh:
    case LayerType::Sigmoid:
        return true;
    default:
        return false;
    }
}

bool hasWeights(LayerType type) {
    return type == LayerType::Linear || type == LayerType::Conv2d || type == LayerType::BatchNorm ||
           type == LayerType::LayerNorm;
}

bool isMergeLayer(LayerType type) {
    return type == LayerType::Add || type == LayerType::Concat || type == LayerType::Multiply;
}

std::vector<LayerType> allLayerTypes() {
    std::vector<LayerType> types;
    for (const auto& entry : layerTypeNames())
        types.push_back(entry.first);
    return types;
}

ExperimentSpec defaultExperiment() {
    ExperimentSpec spec;
    spec.name = "two-spirals-mlp";
    spec.seed = 1;
    spec.device = "auto";
    spec.data.kind = DataKind::Spirals;
    spec.data.samples = 2000;
    spec.data.noise = 0.05;
    spec.data.classes = 2;
    spec.data.validationFraction = 0.2;
    auto linear = [](int64_t outFeatures) {
        LayerSpec layer;
        layer.type = LayerType::Linear;
        layer.outFeatures = outFeatures;
        return layer;
    };
    LayerSpec tanh;
    tanh.type = LayerType::Tanh;
    spec.model.layers = {linear(64), tanh, linear(64), tanh, linear(2)};
    spec.loss.type = LossType::CrossEntropy;
    spec.optimizer.type = OptimizerType::Adam;
    spec.optimizer.lr = 0.01;
    spec.schedule.type = ScheduleType::Cosine;
    spec.schedule.warmupEpochs = 1;
    spec.training.epochs = 150;
    spec.training.batchSize = 32;
    return spec;
}

std::string deviceStringError(const std::string& device) {
    if (device == "auto" || device == "cpu" || device == "cuda")
        return {};
    if (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
        std::all_of(device.begin() + 5, device.end(), [](unsigned char c) { return std::isdigit(c); }))
        return {};
    return "expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\", got \"" + device + "\"";
}

} // namespace tunelab
