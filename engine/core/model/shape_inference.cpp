#include "model/shape_inference.h"

#include "common/checked_math.h"
#include "model/network_graph.h"

#include <algorithm>
#include <string>

namespace tunelab {

namespace {

// Networks this large would not fit in memory anyway; the cap keeps the arithmetic in int64.
constexpr int64_t kMaxElements = int64_t(1) << 40;

const char* dimensionName(size_t rank, size_t dimension) {
    if (rank == 1)
        return "features";
    if (rank == 3)
        return dimension == 0 ? "channels" : dimension == 1 ? "height" : "width";
    return dimension == 0 ? "channels" : "length";
}

// Identity and the merge layers: add, multiply and concat over the shapes of their inputs.
void inferMerge(const ModelSpec& model, int index, const std::vector<int>& sources,
                const std::vector<Shape>& shapes, LayerShape& row) {
    const LayerType type = model.layers[index].type;
    const std::string name = layerLabel(model, index);
    Shape out = shapes[0];
    for (size_t k = 1; k < shapes.size(); ++k) {
        const Shape& other = shapes[k];
        const std::string pair = ": inputs " + inputLabel(model, sources[0]) + " " + formatShape(shapes[0]) +
                                 " and " + inputLabel(model, sources[k]) + " " + formatShape(other);
        if (other.size() != out.size()) {
            row.error = name + pair + " have different ranks; flatten both or neither";
            return;
        }
        for (size_t d = 0; d < out.size(); ++d) {
            if (type == LayerType::Concat && d == 0) {
                out[0] = saturatingAdd(out[0], other[0]);
                continue;
            }
            if (other[d] == out[d])
                continue;
            if (type == LayerType::Multiply && (other[d] == 1 || out[d] == 1)) {
                out[d] = std::max(out[d], other[d]);
                continue;
            }
            row.error = name + pair + " differ in " + dimensionName(out.size(), d) +
                        (type == LayerType::Concat
                             ? std::string("; concat joins along ") + dimensionName(out.size(), 0) +
                                   ", every other size must match"
                             : std::string());
            return;
        }
    }
    row.output = out;
    if (type == LayerType::Add || type == LayerType::Multiply)
        row.flops = saturatingMultiply(static_cast<int64_t>(shapes.size() - 1), shapeElements(out));
}

int64_t pooledSize(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
    const int64_t span = saturatingAdd(size, saturatingMultiply(2, padding)) - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

// Fills `row` for one layer from its input; sets row.error when the layer cannot take it.
void inferLayer(const LayerSpec& layer, const std::string& name, LayerShape& row) {
    const Shape& in = row.input;
    const int64_t elements = shapeElements(in);
    switch (layer.type) {
    case LayerType::Linear: {
        if (in.size() != 1) {
            row.error = name + " needs a flat input [features] but gets " + formatShape(in) +
                        "; add a flatten layer before it";
            return;
        }
        const int64_t features = in[0];
        row.output = {layer.outFeatures};
        row.params = saturatingAdd(saturatingMultiply(features, layer.outFeatures),
                                   layer.bias ? layer.outFeatures : 0);
        row.flops = saturatingAdd(saturatingMultiply({2, features, layer.outFeatures}),
                                  layer.bias ? layer.outFeatures : 0);
        return;
    }
    case LayerType::Conv2d:
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d: {
        if (in.size() != 3) {
            row.error =
                name + " needs an image input [channels, height, width] but gets " + formatShape(in) +
                (in.size() == 1 ? "; set data.input_shape (for example [1, 8, 8]) to treat the features "
                                  "as an image"
                                : "");
            return;
        }
        const bool conv = layer.type == LayerType::Conv2d;
        const int64_t stride = layer.stride > 0 ? layer.stride : (conv ? 1 : layer.kernelSize);
        const int64_t height = pooledSize(in[1], layer.kernelSize, stride, layer.padding);
        const int64_t width = pooledSize(in[2], layer.kernelSize, stride, layer.padding);
        if (height < 1 || width < 1) {
            row.error =
                name + ": kernel " + std::to_string(layer.kernelSize) + "x" +
                std::to_string(layer.kernelSize) + " does not fit the input " + formatShape(in) +
                (layer.padding > 0 ? " with padding " + std::to_string(layer.padding) : std::string()) +
                "; use a smaller kernel_size or more padding";
            return;
        }
        const int64_t channels = conv ? layer.outChannels : in[0];
        row.output = {channels, height, width};
        const int64_t window = saturatingMultiply(layer.kernelSize, layer.kernelSize);
        if (conv) {
            row.params =
                saturatingAdd(saturatingMultiply({channels, in[0], window}), layer.bias ? channels : 0);
            row.flops = saturatingAdd(saturatingMultiply({2, in[0], window, channels, height, width}),
                                      layer.bias ? saturatingMultiply({channels, height, width}) : 0);
        } else {
            row.flops = saturatingMultiply({window, channels, height, width});
        }
        return;
    }
    case LayerType::BatchNorm: {
        if (in.empty() || in.size() > 3) {
            row.error = name +
                        " needs [features], [channels, length] or [channels, height, width] but gets " +
                        formatShape(in);
            return;
        }
        row.output = in;
        row.params = saturatingMultiply(2, in[0]);
        row.flops = saturatingMultiply(4, elements);
        return;
    }
    case LayerType::LayerNorm:
        row.output = in;
        row.params = saturatingMultiply(2, elements);
        row.flops = saturatingMultiply(5, elements);
        return;
    case LayerType::Flatten:
        row.output = {elements};
        return;
    case LayerType::Dropout:
        row.output = in;
        row.flops = elements;
        return;
    default: // activations keep the shape
        row.output = in;
        row.flops = elements;
        return;
    }
}

std::string outputError(const ModelSpec& model, const ShapeReport& report, const OutputTarget& target) {
    const Shape& out = report.output;
    // The last linear layer is what a user changes to fix the output width.
    std::string lastLinear;
    for (auto it = report.layers.rbegin(); it != report.layers.rend(); ++it) {
        if (it->type == LayerType::Linear) {
            lastLinear = model.layers[it->index].name.empty() ? "layer " + std::to_string(it->index)
                                                              : "'" + model.layers[it->index].name + "'";
            break;
        }
    }
    auto expectWidth = [&](int64_t width, const std::string& why) -> std::string {
        if (out.size() == 1 && out[0] == width)
            return {};
        std::string message = "the network outputs " + formatShape(out) + " per sample but " + why +
                              " needs [" + std::to_string(width) + "]";
        if (out.size() != 1)
            message += "; end with a flatten and a linear layer with out_features " + std::to_string(width);
        else if (!lastLinear.empty())
            message += "; set out_features of " + lastLinear + " (linear) to " + std::to_string(width);
        else
            message += "; add a linear layer with out_features " + std::to_string(width);
        return message;
    };
    if (target.task == TaskKind::Regression)
        return expectWidth(1, "a regression target");
    if (target.classes <= 0)
        return {};
    if (target.loss == LossType::BceWithLogits) {
        if (target.classes != 2)
            return "loss bce_with_logits needs two classes but the data has " +
                   std::to_string(target.classes) + "; use cross_entropy";
        return expectWidth(1, "bce_with_logits on two classes");
    }
    return expectWidth(target.classes, "data with " + std::to_string(target.classes) + " classes");
}

} // namespace

ShapeReport inferShapes(const ModelSpec& model, const Shape& input) {
    ShapeReport report;
    report.input = input;
    if (input.empty() || std::any_of(input.begin(), input.end(), [](int64_t d) { return d <= 0; })) {
        report.errors.push_back("the data's sample shape " + formatShape(input) + " is not valid");
        return report;
    }
    if (shapeElements(input) > kMaxElements) {
        report.errors.push_back("the data's sample shape " + formatShape(input) + " is too large");
        return report;
    }
    if (model.layers.empty())
        report.errors.push_back("model.layers: the network has no layers");
    report.graph = buildNetworkGraph(model);
    for (size_t i = 0; i < model.layers.size(); ++i) {
        LayerShape row;
        row.index = static_cast<int>(i);
        row.type = model.layers[i].type;
        report.layers.push_back(std::move(row));
    }
    report.errors.insert(report.errors.end(), report.graph.errors.begin(), report.graph.errors.end());
    if (!report.graph.ok())
        return report;
    std::vector<bool> known(model.layers.size(), false);
    for (const int i : report.graph.order) {
        LayerShape& row = report.layers[i];
        const std::vector<int>& sources = report.graph.inputs[i];
        std::vector<Shape> shapes;
        for (const int source : sources) {
            if (source >= 0 && !known[source])
                break;
            shapes.push_back(source < 0 ? input : report.layers[source].output);
        }
        if (shapes.size() < sources.size())
            continue; // an input is invalid, and was reported
        row.input = shapes.front();
        const LayerType type = model.layers[i].type;
        if (isMergeLayer(type) || type == LayerType::Identity)
            inferMerge(model, i, sources, shapes, row);
        else
            inferLayer(model.layers[i], layerLabel(model, i), row);
        if (row.error.empty() && shapeElements(row.output) > kMaxElements)
            row.error = layerLabel(model, i) + " produces " + formatShape(row.output) +
                        " per sample, which is too large";
        if (!row.error.empty()) {
            row.output.clear();
            report.errors.push_back(row.error);
            continue;
        }
        known[i] = true;
        report.totalParams = saturatingAdd(report.totalParams, row.params);
        report.totalFlops = saturatingAdd(report.totalFlops, row.flops);
    }
    if (report.graph.output >= 0 && known[report.graph.output])
        report.output = report.layers[report.graph.output].output;
    if (report.totalParams > kMaxElements)
        report.errors.push_back("model: the network has " + std::to_string(report.totalParams) +
                                " parameters, more than any device can hold");
    return report;
}

ShapeReport inferShapes(const ModelSpec& model, const Shape& input, const OutputTarget& target) {
    ShapeReport report = inferShapes(model, input);
    if (report.ok() && !report.output.empty()) {
        const std::string problem = outputError(model, report, target);
        if (!problem.empty())
            report.errors.push_back(problem);
    }
    return report;
}

} // namespace tunelab
