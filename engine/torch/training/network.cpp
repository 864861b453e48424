#include "training/network.h"

#include "model/shape_inference.h"

#include <cmath>

namespace tunelab::detail {

namespace {

// PyTorch's default initialisation (kaiming_uniform_ with a = sqrt(5) for weights, and the
// matching uniform bias), drawn from the run's generator.
void initialiseUniform(torch::Tensor& weight, torch::Tensor& bias, int64_t fanIn, at::Generator& generator) {
    torch::NoGradGuard noGrad;
    const double bound = fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(fanIn)) : 0.0;
    weight.uniform_(-bound, bound, generator);
    if (bias.defined())
        bias.uniform_(-bound, bound, generator);
}

// PyTorch's moving-average observer's weight for each new batch's minimum and maximum.
constexpr double kActivationRangeAveraging = 0.01;

// Rounds `x` to the quint8 grid over [min, max] widened to hold 0, as the int8 layer will see it
// (quantized_ops' activationQuant), without reading the range back to the host.
torch::Tensor fakeQuantizeToRange(const torch::Tensor& x, const torch::Tensor& min,
                                  const torch::Tensor& max) {
    const auto low = min.clamp_max(0.0), high = max.clamp_min(0.0);
    const auto scale = ((high - low) / 255.0).clamp_min(1e-8 / 255.0).to(torch::kFloat);
    const auto zeroPoint = torch::round(-low / scale).clamp(0, 255).to(torch::kInt);
    return torch::fake_quantize_per_tensor_affine(x, scale, zeroPoint, 0, 255);
}

} // namespace

NetworkImpl::NetworkImpl(const ModelSpec& model, const Shape& input, at::Generator generator) {
    const ShapeReport shapes = inferShapes(model, input);
    TORCH_CHECK(shapes.ok(), "network shapes were not checked: ", shapes.errors.front());
    for (size_t i = 0; i < model.layers.size(); ++i) {
        const LayerSpec& layer = model.layers[i];
        const Shape& in = shapes.layers[i].input;
        const std::string name = std::to_string(i);
        switch (layer.type) {
        case LayerType::Linear: {
            auto linear = register_module(
                name, torch::nn::Linear(torch::nn::LinearOptions(in[0], layer.outFeatures).bias(layer.bias)));
            initialiseUniform(linear->weight, linear->bias, in[0], generator);
            m_layers.emplace_back([linear](const torch::Tensor& x) { return linear->forward(x); });
            break;
        }
        case LayerType::Conv2d: {
            const int64_t stride = layer.stride > 0 ? layer.stride : 1;
            auto conv = register_module(
                name, torch::nn::Conv2d(torch::nn::Conv2dOptions(in[0], layer.outChannels, layer.kernelSize)
                                            .stride(stride)
                                            .padding(layer.padding)
                                            .bias(layer.bias)));
            initialiseUniform(conv->weight, conv->bias, in[0] * layer.kernelSize * layer.kernelSize,
                              generator);
            m_layers.emplace_back([conv](const torch::Tensor& x) { return conv->forward(x); });
            break;
        }
        case LayerType::MaxPool2d:
        case LayerType::AvgPool2d: {
            const int64_t kernel = layer.kernelSize;
            const int64_t stride = layer.stride > 0 ? layer.stride : kernel;
            const int64_t padding = layer.padding;
            if (layer.type == LayerType::MaxPool2d)
                m_layers.emplace_back([=](const torch::Tensor& x) {
                    return torch::max_pool2d(x, {kernel, kernel}, {stride, stride}, {padding, padding});
                });
            else
                m_layers.emplace_back([=](const torch::Tensor& x) {
                    return torch::avg_pool2d(x, {kernel, kernel}, {stride, stride}, {padding, padding});
                });
            break;
        }
        case LayerType::BatchNorm: {
            if (in.size() == 3) {
                auto norm = register_module(
                    name, torch::nn::BatchNorm2d(
                              torch::nn::BatchNorm2dOptions(in[0]).eps(layer.eps).momentum(layer.momentum)));
                m_layers.emplace_back([norm](const torch::Tensor& x) { return norm->forward(x); });
            } else {
                auto norm = register_module(
                    name, torch::nn::BatchNorm1d(
                              torch::nn::BatchNorm1dOptions(in[0]).eps(layer.eps).momentum(layer.momentum)));
                m_layers.emplace_back([norm](const torch::Tensor& x) { return norm->forward(x); });
            }
            break;
        }
        case LayerType::LayerNorm: {
            auto norm = register_module(
                name,
                torch::nn::LayerNorm(
                    torch::nn::LayerNormOptions(std::vector<int64_t>(in.begin(), in.end())).eps(layer.eps)));
            // Under bf16 autocast the layer before hands over bf16, which LibTorch 1.13's CPU layer norm
            // cannot mix with its float32 weight: it runs in float32, as autocast runs it on CUDA.
            m_layers.emplace_back([norm](const torch::Tensor& x) {
                const auto type = norm->weight.defined() ? norm->weight.scalar_type() : x.scalar_type();
                return norm->forward(x.scalar_type() == type ? x : x.to(type));
            });
            break;
        }
        case LayerType::Dropout: {
            const double p = layer.p;
            m_layers.emplace_back([this, p](const torch::Tensor& x) {
                if (!is_training() || p <= 0.0)
                    return x;
                auto mask = torch::empty_like(x).bernoulli_(1.0 - p, m_dropoutGenerator);
                return x * mask.div_(1.0 - p);
            });
            break;
        }
        case LayerType::Flatten:
            m_layers.emplace_back([](const torch::Tensor& x) { return x.flatten(1); });
            break;
        case LayerType::ReLU:
            m_layers.emplace_back([](const torch::Tensor& x) { return torch::relu(x); });
            break;
        case LayerType::LeakyReLU: {
            const double slope = layer.negativeSlope;
            m_layers.emplace_back([slope](const torch::Tensor& x) { return torch::leaky_relu(x, slope); });
            break;
        }
        case LayerType::ELU: {
            const double alpha = layer.alpha;
            m_layers.emplace_back([alpha](const torch::Tensor& x) { return torch::elu(x, alpha); });
            break;
        }
        case LayerType::GELU:
            m_layers.emplace_back([](const torch::Tensor& x) { return torch::gelu(x); });
            break;
        case LayerType::SiLU:
            m_layers.emplace_back([](const torch::Tensor& x) { return torch::silu(x); });
            break;
        case LayerType::Tanh:
            m_layers.emplace_back([](const torch::Tensor& x) { return torch::tanh(x); });
            break;
        case LayerType::Sigmoid:
            m_layers.emplace_back([](const torch::Tensor& x) { return torch::sigmoid(x); });
            break;
        case LayerType::Identity:
        case LayerType::Add:
        case LayerType::Concat:
        case LayerType::Multiply:
            m_layers.emplace_back([](const torch::Tensor& x) { return x; }); // merged in forward()
            break;
        }
        m_types.push_back(layer.type);
    }
    m_inputs = shapes.graph.inputs;
    m_order = shapes.graph.order;
    m_output = shapes.graph.output;
    m_chain = shapes.graph.chain;
    m_dropoutGenerator = generator;
}

torch::Tensor NetworkImpl::merge(int layer, const std::vector<torch::Tensor>& values) const {
    const std::vector<int>& inputs = m_inputs[layer];
    auto value = [&](size_t k) -> const torch::Tensor& { return values[inputs[k] + 1]; };
    switch (m_types[layer]) {
    case LayerType::Add: {
        torch::Tensor sum = value(0);
        for (size_t k = 1; k < inputs.size(); ++k)
            sum = sum + value(k);
        return sum;
    }
    case LayerType::Multiply: {
        torch::Tensor product = value(0);
        for (size_t k = 1; k < inputs.size(); ++k)
            product = product * value(k);
        return product;
    }
    case LayerType::Concat: {
        std::vector<torch::Tensor> parts;
        for (size_t k = 0; k < inputs.size(); ++k)
            parts.push_back(value(k));
        return torch::cat(parts, 1);
    }
    default:
        return m_layers[layer](value(0));
    }
}

void NetworkImpl::fakeQuantizeActivations() {
    if (!m_activationRanges.empty())
        return;
    m_activationRanges.resize(m_layers.size());
    for (size_t i = 0; i < m_layers.size(); ++i) {
        if (m_types[i] != LayerType::Linear && m_types[i] != LayerType::Conv2d)
            continue;
        m_layers[i] = [this, i, layer = std::move(m_layers[i])](const torch::Tensor& x) {
            if (!is_training())
                return layer(x);
            ActivationRange& range = m_activationRanges[i];
            {
                torch::NoGradGuard noGrad;
                const auto [low, high] = torch::aminmax(x.detach());
                if (!range.min.defined()) {
                    range.min = low.clone();
                    range.max = high.clone();
                } else { // a batch whose input is not finite (a diverging step) leaves the range
                    range.min.lerp_(torch::where(torch::isfinite(low), low, range.min),
                                    kActivationRangeAveraging);
                    range.max.lerp_(torch::where(torch::isfinite(high), high, range.max),
                                    kActivationRangeAveraging);
                }
            }
            return layer(fakeQuantizeToRange(x, range.min, range.max));
        };
    }
}

std::pair<torch::Tensor, torch::Tensor> NetworkImpl::activationRange(int layer) const {
    if (layer < 0 || static_cast<size_t>(layer) >= m_activationRanges.size())
        return {};
    const ActivationRange& range = m_activationRanges[static_cast<size_t>(layer)];
    return {range.min, range.max};
}

void NetworkImpl::setActivationRange(int layer, const torch::Tensor& min, const torch::Tensor& max,
                                     const torch::Device& device) {
    if (layer < 0 || static_cast<size_t>(layer) >= m_activationRanges.size())
        return;
    const auto type = m_types[static_cast<size_t>(layer)];
    if (type != LayerType::Linear && type != LayerType::Conv2d)
        return;
    ActivationRange& range = m_activationRanges[static_cast<size_t>(layer)];
    range.min = min.reshape({}).to(device).clone();
    range.max = max.reshape({}).to(device).clone();
}

void NetworkImpl::freezeBatchNormOf(int layers) {
    m_frozenNormLayers = layers;
    train(is_training());
}

void NetworkImpl::train(bool on) {
    torch::nn::Module::train(on);
    for (const auto& child : named_children()) {
        const int layer = std::stoi(child.key());
        if (layer < m_frozenNormLayers &&
            (child.value()->as<torch::nn::BatchNorm1d>() || child.value()->as<torch::nn::BatchNorm2d>()))
            child.value()->train(false);
    }
}

torch::Tensor NetworkImpl::forward(const torch::Tensor& input) {
    if (m_chain) {
        torch::Tensor x = input;
        for (const auto& layer : m_layers)
            x = layer(x);
        return x;
    }
    // values[0] is the input, values[i + 1] layer i's output.
    std::vector<torch::Tensor> values(m_layers.size() + 1);
    values[0] = input;
    for (const int layer : m_order)
        values[layer + 1] = merge(layer, values);
    return values[m_output + 1];
}

FlatParameters flattenParameters(torch::nn::Module& module, int64_t extraWords) {
    torch::NoGradGuard noGrad;
    auto parameters = module.parameters();
    int64_t total = 0;
    for (const auto& parameter : parameters)
        total += parameter.numel();
    FlatParameters flat;
    const auto options = parameters.empty() ? torch::TensorOptions() : parameters.front().options();
    flat.values = torch::empty({total}, options);
    flat.exchange = torch::zeros({total + extraWords}, options);
    flat.grads = flat.exchange.narrow(0, 0, total);
    int64_t offset = 0;
    for (auto& parameter : parameters) {
        const int64_t count = parameter.numel();
        auto valueView = flat.values.narrow(0, offset, count).view(parameter.sizes());
        valueView.copy_(parameter);
        parameter.set_data(valueView);
        parameter.mutable_grad() = flat.grads.narrow(0, offset, count).view(parameter.sizes());
        offset += count;
    }
    return flat;
}

std::vector<char> saveStateDict(torch::nn::Module& module) {
    torch::NoGradGuard noGrad;
    c10::Dict<std::string, torch::Tensor> state;
    for (const auto& item : module.named_parameters())
        state.insert(item.key(), item.value().detach().to(torch::kCPU).clone());
    for (const auto& item : module.named_buffers())
        state.insert(item.key(), item.value().detach().to(torch::kCPU).clone());
    return torch::pickle_save(state);
}

} // namespace tunelab::detail
