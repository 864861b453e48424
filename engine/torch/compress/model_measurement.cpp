#include "compress/model_measurement.h"

#include "compress/inference_latency.h"
#include "training/model_export.h"

#include <algorithm>
#include <numeric>

namespace tunelab::detail {

namespace {

std::vector<int64_t> evaluationRows(const SavedModel& model) {
    if (!model.split.validation.empty())
        return model.split.validation;
    return model.split.train;
}

} // namespace

void measureAccuracy(const SavedModel& model,
                     const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                     VariantResult& result) {
    torch::NoGradGuard noGrad;
    const std::vector<int64_t> rows = evaluationRows(model);
    const auto output = forward(model.features(rows));
    std::vector<float> targets;
    targets.reserve(rows.size());
    for (int64_t row : rows)
        targets.push_back(model.data.targets[static_cast<size_t>(row)]);
    const auto target = torch::tensor(targets);
    if (model.data.task == TaskKind::Classification) {
        const auto predicted = output.size(1) == 1 ? output.squeeze(1).gt(0).to(torch::kFloat)
                                                   : output.argmax(1).to(torch::kFloat);
        result.valAccuracy = predicted.eq(target).to(torch::kDouble).mean().item<double>();
    } else {
        result.valMae = (output.squeeze(1) - target).abs().to(torch::kDouble).mean().item<double>();
    }
}

void measureLatency(const SavedModel& model,
                    const std::function<torch::Tensor(const torch::Tensor&)>& forward, int repeats,
                    VariantResult& result) {
    torch::NoGradGuard noGrad;
    const std::vector<int64_t> all = evaluationRows(model);
    const auto one = model.features({all.front()});
    std::vector<int64_t> rows;
    for (size_t i = 0; i < 64; ++i)
        rows.push_back(all[i % all.size()]);
    const auto batch = model.features(rows);
    result.latencyMs = medianMilliseconds([&] { forward(one); }, repeats);
    result.batch64Ms = medianMilliseconds([&] { forward(batch); }, std::max(10, repeats / 4));
}

std::vector<char> freshStateDict(const ExperimentSpec& spec, const Shape& input) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
    Network network(spec.model, input, generator);
    return saveStateDict(*network);
}

Result<VariantResult> measureFloatModel(const ExperimentSpec& spec, const std::vector<char>& stateDict,
                                        const std::string& path, int repeats) {
    auto loaded = loadSavedModel(spec, stateDict);
    if (!loaded.ok())
        return Result<VariantResult>(Errors{loaded.errors()});
    SavedModel& model = loaded.value();
    VariantResult result;
    {
        torch::NoGradGuard noGrad;
        for (const auto& parameter : model.network->parameters()) {
            result.parameters += parameter.numel();
            result.nonzeroParameters += parameter.ne(0).sum().item<int64_t>();
        }
        for (size_t i = 0; i < spec.model.layers.size(); ++i) {
            const LayerType type = spec.model.layers[i].type;
            if (type != LayerType::Linear && type != LayerType::Conv2d)
                continue;
            const auto weight = model.network->named_parameters()[std::to_string(i) + ".weight"];
            CompressedLayer layer;
            layer.layer = static_cast<int>(i);
            layer.kind = toString(type);
            layer.weights = weight.numel();
            layer.sparsity = weight.eq(0).sum().item<double>() / static_cast<double>(weight.numel());
            result.layers.push_back(layer);
        }
    }
    auto forward = [&model](const torch::Tensor& x) { return model.network->forward(x); };
    measureAccuracy(model, forward, result);
    measureLatency(model, forward, repeats, result);
    auto exported = exportModel(spec, stateDict, ExportFormat::TorchScript, path);
    if (exported.ok()) {
        result.file = exported.value().path;
        result.sizeBytes = exported.value().bytes;
        result.verified = exported.value().verified();
    } else {
        result.message = "export: " + exported.error();
    }
    return result;
}

} // namespace tunelab::detail
