#include "experiment/graph_edits.h"

#include "experiment/layer_catalog.h"

#include <QCoreApplication>

#include <algorithm>
#include <set>

namespace tunelab {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("GraphEdits", text);
}

std::optional<ModelSpec> refuse(QString* why, const QString& reason) {
    if (why)
        *why = reason;
    return std::nullopt;
}

bool validLayer(const ModelSpec& model, int layer) {
    return layer >= 0 && layer < static_cast<int>(model.layers.size());
}

std::set<std::string> takenNames(const ModelSpec& model) {
    std::set<std::string> names{"input"};
    for (const LayerSpec& layer : model.layers) {
        if (!layer.name.empty())
            names.insert(layer.name);
        if (!layer.instance.empty())
            names.insert(layer.instance);
    }
    return names;
}

// The names of what the layer reads now, naming the layers that have none.
std::vector<std::string> explicitInputs(ModelSpec& model, const NetworkGraph& graph, int layer) {
    std::vector<std::string> names;
    for (const int input : graph.inputs[layer])
        names.push_back(GraphEdits::ensureName(model, input));
    return names;
}

// Whether `target` can be reached from `start` along what reads what.
bool reaches(const NetworkGraph& graph, int start, int target) {
    const int count = static_cast<int>(graph.inputs.size());
    std::vector<std::vector<int>> readers(count);
    for (int layer = 0; layer < count; ++layer)
        for (const int input : graph.inputs[layer])
            if (input >= 0 && input < count)
                readers[input].push_back(layer);
    std::vector<bool> seen(count, false);
    std::vector<int> todo{start};
    while (!todo.empty()) {
        const int layer = todo.back();
        todo.pop_back();
        if (layer == target)
            return true;
        if (layer < 0 || layer >= count || seen[layer])
            continue;
        seen[layer] = true;
        todo.insert(todo.end(), readers[layer].begin(), readers[layer].end());
    }
    return false;
}

LayerSpec named(LayerSpec layer, const std::string& name, std::vector<std::string> inputs = {}) {
    layer.name = name;
    layer.inputs = std::move(inputs);
    return layer;
}

// A convolution on images, a linear layer on features.
LayerSpec weights(bool image, int64_t width, int64_t kernel) {
    LayerSpec layer = LayerCatalog::defaultLayer(image ? LayerType::Conv2d : LayerType::Linear);
    if (image) {
        layer.outChannels = width;
        layer.kernelSize = kernel;
        layer.padding = kernel / 2;
        layer.bias = false; // batch norm follows
    } else {
        layer.outFeatures = width;
    }
    return layer;
}

} // namespace

std::string GraphEdits::ensureName(ModelSpec& model, int layer) {
    if (!validLayer(model, layer))
        return "input";
    LayerSpec& spec = model.layers[layer];
    if (!spec.name.empty())
        return spec.name;
    const std::set<std::string> taken = takenNames(model);
    const std::string base = LayerCatalog::typeName(spec.type).toStdString() + "_";
    for (int number = 1;; ++number) {
        const std::string name = base + std::to_string(number);
        if (taken.count(name) == 0) {
            spec.name = name;
            return name;
        }
    }
}

std::optional<ModelSpec> GraphEdits::connect(const ModelSpec& model, int from, int to, QString* why) {
    if (!validLayer(model, to) || (from != NetworkGraph::kNetworkInput && !validLayer(model, from)))
        return refuse(why, tr("There is no such layer."));
    if (from == to)
        return refuse(why, tr("A layer cannot read itself."));
    const NetworkGraph graph = buildNetworkGraph(model);
    const std::vector<int>& current = graph.inputs[to];
    if (std::find(current.begin(), current.end(), from) != current.end())
        return refuse(why, tr("The layer reads that already."));
    if (from != NetworkGraph::kNetworkInput && reaches(graph, to, from))
        return refuse(why, tr("That would make a cycle: the layer is computed from the one it would read."));
    ModelSpec edited = model;
    std::vector<std::string> inputs;
    if (isMergeLayer(edited.layers[to].type))
        inputs = explicitInputs(edited, graph, to);
    inputs.push_back(ensureName(edited, from));
    edited.layers[to].inputs = inputs;
    return edited;
}

std::optional<ModelSpec> GraphEdits::disconnect(const ModelSpec& model, int from, int to, QString* why) {
    if (!validLayer(model, to))
        return refuse(why, tr("There is no such layer."));
    const NetworkGraph graph = buildNetworkGraph(model);
    const std::vector<int>& current = graph.inputs[to];
    const auto it = std::find(current.begin(), current.end(), from);
    if (it == current.end())
        return refuse(why, tr("The layer does not read that."));
    if (current.size() < 2)
        return refuse(
            why, tr("That is the layer's only input: connect another one instead, or remove the layer."));
    ModelSpec edited = model;
    std::vector<std::string> inputs = explicitInputs(edited, graph, to);
    inputs.erase(inputs.begin() + (it - current.begin()));
    edited.layers[to].inputs = inputs;
    return edited;
}

std::optional<ModelSpec> GraphEdits::removeLayer(const ModelSpec& model, int layer, QString* why) {
    if (!validLayer(model, layer))
        return refuse(why, tr("There is no such layer."));
    const NetworkGraph graph = buildNetworkGraph(model);
    ModelSpec edited = model;
    const int replacement =
        graph.inputs[layer].empty() ? NetworkGraph::kNetworkInput : graph.inputs[layer].front();
    const int count = static_cast<int>(model.layers.size());
    for (int reader = 0; reader < count; ++reader) {
        const std::vector<int>& inputs = graph.inputs[reader];
        if (reader == layer || std::find(inputs.begin(), inputs.end(), layer) == inputs.end())
            continue;
        // The next layer written keeps reading the one before it when that is what it should read.
        if (model.layers[reader].inputs.empty() && reader == layer + 1 && replacement == layer - 1)
            continue;
        std::vector<std::string> names;
        for (const int input : inputs)
            names.push_back(ensureName(edited, input == layer ? replacement : input));
        edited.layers[reader].inputs = names;
    }
    edited.layers.erase(edited.layers.begin() + layer);
    return edited;
}

QStringList GraphEdits::blockNames() {
    return {QStringLiteral("Residual block"), QStringLiteral("Bottleneck")};
}

std::optional<ModelSpec> GraphEdits::insertBlock(const ModelSpec& model, const QString& block, int after,
                                                 const Shape& shape, QString* why) {
    const bool residual = block == QLatin1String("Residual block");
    if (!residual && block != QLatin1String("Bottleneck"))
        return refuse(why, tr("There is no block called %1.").arg(block));
    ModelSpec edited = model;
    const int at = validLayer(model, after) ? after : -1;
    const std::string source = ensureName(edited, at);
    const bool image = shape.size() == 3;
    const int64_t width = shape.empty() ? 16 : shape.front();

    // resN_… with the first N whose names are all free.
    const std::set<std::string> taken = takenNames(edited);
    const std::string stem = residual ? "res" : "bottleneck";
    std::string prefix;
    for (int number = 1; prefix.empty(); ++number) {
        const std::string candidate = stem + std::to_string(number) + "_";
        const bool used = std::any_of(taken.begin(), taken.end(),
                                      [&](const std::string& name) { return name.rfind(candidate, 0) == 0; });
        if (!used)
            prefix = candidate;
    }
    const auto layer = [](LayerType type) { return LayerCatalog::defaultLayer(type); };
    std::vector<LayerSpec> layers;
    if (residual) {
        layers = {named(weights(image, width, 3), prefix + "conv1"),
                  named(layer(LayerType::BatchNorm), prefix + "bn1"),
                  named(layer(LayerType::ReLU), prefix + "relu1"),
                  named(weights(image, width, 3), prefix + "conv2"),
                  named(layer(LayerType::BatchNorm), prefix + "bn2"),
                  named(layer(LayerType::Add), prefix + "add", {prefix + "bn2", source}),
                  named(layer(LayerType::ReLU), prefix + "out")};
    } else {
        const int64_t reduced = std::max<int64_t>(1, width / 4);
        layers = {named(weights(image, reduced, 1), prefix + "reduce"),
                  named(layer(LayerType::BatchNorm), prefix + "bn1"),
                  named(layer(LayerType::ReLU), prefix + "relu1"),
                  named(weights(image, reduced, 3), prefix + "conv"),
                  named(layer(LayerType::BatchNorm), prefix + "bn2"),
                  named(layer(LayerType::ReLU), prefix + "relu2"),
                  named(weights(image, width, 1), prefix + "expand"),
                  named(layer(LayerType::BatchNorm), prefix + "bn3"),
                  named(layer(LayerType::Add), prefix + "add", {prefix + "bn3", source}),
                  named(layer(LayerType::ReLU), prefix + "out")};
    }
    // The layer written next reads the block's output instead, whether it named `after` or not.
    const size_t next = static_cast<size_t>(at + 1);
    if (next < edited.layers.size() && edited.layers[next].inputs == std::vector<std::string>{source})
        edited.layers[next].inputs = {prefix + "out"};
    edited.layers.insert(edited.layers.begin() + (at + 1), layers.begin(), layers.end());
    return edited;
}

} // namespace tunelab
