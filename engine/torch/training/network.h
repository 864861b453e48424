#pragma once

// Private to the engine: included only by engine .cpp files, never by a public header.

#include "data/dataset.h"
#include "spec/spec.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <functional>
#include <utility>
#include <vector>

namespace tunelab::detail {

// A feed-forward network built from a ModelSpec: a stack, or a graph whose layers read named
// layers and merge them (add, concat, multiply). Parameters are named by layer index like
// PyTorch's nn.Sequential ("0.weight", "3.running_mean"), so a stack's saved state dict loads into
// the same network written in Python. Every random draw (initialisation, dropout masks) comes from
// the run's own generator, so runs on parallel threads never share random state.
class NetworkImpl : public torch::nn::Module {
public:
    // The shapes must have been checked with inferShapes() first.
    NetworkImpl(const ModelSpec& model, const Shape& input, at::Generator generator);

    torch::Tensor forward(const torch::Tensor& input);

    // Dropout draws from this generator on CPU; on CUDA from the device's default generator.
    void setDropoutGenerator(c10::optional<at::Generator> generator) {
        m_dropoutGenerator = std::move(generator);
    }
    const c10::optional<at::Generator>& dropoutGenerator() const { return m_dropoutGenerator; }

    // The batch norm layers among the first `layers` keep their statistics: they stay in evaluation
    // mode whatever train() says.
    void freezeBatchNormOf(int layers);
    void train(bool on = true) override;

    // Quantization-aware training of activations (spec.fake_quantize.activations): from now on, in
    // training mode, the input of every linear and conv2d layer is fake-quantized to quint8 over the
    // range it was seen to take, a moving average of each batch's minimum and maximum that the first
    // batch starts. In evaluation mode the inputs pass unchanged.
    void fakeQuantizeActivations();
    // A layer's followed input range, {min, max}; undefined tensors before its first training batch.
    std::pair<torch::Tensor, torch::Tensor> activationRange(int layer) const;
    // Continues a layer's range from a checkpoint (0-dimensional tensors, moved to `device`); ignored
    // for a layer whose inputs are not rounded.
    void setActivationRange(int layer, const torch::Tensor& min, const torch::Tensor& max,
                            const torch::Device& device);
    int layerCount() const { return static_cast<int>(m_layers.size()); }

private:
    using LayerFunction = std::function<torch::Tensor(const torch::Tensor&)>;
    torch::Tensor merge(int layer, const std::vector<torch::Tensor>& values) const;

    std::vector<LayerFunction> m_layers;
    // The graph: what each layer reads (-1: the input), the order to compute them in, and which
    // layers merge several inputs. A chain runs as a plain loop.
    std::vector<std::vector<int>> m_inputs;
    std::vector<int> m_order;
    std::vector<LayerType> m_types;
    int m_output = -1;
    bool m_chain = true;
    c10::optional<at::Generator> m_dropoutGenerator;
    int m_frozenNormLayers = 0;
    struct ActivationRange {
        torch::Tensor min, max; // 0-dimensional, on the layer's device
    };
    std::vector<ActivationRange> m_activationRanges; // by layer; empty without fake quantization
};
TORCH_MODULE(Network);

// Makes every parameter a view into one contiguous buffer, and every gradient a view into a
// second one, so that zeroing, clipping, the gradient norm and the optimizer step are a few
// operations on two tensors instead of a few per parameter. Autograd accumulates into the
// existing gradient views in place. `extraWords` more words follow the gradients in one buffer
// (`exchange`), which a data-parallel run sends to the other processes in one piece.
struct FlatParameters {
    torch::Tensor values;
    torch::Tensor grads;
    torch::Tensor exchange; // the gradients and the extra words behind them
};
FlatParameters flattenParameters(torch::nn::Module& module, int64_t extraWords = 0);

// The state dict (parameters and buffers, on the CPU) in torch.save's format.
std::vector<char> saveStateDict(torch::nn::Module& module);

} // namespace tunelab::detail
