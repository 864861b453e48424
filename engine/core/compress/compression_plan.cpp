#include "compress/compression_plan.h"

#include "common/json_file_util.h"
#include "common/json_text.h"
#include "common/names.h"
#include "spec/object_reader.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace tunelab {

namespace {

const NameTable<VariantKind>& variantKindNames() {
    static const NameTable<VariantKind> names = {{VariantKind::Prune, "prune"},
                                                 {VariantKind::Structured, "structured"},
                                                 {VariantKind::Int8, "int8"},
                                                 {VariantKind::Distill, "distill"},
                                                 {VariantKind::Qat, "qat"}};
    return names;
}

const NameTable<PruneImportance>& pruneImportanceNames() {
    static const NameTable<PruneImportance> names = {
        {PruneImportance::L1, "l1"}, {PruneImportance::L2, "l2"}, {PruneImportance::Taylor, "taylor"}};
    return names;
}

// The keys of a "prune" variant that are the spec's "prune" object.
const std::vector<std::string> kPruneKeys = {"sparsity",    "scope",     "schedule",
                                             "start_epoch", "end_epoch", "layers"};

void readSource(const Json& value, const std::string& baseDirectory, CompressionPlan& plan,
                std::vector<std::string>& errors) {
    if (!expectObject(value, "source", errors))
        return;
    ObjectReader reader(value, "source", errors);
    reader.integer("run", plan.sourceRun, 1, "the id of a finished run of the store");
    reader.find("experiment");
    reader.finish();
    if (value.contains("experiment")) {
        std::string directory;
        if (json_file::readInlineOrFile(value, "experiment", baseDirectory, plan.sourceExperimentJson,
                                        directory, errors)) {
            const auto experiment = parseExperimentSpec(plan.sourceExperimentJson, directory);
            if (!experiment.ok()) {
                for (const auto& message : experiment.errors())
                    errors.push_back("source.experiment: " + message);
                plan.sourceExperimentJson.clear();
            } else {
                plan.sourceExperimentJson =
                    json_file::withAbsoluteDataPath(plan.sourceExperimentJson, directory);
            }
        }
    }
    if ((plan.sourceRun > 0) == value.contains("experiment"))
        errors.push_back("source: give \"run\" (a stored run to compress) or \"experiment\" (one to train "
                         "first), one of them");
}

void readVariant(const Json& item, const std::string& where, CompressionVariant& variant,
                 std::vector<std::string>& errors) {
    ObjectReader reader(item, where, errors);
    reader.text("name", variant.name, true, "a non-empty name");
    if (const std::string problem = nameProblem(variant.name); !variant.name.empty() && !problem.empty())
        reader.error("name", problem);
    if (!reader.choice("kind", variantKindNames(), variant.kind, true, "kind")) {
        reader.finish();
        return;
    }
    if (variant.kind != VariantKind::Int8) {
        reader.integer("epochs", variant.epochs, 1, "a number of epochs (1 or more)");
        reader.number(
            "lr", variant.lr, [](double v) { return v > 0.0 && v <= 10.0; }, "a learning rate in (0, 10]");
    }
    switch (variant.kind) {
    case VariantKind::Prune: {
        Json prune = Json::object();
        for (const std::string& key : kPruneKeys)
            if (const Json* value = reader.find(key))
                prune[key] = *value;
        if (!prune.contains("sparsity"))
            reader.error("sparsity", "missing; expected a share of the weights to remove, in [0, 1)");
        variant.pruneJson = prune.dump();
        break;
    }
    case VariantKind::Structured: {
        reader.number(
            "fraction", variant.fraction, [](double v) { return v > 0.0 && v < 1.0; },
            "a share of each hidden layer's neurons or channels to remove, in (0, 1)");
        reader.choice("importance", pruneImportanceNames(), variant.importance, false, "a neuron ranking");
        break;
    }
    case VariantKind::Int8:
    case VariantKind::Qat:
        reader.boolean("per_channel", variant.perChannel);
        if (variant.kind == VariantKind::Qat)
            reader.boolean("activations", variant.qatActivations);
        reader.integer("calibration_rows", variant.calibrationRows, 1, "a number of rows (1 or more)");
        reader.boolean("all_int8", variant.allInt8);
        reader.integer("batch", variant.decisionBatch, 1, "1 or 64");
        if (variant.decisionBatch != 1 && variant.decisionBatch != 64)
            reader.error("batch", "expected 1 or 64 (the batch size whose measured latency decides which "
                                  "layers run int8), got " +
                                      std::to_string(variant.decisionBatch));
        break;
    case VariantKind::Distill:
        if (const Json* student = reader.require("student", "the student's model, {\"layers\": [...]}")) {
            if (!student->is_object())
                reader.error("student",
                             "expected an object {\"layers\": [...]}, got " + describeValue(*student));
            else
                variant.studentJson = student->dump();
        }
        reader.number(
            "temperature", variant.temperature, [](double v) { return v > 0.0 && v <= 100.0; },
            "a temperature in (0, 100]");
        reader.number(
            "alpha", variant.alpha, [](double v) { return v >= 0.0 && v <= 1.0; },
            "the weight of the labels' loss, in [0, 1]");
        reader.number(
            "mixup", variant.mixup, [](double v) { return v >= 0.0 && v <= 100.0; },
            "the students' augment.mixup: a Beta distribution's alpha from 0 to 100 (0 = off)");
        reader.boolean("compare_alone", variant.compareAlone);
        break;
    }
    reader.finish(std::string("a variant of kind ") + toString(variant.kind));
}

void readLatency(const Json& value, CompressionPlan& plan, std::vector<std::string>& errors) {
    if (!expectObject(value, "latency", errors))
        return;
    ObjectReader reader(value, "latency", errors);
    reader.integer("threads", plan.latencyThreads, 1, "a number of CPU threads (1 or more)");
    reader.integer("repeats", plan.latencyRepeats, 10, "a number of forwards (10 or more)");
    reader.finish();
}

} // namespace

const char* toString(VariantKind kind) {
    return enumName(variantKindNames(), kind);
}

const char* toString(PruneImportance importance) {
    return enumName(pruneImportanceNames(), importance);
}

Result<CompressionPlan> parseCompressionPlan(std::string_view jsonText, const std::string& baseDirectory) {
    auto parsed = parseJsonText<Json>(jsonText);
    if (!parsed.ok())
        return Result<CompressionPlan>(Errors{parsed.errors()});
    const Json root = std::move(parsed.value());
    if (!root.is_object())
        return Result<CompressionPlan>::failure("the plan must be a JSON object, got " + describeValue(root));
    std::vector<std::string> errors;
    CompressionPlan plan;
    ObjectReader reader(root, "", errors);
    reader.text("name", plan.name, false, "a non-empty name");
    if (const std::string problem = nameProblem(plan.name); !problem.empty())
        reader.error("name", problem);
    if (const Json* source = reader.require("source", "{\"run\": ID} or {\"experiment\": ...}"))
        readSource(*source, baseDirectory, plan, errors);
    if (const Json* latency = reader.find("latency"))
        readLatency(*latency, plan, errors);
    if (const Json* variants = reader.require("variants", "a list of variants")) {
        if (!variants->is_array() || variants->empty())
            reader.error("variants",
                         "expected a non-empty list of variants, got " + describeValue(*variants));
        std::set<std::string> names;
        for (size_t i = 0; variants->is_array() && i < variants->size(); ++i) {
            const std::string where = "variants[" + std::to_string(i) + "]";
            if (!expectObject((*variants)[i], where, errors))
                continue;
            CompressionVariant variant;
            readVariant((*variants)[i], where, variant, errors);
            if (!variant.name.empty() && !names.insert(variant.name).second)
                errors.push_back(where + ".name: \"" + variant.name +
                                 "\" is already the name of another variant");
            plan.variants.push_back(std::move(variant));
        }
    }
    reader.finish();
    if (!errors.empty())
        return Result<CompressionPlan>(Errors{errors});
    // Every variant's experiment is checked against the source before anything trains.
    if (!plan.sourceExperimentJson.empty()) {
        const ExperimentSpec source = parseExperimentSpec(plan.sourceExperimentJson).take();
        for (size_t i = 0; i < plan.variants.size(); ++i) {
            const auto& variant = plan.variants[i];
            if (variant.kind != VariantKind::Prune && variant.kind != VariantKind::Distill &&
                variant.kind != VariantKind::Qat)
                continue;
            auto experiment = variantExperiment(variant, source, 1);
            if (!experiment.ok())
                for (const auto& message : experiment.errors())
                    errors.push_back("variants[" + std::to_string(i) + "]: " + message);
        }
    }
    if (!errors.empty())
        return Result<CompressionPlan>(Errors{errors});
    return plan;
}

Result<CompressionPlan> loadCompressionPlan(const std::string& path) {
    return json_file::loadFile<CompressionPlan>(path, [](std::string_view text, const std::string& folder) {
        return parseCompressionPlan(text, folder);
    });
}

Result<ExperimentSpec> variantExperiment(const CompressionVariant& variant, const ExperimentSpec& source,
                                         RunId sourceRun, bool alone) {
    Json spec = Json::parse(experimentSpecToJson(source));
    spec["name"] = source.name + " / " + variant.name + (alone ? " alone" : "");
    spec.erase("prune");
    spec.erase("distill");
    spec.erase("init");
    if (variant.epochs > 0)
        spec["training"]["epochs"] = variant.epochs;
    if (std::isfinite(variant.lr))
        spec["optimizer"]["lr"] = variant.lr;
    switch (variant.kind) {
    case VariantKind::Prune:
        spec["init"] = {{"run", sourceRun}};
        spec["prune"] = Json::parse(variant.pruneJson);
        break;
    case VariantKind::Qat:
        spec["init"] = {{"run", sourceRun}};
        spec["fake_quantize"] = {{"per_channel", variant.perChannel},
                                 {"activations", variant.qatActivations}};
        break;
    case VariantKind::Distill:
        spec["model"] = Json::parse(variant.studentJson);
        if (std::isfinite(variant.mixup))
            spec["augment"]["mixup"] = variant.mixup;
        if (!alone)
            spec["distill"] = {
                {"teacher_run", sourceRun}, {"temperature", variant.temperature}, {"alpha", variant.alpha}};
        break;
    case VariantKind::Structured:
    case VariantKind::Int8:
        break;
    }
    auto parsed = parseExperimentSpec(spec.dump());
    if (parsed.ok())
        return parsed;
    std::vector<std::string> messages;
    for (const auto& message : parsed.errors()) {
        std::string text = message;
        if (variant.kind == VariantKind::Distill && text.rfind("model.", 0) == 0)
            text = "student." + text.substr(6);
        else if (variant.kind == VariantKind::Prune && text.rfind("prune.", 0) == 0)
            text = text.substr(6);
        messages.push_back(text);
    }
    return Result<ExperimentSpec>(Errors{messages});
}

} // namespace tunelab
