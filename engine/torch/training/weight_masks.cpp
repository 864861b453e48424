#include "training/weight_masks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tunelab::detail {

namespace {

bool prunableLayer(const ModelSpec& model, const PruneSpec& prune, int index) {
    if (index < 0 || index >= static_cast<int>(model.layers.size()))
        return false;
    const LayerType type = model.layers[index].type;
    if (type != LayerType::Linear && type != LayerType::Conv2d)
        return false;
    return prune.layers.empty() ||
           std::find(prune.layers.begin(), prune.layers.end(), index) != prune.layers.end();
}

// The mask of `values` that zeroes its `count` smallest magnitudes (exactly that many, ties broken by
// position), written into `mask`.
void maskSmallest(const torch::Tensor& values, int64_t count, torch::Tensor mask) {
    mask.fill_(1.0);
    if (count <= 0)
        return;
    const auto order = values.abs().argsort();
    mask.index_fill_(0, order.narrow(0, 0, std::min<int64_t>(count, values.numel())), 0.0);
}

} // namespace

WeightMasks::WeightMasks(Network& network, const FlatParameters& flat, const ModelSpec& model,
                         const PruneSpec& prune, int epochs)
    : m_prune(prune)
    , m_epochs(epochs) {
    if (!prune.enabled())
        return;
    int64_t offset = 0;
    for (const auto& item : network->named_parameters()) {
        const std::string& name = item.key();
        const int64_t count = item.value().numel();
        const size_t dot = name.find('.');
        if (name.substr(dot + 1) == "weight" && prunableLayer(model, prune, std::stoi(name.substr(0, dot)))) {
            m_ranges.push_back({offset, count});
            m_prunable += count;
        }
        offset += count;
    }
    if (!m_ranges.empty())
        m_mask = torch::ones_like(flat.values);
}

double WeightMasks::targetSparsity(int epoch) const {
    if (m_prune.schedule == PruneSchedule::OneShot)
        return m_prune.sparsity;
    const int first = m_prune.startEpoch;
    const int last = m_prune.lastPruningEpoch(m_epochs);
    if (epoch < first)
        return 0.0;
    const double begun = std::min(1.0, static_cast<double>(epoch - first + 1) / (last - first + 1));
    return m_prune.sparsity * (1.0 - std::pow(1.0 - begun, 3.0));
}

void WeightMasks::beginEpoch(int epoch, FlatParameters& flat) {
    if (empty())
        return;
    const double target = targetSparsity(epoch);
    if (target > m_applied) {
        prune(target, flat);
        m_applied = target;
    }
    holdValues(flat);
}

void WeightMasks::prune(double sparsity, const FlatParameters& flat) {
    torch::NoGradGuard noGrad;
    const auto values = flat.values.detach();
    if (m_prune.scope == PruneScope::Layer) {
        for (const Range& range : m_ranges)
            maskSmallest(values.narrow(0, range.offset, range.count),
                         std::llround(sparsity * static_cast<double>(range.count)),
                         m_mask.narrow(0, range.offset, range.count));
        return;
    }
    std::vector<torch::Tensor> parts;
    for (const Range& range : m_ranges)
        parts.push_back(values.narrow(0, range.offset, range.count));
    auto together = torch::cat(parts);
    auto mask = torch::ones_like(together);
    maskSmallest(together, std::llround(sparsity * static_cast<double>(m_prunable)), mask);
    int64_t start = 0;
    for (const Range& range : m_ranges) {
        m_mask.narrow(0, range.offset, range.count).copy_(mask.narrow(0, start, range.count));
        start += range.count;
    }
}

void WeightMasks::holdGradients(FlatParameters& flat) const {
    if (empty())
        return;
    torch::NoGradGuard noGrad;
    flat.grads.mul_(m_mask);
}

void WeightMasks::holdValues(FlatParameters& flat) const {
    if (empty())
        return;
    torch::NoGradGuard noGrad;
    flat.values.mul_(m_mask);
}

double WeightMasks::sparsity() const {
    if (empty() || m_prunable == 0)
        return 0.0;
    const double kept = m_mask.sum().item<double>() - static_cast<double>(m_mask.numel() - m_prunable);
    return 1.0 - kept / static_cast<double>(m_prunable);
}

std::string WeightMasks::summary() const {
    if (empty())
        return {};
    char line[160];
    std::snprintf(line, sizeof line, "pruned %.1f %% of %lld weights (%s)", 100.0 * sparsity(),
                  static_cast<long long>(m_prunable),
                  m_prune.scope == PruneScope::Global ? "one threshold for all layers" : "each layer alike");
    return line;
}

FakeQuantizedWeights::FakeQuantizedWeights(Network& network, const ModelSpec& model,
                                           const FakeQuantizeSpec& fake)
    : m_perChannel(fake.perChannel) {
    if (!fake.enabled)
        return;
    for (const auto& item : network->named_parameters()) {
        const std::string& name = item.key();
        const size_t dot = name.find('.');
        const int layer = std::stoi(name.substr(0, dot));
        const LayerType type = model.layers[static_cast<size_t>(layer)].type;
        if (name.substr(dot + 1) == "weight" && (type == LayerType::Linear || type == LayerType::Conv2d))
            m_weights.push_back({item.value(), {}});
    }
}

void FakeQuantizedWeights::round() {
    torch::NoGradGuard noGrad;
    for (Weight& weight : m_weights) {
        weight.saved = weight.values.detach().clone();
        auto rows = weight.values.detach().flatten(1);
        auto largest = m_perChannel ? rows.abs().amax(1, true) : rows.abs().max().reshape({1, 1});
        auto scale = largest.clamp_min(1e-12) / 127.0;
        rows.copy_(torch::round(rows / scale).clamp(-127, 127) * scale);
    }
}

void FakeQuantizedWeights::restore() {
    torch::NoGradGuard noGrad;
    for (Weight& weight : m_weights)
        weight.values.detach().copy_(weight.saved);
}

} // namespace tunelab::detail
