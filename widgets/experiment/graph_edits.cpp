#include "experiment/graph_edits.h"

#include "experiment/layer_catalog.h"

#include <QCoreApplication>

#include <algorithm>
#include <set>

namespace tunelab {

namespace {

QString graphEditText(const char* text) {
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

// The block instance a name belongs to ("res1" for "res1/conv"), which stands for the instance's last
// layer in `inputs`; empty for a name without one.
std::string instancePrefix(const std::string& name) {
    const size_t slash = name.rfind('/');
    return slash == std::string::npos || slash == 0 ? std::string() : name.substr(0, slash);
}

// Whether every name the layer writes in `inputs` is a layer the graph found.
bool resolved(const ModelSpec& model, const NetworkGraph& graph, int layer) {
    return graph.inputs[layer].size() == std::max<size_t>(1, model.layers[layer].inputs.size());
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
        return refuse(why, graphEditText("There is no such layer."));
    if (from == to)
        return refuse(why, graphEditText("A layer cannot read itself."));
    const NetworkGraph graph = buildNetworkGraph(model);
    const std::vector<int>& current = graph.inputs[to];
    if (std::find(current.begin(), current.end(), from) != current.end())
        return refuse(why, graphEditText("The layer reads that already."));
    if (from != NetworkGraph::kNetworkInput && reaches(graph, to, from))
        return refuse(
            why, graphEditText("That would make a cycle: the layer is computed from the one it would read."));
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
        return refuse(why, graphEditText("There is no such layer."));
    const NetworkGraph graph = buildNetworkGraph(model);
    const std::vector<int>& current = graph.inputs[to];
    const auto it = std::find(current.begin(), current.end(), from);
    if (it == current.end())
        return refuse(why, graphEditText("The layer does not read that."));
    if (current.size() < 2)
        return refuse(
            why, graphEditText(
                     "That is the layer's only input: connect another one instead, or remove the layer."));
    ModelSpec edited = model;
    std::vector<std::string> inputs = explicitInputs(edited, graph, to);
    inputs.erase(inputs.begin() + (it - current.begin()));
    edited.layers[to].inputs = inputs;
    return edited;
}

std::optional<ModelSpec> GraphEdits::removeLayer(const ModelSpec& model, int layer, QString* why) {
    if (!validLayer(model, layer))
        return refuse(why, graphEditText("There is no such layer."));
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

std::optional<ModelSpec> GraphEdits::renameLayer(const ModelSpec& model, int layer, const std::string& name,
                                                 QString* why) {
    if (!validLayer(model, layer))
        return refuse(why, graphEditText("There is no such layer."));
    const std::string old = model.layers[layer].name;
    if (name == old)
        return refuse(why, QString());
    const QString quoted = QString::fromStdString(name);
    if (name.empty())
        return refuse(why, graphEditText("A name cannot be empty: type one (letters, digits and _ - . /)."));
    if (name == "input")
        return refuse(why, graphEditText("'input' is the network's input; choose another name."));
    if (!isLayerName(name))
        return refuse(
            why,
            graphEditText("'%1' is not a layer name: use letters, digits and _ - . / only.").arg(quoted));
    const int count = static_cast<int>(model.layers.size());
    for (int other = 0; other < count; ++other) {
        const LayerSpec& spec = model.layers[other];
        if (other != layer && spec.name == name)
            return refuse(
                why,
                graphEditText("'%1' is already the name of layer %2 (%3); names are unique in the network.")
                    .arg(quoted)
                    .arg(other)
                    .arg(LayerCatalog::typeName(spec.type)));
        if (spec.instance == name || instancePrefix(spec.name) == name)
            return refuse(
                why, graphEditText("'%1' is the name of a block instance; choose another name.").arg(quoted));
    }

    // Readers that named the layer name it anew; one that named the block instance it ends keeps
    // doing so while the new name stays in that instance.
    const NetworkGraph before = buildNetworkGraph(model);
    ModelSpec edited = model;
    edited.layers[layer].name = name;
    for (int reader = 0; reader < count; ++reader) {
        std::vector<std::string>& inputs = edited.layers[reader].inputs;
        const bool aligned = resolved(model, before, reader);
        for (size_t k = 0; k < inputs.size(); ++k) {
            if (!old.empty() && inputs[k] == old)
                inputs[k] = name;
            else if (aligned && before.inputs[reader][k] == layer && inputs[k] != instancePrefix(name))
                inputs[k] = name;
        }
    }
    // A name can capture what another layer reads (a "res2/x" after res2 takes "res2" over).
    const NetworkGraph after = buildNetworkGraph(edited);
    for (int reader = 0; reader < count; ++reader) {
        if (resolved(model, before, reader) && after.inputs[reader] != before.inputs[reader])
            return refuse(why, graphEditText("The name '%1' would change what %2 reads; choose another name.")
                                   .arg(quoted, QString::fromStdString(layerLabel(model, reader))));
    }
    return edited;
}

std::optional<ModelSpec> GraphEdits::setInputs(const ModelSpec& model, int layer,
                                               const std::vector<std::string>& inputs, QString* why) {
    if (!validLayer(model, layer))
        return refuse(why, graphEditText("There is no such layer."));
    if (model.layers[layer].inputs == inputs)
        return refuse(why, QString());
    ModelSpec edited = model;
    edited.layers[layer].inputs = inputs;
    const NetworkGraph before = buildNetworkGraph(model);
    const NetworkGraph graph = buildNetworkGraph(edited);
    // The engine's own words for a name that is no layer, the layer itself, or several inputs of a
    // layer that takes one.
    const std::string label = layerLabel(edited, layer);
    const bool allFound = resolved(edited, graph, layer);
    for (const std::string& error : graph.errors) {
        const bool isNew =
            std::find(before.errors.begin(), before.errors.end(), error) == before.errors.end();
        if (error.rfind(label, 0) == 0 && (isNew || !allFound))
            return refuse(why, QString::fromStdString(error));
    }
    for (const int input : graph.inputs[layer])
        if (input >= 0 && reaches(graph, layer, input))
            return refuse(why, graphEditText("That would make a cycle: %1 is computed from this layer.")
                                   .arg(QString::fromStdString(inputLabel(edited, input))));
    return edited;
}

std::optional<ModelSpec> GraphEdits::insertAfter(const ModelSpec& model, const LayerSpec& layer, int after,
                                                 QString* why, int* index) {
    if (after != NetworkGraph::kNetworkInput && !validLayer(model, after))
        return refuse(why, graphEditText("There is no such layer."));
    const NetworkGraph graph = buildNetworkGraph(model);
    const int count = static_cast<int>(model.layers.size());
    std::vector<int> readers;
    for (int reader = 0; reader < count; ++reader)
        if (std::find(graph.inputs[reader].begin(), graph.inputs[reader].end(), after) !=
            graph.inputs[reader].end())
            readers.push_back(reader);
    if (readers.size() == 1)
        return insertOnEdge(model, layer, after, readers.front(), why, index);
    ModelSpec edited = model;
    LayerSpec added = layer;
    added.inputs.clear(); // written right after `after`: it reads it
    const int at = after + 1;
    if (at < count && edited.layers[at].inputs.empty()) // the next layer keeps reading `after`
        edited.layers[at].inputs = {ensureName(edited, after)};
    edited.layers.insert(edited.layers.begin() + at, added);
    if (index)
        *index = at;
    return edited;
}

std::optional<ModelSpec> GraphEdits::insertOnEdge(const ModelSpec& model, const LayerSpec& layer, int from,
                                                  int to, QString* why, int* index) {
    if (!validLayer(model, to) || (from != NetworkGraph::kNetworkInput && !validLayer(model, from)))
        return refuse(why, graphEditText("There is no such layer."));
    const NetworkGraph graph = buildNetworkGraph(model);
    const std::vector<int>& current = graph.inputs[to];
    const auto port = std::find(current.begin(), current.end(), from);
    if (port == current.end())
        return refuse(why, graphEditText("The layer does not read that."));
    const bool written = !model.layers[to].inputs.empty();
    if (!resolved(model, graph, to))
        return refuse(why,
                      graphEditText("The layer names an input that is no layer; correct its inputs first."));
    ModelSpec edited = model;
    LayerSpec added = layer;
    added.inputs.clear();
    if (from != to - 1) // written just before `to`, it reads the layer before it unless told otherwise
        added.inputs = {ensureName(edited, from)};
    const bool inside = from >= 0 && !model.layers[from].instance.empty() &&
                        model.layers[from].instance == model.layers[to].instance;
    added.instance = inside ? model.layers[to].instance : std::string();
    added.block = inside ? model.layers[to].block : std::string();
    edited.layers.insert(edited.layers.begin() + to, added);
    if (written) // `to`, now at to + 1, reads the new layer in `from`'s place
        edited.layers[to + 1].inputs[port - current.begin()] = ensureName(edited, to);
    if (index)
        *index = to;
    return edited;
}

QStringList GraphEdits::blockNames() {
    return {QStringLiteral("Residual block"), QStringLiteral("Bottleneck")};
}

std::optional<ModelSpec> GraphEdits::insertBlock(const ModelSpec& model, const QString& block, int after,
                                                 const Shape& shape, QString* why) {
    const bool residual = block == QLatin1String("Residual block");
    if (!residual && block != QLatin1String("Bottleneck"))
        return refuse(why, graphEditText("There is no block called %1.").arg(block));
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
