#include "spec/spec.h"

#include "common/file_text.h"
#include "common/json_text.h"
#include "common/names.h"
#include "spec/augment_spec.h"
#include "spec/model_reader.h"
#include "spec/object_reader.h"
#include "spec/optimizer_catalog.h"
#include "spec/optimizer_json.h"
#include "spec/spec_keys.h"
#include "spec/spec_names.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace tunelab {

namespace {

// A CSV file has far fewer columns; the limit keeps the index an int.
constexpr int64_t kMaxColumnIndex = 1000000;

void readData(const Json& json, const std::string& baseDir, DataSpec& data,
              std::vector<std::string>& errors) {
    const SpecNumberRules& rules = specNumberRules();
    if (!expectObject(json, "data", errors))
        return;
    ObjectReader reader(json, "data", errors);
    const bool kindKnown = reader.choice("kind", dataKindNames(), data.kind, true, "data kind");
    reader.number("validation_fraction", data.validationFraction, rules.validationFraction);
    reader.boolean("standardize", data.standardize);
    reader.number("scale", data.scale, rules.scale);
    if (const Json* shape = reader.find("input_shape")) {
        bool valid = shape->is_array() && !shape->empty() && shape->size() <= 3;
        std::vector<int64_t> dims;
        for (const auto& dim : valid ? *shape : Json::array()) {
            const auto size = asInteger(dim);
            valid = valid && size && *size > 0;
            if (valid)
                dims.push_back(*size);
        }
        if (valid)
            data.inputShape = dims;
        else
            reader.error("input_shape",
                         "expected 1 to 3 positive integers like [1, 8, 8], got " + describeValue(*shape));
    }
    if (!kindKnown) {
        return; // Which keys belong depends on the kind; do not guess.
    }
    data.task = data.kind == DataKind::Regression ? TaskKind::Regression : TaskKind::Classification;
    if (isGeneratedData(data.kind)) {
        reader.integer("samples", data.samples, rules.samples);
        reader.number("noise", data.noise, rules.noise);
        if (data.kind == DataKind::Spirals || data.kind == DataKind::Blobs)
            reader.integer("classes", data.classes, rules.classes);
        if (data.kind == DataKind::Blobs || data.kind == DataKind::Regression)
            reader.integer("features", data.features, rules.features);
        if (data.kind == DataKind::Spirals && data.classes > 16)
            reader.error("classes", "at most 16 spiral arms, got " + std::to_string(data.classes));
    } else {
        const std::string what =
            data.kind == DataKind::Csv ? "the path of a CSV file" : "the path of a folder";
        std::string path;
        reader.text("path", path, true, what);
        if (!path.empty()) {
            std::filesystem::path resolved(path);
            if (resolved.is_relative()) {
                std::error_code ignored; // absolute() only fails without a current directory
                resolved = std::filesystem::absolute(std::filesystem::path(baseDir), ignored) / resolved;
            }
            data.path = resolved.lexically_normal().string();
        }
    }
    if (data.kind == DataKind::Csv) {
        if (const Json* target = reader.find("target")) {
            if (target->is_string() && !target->get<std::string>().empty())
                data.target = target->get<std::string>();
            else if (const auto index = asInteger(*target); index && *index >= 0 && *index <= kMaxColumnIndex)
                data.targetIndex = static_cast<int>(*index);
            else if (index && *index > kMaxColumnIndex)
                reader.error("target",
                             "column index " + describeValue(*target) + " is beyond any CSV file's columns");
            else
                reader.error("target", "expected a column name or a 0-based column index, got " +
                                           describeValue(*target));
        }
        reader.choice("task", taskNames(), data.task, false, "task");
        std::string delimiter;
        reader.text("delimiter", delimiter, false, "a one-character string");
        if (delimiter.size() == 1)
            data.delimiter = delimiter[0];
        else if (!delimiter.empty())
            reader.error("delimiter", "expected a one-character string, got " + quoteText(delimiter));
    }
    if (isImageFileData(data.kind))
        reader.integer("limit", data.limit, rules.limit);
    if (data.kind == DataKind::ImageFolder) {
        if (const Json* size = reader.find("image_size")) {
            const bool pair = size->is_array() && size->size() == 2;
            const int64_t height = pair ? asInteger((*size)[0]).value_or(0) : 0;
            const int64_t width = pair ? asInteger((*size)[1]).value_or(0) : 0;
            if (rules.imageSide.acceptsInteger(height) && rules.imageSide.acceptsInteger(width))
                data.imageSize = {height, width};
            else
                reader.error("image_size",
                             "expected [height, width] in pixels, each from 1 to 4096, like [32, 32], got " +
                                 describeValue(*size));
        }
        reader.boolean("grayscale", data.grayscale);
    }
    reader.finish(std::string(toString(data.kind)) + " data");
}

void readLoss(const Json& json, LossSpec& loss, std::vector<std::string>& errors,
              std::vector<std::string>* asked = nullptr) {
    const SpecNumberRules& rules = specNumberRules();
    if (!expectObject(json, "loss", errors))
        return;
    ObjectReader reader(json, "loss", errors);
    if (!reader.choice("type", lossTypeNames(), loss.type, true, "loss"))
        return;
    if (loss.type == LossType::Huber)
        reader.number("delta", loss.delta, rules.huberDelta);
    reader.finish(std::string("the ") + toString(loss.type) + " loss");
    if (asked)
        *asked = reader.knownKeys();
}

void readSchedule(const Json& json, ScheduleSpec& schedule, std::vector<std::string>& errors,
                  std::vector<std::string>* asked = nullptr) {
    const SpecNumberRules& rules = specNumberRules();
    if (!expectObject(json, "schedule", errors))
        return;
    ObjectReader reader(json, "schedule", errors);
    if (!reader.choice("type", scheduleTypeNames(), schedule.type, true, "schedule"))
        return;
    if (schedule.type == ScheduleType::LinearWarmup)
        schedule.warmupEpochs = 1.0;
    reader.number("warmup_epochs", schedule.warmupEpochs, rules.warmupEpochs);
    switch (schedule.type) {
    case ScheduleType::Step:
        reader.integer("step_size", schedule.stepSize, rules.stepSize);
        reader.number("gamma", schedule.gamma, rules.gamma);
        break;
    case ScheduleType::Exponential:
        schedule.gamma = 0.95;
        reader.number("gamma", schedule.gamma, rules.gamma);
        break;
    case ScheduleType::Cosine:
        reader.number("min_lr", schedule.minLr, rules.minLr);
        break;
    case ScheduleType::ReduceOnPlateau:
        reader.number("factor", schedule.factor, rules.plateauFactor);
        reader.integer("patience", schedule.patience, rules.plateauPatience);
        reader.number("threshold", schedule.threshold, rules.threshold);
        reader.number("min_lr", schedule.minLr, rules.minLr);
        break;
    default:
        break;
    }
    reader.finish(std::string("the ") + toString(schedule.type) + " schedule");
    if (asked)
        *asked = reader.knownKeys();
}

void readTraining(const Json& json, TrainingSpec& training, std::vector<std::string>& errors) {
    const SpecNumberRules& rules = specNumberRules();
    if (!expectObject(json, "training", errors))
        return;
    ObjectReader reader(json, "training", errors);
    reader.integer("epochs", training.epochs, rules.epochs);
    if (const Json* batch = reader.find("batch_size")) {
        const auto size = asInteger(*batch);
        if (batch->is_string() && batch->get<std::string>() == "full")
            training.fullBatch = true;
        else if (size && rules.batchSize.accepts(static_cast<double>(*size)))
            training.batchSize = *size;
        else
            reader.error("batch_size",
                         "expected a positive integer or \"full\", got " + describeValue(*batch));
    }
    reader.number("grad_clip_norm", training.gradClipNorm, rules.gradClipNorm);
    reader.boolean("shuffle", training.shuffle);
    reader.boolean("deterministic", training.deterministic);
    reader.choice("precision", precisionNames(), training.precision, false, "precision");
    if (const Json* stopping = reader.find("early_stopping")) {
        if (stopping->is_boolean()) {
            training.earlyStopping.enabled = stopping->get<bool>();
        } else if (expectObject(*stopping, reader.pathOf("early_stopping"), errors)) {
            EarlyStoppingSpec& early = training.earlyStopping;
            ObjectReader inner(*stopping, reader.pathOf("early_stopping"), errors);
            early.enabled = true;
            inner.boolean("enabled", early.enabled);
            inner.choice("metric", metricNames(), early.metric, false, "metric");
            inner.integer("patience", early.patience, rules.earlyPatience);
            inner.number("min_delta", early.minDelta, rules.minDelta);
            inner.finish();
        }
    }
    reader.finish();
}

void readInit(const Json& json, const std::string& baseDir, InitSpec& init,
              std::vector<std::string>& errors) {
    if (!expectObject(json, "init", errors))
        return;
    ObjectReader reader(json, "init", errors);
    reader.integer("run", init.run, 1, "a run id (a positive integer)");
    std::string file;
    reader.text("file", file, false, "the path of a state dict file");
    if (!file.empty()) {
        std::filesystem::path resolved(file);
        if (resolved.is_relative()) {
            std::error_code ignored; // absolute() only fails without a current directory
            resolved = std::filesystem::absolute(std::filesystem::path(baseDir), ignored) / resolved;
        }
        init.file = resolved.lexically_normal().string();
    }
    int64_t freeze = 0;
    reader.integer("freeze_layers", freeze, 0, "a number of layers (0 or more)");
    init.freezeLayers = static_cast<int>(std::min<int64_t>(freeze, 1 << 20));
    reader.boolean("freeze_batch_norm", init.freezeBatchNorm);
    reader.finish();
    if (init.run > 0 && !init.file.empty())
        errors.push_back("init: give run or file, not both");
    if (!init.fromWeights() && json.contains("freeze_layers"))
        errors.push_back(
            "init.freeze_layers: freezing needs trained weights to keep; give init.run or init.file");
}

void readPrune(const Json& json, PruneSpec& prune, std::vector<std::string>& errors) {
    if (!expectObject(json, "prune", errors))
        return;
    ObjectReader reader(json, "prune", errors);
    reader.require("sparsity", "a share of the weights to remove, in [0, 1)");
    reader.number(
        "sparsity", prune.sparsity, [](double v) { return v >= 0.0 && v < 1.0; },
        "a share of the weights to remove, in [0, 1) (0.9 keeps one weight in ten)");
    reader.choice("scope", pruneScopeNames(), prune.scope, false, "scope");
    reader.choice("schedule", pruneScheduleNames(), prune.schedule, false, "schedule");
    reader.integer("start_epoch", prune.startEpoch, 1, "an epoch (1 or more)");
    reader.integer("end_epoch", prune.endEpoch, 1, "an epoch (1 or more)");
    if (const Json* layers = reader.find("layers")) {
        if (!layers->is_array()) {
            reader.error("layers", "expected a list of layer indexes, got " + describeValue(*layers));
        } else {
            for (size_t i = 0; i < layers->size(); ++i) {
                const auto index = asInteger((*layers)[i]);
                if (!index || *index < 0 || *index > (1 << 20))
                    errors.push_back("prune.layers[" + std::to_string(i) + "]: expected a layer index, got " +
                                     describeValue((*layers)[i]));
                else
                    prune.layers.push_back(static_cast<int>(*index));
            }
        }
    }
    reader.finish();
    if (prune.schedule == PruneSchedule::OneShot &&
        (json.contains("start_epoch") || json.contains("end_epoch")))
        errors.push_back(
            "prune.schedule: one_shot prunes before the first epoch; start_epoch and end_epoch are "
            "for \"gradual\"");
}

void readDistill(const Json& json, DistillSpec& distill, std::vector<std::string>& errors) {
    if (!expectObject(json, "distill", errors))
        return;
    ObjectReader reader(json, "distill", errors);
    reader.integer("teacher_run", distill.teacherRun, 1, "the id of a finished run of the store", true);
    reader.number(
        "temperature", distill.temperature, [](double v) { return v > 0.0 && v <= 100.0; },
        "a temperature in (0, 100]");
    reader.number(
        "alpha", distill.alpha, [](double v) { return v >= 0.0 && v <= 1.0; },
        "the weight of the labels' loss, in [0, 1]");
    reader.finish();
}

void readFakeQuantize(const Json& json, FakeQuantizeSpec& fake, std::vector<std::string>& errors) {
    if (!expectObject(json, "fake_quantize", errors))
        return;
    ObjectReader reader(json, "fake_quantize", errors);
    fake.enabled = true;
    reader.boolean("enabled", fake.enabled);
    reader.boolean("per_channel", fake.perChannel);
    reader.boolean("activations", fake.activations);
    reader.finish();
}

void checkPruneAndDistill(ExperimentSpec& spec, std::vector<std::string>& errors) {
    const auto& layers = spec.model.layers;
    for (size_t i = 0; i < spec.prune.layers.size(); ++i) {
        const int index = spec.prune.layers[i];
        const std::string where = "prune.layers[" + std::to_string(i) + "]: ";
        if (index >= static_cast<int>(layers.size()))
            errors.push_back(where + "the network has no layer " + std::to_string(index) + " (it has " +
                             std::to_string(layers.size()) + ")");
        else if (layers[index].type != LayerType::Linear && layers[index].type != LayerType::Conv2d)
            errors.push_back(where + "model.layers[" + std::to_string(index) + "] is " +
                             toString(layers[index].type) +
                             ", which has no weights to prune; name linear or conv2d layers");
    }
    if (spec.prune.enabled() && spec.prune.schedule == PruneSchedule::Gradual) {
        const int last = spec.prune.lastPruningEpoch(spec.training.epochs);
        if (spec.prune.startEpoch > spec.training.epochs)
            errors.push_back("prune.start_epoch: " + std::to_string(spec.prune.startEpoch) +
                             " is after the last epoch (" + std::to_string(spec.training.epochs) + ")");
        else if (last < spec.prune.startEpoch || last > spec.training.epochs)
            errors.push_back("prune.end_epoch: expected an epoch from start_epoch (" +
                             std::to_string(spec.prune.startEpoch) + ") to training.epochs (" +
                             std::to_string(spec.training.epochs) + "), got " + std::to_string(last));
    }
    if (spec.distill.enabled() &&
        (spec.data.task != TaskKind::Classification || spec.loss.type != LossType::CrossEntropy))
        errors.push_back(
            "distill: distillation softens a classifier's outputs; it needs a classification task "
            "with the cross_entropy loss");
}

void checkAcrossSections(const Json& root, ExperimentSpec& spec, std::vector<std::string>& errors) {
    checkPruneAndDistill(spec, errors);
    if (spec.init.freezeLayers > static_cast<int>(spec.model.layers.size()))
        errors.push_back("init.freeze_layers: " + std::to_string(spec.init.freezeLayers) +
                         " layers to freeze, but the network has " +
                         std::to_string(spec.model.layers.size()));
    else if (spec.init.freezeLayers == static_cast<int>(spec.model.layers.size()) &&
             spec.init.freezeLayers > 0)
        errors.push_back("init.freeze_layers: freezing all " + std::to_string(spec.init.freezeLayers) +
                         " layers leaves nothing to train; freeze fewer");
    const auto& early = spec.training.earlyStopping;
    if (early.enabled) {
        const bool needsValidation = early.metric != MetricKind::TrainLoss;
        if (needsValidation && spec.data.validationFraction <= 0.0)
            errors.push_back(
                std::string("training.early_stopping.metric: ") + toString(early.metric) +
                " needs a validation set; set data.validation_fraction above 0 or use train_loss");
        if (early.metric == MetricKind::ValAccuracy && spec.data.task == TaskKind::Regression)
            errors.push_back(
                "training.early_stopping.metric: val_accuracy is for classification; use val_mae or "
                "val_loss for regression");
        if (early.metric == MetricKind::ValMae && spec.data.task == TaskKind::Classification)
            errors.push_back("training.early_stopping.metric: val_mae is for regression; use val_accuracy or "
                             "val_loss for classification");
    }
    const bool classification = spec.data.task == TaskKind::Classification;
    const bool classifierLoss =
        spec.loss.type == LossType::CrossEntropy || spec.loss.type == LossType::BceWithLogits;
    if (root.contains("loss") && classification != classifierLoss) {
        errors.push_back(std::string("loss.type: ") + toString(spec.loss.type) + " does not fit a " +
                         toString(spec.data.task) + " task; use " +
                         (classification ? "cross_entropy or bce_with_logits" : "mse, l1 or huber"));
    }
}

} // namespace

Result<ExperimentSpec> parseExperimentSpec(std::string_view jsonText, const std::string& baseDir) {
    auto parsed = parseJsonText<Json>(jsonText);
    if (!parsed.ok())
        return Result<ExperimentSpec>(Errors{parsed.errors()});
    Json root = std::move(parsed.value());
    std::vector<std::string> errors;
    if (!root.is_object())
        return Result<ExperimentSpec>::failure("the spec must be a JSON object, got " + describeValue(root));

    ExperimentSpec spec;
    spec.training.earlyStopping.enabled = false;
    ObjectReader reader(root, "", errors);
    reader.text("name", spec.name, false, "a non-empty string");
    if (const std::string problem = nameProblem(spec.name); !problem.empty())
        reader.error("name", problem);
    reader.integer("seed", spec.seed, specNumberRules().seed);
    reader.text("device", spec.device, false, "\"auto\", \"cpu\", \"cuda\" or \"cuda:N\"");
    if (const std::string problem = deviceStringError(spec.device); !problem.empty())
        reader.error("device", problem);
    if (const Json* data = reader.require("data", "an object describing the data"))
        readData(*data, baseDir, spec.data, errors);
    if (const Json* model = reader.require("model", "an object with a list of layers"))
        readModel(*model, spec.model, errors);
    if (const Json* loss = reader.find("loss")) {
        readLoss(*loss, spec.loss, errors);
    } else if (spec.data.task == TaskKind::Regression) {
        spec.loss.type = LossType::Mse;
    }
    if (const Json* optimizer = reader.find("optimizer"))
        readOptimizerObject(*optimizer, "optimizer", spec.optimizer, errors);
    if (const Json* schedule = reader.find("schedule"))
        readSchedule(*schedule, spec.schedule, errors);
    if (const Json* training = reader.find("training"))
        readTraining(*training, spec.training, errors);
    if (const Json* init = reader.find("init"))
        readInit(*init, baseDir, spec.init, errors);
    if (const Json* prune = reader.find("prune"))
        readPrune(*prune, spec.prune, errors);
    if (const Json* distill = reader.find("distill"))
        readDistill(*distill, spec.distill, errors);
    if (const Json* fake = reader.find("fake_quantize"))
        readFakeQuantize(*fake, spec.fakeQuantize, errors);
    if (const Json* augment = reader.find("augment"))
        readAugment(*augment, spec.augment, errors);
    reader.finish();
    if (errors.empty())
        checkAcrossSections(root, spec, errors);
    if (!errors.empty())
        return Result<ExperimentSpec>(Errors{errors});
    return spec;
}

std::optional<std::vector<std::string>> keysForType(const std::string& objectPath,
                                                    const std::string& typeName) {
    std::vector<std::string> errors;
    std::vector<std::string> keys;
    const Json object = {{"type", typeName}};
    if (objectPath == "optimizer") {
        const auto type = enumFromName(optimizerTypeNames(), typeName);
        if (type)
            return optimizerJsonKeys(*type);
    } else if (objectPath == "schedule") {
        ScheduleSpec schedule;
        readSchedule(object, schedule, errors, &keys);
    } else if (objectPath == "loss") {
        LossSpec loss;
        readLoss(object, loss, errors, &keys);
    } else {
        // model.layers[N] or model.blocks.NAME.layers[N]
        const size_t open = objectPath.rfind(".layers[");
        const std::string owner = open == std::string::npos ? std::string() : objectPath.substr(0, open);
        const bool ownerIsModel =
            owner == "model" || (owner.rfind("model.blocks.", 0) == 0 && owner.size() > 13 &&
                                 owner.find('.', 13) == std::string::npos);
        const size_t digits = open + 8;
        const bool isLayer = ownerIsModel && objectPath.size() > digits + 1 && objectPath.back() == ']' &&
                             objectPath.find_first_not_of("0123456789", digits) == objectPath.size() - 1;
        if (isLayer) {
            LayerSpec layer;
            readLayer(object, objectPath, layer, errors, &keys);
        }
    }
    if (keys.empty())
        return std::nullopt;
    return keys;
}

Result<ExperimentSpec> loadExperimentSpec(const std::string& path) {
    auto read = readRegularFile(path, kMaxJsonFileBytes);
    if (!read.ok())
        return Result<ExperimentSpec>(Errors{read.errors()});
    const std::string folder = std::filesystem::path(path).parent_path().string();
    auto result = parseExperimentSpec(read.value(), folder.empty() ? "." : folder);
    if (result.ok())
        return result;
    Errors prefixed;
    const std::string fileName = std::filesystem::path(path).filename().string();
    for (const auto& message : result.errors())
        prefixed.messages.push_back(fileName + ": " + message);
    return Result<ExperimentSpec>(prefixed);
}

} // namespace tunelab
