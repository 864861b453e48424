#include "spec/spec.h"

#include "common/file_text.h"
#include "common/json_text.h"
#include "spec/spec_names.h"

#include <nlohmann/json.hpp>

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

using Json = nlohmann::json;

std::string describeValue(const Json& value) {
    if (value.is_object())
        return "an object";
    if (value.is_array())
        return "an array";
    std::string text = value.dump();
    if (text.size() > 40)
        text = text.substr(0, 37) + "...";
    return text;
}

std::string quoteText(const std::string& text) {
    return "\"" + text + "\"";
}

std::string joinNames(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names)
        text += (text.empty() ? "" : ", ") + name;
    return text;
}

std::optional<int64_t> asInteger(const Json& value) {
    if (value.is_number_integer())
        return value.get<int64_t>();
    if (value.is_number_float()) {
        const double number = value.get<double>();
        if (std::isfinite(number) && std::floor(number) == number && std::fabs(number) < 9.0e15)
            return static_cast<int64_t>(number);
    }
    return std::nullopt;
}

// Reads one JSON object, remembering which keys were asked for so that every other key can be
// reported as unknown, with the nearest known key suggested.
class ObjectReader {
public:
    ObjectReader(const Json& object, std::string path, std::vector<std::string>& errors)
        : m_object(object)
        , m_path(std::move(path))
        , m_errors(errors) {}

    std::string pathOf(const std::string& key) const { return m_path.empty() ? key : m_path + "." + key; }

    void error(const std::string& key, const std::string& message) {
        m_errors.push_back(pathOf(key) + ": " + message);
    }

    // The value under `key`, or nullptr when absent (an explicit null counts as absent).
    const Json* find(const std::string& key) {
        m_known.push_back(key);
        const auto it = m_object.find(key);
        if (it == m_object.end() || it->is_null())
            return nullptr;
        return &*it;
    }

    const Json* require(const std::string& key, const std::string& what) {
        const Json* value = find(key);
        if (!value)
            error(key, "missing; expected " + what);
        return value;
    }

    void integer(const std::string& key, int64_t& out, int64_t minimum, const std::string& what,
                 bool required = false) {
        const Json* value = required ? require(key, what) : find(key);
        if (!value)
            return;
        const auto number = asInteger(*value);
        if (!number || *number < minimum)
            error(key, "expected " + what + ", got " + describeValue(*value));
        else
            out = *number;
    }

    void integer(const std::string& key, int& out, int minimum, const std::string& what) {
        int64_t wide = out;
        integer(key, wide, minimum, what);
        if (wide > 1000000000)
            error(key, "expected " + what + ", got " + std::to_string(wide));
        else
            out = static_cast<int>(wide);
    }

    void number(const std::string& key, double& out, const std::function<bool(double)>& valid,
                const std::string& what) {
        const Json* value = find(key);
        if (!value)
            return;
        if (!value->is_number() || !std::isfinite(value->get<double>()) || !valid(value->get<double>()))
            error(key, "expected " + what + ", got " + describeValue(*value));
        else
            out = value->get<double>();
    }

    void boolean(const std::string& key, bool& out) {
        const Json* value = find(key);
        if (!value)
            return;
        if (!value->is_boolean())
            error(key, "expected true or false, got " + describeValue(*value));
        else
            out = value->get<bool>();
    }

    void text(const std::string& key, std::string& out, bool required, const std::string& what) {
        const Json* value = required ? require(key, what) : find(key);
        if (!value)
            return;
        if (!value->is_string() || value->get<std::string>().empty())
            error(key, "expected " + what + ", got " + describeValue(*value));
        else
            out = value->get<std::string>();
    }

    template <typename Enum>
    bool choice(const std::string& key, const NameTable<Enum>& table, Enum& out, bool required,
                const std::string& what) {
        const auto names = enumNameList(table);
        const Json* value = required ? require(key, "one of " + joinNames(names)) : find(key);
        if (!value)
            return !required;
        if (!value->is_string()) {
            error(key,
                  "expected " + what + " (one of " + joinNames(names) + "), got " + describeValue(*value));
            return false;
        }
        const std::string name = value->get<std::string>();
        if (const auto parsed = enumFromName(table, name)) {
            out = *parsed;
            return true;
        }
        std::string message = "unknown " + what + " " + quoteText(name);
        const std::string suggestion = closestMatch(name, names);
        if (!suggestion.empty())
            message += "; did you mean " + quoteText(suggestion) + "?";
        else
            message += "; expected one of " + joinNames(names);
        error(key, message);
        return false;
    }

    // Reports every key that nobody asked for.
    void finish(const std::string& owner = {}) {
        for (const auto& item : m_object.items()) {
            const std::string& key = item.key();
            if (std::find(m_known.begin(), m_known.end(), key) != m_known.end())
                continue;
            std::string message = "unknown key";
            if (!owner.empty())
                message += " for " + owner;
            const std::string suggestion = closestMatch(key, m_known);
            if (!suggestion.empty())
                message += "; did you mean " + quoteText(suggestion) + "?";
            else
                message += " (known keys: " + joinNames(m_known) + ")";
            error(key, message);
        }
    }

private:
    const Json& m_object;
    std::string m_path;
    std::vector<std::string>& m_errors;
    std::vector<std::string> m_known;
};

const auto kPositive = [](double v) { return v > 0.0; };
const auto kNonNegative = [](double v) { return v >= 0.0; };
const auto kUnitOpen = [](double v) { return v >= 0.0 && v < 1.0; };
const auto kFactor = [](double v) { return v > 0.0 && v <= 1.0; };

bool expectObject(const Json& value, const std::string& path, std::vector<std::string>& errors) {
    if (value.is_object())
        return true;
    errors.push_back(path + ": expected an object, got " + describeValue(value));
    return false;
}

bool isGenerated(DataKind kind) {
    return kind != DataKind::Csv && kind != DataKind::Mnist && kind != DataKind::Cifar10;
}

void readData(const Json& json, const std::string& baseDir, DataSpec& data,
              std::vector<std::string>& errors) {
    if (!expectObject(json, "data", errors))
        return;
    ObjectReader reader(json, "data", errors);
    const bool kindKnown = reader.choice("kind", dataKindNames(), data.kind, true, "data kind");
    reader.number("validation_fraction", data.validationFraction, kUnitOpen, "a number from 0 to below 1");
    reader.boolean("standardize", data.standardize);
    reader.number("scale", data.scale, kPositive, "a positive number");
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
    if (isGenerated(data.kind)) {
        reader.integer("samples", data.samples, 2, "an integer of at least 2");
        reader.number("noise", data.noise, kNonNegative, "a number >= 0");
        if (data.kind == DataKind::Spirals || data.kind == DataKind::Blobs)
            reader.integer("classes", data.classes, 2, "an integer of at least 2");
        if (data.kind == DataKind::Blobs || data.kind == DataKind::Regression)
            reader.integer("features", data.features, 1, "a positive integer");
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
            else if (const auto index = asInteger(*target); index && *index >= 0)
                data.targetIndex = static_cast<int>(*index);
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
    if (data.kind == DataKind::Mnist || data.kind == DataKind::Cifar10)
        reader.integer("limit", data.limit, 0, "an integer >= 0 (0 = all samples)");
    reader.finish(std::string(toString(data.kind)) + " data");
}

void readLayer(const Json& json, const std::string& path, LayerSpec& layer,
               std::vector<std::string>& errors) {
    if (!json.is_object()) {
        errors.push_back(path +
                         ": expected a layer object like {\"type\": \"linear\", \"out_features\": 64}, got " +
                         describeValue(json));
        return;
    }
    ObjectReader reader(json, path, errors);
    if (!reader.choice("type", layerTypeNames(), layer.type, true, "layer type"))
        return;
    switch (layer.type) {
    case LayerType::Linear:
        reader.integer("out_features", layer.outFeatures, 1, "a positive integer", true);
        reader.boolean("bias", layer.bias);
        break;
    case LayerType::Conv2d:
        reader.integer("out_channels", layer.outChannels, 1, "a positive integer", true);
        reader.integer("kernel_size", layer.kernelSize, 1, "a positive integer");
        reader.integer("stride", layer.stride, 1, "a positive integer");
        reader.integer("padding", layer.padding, 0, "an integer >= 0");
        reader.boolean("bias", layer.bias);
        break;
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        layer.kernelSize = 2;
        reader.integer("kernel_size", layer.kernelSize, 1, "a positive integer");
        reader.integer("stride", layer.stride, 1, "a positive integer");
        reader.integer("padding", layer.padding, 0, "an integer >= 0");
        if (layer.padding * 2 > layer.kernelSize)
            reader.error("padding",
                         "must be at most half of kernel_size (" + std::to_string(layer.kernelSize) + ")");
        break;
    case LayerType::BatchNorm:
        reader.number("eps", layer.eps, kPositive, "a positive number");
        reader.number("momentum", layer.momentum, kFactor, "a number above 0 and at most 1");
        break;
    case LayerType::LayerNorm:
        reader.number("eps", layer.eps, kPositive, "a positive number");
        break;
    case LayerType::Dropout:
        reader.number("p", layer.p, kUnitOpen, "a probability from 0 to below 1");
        break;
    case LayerType::LeakyReLU:
        reader.number("negative_slope", layer.negativeSlope, kNonNegative, "a number >= 0");
        break;
    case LayerType::ELU:
        reader.number("alpha", layer.alpha, kPositive, "a positive number");
        break;
    default:
        break;
    }
    reader.finish(std::string("a ") + toString(layer.type) + " layer");
}

void readModel(const Json& json, ModelSpec& model, std::vector<std::string>& errors) {
    if (!expectObject(json, "model", errors))
        return;
    ObjectReader reader(json, "model", errors);
    if (const Json* layers = reader.require("layers", "a list of layers")) {
        if (!layers->is_array() || layers->empty()) {
            reader.error("layers", "expected a non-empty list of layers, got " + describeValue(*layers));
        } else {
            model.layers.resize(layers->size());
            for (size_t i = 0; i < layers->size(); ++i)
                readLayer((*layers)[i], "model.layers[" + std::to_string(i) + "]", model.layers[i], errors);
        }
    }
    reader.finish();
}

void readOptimizer(const Json& json, OptimizerSpec& optimizer, std::vector<std::string>& errors) {
    if (!expectObject(json, "optimizer", errors))
        return;
    ObjectReader reader(json, "optimizer", errors);
    if (!reader.choice("type", optimizerTypeNames(), optimizer.type, true, "optimizer"))
        return;
    reader.number("lr", optimizer.lr, kPositive, "a positive learning rate");
    reader.number("weight_decay", optimizer.weightDecay, kNonNegative, "a number >= 0");
    reader.number("l1", optimizer.l1, kNonNegative, "a number >= 0");
    if (optimizer.type == OptimizerType::AdamW && !json.contains("weight_decay"))
        optimizer.weightDecay = 0.01;
    switch (optimizer.type) {
    case OptimizerType::Sgd:
        reader.number("momentum", optimizer.momentum, kUnitOpen, "a number from 0 to below 1");
        reader.boolean("nesterov", optimizer.nesterov);
        if (optimizer.nesterov && optimizer.momentum <= 0.0)
            reader.error("nesterov", "Nesterov momentum needs optimizer.momentum > 0");
        break;
    case OptimizerType::Adagrad:
        reader.number("eps", optimizer.eps, kPositive, "a positive number");
        reader.number("initial_accumulator", optimizer.initialAccumulator, kNonNegative, "a number >= 0");
        break;
    case OptimizerType::RmsProp:
        reader.number("alpha", optimizer.alpha, kUnitOpen, "a number from 0 to below 1");
        reader.number("eps", optimizer.eps, kPositive, "a positive number");
        reader.number("momentum", optimizer.momentum, kUnitOpen, "a number from 0 to below 1");
        break;
    case OptimizerType::Adam:
    case OptimizerType::AdamW:
        if (const Json* betas = reader.find("betas")) {
            const bool valid = betas->is_array() && betas->size() == 2 && (*betas)[0].is_number() &&
                               (*betas)[1].is_number() && kUnitOpen((*betas)[0].get<double>()) &&
                               kUnitOpen((*betas)[1].get<double>());
            if (valid) {
                optimizer.beta1 = (*betas)[0].get<double>();
                optimizer.beta2 = (*betas)[1].get<double>();
            } else {
                reader.error("betas", "expected two numbers from 0 to below 1 like [0.9, 0.999], got " +
                                          describeValue(*betas));
            }
        }
        reader.number("eps", optimizer.eps, kPositive, "a positive number");
        break;
    }
    reader.finish(std::string("the ") + toString(optimizer.type) + " optimizer");
}

void readSchedule(const Json& json, ScheduleSpec& schedule, std::vector<std::string>& errors) {
    if (!expectObject(json, "schedule", errors))
        return;
    ObjectReader reader(json, "schedule", errors);
    if (!reader.choice("type", scheduleTypeNames(), schedule.type, true, "schedule"))
        return;
    if (schedule.type == ScheduleType::LinearWarmup)
        schedule.warmupEpochs = 1.0;
    reader.number("warmup_epochs", schedule.warmupEpochs, kNonNegative, "a number of epochs >= 0");
    switch (schedule.type) {
    case ScheduleType::Step:
        reader.integer("step_size", schedule.stepSize, 1, "a positive number of epochs");
        reader.number("gamma", schedule.gamma, kFactor, "a number above 0 and at most 1");
        break;
    case ScheduleType::Exponential:
        schedule.gamma = 0.95;
        reader.number("gamma", schedule.gamma, kFactor, "a number above 0 and at most 1");
        break;
    case ScheduleType::Cosine:
        reader.number("min_lr", schedule.minLr, kNonNegative, "a number >= 0");
        break;
    case ScheduleType::ReduceOnPlateau:
        reader.number(
            "factor", schedule.factor, [](double v) { return v > 0.0 && v < 1.0; },
            "a number between 0 and 1");
        reader.integer("patience", schedule.patience, 0, "an integer >= 0");
        reader.number("threshold", schedule.threshold, kNonNegative, "a number >= 0");
        reader.number("min_lr", schedule.minLr, kNonNegative, "a number >= 0");
        break;
    default:
        break;
    }
    reader.finish(std::string("the ") + toString(schedule.type) + " schedule");
}

void readTraining(const Json& json, TrainingSpec& training, std::vector<std::string>& errors) {
    if (!expectObject(json, "training", errors))
        return;
    ObjectReader reader(json, "training", errors);
    reader.integer("epochs", training.epochs, 1, "a positive integer");
    if (const Json* batch = reader.find("batch_size")) {
        const auto size = asInteger(*batch);
        if (batch->is_string() && batch->get<std::string>() == "full")
            training.fullBatch = true;
        else if (size && *size > 0)
            training.batchSize = *size;
        else
            reader.error("batch_size",
                         "expected a positive integer or \"full\", got " + describeValue(*batch));
    }
    reader.number("grad_clip_norm", training.gradClipNorm, kNonNegative, "a number >= 0 (0 = no clipping)");
    reader.boolean("shuffle", training.shuffle);
    if (const Json* stopping = reader.find("early_stopping")) {
        if (stopping->is_boolean()) {
            training.earlyStopping.enabled = stopping->get<bool>();
        } else if (expectObject(*stopping, reader.pathOf("early_stopping"), errors)) {
            EarlyStoppingSpec& early = training.earlyStopping;
            ObjectReader inner(*stopping, reader.pathOf("early_stopping"), errors);
            early.enabled = true;
            inner.boolean("enabled", early.enabled);
            inner.choice("metric", metricNames(), early.metric, false, "metric");
            inner.integer("patience", early.patience, 1, "a positive number of epochs");
            inner.number("min_delta", early.minDelta, kNonNegative, "a number >= 0");
            inner.finish();
        }
    }
    reader.finish();
}

void checkAcrossSections(const Json& root, ExperimentSpec& spec, std::vector<std::string>& errors) {
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
    if (const Json* seed = reader.find("seed")) {
        const auto value = asInteger(*seed);
        if (value && *value >= 0)
            spec.seed = static_cast<uint64_t>(*value);
        else
            reader.error("seed", "expected an integer >= 0, got " + describeValue(*seed));
    }
    reader.text("device", spec.device, false, "\"auto\", \"cpu\", \"cuda\" or \"cuda:N\"");
    if (const std::string problem = deviceStringError(spec.device); !problem.empty())
        reader.error("device", problem);
    if (const Json* data = reader.require("data", "an object describing the data"))
        readData(*data, baseDir, spec.data, errors);
    if (const Json* model = reader.require("model", "an object with a list of layers"))
        readModel(*model, spec.model, errors);
    if (const Json* loss = reader.find("loss")) {
        if (expectObject(*loss, "loss", errors)) {
            ObjectReader lossReader(*loss, "loss", errors);
            if (lossReader.choice("type", lossTypeNames(), spec.loss.type, true, "loss")) {
                if (spec.loss.type == LossType::Huber)
                    lossReader.number("delta", spec.loss.delta, kPositive, "a positive number");
                lossReader.finish(std::string("the ") + toString(spec.loss.type) + " loss");
            }
        }
    } else if (spec.data.task == TaskKind::Regression) {
        spec.loss.type = LossType::Mse;
    }
    if (const Json* optimizer = reader.find("optimizer"))
        readOptimizer(*optimizer, spec.optimizer, errors);
    if (const Json* schedule = reader.find("schedule"))
        readSchedule(*schedule, spec.schedule, errors);
    if (const Json* training = reader.find("training"))
        readTraining(*training, spec.training, errors);
    reader.finish();
    if (errors.empty())
        checkAcrossSections(root, spec, errors);
    if (!errors.empty())
        return Result<ExperimentSpec>(Errors{errors});
    return spec;
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
