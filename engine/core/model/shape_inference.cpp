#include "model/shape_inference.h"

#include "common/checked_math.h"

#include <algorithm>
#include <string>

namespace tunelab {

namespace {

// Networks this large would not fit in memory anyway; the cap keeps the arithmetic in int64.
constexpr int64_t kMaxElements = int64_t(1) << 40;

std::string layerName(int index, LayerType type) {
    return "layer " + std::to_string(index) + " (" + toString(type) + ")";
}

int64_t pooledSize(int64_t size, int64_t kernel, int64_t stride, int64_t padding) {
    const int64_t span = saturatingAdd(size, saturatingMultiply(2, padding)) - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

// Fills `row` for one layer from its input; sets row.error when the layer cannot take it.
void inferLayer(const LayerSpec& layer, LayerShape& row) {
    const Shape& in = row.input;
    const int64_t elements = shapeElements(in);
    const std::string name = layerName(row.index, layer.type);
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

std::string outputError(const ShapeReport& report, const OutputTarget& target) {
    const Shape& out = report.output;
    // The last linear layer is what a user changes to fix the output width.
    std::string lastLinear;
    for (auto it = report.layers.rbegin(); it != report.layers.rend(); ++it) {
        if (it->type == LayerType::Linear) {
            lastLinear = "layer " + std::to_string(it->index);
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
    Shape current = input;
    bool known = true;
    for (size_t i = 0; i < model.layers.size(); ++i) {
        LayerShape row;
        row.index = static_cast<int>(i);
        row.type = model.layers[i].type;
        if (known) {
            row.input = current;
            inferLayer(model.layers[i], row);
            if (row.error.empty() && shapeElements(row.output) > kMaxElements)
                row.error = layerName(row.index, row.type) + " produces " + formatShape(row.output) +
                            " per sample, which is too large";
            if (!row.error.empty()) {
                row.output.clear();
                report.errors.push_back(row.error);
                known = false;
            } else {
                current = row.output;
                report.totalParams = saturatingAdd(report.totalParams, row.params);
                report.totalFlops = saturatingAdd(report.totalFlops, row.flops);
            }
        }
        report.layers.push_back(std::move(row));
    }
    if (known)
        report.output = current;
    if (report.totalParams > kMaxElements)
        report.errors.push_back("model: the network has " + std::to_string(report.totalParams) +
                                " parameters, more than any device can hold");
    return report;
}

ShapeReport inferShapes(const ModelSpec& model, const Shape& input, const OutputTarget& target) {
    ShapeReport report = inferShapes(model, input);
    if (report.ok() && !report.output.empty()) {
        const std::string problem = outputError(report, target);
        if (!problem.empty())
            report.errors.push_back(problem);
    }
    return report;
}

} // namespace tunelab
