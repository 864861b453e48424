#include "compress/quantized_stages.h"

#include "model/network_graph.h"

#include <algorithm>
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

std::string scriptSquareSize(int64_t value) {
    return "[" + std::to_string(value) + ", " + std::to_string(value) + "]";
}

int64_t convStride(const LayerSpec& spec) {
    return spec.stride > 0 ? spec.stride : 1;
}

int64_t poolStride(const LayerSpec& spec) {
    return spec.stride > 0 ? spec.stride : spec.kernelSize;
}

// Which layers read each layer's output.
std::vector<std::vector<int>> readersOf(const NetworkGraph& graph) {
    std::vector<std::vector<int>> readers(graph.inputs.size());
    for (size_t i = 0; i < graph.inputs.size(); ++i)
        for (const int input : graph.inputs[i])
            if (input != NetworkGraph::kNetworkInput)
                readers[static_cast<size_t>(input)].push_back(static_cast<int>(i));
    return readers;
}

// The layer that alone reads `layer`'s output, past dropout layers that alone read it in turn, and
// the dropout layers passed; -1 when there is none or several.
int soleReaderPastDropout(const ModelSpec& model, const std::vector<std::vector<int>>& readers, int layer,
                          std::vector<int>& passed) {
    passed.clear();
    while (readers[static_cast<size_t>(layer)].size() == 1) {
        layer = readers[static_cast<size_t>(layer)][0];
        if (model.layers[static_cast<size_t>(layer)].type != LayerType::Dropout)
            return layer;
        passed.push_back(layer);
    }
    return -1;
}

// Linear and conv2d with the batch norm and ReLU that follow them, where each alone reads the layer
// before; `taken` marks the layers the stage absorbs.
QuantizedStage weightedStage(const ModelSpec& model, NetworkImpl& network,
                             const std::vector<std::vector<int>>& readers, size_t index,
                             std::vector<bool>& taken) {
    QuantizedStage stage;
    stage.layer = static_cast<int>(index);
    stage.spec = model.layers[index];
    stage.weight = parameter(network, index, "weight");
    stage.bias = parameter(network, index, "bias");
    if (!stage.bias.defined())
        stage.bias = torch::zeros({stage.weight.size(0)});
    auto absorb = [&](const std::vector<int>& passed, int layer) {
        for (const int i : passed)
            stage.absorbed.push_back(i);
        stage.absorbed.push_back(layer);
        std::sort(stage.absorbed.begin(), stage.absorbed.end());
        for (const int i : stage.absorbed)
            taken[static_cast<size_t>(i)] = true;
    };
    std::vector<int> passed;
    int last = static_cast<int>(index);
    int next = soleReaderPastDropout(model, readers, last, passed);
    if (next >= 0 && model.layers[static_cast<size_t>(next)].type == LayerType::BatchNorm) {
        const auto norm = static_cast<size_t>(next);
        const auto [scale, shift] = normAffine(network, norm, model.layers[norm].eps);
        std::vector<int64_t> shape(static_cast<size_t>(stage.weight.dim()), 1);
        shape[0] = -1;
        stage.weight = stage.weight * scale.view(shape);
        stage.bias = stage.bias * scale + shift;
        stage.foldedNorm = true;
        absorb(passed, next);
        last = next;
        next = soleReaderPastDropout(model, readers, last, passed);
    }
    if (next >= 0 && model.layers[static_cast<size_t>(next)].type == LayerType::ReLU) {
        stage.fusedRelu = true;
        absorb(passed, next);
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
    const NetworkGraph graph = buildNetworkGraph(model);
    const std::vector<std::vector<int>> readers = readersOf(graph);
    std::vector<QuantizedStage> stages;
    // The stage whose output each layer's output is (the one before, for a layer that passes its
    // input on), or the network's input.
    std::vector<int> valueOf(model.layers.size(), QuantizedStage::kNetworkInput);
    std::vector<bool> taken(model.layers.size(), false);
    auto valueRead = [&](int input) {
        return input == NetworkGraph::kNetworkInput ? QuantizedStage::kNetworkInput
                                                    : valueOf[static_cast<size_t>(input)];
    };
    for (const int order : graph.order) {
        const auto i = static_cast<size_t>(order);
        const LayerSpec& layer = model.layers[i];
        const std::vector<int>& reads = graph.inputs[i];
        const int first = valueRead(reads.empty() ? NetworkGraph::kNetworkInput : reads[0]);
        if (taken[i]) { // folded into, or fused with, the stage it follows
            valueOf[i] = first;
            continue;
        }
        // Dropout, identity and a merge of one input pass their input on.
        if (layer.type == LayerType::Dropout || layer.type == LayerType::Identity ||
            (isMergeLayer(layer.type) && reads.size() <= 1)) {
            valueOf[i] = first;
            continue;
        }
        QuantizedStage stage;
        if (layer.type == LayerType::Linear || layer.type == LayerType::Conv2d) {
            stage = weightedStage(model, network, readers, i, taken);
        } else {
            stage.layer = static_cast<int>(i);
            stage.spec = layer;
        }
        for (const int read : reads.empty() ? std::vector<int>{NetworkGraph::kNetworkInput} : reads)
            stage.inputs.push_back(valueRead(read));
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
        valueOf[i] = static_cast<int>(stages.size());
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
    case LayerType::Dropout: // and those buildStages() leaves out, and merges of one input
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

torch::Tensor runFloat(const QuantizedStage& stage, const std::vector<torch::Tensor>& inputs) {
    if (inputs.size() == 1)
        return runFloat(stage, inputs[0]);
    switch (stage.spec.type) {
    case LayerType::Add: {
        torch::Tensor sum = inputs[0];
        for (size_t i = 1; i < inputs.size(); ++i)
            sum = sum + inputs[i];
        return sum;
    }
    case LayerType::Multiply: {
        torch::Tensor product = inputs[0];
        for (size_t i = 1; i < inputs.size(); ++i)
            product = product * inputs[i];
        return product;
    }
    case LayerType::Concat:
        return torch::cat(inputs, 1);
    default:
        return runFloat(stage, inputs.at(0));
    }
}

int ConversionPlan::count(Conversion kind) const {
    int total = kind == Conversion::Dequantize && dequantizeOutput ? 1 : 0;
    for (const auto& stage : inputs)
        total += static_cast<int>(std::count(stage.begin(), stage.end(), kind));
    return total;
}

ConversionPlan planConversions(const std::vector<QuantizedStage>& stages) {
    std::vector<bool> int8(stages.size());
    for (size_t i = 0; i < stages.size(); ++i)
        int8[i] = stages[i].quantizable() && stages[i].int8;
    return planConversions(stages, int8);
}

ConversionPlan planConversions(const std::vector<QuantizedStage>& stages, const std::vector<bool>& int8) {
    ConversionPlan plan;
    plan.inputs.resize(stages.size());
    plan.quantizedOutput.assign(stages.size(), false);
    auto quantized = [&plan](int input) {
        return input != QuantizedStage::kNetworkInput && plan.quantizedOutput[static_cast<size_t>(input)];
    };
    for (size_t i = 0; i < stages.size(); ++i) {
        const QuantizedStage& stage = stages[i];
        const bool runsInt8 = stage.quantizable() && int8[i];
        for (const int input : stage.inputs) {
            Conversion conversion = Conversion::None;
            if (runsInt8 && !quantized(input))
                conversion = Conversion::Quantize;
            else if (!runsInt8 && !stage.passesQuantized() && quantized(input))
                conversion = Conversion::Dequantize;
            plan.inputs[i].push_back(conversion);
        }
        plan.quantizedOutput[i] =
            runsInt8 || (stage.passesQuantized() && !stage.inputs.empty() && quantized(stage.inputs[0]));
    }
    plan.dequantizeOutput = !stages.empty() && plan.quantizedOutput.back();
    return plan;
}

bool outputNeedsFloat(const std::vector<QuantizedStage>& stages, const std::vector<bool>& int8, size_t i) {
    if (i + 1 == stages.size())
        return true;
    for (size_t j = i + 1; j < stages.size(); ++j) {
        const QuantizedStage& reader = stages[j];
        if (std::find(reader.inputs.begin(), reader.inputs.end(), static_cast<int>(i)) == reader.inputs.end())
            continue;
        if (reader.quantizable() && int8[j])
            continue;
        if (!reader.passesQuantized() || outputNeedsFloat(stages, int8, j))
            return true;
    }
    return false;
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

std::string scriptLine(const QuantizedStage& stage, const std::vector<std::string>& inputs) {
    const std::string x = inputs.empty() ? std::string("x") : inputs[0];
    if (inputs.size() > 1 && isMergeLayer(stage.spec.type)) {
        if (stage.spec.type == LayerType::Concat) {
            std::string list;
            for (const std::string& input : inputs)
                list += (list.empty() ? "" : ", ") + input;
            return "torch.cat([" + list + "], 1)";
        }
        std::string expression;
        for (const std::string& input : inputs)
            expression +=
                (expression.empty() ? "" : (stage.spec.type == LayerType::Add ? " + " : " * ")) + input;
        return expression;
    }
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
                   (stage.fusedRelu ? "_relu" : "") + "(" + x + ", " + self + "packed, " +
                   scriptNumber(stage.output.scale) + ", " + std::to_string(stage.output.zeroPoint) + ")";
        if (conv)
            return withRelu("torch.conv2d(" + x + ", " + self + "weight, " + self + "bias, " +
                            scriptSquareSize(convStride(spec)) + ", " + scriptSquareSize(spec.padding) + ")");
        return withRelu("torch.linear(" + x + ", " + self + "weight, " + self + "bias)");
    }
    case LayerType::MaxPool2d:
        return "torch.max_pool2d(" + x + ", " + scriptSquareSize(spec.kernelSize) + ", " +
               scriptSquareSize(poolStride(spec)) + ", " + scriptSquareSize(spec.padding) + ", [1, 1])";
    case LayerType::AvgPool2d:
        return "torch.avg_pool2d(" + x + ", " + scriptSquareSize(spec.kernelSize) + ", " +
               scriptSquareSize(poolStride(spec)) + ", " + scriptSquareSize(spec.padding) + ")";
    case LayerType::BatchNorm:
        return x + " * " + self + "scale + " + self + "shift";
    case LayerType::LayerNorm: {
        std::string shape = "[";
        for (size_t d = 0; d < stage.normShape.size(); ++d)
            shape += (d ? ", " : "") + std::to_string(stage.normShape[d]);
        return "torch.layer_norm(" + x + ", " + shape + "], " + self + "weight, " + self + "bias, " +
               scriptNumber(spec.eps) + ", False)";
    }
    case LayerType::Dropout: // and those buildStages() leaves out
    case LayerType::Identity:
    case LayerType::Add:
    case LayerType::Concat:
    case LayerType::Multiply:
        return x;
    case LayerType::Flatten:
        return "torch.flatten(" + x + ", 1)";
    case LayerType::ReLU:
        return "torch.relu(" + x + ")";
    case LayerType::LeakyReLU:
        return "torch.leaky_relu(" + x + ", " + scriptNumber(spec.negativeSlope) + ")";
    case LayerType::ELU:
        return "torch.elu(" + x + ", " + scriptNumber(spec.alpha) + ")";
    case LayerType::GELU:
        return "torch.gelu(" + x + ")";
    case LayerType::SiLU:
        return "torch.silu(" + x + ")";
    case LayerType::Tanh:
        return "torch.tanh(" + x + ")";
    case LayerType::Sigmoid:
        return "torch.sigmoid(" + x + ")";
    }
    return x;
}

} // namespace tunelab::detail
