#include "spec/model_reader.h"

#include "spec/object_reader.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace tunelab {

namespace {

constexpr const char* kNetworkInput = "input";
// More layers than any network a person assembles; the cap keeps a malformed file from
// expanding into millions of layers.
constexpr size_t kMaxLayers = 10000;

void readLayerType(ObjectReader& reader, LayerSpec& layer, const SpecNumberRules& rules) {
    switch (layer.type) {
    case LayerType::Linear:
        reader.integer("out_features", layer.outFeatures, rules.outFeatures, true);
        reader.boolean("bias", layer.bias);
        break;
    case LayerType::Conv2d:
        reader.integer("out_channels", layer.outChannels, rules.outChannels, true);
        reader.integer("kernel_size", layer.kernelSize, rules.kernelSize);
        reader.integer("stride", layer.stride, rules.stride);
        reader.integer("padding", layer.padding, rules.padding);
        reader.boolean("bias", layer.bias);
        break;
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        layer.kernelSize = 2;
        reader.integer("kernel_size", layer.kernelSize, rules.kernelSize);
        reader.integer("stride", layer.stride, rules.stride);
        reader.integer("padding", layer.padding, rules.padding);
        if (layer.padding * 2 > layer.kernelSize)
            reader.error("padding",
                         "must be at most half of kernel_size (" + std::to_string(layer.kernelSize) + ")");
        break;
    case LayerType::BatchNorm:
        reader.number("eps", layer.eps, rules.eps);
        reader.number("momentum", layer.momentum, rules.batchNormMomentum);
        break;
    case LayerType::LayerNorm:
        reader.number("eps", layer.eps, rules.eps);
        break;
    case LayerType::Dropout:
        reader.number("p", layer.p, rules.dropout);
        break;
    case LayerType::LeakyReLU:
        reader.number("negative_slope", layer.negativeSlope, rules.negativeSlope);
        break;
    case LayerType::ELU:
        reader.number("alpha", layer.alpha, rules.eluAlpha);
        break;
    default:
        break;
    }
    if (hasWeights(layer.type))
        reader.number("lr_multiplier", layer.lrMultiplier, rules.lrMultiplier);
}

void readName(ObjectReader& reader, std::string& name) {
    const Json* value = reader.find("name");
    if (!value)
        return;
    if (!value->is_string() || !isLayerName(value->get<std::string>()))
        reader.error("name", "expected a layer name (letters, digits, _ - . /; not \"input\"), got " +
                                 describeValue(*value));
    else
        name = value->get<std::string>();
}

void readInputs(ObjectReader& reader, std::vector<std::string>& inputs) {
    const Json* value = reader.find("inputs");
    if (!value)
        return;
    const std::string what = "a list of layer names like [\"conv1\", \"input\"]";
    if (!value->is_array() || value->empty()) {
        reader.error("inputs", "expected " + what + ", got " + describeValue(*value));
        return;
    }
    for (size_t i = 0; i < value->size(); ++i) {
        const Json& item = (*value)[i];
        if (!item.is_string() ||
            (item.get<std::string>() != kNetworkInput && !isLayerName(item.get<std::string>()))) {
            reader.error("inputs[" + std::to_string(i) + "]",
                         "expected a layer name, got " + describeValue(item));
            return;
        }
        inputs.push_back(item.get<std::string>());
    }
}

// A block's layer list; names inside must be the block's own.
void readBlock(const Json& json, const std::string& path, BlockSpec& block,
               std::vector<std::string>& errors) {
    if (!expectObject(json, path, errors))
        return;
    ObjectReader reader(json, path, errors);
    if (const Json* layers = reader.require("layers", "a list of layers")) {
        if (!layers->is_array() || layers->empty()) {
            reader.error("layers", "expected a non-empty list of layers, got " + describeValue(*layers));
        } else {
            block.layers.resize(layers->size());
            std::set<std::string> names;
            for (size_t i = 0; i < layers->size(); ++i) {
                const std::string layerPath = path + ".layers[" + std::to_string(i) + "]";
                const Json& item = (*layers)[i];
                if (item.is_object() && item.value("type", Json()) == "block") {
                    errors.push_back(layerPath + ": a block cannot contain a block; write its layers here");
                    continue;
                }
                LayerSpec& layer = block.layers[i];
                readLayer(item, layerPath, layer, errors);
                for (size_t k = 0; k < layer.inputs.size(); ++k)
                    if (layer.inputs[k] != kNetworkInput && !names.count(layer.inputs[k]))
                        errors.push_back(layerPath + ".inputs[" + std::to_string(k) + "]: '" +
                                         layer.inputs[k] + "' is not a layer before it in block '" +
                                         block.name + "'; \"input\" is the block's input");
                if (!layer.name.empty() && !names.insert(layer.name).second)
                    errors.push_back(layerPath + ".name: '" + layer.name + "' names two layers of block '" +
                                     block.name + "'");
            }
        }
    }
    reader.finish("a block");
}

} // namespace

bool isLayerName(const std::string& name) {
    if (name.empty() || name.size() > 200 || name == kNetworkInput)
        return false;
    for (const char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' && c != '/')
            return false;
    return true;
}

void readLayer(const Json& json, const std::string& path, LayerSpec& layer, std::vector<std::string>& errors,
               std::vector<std::string>* asked) {
    if (!json.is_object()) {
        errors.push_back(path +
                         ": expected a layer object like {\"type\": \"linear\", \"out_features\": 64}, got " +
                         describeValue(json));
        return;
    }
    ObjectReader reader(json, path, errors);
    if (!reader.choice("type", layerTypeNames(), layer.type, true, "layer type"))
        return;
    readLayerType(reader, layer, specNumberRules());
    readName(reader, layer.name);
    readInputs(reader, layer.inputs);
    if (!isMergeLayer(layer.type) && layer.inputs.size() > 1)
        reader.error("inputs", std::string("a ") + toString(layer.type) + " layer reads one input but " +
                                   std::to_string(layer.inputs.size()) +
                                   " are named; merge them first with add, concat or multiply");
    reader.finish(std::string("a ") + toString(layer.type) + " layer");
    if (asked)
        *asked = reader.knownKeys();
}

std::vector<LayerSpec> expandBlock(const BlockSpec& block, const std::string& instance,
                                   const std::vector<std::string>& inputs) {
    const std::string prefix = instance + "/";
    std::vector<LayerSpec> layers;
    LayerSpec entry;
    entry.type = LayerType::Identity;
    entry.name = prefix + kNetworkInput;
    entry.inputs = inputs;
    layers.push_back(entry);
    for (size_t i = 0; i < block.layers.size(); ++i) {
        LayerSpec layer = block.layers[i];
        layer.name = prefix + (layer.name.empty() ? std::to_string(i) : layer.name);
        for (std::string& input : layer.inputs)
            input = prefix + input;
        layers.push_back(std::move(layer));
    }
    for (LayerSpec& layer : layers) {
        layer.instance = instance;
        layer.block = block.name;
    }
    return layers;
}

void readModel(const Json& json, ModelSpec& model, std::vector<std::string>& errors) {
    if (!expectObject(json, "model", errors))
        return;
    ObjectReader reader(json, "model", errors);
    if (const Json* blocks = reader.find("blocks")) {
        if (!blocks->is_object()) {
            reader.error("blocks",
                         "expected an object of blocks like {\"residual\": {\"layers\": [...]}}, got " +
                             describeValue(*blocks));
        } else {
            for (const auto& [name, value] : blocks->items()) {
                BlockSpec block;
                block.name = name;
                // An identifier, so that a search space's path can reach into it
                // (model.blocks.residual.layers[0].out_channels).
                const bool identifier = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                                        std::all_of(name.begin(), name.end(), [](char c) {
                                            return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                                        });
                if (!identifier)
                    errors.push_back(
                        "model.blocks: '" + name +
                        "' cannot name a block; use letters, digits and _, not starting with a digit");
                readBlock(value, "model.blocks." + name, block, errors);
                model.blocks.push_back(std::move(block));
            }
        }
    }
    if (const Json* layers = reader.require("layers", "a list of layers")) {
        if (!layers->is_array() || layers->empty()) {
            reader.error("layers", "expected a non-empty list of layers, got " + describeValue(*layers));
            reader.finish();
            return;
        }
        for (size_t i = 0; i < layers->size() && model.layers.size() <= kMaxLayers; ++i) {
            const std::string path = "model.layers[" + std::to_string(i) + "]";
            const Json& item = (*layers)[i];
            if (!item.is_object() || item.value("type", Json()) != "block") {
                LayerSpec layer;
                readLayer(item, path, layer, errors);
                model.layers.push_back(std::move(layer));
                continue;
            }
            ObjectReader instance(item, path, errors);
            std::string blockName, name;
            std::vector<std::string> inputs;
            instance.find("type");
            instance.text("block", blockName, true, "the name of a block in model.blocks");
            readName(instance, name);
            readInputs(instance, inputs);
            instance.finish("a block instance");
            if (name.empty() && instance.find("name") == nullptr)
                instance.error("name",
                               "missing; a block instance needs a name: its layers are called NAME/...");
            if (inputs.size() > 1)
                instance.error("inputs", "a block reads one input but " + std::to_string(inputs.size()) +
                                             " are named; merge them first with add, concat or multiply");
            const auto block = std::find_if(model.blocks.begin(), model.blocks.end(),
                                            [&](const BlockSpec& b) { return b.name == blockName; });
            if (block == model.blocks.end()) {
                if (!blockName.empty()) {
                    std::vector<std::string> known;
                    for (const BlockSpec& b : model.blocks)
                        known.push_back(b.name);
                    instance.error("block",
                                   "'" + blockName + "' is not a block in model.blocks" +
                                       (known.empty() ? std::string("; define it there")
                                                      : " (the blocks are " + joinNames(known) + ")"));
                }
                continue;
            }
            if (name.empty())
                continue;
            for (LayerSpec& layer : expandBlock(*block, name, inputs))
                model.layers.push_back(std::move(layer));
        }
        if (model.layers.size() > kMaxLayers)
            reader.error("layers", "the network has more than " + std::to_string(kMaxLayers) + " layers");
    }
    reader.finish();
}

} // namespace tunelab
