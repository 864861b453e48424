#include "compress/taylor_importance.h"

#include "training/losses.h"
#include "training/saved_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace tunelab::detail {

namespace {

torch::Tensor parameterOf(NetworkImpl& network, size_t layer, const char* name) {
    const auto parameters = network.named_parameters();
    const torch::Tensor* found = parameters.find(std::to_string(layer) + "." + name);
    return found ? *found : torch::Tensor();
}

} // namespace

Result<TaylorContributions> taylorContributions(const ModelSpec& model, NetworkImpl& network,
                                                const torch::Tensor& features, const torch::Tensor& targets,
                                                const LossSpec& loss, int64_t batchSize) {
    using Scores = Result<TaylorContributions>;
    const int64_t rows = features.size(0);
    if (rows == 0 || batchSize <= 0)
        return Scores::failure("Taylor importance: there are no training rows to take the gradients on");
    struct Weighted {
        int layer;
        torch::Tensor weight, bias;
    };
    std::vector<Weighted> layers;
    for (size_t i = 0; i < model.layers.size(); ++i)
        if (model.layers[i].type == LayerType::Linear || model.layers[i].type == LayerType::Conv2d) {
            Weighted weighted{static_cast<int>(i), parameterOf(network, i, "weight"),
                              parameterOf(network, i, "bias")};
            if (!weighted.weight.defined())
                return Scores::failure("model.layers[" + std::to_string(i) +
                                       "]: the network has no weight for it");
            layers.push_back(weighted);
        }
    // Frozen layers too: their gradients are read here, never applied.
    std::vector<bool> required;
    for (auto& parameter : network.parameters()) {
        required.push_back(parameter.requires_grad());
        parameter.requires_grad_(true);
    }
    const bool training = network.is_training();
    network.eval();

    TaylorContributions scores;
    scores.batches = (rows + batchSize - 1) / batchSize;
    for (const Weighted& weighted : layers)
        scores.layers[weighted.layer].assign(static_cast<size_t>(scores.batches * weighted.weight.size(0)),
                                             0.0);
    std::string problem;
    for (int64_t batch = 0; batch < scores.batches && problem.empty(); ++batch) {
        const int64_t begin = batch * batchSize, end = std::min(rows, begin + batchSize);
        network.zero_grad();
        const torch::Tensor value =
            computeLoss(loss, network.forward(features.slice(0, begin, end)), targets.slice(0, begin, end));
        if (!std::isfinite(value.item<double>())) {
            problem = "Taylor importance: the loss on training rows " + std::to_string(begin) + " to " +
                      std::to_string(end - 1) + " is not finite";
            break;
        }
        value.backward();
        torch::NoGradGuard noGrad;
        for (const Weighted& weighted : layers) {
            const int64_t outputs = weighted.weight.size(0);
            torch::Tensor sum = (weighted.weight.grad() * weighted.weight).reshape({outputs, -1}).sum(1);
            if (weighted.bias.defined() && weighted.bias.grad().defined())
                sum = sum + weighted.bias.grad() * weighted.bias;
            const torch::Tensor row = sum.to(torch::kDouble).contiguous();
            std::copy(row.data_ptr<double>(), row.data_ptr<double>() + outputs,
                      scores.layers[weighted.layer].begin() + batch * outputs);
        }
    }
    network.zero_grad();
    size_t index = 0;
    for (auto& parameter : network.parameters())
        parameter.requires_grad_(required[index++]);
    network.train(training);
    if (!problem.empty())
        return Scores::failure(problem);
    return scores;
}

Result<TaylorContributions> taylorContributions(const ExperimentSpec& spec,
                                                const std::vector<char>& stateDict, int64_t rows) {
    using Scores = Result<TaylorContributions>;
    auto loaded = loadSavedModel(spec, stateDict);
    if (!loaded.ok())
        return Scores(Errors{loaded.errors()});
    SavedModel& saved = loaded.value();
    std::vector<int64_t> taken = saved.split.train;
    taken.resize(std::min<size_t>(taken.size(), static_cast<size_t>(std::max<int64_t>(rows, 1))));
    std::vector<float> values;
    values.reserve(taken.size());
    for (const int64_t row : taken)
        values.push_back(saved.data.targets[static_cast<size_t>(row)]);
    torch::Tensor targets = torch::tensor(values);
    targets = spec.loss.type == LossType::CrossEntropy ? targets.to(torch::kLong) : targets.unsqueeze(1);
    return taylorContributions(spec.model, *saved.network, saved.features(taken), targets, spec.loss,
                               std::max<int64_t>(spec.training.batchSize, 1));
}

} // namespace tunelab::detail
