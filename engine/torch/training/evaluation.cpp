#include "training/evaluation.h"

#include "data/dataset.h"
#include "data/dataset_cache.h"
#include "model/shape_inference.h"
#include "training/network.h"

#include <cmath>
#include <numeric>
#include <string>

namespace tunelab {

namespace {

// Copies a saved state dict (torch.save's format, as saveStateDict writes it) into `module`; every
// parameter and buffer must be there with its shape.
std::string loadStateDict(torch::nn::Module& module, const std::vector<char>& bytes) {
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

} // namespace

int64_t ConfusionMatrix::total() const {
    return std::accumulate(counts.begin(), counts.end(), int64_t(0));
}

double ConfusionMatrix::accuracy() const {
    int64_t right = 0;
    for (int c = 0; c < classes; ++c)
        right += at(c, c);
    const int64_t all = total();
    return all > 0 ? double(right) / double(all) : std::nan("");
}

Result<ConfusionMatrix> validationConfusion(const ExperimentSpec& spec, const std::vector<char>& stateDict) {
    using Made = Result<ConfusionMatrix>;
    if (stateDict.empty())
        return Made::failure("the run has no saved model");
    auto loaded = loadDatasetCached(spec.data, spec.seed);
    if (!loaded.ok())
        return Made::failure("data: " + loaded.error());
    Dataset data = *loaded.value();
    if (data.task != TaskKind::Classification || data.classes < 2)
        return Made::failure("a confusion matrix is for classification; this run is a regression");
    const DataSplit split = splitDataset(data.rows, spec.data.validationFraction, spec.seed);
    if (split.validation.empty())
        return Made::failure("the experiment has no validation split (data.validation_fraction is 0)");
    if (spec.data.standardize)
        standardizeFeatures(data, split.train);
    const ShapeReport shapes =
        inferShapes(spec.model, data.sampleShape, OutputTarget{data.task, data.classes, spec.loss.type});
    if (!shapes.ok())
        return Made::failure(Errors{shapes.errors}.joined("; "));
    try {
        auto generator = at::make_generator<at::CPUGeneratorImpl>(spec.seed);
        detail::Network network(spec.model, data.sampleShape, generator);
        if (const std::string problem = loadStateDict(*network, stateDict); !problem.empty())
            return Made::failure(problem);
        network->eval();
        torch::NoGradGuard noGrad;
        std::vector<int64_t> shape{data.rows};
        shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
        const auto features = torch::from_blob(data.features.data(), shape, torch::kFloat);
        const auto rows = torch::tensor(split.validation, torch::kLong);
        const auto predicted = network->forward(features.index_select(0, rows)).argmax(1).contiguous();
        const int64_t* guess = predicted.data_ptr<int64_t>();
        ConfusionMatrix matrix;
        matrix.classes = data.classes;
        matrix.counts.assign(size_t(data.classes) * size_t(data.classes), 0);
        for (size_t i = 0; i < split.validation.size(); ++i) {
            const auto actual = static_cast<int64_t>(data.targets[size_t(split.validation[i])]);
            if (actual < 0 || actual >= data.classes || guess[i] < 0 || guess[i] >= data.classes)
                continue;
            ++matrix.counts[size_t(actual) * size_t(data.classes) + size_t(guess[i])];
        }
        return matrix;
    } catch (const c10::Error& error) {
        return Made::failure(std::string("the model could not be evaluated: ") +
                             error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Made::failure(std::string("the model could not be evaluated: ") + error.what());
    }
}

} // namespace tunelab
