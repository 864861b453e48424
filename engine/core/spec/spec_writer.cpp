#include "spec/spec.h"

#include "spec/augment_spec.h"
#include "spec/model_reader.h"

#include "spec/optimizer_json.h"
#include "spec/spec_names.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace tunelab {

namespace {

using OrderedJson = nlohmann::ordered_json;

OrderedJson dataToJson(const DataSpec& data) {
    OrderedJson json;
    json["kind"] = toString(data.kind);
    if (isGeneratedData(data.kind)) {
        json["samples"] = data.samples;
        json["noise"] = data.noise;
        if (data.kind == DataKind::Spirals || data.kind == DataKind::Blobs)
            json["classes"] = data.classes;
        if (data.kind == DataKind::Blobs || data.kind == DataKind::Regression)
            json["features"] = data.features;
    } else {
        json["path"] = data.path;
    }
    if (data.kind == DataKind::Csv) {
        if (!data.target.empty())
            json["target"] = data.target;
        else if (data.targetIndex >= 0)
            json["target"] = data.targetIndex;
        json["task"] = toString(data.task);
        if (data.delimiter != ',')
            json["delimiter"] = std::string(1, data.delimiter);
    }
    if (isImageFileData(data.kind))
        json["limit"] = data.limit;
    if (data.kind == DataKind::ImageFolder) {
        if (!data.imageSize.empty())
            json["image_size"] = data.imageSize;
        json["grayscale"] = data.grayscale;
    }
    json["validation_fraction"] = data.validationFraction;
    json["standardize"] = data.standardize;
    if (data.scale != 1.0)
        json["scale"] = data.scale;
    if (!data.inputShape.empty())
        json["input_shape"] = data.inputShape;
    return json;
}

OrderedJson layerToJson(const LayerSpec& layer) {
    OrderedJson json;
    json["type"] = toString(layer.type);
    switch (layer.type) {
    case LayerType::Linear:
        json["out_features"] = layer.outFeatures;
        if (!layer.bias)
            json["bias"] = false;
        break;
    case LayerType::Conv2d:
        json["out_channels"] = layer.outChannels;
        json["kernel_size"] = layer.kernelSize;
        json["stride"] = layer.stride > 0 ? layer.stride : 1;
        json["padding"] = layer.padding;
        if (!layer.bias)
            json["bias"] = false;
        break;
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        json["kernel_size"] = layer.kernelSize;
        json["stride"] = layer.stride > 0 ? layer.stride : layer.kernelSize;
        json["padding"] = layer.padding;
        break;
    case LayerType::BatchNorm:
        json["eps"] = layer.eps;
        json["momentum"] = layer.momentum;
        break;
    case LayerType::LayerNorm:
        json["eps"] = layer.eps;
        break;
    case LayerType::Dropout:
        json["p"] = layer.p;
        break;
    case LayerType::LeakyReLU:
        json["negative_slope"] = layer.negativeSlope;
        break;
    case LayerType::ELU:
        json["alpha"] = layer.alpha;
        break;
    default:
        break;
    }
    if (layer.lrMultiplier != 1.0)
        json["lr_multiplier"] = layer.lrMultiplier;
    if (!layer.name.empty())
        json["name"] = layer.name;
    if (!layer.inputs.empty())
        json["inputs"] = layer.inputs;
    return json;
}

// The layers as written: the layers of a block instance become the instance again while they are
// still what the block expands to; an instance whose layers were edited one by one is written
// layer by layer, so that no edit is lost.
OrderedJson modelToJson(const ModelSpec& model) {
    OrderedJson layers = OrderedJson::array();
    for (size_t i = 0; i < model.layers.size();) {
        const LayerSpec& first = model.layers[i];
        size_t end = i + 1;
        while (!first.instance.empty() && end < model.layers.size() &&
               model.layers[end].instance == first.instance)
            ++end;
        const auto block = std::find_if(model.blocks.begin(), model.blocks.end(),
                                        [&](const BlockSpec& b) { return b.name == first.block; });
        bool intact = !first.instance.empty() && block != model.blocks.end();
        if (intact) {
            const auto expanded = expandBlock(*block, first.instance, first.inputs);
            intact = expanded.size() == end - i;
            for (size_t k = 0; intact && k < expanded.size(); ++k)
                intact = layerToJson(expanded[k]) == layerToJson(model.layers[i + k]);
        }
        if (intact) {
            OrderedJson instance;
            instance["type"] = "block";
            instance["block"] = first.block;
            instance["name"] = first.instance;
            if (!first.inputs.empty())
                instance["inputs"] = first.inputs;
            layers.push_back(instance);
        } else {
            for (size_t k = i; k < end; ++k)
                layers.push_back(layerToJson(model.layers[k]));
        }
        i = end;
    }
    OrderedJson json;
    if (!model.blocks.empty()) {
        OrderedJson blocks = OrderedJson::object();
        for (const BlockSpec& block : model.blocks) {
            OrderedJson blockLayers = OrderedJson::array();
            for (const LayerSpec& layer : block.layers)
                blockLayers.push_back(layerToJson(layer));
            blocks[block.name] = {{"layers", blockLayers}};
        }
        json["blocks"] = blocks;
    }
    json["layers"] = layers;
    return json;
}

OrderedJson scheduleToJson(const ScheduleSpec& schedule) {
    OrderedJson json;
    json["type"] = toString(schedule.type);
    json["warmup_epochs"] = schedule.warmupEpochs;
    switch (schedule.type) {
    case ScheduleType::Step:
        json["step_size"] = schedule.stepSize;
        json["gamma"] = schedule.gamma;
        break;
    case ScheduleType::Exponential:
        json["gamma"] = schedule.gamma;
        break;
    case ScheduleType::Cosine:
        json["min_lr"] = schedule.minLr;
        break;
    case ScheduleType::ReduceOnPlateau:
        json["factor"] = schedule.factor;
        json["patience"] = schedule.patience;
        json["threshold"] = schedule.threshold;
        json["min_lr"] = schedule.minLr;
        break;
    default:
        break;
    }
    return json;
}

OrderedJson trainingToJson(const TrainingSpec& training) {
    OrderedJson json;
    json["epochs"] = training.epochs;
    if (training.fullBatch)
        json["batch_size"] = "full";
    else
        json["batch_size"] = training.batchSize;
    json["grad_clip_norm"] = training.gradClipNorm;
    json["shuffle"] = training.shuffle;
    if (training.deterministic)
        json["deterministic"] = true;
    if (training.precision != Precision::Float32)
        json["precision"] = toString(training.precision);
    if (training.earlyStopping.enabled) {
        json["early_stopping"] = {{"metric", toString(training.earlyStopping.metric)},
                                  {"patience", training.earlyStopping.patience},
                                  {"min_delta", training.earlyStopping.minDelta}};
    }
    return json;
}

} // namespace

std::string experimentSpecToJson(const ExperimentSpec& spec, int indent) {
    OrderedJson json;
    json["name"] = spec.name;
    json["seed"] = spec.seed;
    json["device"] = spec.device;
    json["data"] = dataToJson(spec.data);
    json["model"] = modelToJson(spec.model);
    json["loss"] = {{"type", toString(spec.loss.type)}};
    if (spec.loss.type == LossType::Huber)
        json["loss"]["delta"] = spec.loss.delta;
    json["optimizer"] = optimizerJsonObject(spec.optimizer);
    json["schedule"] = scheduleToJson(spec.schedule);
    json["training"] = trainingToJson(spec.training);
    if (spec.init.fromWeights()) {
        OrderedJson init;
        if (spec.init.run > 0)
            init["run"] = spec.init.run;
        else
            init["file"] = spec.init.file;
        init["freeze_layers"] = spec.init.freezeLayers;
        init["freeze_batch_norm"] = spec.init.freezeBatchNorm;
        json["init"] = init;
    }
    if (spec.prune.enabled()) {
        OrderedJson prune = {{"sparsity", spec.prune.sparsity},
                             {"scope", toString(spec.prune.scope)},
                             {"schedule", toString(spec.prune.schedule)}};
        if (spec.prune.schedule == PruneSchedule::Gradual) {
            prune["start_epoch"] = spec.prune.startEpoch;
            prune["end_epoch"] = spec.prune.lastPruningEpoch(spec.training.epochs);
        }
        if (!spec.prune.layers.empty())
            prune["layers"] = spec.prune.layers;
        json["prune"] = prune;
    }
    if (spec.fakeQuantize.enabled) {
        json["fake_quantize"] = {{"per_channel", spec.fakeQuantize.perChannel}};
        if (spec.fakeQuantize.activations)
            json["fake_quantize"]["activations"] = true;
    }
    if (spec.distill.enabled())
        json["distill"] = {{"teacher_run", spec.distill.teacherRun},
                           {"temperature", spec.distill.temperature},
                           {"alpha", spec.distill.alpha}};
    if (spec.augment.enabled())
        json["augment"] = augmentToJson(spec.augment);
    return json.dump(indent);
}

} // namespace tunelab
