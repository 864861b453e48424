#include "compress/structured_pruning.h"

#include "model/shape_inference.h"
#include "training/network.h"
#include "training/saved_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>

namespace tunelab::detail {

namespace {

using StateTensors = std::map<std::string, torch::Tensor>;

// How much (1 - fraction) * n may exceed a whole number and still count as that number: the product
// of two decimals is rarely exact (0.7 * 10 is 7.000000000000001).
constexpr double kKeptTolerance = 1e-6;

std::string layerPlace(size_t index, LayerType type) {
    return "model.layers[" + std::to_string(index) + "] (" + toString(type) + ")";
}

std::string shapeText(const torch::Tensor& tensor) {
    return formatShape(Shape(tensor.sizes().begin(), tensor.sizes().end()));
}

bool isPrunableType(LayerType type) {
    return type == LayerType::Linear || type == LayerType::Conv2d;
}

// The layer index a state dict name belongs to ("3" of "3.running_mean"), or -1.
int layerOfName(const std::string& name) {
    const size_t dot = name.find('.');
    if (dot == 0 || dot == std::string::npos || dot > 9)
        return -1;
    for (size_t i = 0; i < dot; ++i)
        if (name[i] < '0' || name[i] > '9')
            return -1;
    return std::stoi(name.substr(0, dot));
}

std::string placeOfName(const ModelSpec& model, const std::string& name) {
    const int index = layerOfName(name);
    if (index < 0 || static_cast<size_t>(index) >= model.layers.size())
        return "model.layers";
    return layerPlace(static_cast<size_t>(index), model.layers[static_cast<size_t>(index)].type);
}

// The state dict's tensors by name, each checked against the network `model` builds: every parameter
// and buffer there with its shape, and nothing else.
Result<StateTensors> readStateDict(const ModelSpec& model, const Shape& input,
                                   const std::vector<char>& bytes) {
    using Read = Result<StateTensors>;
    if (bytes.empty())
        return Read::failure("the state dict is empty");
    c10::IValue value;
    try {
        value = torch::pickle_load(bytes);
    } catch (const c10::Error& error) {
        return Read::failure(std::string("the state dict cannot be read: ") + error.what_without_backtrace());
    }
    if (!value.isGenericDict())
        return Read::failure("the state dict is not a dictionary of tensors");
    StateTensors state;
    for (const auto& entry : value.toGenericDict()) {
        if (!entry.key().isString() || !entry.value().isTensor())
            return Read::failure("the state dict is not a dictionary of tensors");
        state[entry.key().toStringRef()] = entry.value().toTensor();
    }
    Network network(model, input, at::make_generator<at::CPUGeneratorImpl>(0));
    std::vector<std::pair<std::string, torch::Tensor>> expected;
    for (const auto& item : network->named_parameters())
        expected.emplace_back(item.key(), item.value());
    for (const auto& item : network->named_buffers())
        expected.emplace_back(item.key(), item.value());
    for (const auto& [name, tensor] : expected) {
        const auto found = state.find(name);
        if (found == state.end())
            return Read::failure(placeOfName(model, name) + ": the state dict has no '" + name + "'");
        if (found->second.sizes() != tensor.sizes())
            return Read::failure(placeOfName(model, name) + ": the state dict's '" + name + "' is " +
                                 shapeText(found->second) + " where the layer needs " + shapeText(tensor));
    }
    if (state.size() != expected.size())
        for (const auto& item : state)
            if (std::none_of(expected.begin(), expected.end(),
                             [&item](const auto& entry) { return entry.first == item.first; }))
                return Read::failure(placeOfName(model, item.first) + ": the state dict has '" + item.first +
                                     "', which the model has no place for");
    return state;
}

int64_t keptCount(int64_t width, double fraction) {
    const double share = (1.0 - fraction) * static_cast<double>(width);
    const auto kept = static_cast<int64_t>(std::ceil(share - kKeptTolerance));
    return std::clamp<int64_t>(kept, 1, width);
}

// The L1 or L2 norm of each output neuron's (row's) or channel's (filter's) incoming weights.
torch::Tensor neuronNorms(const torch::Tensor& weight, NeuronImportance importance) {
    const torch::Tensor rows = weight.detach().to(torch::kDouble).reshape({weight.size(0), -1});
    if (importance == NeuronImportance::L1)
        return rows.abs().sum(1).contiguous();
    return rows.pow(2).sum(1).sqrt().contiguous();
}

// The `kept` neurons of largest norm, in their original order. Among equal norms the earlier neuron
// stays, so the choice does not depend on the sort.
std::vector<int64_t> strongestNeurons(const torch::Tensor& norms, int64_t kept) {
    const double* values = norms.data_ptr<double>();
    std::vector<int64_t> order(static_cast<size_t>(norms.size(0)));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::sort(order.begin(), order.end(), [values](int64_t a, int64_t b) {
        return values[a] > values[b] || (values[a] == values[b] && a < b);
    });
    order.resize(static_cast<size_t>(kept));
    std::sort(order.begin(), order.end());
    return order;
}

// The neurons or channels a pruned layer kept, as the layers after it see them: dim 0 of their input
// holds `width` neurons of `block` consecutive entries each (block > 1 once a flatten has laid a
// channel's height x width positions out one after another).
struct PrunedInputs {
    size_t source = 0;
    std::vector<int64_t> kept;
    int64_t width = 0;
    int64_t block = 1;

    int64_t entries() const { return width * block; }
    torch::Tensor entryIndices() const {
        std::vector<int64_t> indices;
        indices.reserve(kept.size() * static_cast<size_t>(block));
        for (const int64_t neuron : kept)
            for (int64_t offset = 0; offset < block; ++offset)
                indices.push_back(neuron * block + offset);
        return torch::tensor(indices, torch::kLong);
    }
};

class Shrinker {
public:
    Shrinker(const ModelSpec& model, const ShapeReport& shapes, StateTensors& state,
             const StructuredPruneOptions& options)
        : m_model(model)
        , m_shapes(shapes)
        , m_state(state)
        , m_options(options) {}

    // Walks the layers in order; "" when every layer was carried, else why not.
    std::string run(size_t outputLayer, ModelSpec& shrunk, std::vector<ShrunkLayer>& layers) {
        for (size_t i = 0; i < m_model.layers.size(); ++i) {
            const LayerSpec& layer = m_model.layers[i];
            std::string problem;
            switch (layer.type) {
            case LayerType::Linear:
            case LayerType::Conv2d:
                problem = weighted(i, i < outputLayer, shrunk, layers);
                break;
            case LayerType::BatchNorm:
                for (const char* name : {"weight", "bias", "running_mean", "running_var"})
                    if (problem.empty())
                        problem = keepEntries(i, name, 0, true);
                break;
            case LayerType::LayerNorm:
                // Normalizes over the whole sample (network.cpp), the pruned dimension included: its
                // affine weight and bias have the sample's shape and lose the same entries.
                for (const char* name : {"weight", "bias"})
                    if (problem.empty())
                        problem = keepEntries(i, name, 0, false);
                break;
            case LayerType::Flatten:
                // [channels, height, width] becomes one row in which each channel is a block of
                // height * width features.
                if (m_pruned) {
                    const Shape& in = m_shapes.layers[i].input;
                    m_pruned->block *= shapeElements(in) / in[0];
                }
                break;
            case LayerType::MaxPool2d:
            case LayerType::AvgPool2d:
            case LayerType::Dropout:
            case LayerType::ReLU:
            case LayerType::LeakyReLU:
            case LayerType::ELU:
            case LayerType::GELU:
            case LayerType::SiLU:
            case LayerType::Tanh:
            case LayerType::Sigmoid:
            case LayerType::Identity: // and one-input merges: a graph never gets here (shrink())
            case LayerType::Add:
            case LayerType::Concat:
            case LayerType::Multiply:
                break; // per channel or per entry: the kept ones pass through unchanged
            default:
                if (m_pruned)
                    problem = "model.layers[" + std::to_string(i) +
                              "]: structured pruning cannot carry the neurons removed from model.layers[" +
                              std::to_string(m_pruned->source) + "] through a layer of type " +
                              std::to_string(static_cast<int>(layer.type));
                break;
            }
            if (!problem.empty())
                return problem;
        }
        return m_pruned ? "model.layers[" + std::to_string(m_pruned->source) +
                              "]: no linear or conv2d layer follows it to take its narrower output"
                        : std::string();
    }

private:
    std::string key(size_t layer, const char* name) const { return std::to_string(layer) + "." + name; }

    // Keeps the pruned layer's entries of `dim` of one state tensor of `layer`.
    std::string keepEntries(size_t layer, const char* name, int64_t dim, bool required) {
        if (!m_pruned)
            return {};
        const auto found = m_state.find(key(layer, name));
        if (found == m_state.end())
            return required ? layerPlace(layer, m_model.layers[layer].type) + ": the state dict has no '" +
                                  key(layer, name) + "'"
                            : std::string();
        torch::Tensor& tensor = found->second;
        if (tensor.dim() <= dim || tensor.size(dim) != m_pruned->entries())
            return layerPlace(layer, m_model.layers[layer].type) + ": its '" + key(layer, name) + "' is " +
                   shapeText(tensor) + ", which does not follow the " + std::to_string(m_pruned->entries()) +
                   " outputs of model.layers[" + std::to_string(m_pruned->source) + "]";
        tensor = tensor.index_select(dim, m_pruned->entryIndices());
        return {};
    }

    // A linear or conv2d layer: loses the inputs a pruned layer before it removed, then (when it is
    // hidden) its own weakest neurons or channels.
    std::string weighted(size_t layer, bool hidden, ModelSpec& shrunk, std::vector<ShrunkLayer>& layers) {
        const std::string place = layerPlace(layer, m_model.layers[layer].type);
        const auto weight = m_state.find(key(layer, "weight"));
        if (weight == m_state.end() || weight->second.dim() < 2)
            return place + ": the state dict has no usable '" + key(layer, "weight") + "'";
        // Ranked by the weights as trained, before any of their inputs go: each layer is judged on its
        // own, whatever the order of the layers.
        const torch::Tensor norms = neuronNorms(weight->second, m_options.importance);
        if (std::string problem = keepEntries(layer, "weight", 1, true); !problem.empty())
            return problem;
        m_pruned.reset();
        if (!hidden)
            return {};
        if (!torch::isfinite(norms).all().item<bool>())
            return place + ": its weights are not all finite, so they cannot be ranked";
        const int64_t width = norms.size(0);
        PrunedInputs pruned;
        pruned.source = layer;
        pruned.width = width;
        pruned.kept = strongestNeurons(norms, keptCount(width, m_options.fraction));
        const torch::Tensor rows = torch::tensor(pruned.kept, torch::kLong);
        weight->second = weight->second.index_select(0, rows);
        if (const auto bias = m_state.find(key(layer, "bias")); bias != m_state.end())
            bias->second = bias->second.index_select(0, rows);
        const auto kept = static_cast<int64_t>(pruned.kept.size());
        LayerSpec& spec = shrunk.layers[layer];
        (spec.type == LayerType::Linear ? spec.outFeatures : spec.outChannels) = kept;
        layers.push_back(ShrunkLayer{static_cast<int>(layer), width, kept, pruned.kept});
        m_pruned = std::move(pruned);
        return {};
    }

    const ModelSpec& m_model;
    const ShapeReport& m_shapes;
    StateTensors& m_state;
    const StructuredPruneOptions& m_options;
    std::optional<PrunedInputs> m_pruned;
};

std::string fractionText(double fraction) {
    std::ostringstream text;
    text << fraction;
    return text.str();
}

Result<ShrunkNetwork> shrink(const ModelSpec& model, const Shape& input, const std::vector<char>& stateDict,
                             const StructuredPruneOptions& options) {
    using Shrunk = Result<ShrunkNetwork>;
    if (!(options.fraction >= 0.0 && options.fraction < 1.0))
        return Shrunk::failure("fraction: " + fractionText(options.fraction) +
                               " is outside [0, 1); it is the share of each layer's neurons removed");
    const ShapeReport shapes = inferShapes(model, input);
    if (!shapes.ok())
        return Shrunk(Errors{shapes.errors});
    if (!shapes.graph.chain)
        return Shrunk::failure("model.layers: structured pruning shrinks a stack of layers, and this network "
                               "is a graph (its layers read named inputs); prune its weights by magnitude "
                               "instead (the prune section)");
    size_t outputLayer = model.layers.size();
    for (size_t i = model.layers.size(); i-- > 0;)
        if (isPrunableType(model.layers[i].type)) {
            outputLayer = i;
            break;
        }
    bool anyHidden = false;
    for (size_t i = 0; i < outputLayer && i < model.layers.size(); ++i)
        anyHidden = anyHidden || isPrunableType(model.layers[i].type);
    if (!anyHidden)
        return Shrunk::failure("model.layers: nothing to prune: structured pruning removes neurons of hidden "
                               "linear and conv2d layers, and this network has none before its output layer");

    torch::NoGradGuard noGrad;
    auto read = readStateDict(model, input, stateDict);
    if (!read.ok())
        return Shrunk(Errors{read.errors()});
    StateTensors state = read.take();
    ShrunkNetwork result;
    result.model = model;
    Shrinker shrinker(model, shapes, state, options);
    if (std::string problem = shrinker.run(outputLayer, result.model, result.layers); !problem.empty())
        return Shrunk::failure(problem);

    // Through the narrower network itself, so the names, order and types are saveStateDict's.
    const ShapeReport shrunkShapes = inferShapes(result.model, input);
    if (!shrunkShapes.ok())
        return Shrunk::failure("the pruned network does not fit together: " +
                               Errors{shrunkShapes.errors}.joined("; "));
    c10::Dict<std::string, torch::Tensor> weights;
    for (const auto& [name, tensor] : state)
        weights.insert(name, tensor.contiguous());
    Network network(result.model, input, at::make_generator<at::CPUGeneratorImpl>(0));
    if (std::string problem = loadStateDict(*network, torch::pickle_save(weights)); !problem.empty())
        return Shrunk::failure("the pruned weights do not fit the pruned network: " + problem);
    result.stateDict = saveStateDict(*network);
    return result;
}

} // namespace

Result<ShrunkNetwork> shrinkNetwork(const ModelSpec& model, const Shape& input,
                                    const std::vector<char>& stateDict,
                                    const StructuredPruneOptions& options) {
    try {
        return shrink(model, input, stateDict, options);
    } catch (const c10::Error& error) {
        return Result<ShrunkNetwork>::failure(std::string("structured pruning failed: ") +
                                              error.what_without_backtrace());
    } catch (const std::exception& error) {
        return Result<ShrunkNetwork>::failure(std::string("structured pruning failed: ") + error.what());
    }
}

} // namespace tunelab::detail
