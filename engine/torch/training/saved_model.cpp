#include "training/saved_model.h"

#include "common/zip_archive_check.h"
#include "data/dataset_cache.h"
#include "model/shape_inference.h"

namespace tunelab::detail {

std::string loadStateDict(torch::nn::Module& module, const std::vector<char>& bytes) {
    if (const std::string damage = zipArchiveDamage(bytes.data(), bytes.size()); !damage.empty())
        return "the saved model is damaged: " + damage;
    const c10::IValue value = torch::pickle_load(bytes);
    if (!value.isGenericDict())
        return "the saved model is not a state dict";
    const c10::Dict<c10::IValue, c10::IValue> state = value.toGenericDict();
    torch::NoGradGuard noGrad;
    auto copyInto = [&state](const std::string& name, torch::Tensor& target) -> std::string {
        const auto found = state.find(name);
        if (found == state.end() || !found->value().isTensor())
            return "the saved model has no '" + name + "'";
        const torch::Tensor saved = found->value().toTensor();
        if (saved.sizes() != target.sizes())
            return "the saved model's '" + name + "' has another shape than the experiment's network";
        target.copy_(saved);
        return {};
    };
    for (auto& item : module.named_parameters())
        if (std::string problem = copyInto(item.key(), item.value()); !problem.empty())
            return problem;
    for (auto& item : module.named_buffers())
        if (std::string problem = copyInto(item.key(), item.value()); !problem.empty())
            return problem;
    return {};
}

torch::Tensor SavedModel::features(const std::vector<int64_t>& rows) const {
    std::vector<int64_t> shape{data.rows};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    const auto all = torch::from_blob(const_cast<float*>(data.features.data()), shape, torch::kFloat);
    return all.index_select(0, torch::tensor(rows, torch::kLong));
}

Result<SavedModel> loadSavedModel(const ExperimentSpec& spec, const std::vector<char>& stateDict) {
    using Loaded = Result<SavedModel>;
    if (stateDict.empty())
        return Loaded::failure("the run has no saved model");
    auto loaded = loadDatasetCached(spec.data, spec.seed);
    if (!loaded.ok())
        return Loaded::failure("data: " + loaded.error());
    SavedModel model;
    model.data = *loaded.value();
    model.split = splitDataset(model.data.rows, spec.data.validationFraction, spec.seed);
    if (spec.data.standardize)
        standardizeFeatures(model.data, model.split.train);
    const ShapeReport shapes = inferShapes(spec.model, model.data.sampleShape,
                                           OutputTarget{model.data.task, model.data.classes, spec.loss.type});
    if (!shapes.ok())
        return Loaded::failure(Errors{shapes.errors}.joined("; "));
    auto generator = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
    model.network = Network(spec.model, model.data.sampleShape, generator);
    if (const std::string problem = loadStateDict(*model.network, stateDict); !problem.empty())
        return Loaded::failure(problem);
    model.network->eval();
    return model;
}

} // namespace tunelab::detail
