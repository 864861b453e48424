#pragma once

// Private to the engine: included only by engine .cpp files, never by a public header.

#include "data/dataset.h"
#include "spec/spec.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace tunelab::detail {

// A feed-forward network built from a ModelSpec. Parameters are named like PyTorch's
// nn.Sequential ("0.weight", "3.running_mean"), so a saved state dict loads into the same
// network written in Python. Every random draw (initialisation, dropout masks) comes from
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

private:
    using LayerFunction = std::function<torch::Tensor(const torch::Tensor&)>;
    std::vector<LayerFunction> m_layers;
    c10::optional<at::Generator> m_dropoutGenerator;
    int m_frozenNormLayers = 0;
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
