#include "model/network_graph.h"

#include "common/did_you_mean.h"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>

namespace tunelab {

namespace {

// A name's layer: the layer of that name, else the last layer of the block instance of that name.
int resolve(const std::map<std::string, int>& names, const std::map<std::string, int>& instances,
            const std::string& name) {
    if (const auto found = names.find(name); found != names.end())
        return found->second;
    if (const auto found = instances.find(name); found != instances.end())
        return found->second;
    return -2;
}

// The layers of a cycle found by a depth-first walk over the layers Kahn's sort left behind.
std::vector<int> findCycle(const NetworkGraph& graph, const std::vector<bool>& left) {
    const int count = static_cast<int>(graph.inputs.size());
    std::vector<int> state(count, 0), parent(count, -1); // 0 unseen, 1 on the path, 2 done
    for (int start = 0; start < count; ++start) {
        if (!left[start] || state[start])
            continue;
        std::vector<std::pair<int, size_t>> stack{{start, 0}};
        state[start] = 1;
        while (!stack.empty()) {
            auto& [node, next] = stack.back();
            if (next == graph.inputs[node].size()) {
                state[node] = 2;
                stack.pop_back();
                continue;
            }
            const int input = graph.inputs[node][next++];
            if (input < 0 || !left[input])
                continue;
            if (state[input] == 1) {
                std::vector<int> cycle{input};
                for (auto it = stack.rbegin(); it != stack.rend() && it->first != input; ++it)
                    cycle.push_back(it->first);
                std::reverse(cycle.begin(), cycle.end());
                return cycle;
            }
            if (state[input] == 0) {
                state[input] = 1;
                stack.emplace_back(input, 0);
            }
        }
    }
    return {};
}

} // namespace

std::string layerLabel(const ModelSpec& model, int index) {
    const LayerSpec& layer = model.layers[index];
    if (!layer.name.empty())
        return std::string(toString(layer.type)) + " '" + layer.name + "'";
    return "layer " + std::to_string(index) + " (" + toString(layer.type) + ")";
}

std::string inputLabel(const ModelSpec& model, int index) {
    if (index < 0)
        return "the input";
    const LayerSpec& layer = model.layers[index];
    return layer.name.empty() ? "layer " + std::to_string(index) : "'" + layer.name + "'";
}

NetworkGraph buildNetworkGraph(const ModelSpec& model) {
    NetworkGraph graph;
    const int count = static_cast<int>(model.layers.size());
    graph.inputs.resize(count);
    graph.output = count - 1;
    std::map<std::string, int> names, instances;
    for (int i = 0; i < count; ++i) {
        const LayerSpec& layer = model.layers[i];
        if (layer.name.empty())
            continue;
        const auto [found, added] = names.emplace(layer.name, i);
        if (!added)
            graph.errors.push_back("model.layers[" + std::to_string(i) + "]: the name '" + layer.name +
                                   "' is already layer " + std::to_string(found->second) + "'s");
        const size_t slash = layer.name.rfind('/');
        if (slash != std::string::npos && slash > 0)
            instances[layer.name.substr(0, slash)] = i;
    }
    std::vector<std::string> known{"input"};
    for (const auto& entry : names)
        known.push_back(entry.first);
    for (int i = 0; i < count; ++i) {
        const LayerSpec& layer = model.layers[i];
        if (layer.inputs.empty()) {
            graph.inputs[i].push_back(i - 1); // the first layer reads the network's input (-1)
            continue;
        }
        if (layer.inputs.size() > 1 && !isMergeLayer(layer.type))
            graph.errors.push_back(layerLabel(model, i) + " reads one input but " +
                                   std::to_string(layer.inputs.size()) +
                                   " are named; merge them first with add, concat or multiply");
        for (size_t k = 0; k < layer.inputs.size(); ++k) {
            const std::string& name = layer.inputs[k];
            const int input = name == "input" ? NetworkGraph::kNetworkInput : resolve(names, instances, name);
            if (input == i) {
                graph.errors.push_back(layerLabel(model, i) +
                                       " reads itself; name an earlier layer in inputs");
            } else if (input < -1) {
                const std::string guess = closestMatch(name, known);
                graph.errors.push_back(layerLabel(model, i) + ": input '" + name + "' is not a layer" +
                                       (guess.empty() ? "; name a layer, or \"input\" for the network's input"
                                                      : "; did you mean '" + guess + "'?"));
            } else {
                graph.inputs[i].push_back(input);
            }
        }
    }
    for (int i = 0; i < count; ++i)
        if (graph.inputs[i] != std::vector<int>{i - 1})
            graph.chain = false;
    if (!graph.ok())
        return graph;

    // Kahn's sort, taking the lowest written index first so that a written order that is already
    // a valid one is kept.
    std::vector<int> waiting(count, 0);
    std::vector<std::vector<int>> readers(count);
    for (int i = 0; i < count; ++i)
        for (const int input : graph.inputs[i])
            if (input >= 0) {
                ++waiting[i];
                readers[input].push_back(i);
            }
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int i = 0; i < count; ++i)
        if (waiting[i] == 0)
            ready.push(i);
    while (!ready.empty()) {
        const int next = ready.top();
        ready.pop();
        graph.order.push_back(next);
        for (const int reader : readers[next])
            if (--waiting[reader] == 0)
                ready.push(reader);
    }
    if (static_cast<int>(graph.order.size()) < count) {
        std::vector<bool> left(count, true);
        for (const int done : graph.order)
            left[done] = false;
        std::string members;
        for (const int layer : findCycle(graph, left))
            members += (members.empty() ? "" : ", ") + inputLabel(model, layer);
        graph.errors.push_back(
            "the layers " + members +
            " read each other in a cycle; a layer can only read layers computed before it");
        graph.order.clear();
        return graph;
    }
    for (int i = 0; i + 1 < count; ++i)
        if (readers[i].empty())
            graph.errors.push_back(layerLabel(model, i) +
                                   " feeds nothing: no layer reads it and it is not the last layer (the "
                                   "output); name it in a later layer's inputs or remove it");
    return graph;
}

} // namespace tunelab
