#include "training/layer_health.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tunelab::detail {

namespace {

constexpr int kHistogramBins = 32;

} // namespace

void LayerHealthRecorder::attach(Network& network, const FlatParameters& flat) {
    m_flat = &flat;
    m_layerSlices.clear();
    m_cpuFloat = m_flat->values.device().is_cpu() && m_flat->values.scalar_type() == torch::kFloat;
    int64_t offset = 0;
    for (const auto& item : network->named_parameters()) {
        // Names are "<layer index>.<parameter>", as in PyTorch's nn.Sequential.
        const std::string& name = item.key();
        const int32_t layer = static_cast<int32_t>(std::stoi(name.substr(0, name.find('.'))));
        const int64_t count = item.value().numel();
        if (m_layerSlices.empty() || m_layerSlices.back().layer != layer)
            m_layerSlices.push_back(LayerSlice{layer, offset, 0, -1, 0});
        LayerSlice& slice = m_layerSlices.back();
        slice.length += count;
        if (name.compare(name.find('.') + 1, std::string::npos, "weight") == 0) {
            slice.weightOffset = offset;
            slice.weightLength = count;
        }
        offset += count;
    }
}

// Called before the optimizer step (and before clipping): the gradient norms, and a copy of the
// weights so that the update can be measured after the step.
void LayerHealthRecorder::sampleGradients(int64_t step) {
    torch::NoGradGuard noGrad;
    if (m_cpuFloat) {
        const float* grads = m_flat->grads.data_ptr<float>();
        const float* values = m_flat->values.data_ptr<float>();
        for (const LayerSlice& slice : m_layerSlices) {
            double sum = 0.0;
            for (int64_t i = slice.offset; i < slice.offset + slice.length; ++i)
                sum += static_cast<double>(grads[i]) * grads[i];
            m_pendingHealth.push_back(
                LayerHealthSample{step, slice.layer, static_cast<float>(std::sqrt(sum)), 0.0f});
        }
        m_valuesBeforeCpu.resize(static_cast<size_t>(m_flat->values.numel()));
        std::memcpy(m_valuesBeforeCpu.data(), values, m_valuesBeforeCpu.size() * sizeof(float));
        return;
    }
    m_pendingGradNorms.clear();
    for (const LayerSlice& slice : m_layerSlices)
        m_pendingGradNorms.push_back(m_flat->grads.narrow(0, slice.offset, slice.length).norm());
    if (!m_valuesBefore.defined())
        m_valuesBefore = torch::empty_like(m_flat->values);
    m_valuesBefore.copy_(m_flat->values);
}

// Called after the optimizer step of a sampled step: ||update|| / ||weights before||.
void LayerHealthRecorder::sampleUpdates(int64_t step) {
    torch::NoGradGuard noGrad;
    if (m_cpuFloat) {
        const float* values = m_flat->values.data_ptr<float>();
        const float* before = m_valuesBeforeCpu.data();
        LayerHealthSample* samples = m_pendingHealth.data() + m_pendingHealth.size() - m_layerSlices.size();
        for (size_t layer = 0; layer < m_layerSlices.size(); ++layer) {
            const LayerSlice& slice = m_layerSlices[layer];
            double update = 0.0, weights = 0.0;
            for (int64_t i = slice.offset; i < slice.offset + slice.length; ++i) {
                const double change = static_cast<double>(values[i]) - before[i];
                update += change * change;
                weights += static_cast<double>(before[i]) * before[i];
            }
            samples[layer].updateRatio = static_cast<float>(std::sqrt(update) / (std::sqrt(weights) + 1e-12));
        }
        return;
    }
    std::vector<torch::Tensor> values = m_pendingGradNorms;
    for (const LayerSlice& slice : m_layerSlices) {
        auto before = m_valuesBefore.narrow(0, slice.offset, slice.length);
        auto after = m_flat->values.narrow(0, slice.offset, slice.length);
        values.push_back((after - before).norm() / (before.norm() + 1e-12));
    }
    m_pendingHealthTensors.push_back(torch::stack(values));
    m_pendingHealthSteps.push_back(step);
    m_pendingGradNorms.clear();
}

// The samples of steps up to `lastStep`, read from the device in one transfer where needed.
std::vector<LayerHealthSample> LayerHealthRecorder::take(int64_t lastStep) {
    std::vector<LayerHealthSample> samples = std::move(m_pendingHealth);
    m_pendingHealth.clear();
    if (!m_pendingHealthTensors.empty()) {
        auto values = torch::stack(m_pendingHealthTensors).to(torch::kCPU, torch::kFloat).contiguous();
        const float* data = values.data_ptr<float>();
        const size_t layers = m_layerSlices.size();
        for (size_t i = 0; i < m_pendingHealthSteps.size(); ++i) {
            for (size_t layer = 0; layer < layers; ++layer)
                samples.push_back(LayerHealthSample{m_pendingHealthSteps[i], m_layerSlices[layer].layer,
                                                    data[i * 2 * layers + layer],
                                                    data[i * 2 * layers + layers + layer]});
        }
        m_pendingHealthTensors.clear();
        m_pendingHealthSteps.clear();
    }
    samples.erase(
        std::remove_if(samples.begin(), samples.end(),
                       [lastStep](const LayerHealthSample& sample) { return sample.step > lastStep; }),
        samples.end());
    return samples;
}

// One histogram per layer with weights, over the range of its weights.
std::vector<WeightHistogram> LayerHealthRecorder::weightHistograms(int epoch) const {
    torch::NoGradGuard noGrad;
    std::vector<WeightHistogram> histograms;
    for (const LayerSlice& slice : m_layerSlices) {
        if (slice.weightLength <= 0)
            continue;
        auto weights = m_flat->values.narrow(0, slice.weightOffset, slice.weightLength)
                           .to(torch::kCPU, torch::kFloat)
                           .contiguous();
        WeightHistogram histogram;
        histogram.epoch = epoch;
        histogram.layer = slice.layer;
        histogram.counts.assign(kHistogramBins, 0);
        const float* data = weights.data_ptr<float>();
        float low = std::numeric_limits<float>::infinity();
        float high = -low;
        for (int64_t i = 0; i < slice.weightLength; ++i) {
            if (std::isfinite(data[i])) {
                low = std::min(low, data[i]);
                high = std::max(high, data[i]);
            }
        }
        if (!(low <= high)) { // no finite weight: an empty histogram
            histograms.push_back(std::move(histogram));
            continue;
        }
        // Equal weights get a range of their own: 1e-6 of their size (at least 1e-6), since 1e-6 alone is
        // lost to rounding beside a weight of 16 or more, and the bins would divide by zero.
        if (!(high > low))
            high = low + std::max(1e-6f, std::fabs(low) * 1e-6f);
        histogram.low = low;
        histogram.high = high;
        const double width = static_cast<double>(high) - low;
        for (int64_t i = 0; i < slice.weightLength; ++i) {
            if (!std::isfinite(data[i]))
                continue;
            const double position = (static_cast<double>(data[i]) - low) / width * kHistogramBins;
            const int bin =
                position > 0.0 ? static_cast<int>(std::min<double>(position, kHistogramBins - 1)) : 0;
            ++histogram.counts[static_cast<size_t>(bin)];
        }
        histograms.push_back(std::move(histogram));
    }
    return histograms;
}

} // namespace tunelab::detail
