#include "compress/quantized_stages.h"

#include <cstdio>

namespace tunelab::detail {

namespace {

torch::Tensor parameter(NetworkImpl& network, size_t layer, const std::string& name) {
    const std::string key = std::to_string(layer) + "." + name;
    const auto parameters = network.named_parameters();
    if (const torch::Tensor* found = parameters.find(key))
        return found->detach().to(torch::kCPU, torch::kFloat).clone();
    const auto buffers = network.named_buffers();
    if (const torch::Tensor* found = buffers.find(key))
        return found->detach().to(torch::kCPU, torch::kFloat).clone();
    return {};
}

bool isBatchNorm2d(NetworkImpl& network, size_t layer) {
    for (const auto& child : network.named_children())
        if (child.key() == std::to_string(layer))
            return child.value()->as<torch::nn::BatchNorm2d>() != nullptr;
    return false;
}

// A batch norm in evaluation as input * scale + shift, per feature or channel.
std::pair<torch::Tensor, torch::Tensor> normAffine(NetworkImpl& network, size_t layer, double eps) {
    const torch::Tensor scale =
        parameter(network, layer, "weight") / (parameter(network, layer, "running_var") + eps).sqrt();
    const torch::Tensor shift =
        parameter(network, layer, "bias") - parameter(network, layer, "running_mean") * scale;
    return {scale, shift};
}

std::string pair(int64_t value) {
    return "[" + std::to_string(value) + ", " + std::to_string(value) + "]";
}

int64_t convStride(const LayerSpec& spec) {
    return spec.stride > 0 ? spec.stride : 1;
}

int64_t poolStride(const LayerSpec& spec) {
    return spec.stride > 0 ? spec.stride : spec.kernelSize;
}

// Linear and conv2d with the batch norm and ReLU that follow them, where they do.
QuantizedStage weightedStage(const ModelSpec& model, NetworkImpl& network, size_t& index) {
    QuantizedStage stage;
    stage.layer = static_cast<int>(index);
    stage.spec = model.layers[index];
    stage.weight = parameter(network, index, "weight");
    stage.bias = parameter(network, index, "bias");
    if (!stage.bias.defined())
        stage.bias = torch::zeros({stage.weight.size(0)});
    auto nextPast = [&model](size_t from) {
        while (from < model.layers.size() && model.layers[from].type == LayerType::Dropout)
            ++from;
        return from;
    };
    size_t next = nextPast(index + 1);
    if (next < model.layers.size() && model.layers[next].type == LayerType::BatchNorm) {
        const auto [scale, shift] = normAffine(network, next, model.layers[next].eps);
        std::vector<int64_t> shape(static_cast<size_t>(stage.weight.dim()), 1);
        shape[0] = -1;
        stage.weight = stage.weight * scale.view(shape);
        stage.bias = stage.bias * scale + shift;
        stage.foldedNorm = true;
        for (size_t i = index + 1; i <= next; ++i)
            stage.absorbed.push_back(static_cast<int>(i));
        index = next;
        next = nextPast(index + 1);
    }
    if (next < model.layers.size() && model.layers[next].type == LayerType::ReLU) {
        stage.fusedRelu = true;
        for (size_t i = index + 1; i <= next; ++i)
            stage.absorbed.push_back(static_cast<int>(i));
        index = next;
    }
    stage.weight = stage.weight.contiguous();
    stage.bias = stage.bias.contiguous();
    return stage;
}

} // namespace

bool QuantizedStage::passesQuantized() const {
    switch (spec.type) {
    case LayerType::ReLU:
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
    case LayerType::Flatten:
    case LayerType::LeakyReLU:
    case LayerType::Dropout:
        return true;
    default:
        return false;
    }
}

std::string QuantizedStage::name() const {
    return "model.layers[" + std::to_string(layer) + "] (" + toString(spec.type) + ")";
}

std::vector<QuantizedStage> buildStages(const ModelSpec& model, NetworkImpl& network) {
    torch::NoGradGuard noGrad;
    std::vector<QuantizedStage> stages;
    for (size_t i = 0; i < model.layers.size(); ++i) {
        const LayerSpec& layer = model.layers[i];
        if (layer.type == LayerType::Linear || layer.type == LayerType::Conv2d) {
            stages.push_back(weightedStage(model, network, i));
            continue;
        }
        // Dropout, and in a stack an identity or a merge of one input, pass their input on.
        if (layer.type == LayerType::Dropout || layer.type == LayerType::Identity || isMergeLayer(layer.type))
            continue;
        QuantizedStage stage;
        stage.layer = static_cast<int>(i);
        stage.spec = layer;
        if (layer.type == LayerType::BatchNorm) {
            std::tie(stage.scale, stage.shift) = normAffine(network, i, layer.eps);
            if (isBatchNorm2d(network, i)) {
                stage.scale = stage.scale.view({-1, 1, 1}).contiguous();
                stage.shift = stage.shift.view({-1, 1, 1}).contiguous();
            }
        } else if (layer.type == LayerType::LayerNorm) {
            stage.weight = parameter(network, i, "weight");
            stage.bias = parameter(network, i, "bias");
            stage.normShape = stage.weight.sizes().vec();
        }
        stages.push_back(std::move(stage));
    }
    return stages;
}

torch::Tensor runFloat(const QuantizedStage& stage, const torch::Tensor& x) {
    const LayerSpec& spec = stage.spec;
    switch (spec.type) {
    case LayerType::Linear: {
        torch::Tensor y = torch::linear(x, stage.weight, stage.bias);
        return stage.fusedRelu ? torch::relu(y) : y;
    }
    case LayerType::Conv2d: {
        torch::Tensor y = torch::conv2d(x, stage.weight, stage.bias, convStride(spec), spec.padding);
        return stage.fusedRelu ? torch::relu(y) : y;
    }
    case LayerType::MaxPool2d:
        // Quantized max pooling needs its dilation spelled out.
        return torch::max_pool2d(x, {spec.kernelSize, spec.kernelSize}, {poolStride(spec), poolStride(spec)},
                                 {spec.padding, spec.padding}, {1, 1});
    case LayerType::AvgPool2d:
        return torch::avg_pool2d(x, {spec.kernelSize, spec.kernelSize}, {poolStride(spec), poolStride(spec)},
                                 {spec.padding, spec.padding});
    case LayerType::BatchNorm:
        return x * stage.scale + stage.shift;
    case LayerType::LayerNorm:
        return torch::layer_norm(x, stage.normShape, stage.weight, stage.bias, spec.eps);
    case LayerType::Dropout: // and those buildStages() leaves out
    case LayerType::Identity:
    case LayerType::Add:
    case LayerType::Concat:
    case LayerType::Multiply:
        return x;
    case LayerType::Flatten:
        return x.flatten(1);
    case LayerType::ReLU:
        return torch::relu(x);
    case LayerType::LeakyReLU:
        return torch::leaky_relu(x, spec.negativeSlope);
    case LayerType::ELU:
        return torch::elu(x, spec.alpha);
    case LayerType::GELU:
        return torch::gelu(x);
    case LayerType::SiLU:
        return torch::silu(x);
    case LayerType::Tanh:
        return torch::tanh(x);
    case LayerType::Sigmoid:
        return torch::sigmoid(x);
    }
    return x;
}

c10::IValue packStage(const QuantizedStage& stage) {
    if (stage.spec.type == LayerType::Conv2d)
        return packConv2d(stage.int8Weight, stage.bias, convStride(stage.spec), stage.spec.padding);
    return packLinear(stage.int8Weight, stage.bias);
}

torch::Tensor runInt8(const QuantizedStage& stage, const torch::Tensor& input) {
    if (stage.spec.type == LayerType::Conv2d)
        return runConv2d(input, stage.packed, stage.output, stage.fusedRelu);
    return runLinear(input, stage.packed, stage.output, stage.fusedRelu);
}

std::vector<QuantizedStep> planSteps(const std::vector<QuantizedStage>& stages) {
    std::vector<QuantizedStep> steps;
    bool quantized = false;
    for (size_t i = 0; i < stages.size(); ++i) {
        const QuantizedStage& stage = stages[i];
        if (stage.quantizable() && stage.int8) {
            if (!quantized)
                steps.push_back({QuantizedStep::Kind::Quantize, i});
            quantized = true;
        } else if (!stage.passesQuantized() && quantized) {
            steps.push_back({QuantizedStep::Kind::Dequantize, i});
            quantized = false;
        }
        steps.push_back({QuantizedStep::Kind::Stage, i});
    }
    if (quantized)
        steps.push_back({QuantizedStep::Kind::Dequantize, stages.size()});
    return steps;
}

std::string scriptLine(const QuantizedStage& stage) {
    const LayerSpec& spec = stage.spec;
    const std::string self = "self.layer" + std::to_string(stage.layer) + "_";
    auto withRelu = [&stage](const std::string& line) {
        return stage.fusedRelu ? "torch.relu(" + line + ")" : line;
    };
    switch (spec.type) {
    case LayerType::Linear:
    case LayerType::Conv2d: {
        const bool conv = spec.type == LayerType::Conv2d;
        if (stage.int8)
            return std::string("quantized.") + (conv ? "conv2d" : "linear") +
                   (stage.fusedRelu ? "_relu" : "") + "(x, " + self + "packed, " +
                   scriptNumber(stage.output.scale) + ", " + std::to_string(stage.output.zeroPoint) + ")";
        if (conv)
            return withRelu("torch.conv2d(x, " + self + "weight, " + self + "bias, " +
                            pair(convStride(spec)) + ", " + pair(spec.padding) + ")");
        return withRelu("torch.linear(x, " + self + "weight, " + self + "bias)");
    }
    case LayerType::MaxPool2d:
        return "torch.max_pool2d(x, " + pair(spec.kernelSize) + ", " + pair(poolStride(spec)) + ", " +
               pair(spec.padding) + ", [1, 1])";
    case LayerType::AvgPool2d:
        return "torch.avg_pool2d(x, " + pair(spec.kernelSize) + ", " + pair(poolStride(spec)) + ", " +
               pair(spec.padding) + ")";
    case LayerType::BatchNorm:
        return "x * " + self + "scale + " + self + "shift";
    case LayerType::LayerNorm: {
        std::string shape = "[";
        for (size_t d = 0; d < stage.normShape.size(); ++d)
            shape += (d ? ", " : "") + std::to_string(stage.normShape[d]);
        return "torch.layer_norm(x, " + shape + "], " + self + "weight, " + self + "bias, " +
               scriptNumber(spec.eps) + ", False)";
    }
    case LayerType::Dropout: // and those buildStages() leaves out
    case LayerType::Identity:
    case LayerType::Add:
    case LayerType::Concat:
    case LayerType::Multiply:
        return "x";
    case LayerType::Flatten:
        return "torch.flatten(x, 1)";
    case LayerType::ReLU:
        return "torch.relu(x)";
    case LayerType::LeakyReLU:
        return "torch.leaky_relu(x, " + scriptNumber(spec.negativeSlope) + ")";
    case LayerType::ELU:
        return "torch.elu(x, " + scriptNumber(spec.alpha) + ")";
    case LayerType::GELU:
        return "torch.gelu(x)";
    case LayerType::SiLU:
        return "torch.silu(x)";
    case LayerType::Tanh:
        return "torch.tanh(x)";
    case LayerType::Sigmoid:
        return "torch.sigmoid(x)";
    }
    return "x";
}

} // namespace tunelab::detail
