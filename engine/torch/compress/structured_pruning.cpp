#include "compress/structured_pruning.h"

#include "common/zip_archive_check.h"
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
    if (const std::string damage = zipArchiveDamage(bytes.data(), bytes.size()); !damage.empty())
        return Read::failure("the state dict is damaged: " + damage);
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

// Structured pruning on a graph. Every linear or conv2d layer starts a channel group: the neurons or
// channels of its output. Layers that combine tensors entry by entry (add, multiply) tie their inputs'
// groups together, so that they lose the same entries: the members of a group are ranked together (the
// sum of their norms) and keep the same neurons. A group is kept whole when the network's input or
// output holds it, or when a merge combines it with a differently laid out tensor.
//
// A tensor's dim 0 is laid out as segments, each the `width` neurons of one group, every neuron a block
// of `block` consecutive entries (block > 1 once a flatten has laid a channel's height x width
// positions out one after another). Concat puts its inputs' segments one after another.
struct Segment {
    int group = 0;
    int64_t block = 1;
};
using Layout = std::vector<Segment>;

class ChannelGroups {
public:
    int add(int64_t width) {
        m_parent.push_back(static_cast<int>(m_parent.size()));
        m_width.push_back(width);
        m_whole.push_back(false);
        m_members.emplace_back();
        return m_parent.back();
    }
    int find(int group) const {
        while (m_parent[static_cast<size_t>(group)] != group)
            group = m_parent[static_cast<size_t>(group)];
        return group;
    }
    int64_t width(int group) const { return m_width[static_cast<size_t>(find(group))]; }
    bool whole(int group) const { return m_whole[static_cast<size_t>(find(group))]; }
    void keepWhole(int group) { m_whole[static_cast<size_t>(find(group))] = true; }
    void addMember(int group, size_t layer) { m_members[static_cast<size_t>(find(group))].push_back(layer); }
    const std::vector<size_t>& members(int group) const {
        return m_members[static_cast<size_t>(find(group))];
    }
    // Ties two groups of one width together; they are then ranked and cut as one.
    void unite(int a, int b) {
        a = find(a);
        b = find(b);
        if (a == b)
            return;
        if (b < a)
            std::swap(a, b);
        const auto to = static_cast<size_t>(a);
        const auto from = static_cast<size_t>(b);
        m_parent[from] = a;
        m_whole[to] = m_whole[to] || m_whole[from];
        m_members[to].insert(m_members[to].end(), m_members[from].begin(), m_members[from].end());
        std::sort(m_members[to].begin(), m_members[to].end());
        m_members[from].clear();
    }
    size_t size() const { return m_parent.size(); }

private:
    std::vector<int> m_parent;
    std::vector<int64_t> m_width;
    std::vector<bool> m_whole;
    std::vector<std::vector<size_t>> m_members; // the linear and conv2d layers making the group
};

bool sameLayout(const ChannelGroups& groups, const Layout& a, const Layout& b) {
    if (a.size() != b.size())
        return false;
    for (size_t k = 0; k < a.size(); ++k)
        if (a[k].block != b[k].block || groups.width(a[k].group) != groups.width(b[k].group))
            return false;
    return true;
}

int64_t layoutEntries(const ChannelGroups& groups, const Layout& layout) {
    int64_t entries = 0;
    for (const Segment& segment : layout)
        entries += groups.width(segment.group) * segment.block;
    return entries;
}

class Shrinker {
public:
    Shrinker(const ModelSpec& model, const ShapeReport& shapes, StateTensors& state,
             const StructuredPruneOptions& options)
        : m_model(model)
        , m_shapes(shapes)
        , m_state(state)
        , m_options(options) {}

    // "" when every layer was carried, else why not.
    std::string run(ModelSpec& shrunk, std::vector<ShrunkLayer>& layers) {
        if (std::string problem = layOut(); !problem.empty())
            return problem;
        if (std::string problem = rank(); !problem.empty())
            return problem;
        for (size_t i = 0; i < m_model.layers.size(); ++i)
            if (std::string problem = narrow(i, shrunk, layers); !problem.empty())
                return problem;
        return {};
    }

    // Whether some linear or conv2d layer may lose neurons: its output is not the network's output
    // (nor reaches it through layers without weights), and no merge ties it to the network's input or
    // to a tensor laid out differently.
    bool anyHidden() const { return m_anyHidden; }

private:
    std::string key(size_t layer, const char* name) const { return std::to_string(layer) + "." + name; }

    const Layout& layoutOf(int input) const {
        return input == NetworkGraph::kNetworkInput ? m_inputLayout : m_layouts[static_cast<size_t>(input)];
    }

    // Pass 1: the layout of every layer's output, and which groups merges tie together.
    std::string layOut() {
        const NetworkGraph& graph = m_shapes.graph;
        const Shape& input = m_shapes.input;
        m_inputLayout = {Segment{m_groups.add(input.empty() ? 1 : input[0]), 1}};
        m_groups.keepWhole(m_inputLayout[0].group);
        m_layouts.assign(m_model.layers.size(), {});
        m_producerGroup.assign(m_model.layers.size(), -1);
        std::vector<size_t> unknown;
        for (const int index : graph.order) {
            const auto i = static_cast<size_t>(index);
            const std::vector<int>& reads = graph.inputs[i];
            const Layout& first = layoutOf(reads.empty() ? NetworkGraph::kNetworkInput : reads[0]);
            Layout& out = m_layouts[i];
            switch (m_model.layers[i].type) {
            case LayerType::Linear:
            case LayerType::Conv2d: {
                const Shape& shape = m_shapes.layers[i].output;
                const int group = m_groups.add(shape.empty() ? 0 : shape[0]);
                m_groups.addMember(group, i);
                m_producerGroup[i] = group;
                out = {Segment{group, 1}};
                break;
            }
            case LayerType::Flatten: {
                out = first;
                const Shape& in = m_shapes.layers[i].input;
                if (in.size() > 1)
                    for (Segment& segment : out)
                        segment.block *= shapeElements(in) / in[0];
                break;
            }
            case LayerType::Concat:
                for (const int read : reads) {
                    const Layout& part = layoutOf(read);
                    out.insert(out.end(), part.begin(), part.end());
                }
                break;
            case LayerType::Add:
            case LayerType::Multiply:
                out = merged(i, reads);
                break;
            case LayerType::BatchNorm:
            case LayerType::LayerNorm:
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
            case LayerType::Identity:
                out = first; // per channel or per entry: the kept ones pass through unchanged
                break;
            default:
                unknown.push_back(i);
                out = {Segment{m_groups.add(1), 1}};
                m_groups.keepWhole(out[0].group);
                break;
            }
        }
        // What the network gives back keeps all of its entries.
        for (const Segment& segment : m_layouts[static_cast<size_t>(graph.output)]) {
            m_groups.keepWhole(segment.group);
            m_outputGroups.push_back(m_groups.find(segment.group));
        }
        for (size_t i = 0; i < m_model.layers.size(); ++i)
            m_anyHidden = m_anyHidden || (m_producerGroup[i] >= 0 && !m_groups.whole(m_producerGroup[i]));
        for (const size_t i : unknown)
            for (const int read : graph.inputs[i])
                for (const Segment& segment : layoutOf(read))
                    if (!m_groups.whole(segment.group))
                        return "model.layers[" + std::to_string(i) +
                               "]: structured pruning cannot carry the neurons removed from model.layers[" +
                               std::to_string(m_groups.members(segment.group).front()) +
                               "] through a layer of type " +
                               std::to_string(static_cast<int>(m_model.layers[i].type));
        return {};
    }

    // Add and multiply: inputs of one layout lose the same entries. An input that only broadcasts (its
    // dim 0 is 1 where the others' is not) ties nothing; one laid out differently is kept whole, and so
    // is everything it meets.
    Layout merged(size_t layer, const std::vector<int>& reads) {
        const Shape& shape = m_shapes.layers[layer].output;
        const int64_t entries = shape.empty() ? 0 : shape[0];
        std::vector<const Layout*> full;
        for (const int read : reads)
            if (layoutEntries(m_groups, layoutOf(read)) == entries)
                full.push_back(&layoutOf(read));
        if (full.empty())
            return layoutOf(reads[0]);
        bool aligned = true;
        for (const Layout* other : full)
            aligned = aligned && sameLayout(m_groups, *full[0], *other);
        for (const Layout* other : full)
            for (size_t k = 0; k < other->size(); ++k) {
                if (aligned)
                    m_groups.unite((*full[0])[k].group, (*other)[k].group);
                else
                    m_groups.keepWhole((*other)[k].group);
            }
        return *full[0];
    }

    // Pass 2: the neurons each group keeps, ranked on the weights as trained, before any input goes, or
    // on their Taylor scores.
    std::string rank() {
        m_kept.assign(m_groups.size(), {});
        for (size_t g = 0; g < m_groups.size(); ++g) {
            const int group = static_cast<int>(g);
            if (m_groups.find(group) != group || m_groups.whole(group) || m_groups.members(group).empty())
                continue;
            auto ranked =
                m_options.importance == NeuronImportance::Taylor ? taylorScores(group) : groupNorms(group);
            if (!ranked.ok())
                return ranked.error();
            const torch::Tensor norms = ranked.take();
            const int64_t width = m_groups.width(group);
            m_kept[g] = strongestNeurons(norms.contiguous(), keptCount(width, m_options.fraction));
            if (static_cast<int64_t>(m_kept[g].size()) == width)
                m_kept[g].clear(); // nothing removed: the group stays whole
        }
        return {};
    }

    // Its members' norms added (L2: the root of the summed squares), so a group of one is ranked on
    // its own weights.
    Result<torch::Tensor> groupNorms(int group) const {
        torch::Tensor norms;
        for (const size_t member : m_groups.members(group)) {
            const auto weight = m_state.find(key(member, "weight"));
            if (weight == m_state.end() || weight->second.dim() < 2)
                return Result<torch::Tensor>::failure(layerPlace(member, m_model.layers[member].type) +
                                                      ": the state dict has no usable '" +
                                                      key(member, "weight") + "'");
            torch::Tensor own = neuronNorms(weight->second, m_options.importance);
            if (!torch::isfinite(own).all().item<bool>())
                return Result<torch::Tensor>::failure(
                    layerPlace(member, m_model.layers[member].type) +
                    ": its weights are not all finite, so they cannot be ranked");
            if (m_options.importance == NeuronImportance::L2)
                own = own.pow(2);
            norms = norms.defined() ? norms + own : own;
        }
        return m_options.importance == NeuronImportance::L2 ? norms.sqrt() : norms;
    }

    // A group's Taylor importance: per batch, its members' contributions added (removing a channel
    // removes it from every member at once), squared, then summed over the batches.
    Result<torch::Tensor> taylorScores(int group) const {
        const TaylorContributions& taylor = m_options.taylor;
        const int64_t width = m_groups.width(group);
        torch::Tensor perBatch = torch::zeros({std::max<int64_t>(taylor.batches, 0), width}, torch::kDouble);
        for (const size_t member : m_groups.members(group)) {
            const auto found = taylor.layers.find(static_cast<int>(member));
            if (taylor.batches <= 0 || found == taylor.layers.end() ||
                static_cast<int64_t>(found->second.size()) != taylor.batches * width)
                return Result<torch::Tensor>::failure(layerPlace(member, m_model.layers[member].type) +
                                                      ": there are no Taylor scores for its " +
                                                      std::to_string(width) + " outputs");
            perBatch += torch::from_blob(const_cast<double*>(found->second.data()), {taylor.batches, width},
                                         torch::kDouble);
        }
        const torch::Tensor scores = perBatch.square().sum(0);
        if (!torch::isfinite(scores).all().item<bool>())
            return Result<torch::Tensor>::failure(
                layerPlace(m_groups.members(group).front(),
                           m_model.layers[m_groups.members(group).front()].type) +
                ": its Taylor scores are not all finite");
        return scores.contiguous();
    }

    const std::vector<int64_t>* keptOf(int group) const {
        const std::vector<int64_t>& kept = m_kept[static_cast<size_t>(m_groups.find(group))];
        return kept.empty() ? nullptr : &kept;
    }

    // The entries of a tensor laid out as `layout` that stay; empty when all of them do.
    torch::Tensor keptEntries(const Layout& layout) const {
        if (std::none_of(layout.begin(), layout.end(), [this](const Segment& s) { return keptOf(s.group); }))
            return {};
        std::vector<int64_t> indices;
        int64_t offset = 0;
        for (const Segment& segment : layout) {
            const int64_t width = m_groups.width(segment.group);
            const std::vector<int64_t>* kept = keptOf(segment.group);
            for (int64_t k = 0; k < (kept ? static_cast<int64_t>(kept->size()) : width); ++k) {
                const int64_t neuron = kept ? (*kept)[static_cast<size_t>(k)] : k;
                for (int64_t entry = 0; entry < segment.block; ++entry)
                    indices.push_back(offset + neuron * segment.block + entry);
            }
            offset += width * segment.block;
        }
        return torch::tensor(indices, torch::kLong);
    }

    // Keeps the entries of `dim` of one state tensor of `layer` that its input's layout keeps.
    std::string keepEntries(size_t layer, const char* name, int64_t dim, bool required) {
        const std::vector<int>& reads = m_shapes.graph.inputs[layer];
        const Layout& in = layoutOf(reads.empty() ? NetworkGraph::kNetworkInput : reads[0]);
        const torch::Tensor entries = keptEntries(in);
        if (!entries.defined())
            return {};
        const auto found = m_state.find(key(layer, name));
        if (found == m_state.end())
            return required ? layerPlace(layer, m_model.layers[layer].type) + ": the state dict has no '" +
                                  key(layer, name) + "'"
                            : std::string();
        torch::Tensor& tensor = found->second;
        const int64_t expected = layoutEntries(m_groups, in);
        if (tensor.dim() <= dim || tensor.size(dim) != expected)
            return layerPlace(layer, m_model.layers[layer].type) + ": its '" + key(layer, name) + "' is " +
                   shapeText(tensor) + ", which does not follow the " + std::to_string(expected) +
                   " entries of its input";
        tensor = tensor.index_select(dim, entries);
        return {};
    }

    // Pass 3: each layer loses the inputs its input's layout lost, a linear or conv2d layer also the
    // neurons or channels its group does not keep.
    std::string narrow(size_t layer, ModelSpec& shrunk, std::vector<ShrunkLayer>& layers) {
        switch (m_model.layers[layer].type) {
        case LayerType::BatchNorm:
            for (const char* name : {"weight", "bias", "running_mean", "running_var"})
                if (std::string problem = keepEntries(layer, name, 0, true); !problem.empty())
                    return problem;
            return {};
        case LayerType::LayerNorm:
            // Normalizes over the whole sample (network.cpp), the pruned dimension included: its
            // affine weight and bias have the sample's shape and lose the same entries.
            for (const char* name : {"weight", "bias"})
                if (std::string problem = keepEntries(layer, name, 0, false); !problem.empty())
                    return problem;
            return {};
        case LayerType::Linear:
        case LayerType::Conv2d:
            break;
        default:
            return {};
        }
        if (std::string problem = keepEntries(layer, "weight", 1, true); !problem.empty())
            return problem;
        const int group = m_producerGroup[layer];
        const bool output = std::find(m_outputGroups.begin(), m_outputGroups.end(), m_groups.find(group)) !=
                            m_outputGroups.end();
        if (output)
            return {}; // the network's output, never a hidden layer
        const int64_t width = m_groups.width(group);
        std::vector<int64_t> all(static_cast<size_t>(width));
        std::iota(all.begin(), all.end(), int64_t(0));
        const std::vector<int64_t>& kept = keptOf(group) ? *keptOf(group) : all;
        const auto after = static_cast<int64_t>(kept.size());
        if (after < width) {
            const torch::Tensor rows = torch::tensor(kept, torch::kLong);
            torch::Tensor& weight = m_state.at(key(layer, "weight"));
            weight = weight.index_select(0, rows);
            if (const auto bias = m_state.find(key(layer, "bias")); bias != m_state.end())
                bias->second = bias->second.index_select(0, rows);
            LayerSpec& spec = shrunk.layers[layer];
            (spec.type == LayerType::Linear ? spec.outFeatures : spec.outChannels) = after;
        }
        layers.push_back(ShrunkLayer{static_cast<int>(layer), width, after, kept});
        return {};
    }

    const ModelSpec& m_model;
    const ShapeReport& m_shapes;
    StateTensors& m_state;
    const StructuredPruneOptions& m_options;
    ChannelGroups m_groups;
    Layout m_inputLayout;
    std::vector<Layout> m_layouts;            // per layer: its output's layout
    std::vector<int> m_producerGroup;         // per linear or conv2d layer: the group of its output
    std::vector<std::vector<int64_t>> m_kept; // per group root: the neurons kept, empty for all
    std::vector<int> m_outputGroups;          // the groups of the network's output
    bool m_anyHidden = false;
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
    torch::NoGradGuard noGrad;
    auto read = readStateDict(model, input, stateDict);
    if (!read.ok())
        return Shrunk(Errors{read.errors()});
    StateTensors state = read.take();
    ShrunkNetwork result;
    result.model = model;
    Shrinker shrinker(model, shapes, state, options);
    if (std::string problem = shrinker.run(result.model, result.layers); !problem.empty())
        return Shrunk::failure(problem);
    if (!shrinker.anyHidden())
        return Shrunk::failure(
            std::string(
                "model.layers: nothing to prune: structured pruning removes neurons of hidden linear and "
                "conv2d layers, and this network has none before its output layer") +
            (shapes.graph.chain ? "" : " whose channels are not added to the network's input"));

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
