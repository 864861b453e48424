#pragma once

// Private to the engine: included only by engine .cpp files.

#include "events/run_events.h"
#include "training/network.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tunelab::detail {

// A run's gradient health (docs/gradient-health.md): at a sampled step, each layer's gradient norm
// and the size of its update relative to its weights; at an epoch's end, a histogram of each
// layer's weights. On the CPU it reads the flat buffers in plain loops; elsewhere the norms stay
// on the device until take() reads them in one transfer.
class LayerHealthRecorder {
public:
    // Finds each layer's slice of the flat buffers (which must outlive the recorder's use).
    void attach(Network& network, const FlatParameters& flat);
    bool hasLayers() const { return !m_layerSlices.empty(); }
    // Before the optimizer step (and before clipping) of sampled step `step`: the gradient norms,
    // and a copy of the weights so that the update can be measured after the step.
    void sampleGradients(int64_t step);
    // After that optimizer step: ||update|| / ||weights before||.
    void sampleUpdates(int64_t step);
    // The samples of steps up to `lastStep`, read from the device in one transfer where needed.
    std::vector<LayerHealthSample> take(int64_t lastStep);
    // One histogram per layer with weights, over the range of its weights.
    std::vector<WeightHistogram> weightHistograms(int epoch) const;

private:
    // A layer's parameters are one contiguous slice of the flat buffers (flattenParameters keeps
    // the registration order), so its norms need no copies.
    struct LayerSlice {
        int32_t layer = 0;
        int64_t offset = 0, length = 0;              // weights and bias
        int64_t weightOffset = -1, weightLength = 0; // the weights alone, for histograms
    };

    const FlatParameters* m_flat = nullptr;
    std::vector<LayerSlice> m_layerSlices;
    bool m_cpuFloat = false;              // raw loops instead of tensor operations
    std::vector<float> m_valuesBeforeCpu; // the weights before a sampled step (CPU)
    torch::Tensor m_valuesBefore;         // ... elsewhere
    std::vector<LayerHealthSample> m_pendingHealth;
    // Elsewhere than the CPU the norms stay on the device until take(): per sample, the layers'
    // gradient norms followed by their update ratios.
    std::vector<torch::Tensor> m_pendingHealthTensors;
    std::vector<int64_t> m_pendingHealthSteps;
    std::vector<torch::Tensor> m_pendingGradNorms; // of the sampled step, until its update is known
};

} // namespace tunelab::detail
