#include "training/fine_tune.h"

#include "common/file_text.h"
#include "common/zip_archive_check.h"

#include <map>
#include <set>
#include <stdexcept>

namespace tunelab::detail {

namespace {

// The largest state dict file init.file may name.
constexpr uint64_t kMaxStateDictBytes = uint64_t{4} << 30;

// Copies what matches of a saved state dict into `module`; see initialiseFromTrained.
std::string copyMatching(torch::nn::Module& module, const std::vector<char>& stateDict) {
    if (const std::string damage = zipArchiveDamage(stateDict.data(), stateDict.size()); !damage.empty())
        throw std::runtime_error("the initial weights are damaged: " + damage);
    c10::IValue value;
    try {
        value = torch::pickle_load(stateDict);
    } catch (const c10::Error&) {
        throw std::runtime_error("the initial weights are not a state dict saved by TuneLab or torch.save");
    }
    if (!value.isGenericDict())
        throw std::runtime_error("the initial weights are not a state dict");
    // By the network's own names: "layers.3.linear.weight" is "3.weight".
    std::map<std::string, torch::Tensor> saved;
    for (const auto& item : value.toGenericDict()) {
        if (!item.key().isString() || !item.value().isTensor())
            continue;
        std::string name = item.key().toStringRef();
        if (name.rfind("layers.", 0) == 0) {
            const size_t index = name.find('.', 7), kind = name.find('.', index + 1);
            if (index != std::string::npos && kind != std::string::npos)
                name = name.substr(7, index - 7) + name.substr(kind);
        }
        saved[name] = item.value().toTensor();
    }
    torch::NoGradGuard noGrad;
    int copiedParameters = 0;
    std::set<std::string> fresh;
    auto copy = [&](const std::string& name, torch::Tensor& target) {
        const auto found = saved.find(name);
        if (found == saved.end() || found->second.sizes() != target.sizes()) {
            fresh.insert(name.substr(0, name.find('.')));
            return false;
        }
        target.copy_(found->second);
        return true;
    };
    for (auto& item : module.named_parameters())
        copiedParameters += copy(item.key(), item.value()) ? 1 : 0;
    for (auto& item : module.named_buffers())
        copy(item.key(), item.value());
    if (copiedParameters == 0)
        throw std::runtime_error(
            "the initial weights match no layer of this network (no name with the same shape)");
    if (fresh.empty())
        return {};
    std::string layers;
    for (const std::string& layer : fresh)
        layers += (layers.empty() ? "" : ", ") + layer;
    return "layer" + std::string(fresh.size() == 1 ? " " : "s ") + layers +
           " started fresh: the initial weights have no tensor of that name and shape";
}

} // namespace

std::string initialiseFromTrained(Network& network, const InitSpec& init,
                                  const std::shared_ptr<const std::vector<char>>& given) {
    std::vector<char> bytes;
    if (given) {
        bytes = *given;
    } else if (!init.file.empty()) {
        auto read = readRegularFile(init.file, kMaxStateDictBytes);
        if (!read.ok())
            throw std::runtime_error("init.file: " + read.error());
        bytes.assign(read.value().begin(), read.value().end());
    } else {
        throw std::runtime_error("init.run: the weights of run " + std::to_string(init.run) +
                                 " were not handed to this run (train it through a run store)");
    }
    try {
        return copyMatching(*network, bytes);
    } catch (const std::runtime_error& error) {
        throw std::runtime_error(std::string("init: ") + error.what());
    }
}

FrozenLayers::FrozenLayers(Network& network, const FlatParameters& flat, int layers) {
    if (layers <= 0)
        return;
    int64_t offset = 0;
    for (const auto& item : network->named_parameters()) {
        const int64_t count = item.value().numel();
        if (std::stoi(item.key().substr(0, item.key().find('.'))) < layers)
            m_ranges.push_back({offset, count, flat.values.narrow(0, offset, count).clone()});
        offset += count;
    }
}

void FrozenLayers::holdGradients(FlatParameters& flat) const {
    if (m_ranges.empty())
        return; // every training step asks: nothing frozen costs nothing
    torch::NoGradGuard noGrad;
    for (const Range& range : m_ranges)
        flat.grads.narrow(0, range.offset, range.count).zero_();
}

void FrozenLayers::holdValues(FlatParameters& flat) const {
    if (m_ranges.empty())
        return;
    torch::NoGradGuard noGrad;
    for (const Range& range : m_ranges)
        flat.values.narrow(0, range.offset, range.count).copy_(range.values);
}

LayerRates::LayerRates(Network& network, const ModelSpec& model) {
    int64_t offset = 0;
    for (const auto& item : network->named_parameters()) {
        const int64_t count = item.value().numel();
        const size_t layer = static_cast<size_t>(std::stoi(item.key().substr(0, item.key().find('.'))));
        if (layer < model.layers.size() && model.layers[layer].lrMultiplier != 1.0)
            m_ranges.push_back({offset, count, model.layers[layer].lrMultiplier, {}});
        offset += count;
    }
}

void LayerRates::beforeStep(const FlatParameters& flat) {
    if (m_ranges.empty())
        return;
    torch::NoGradGuard noGrad;
    for (Range& range : m_ranges)
        range.before = flat.values.narrow(0, range.offset, range.count).clone();
}

void LayerRates::afterStep(FlatParameters& flat) {
    if (m_ranges.empty())
        return;
    torch::NoGradGuard noGrad;
    for (Range& range : m_ranges) {
        auto values = flat.values.narrow(0, range.offset, range.count);
        // before + multiplier * (after - before)
        values.sub_(range.before).mul_(range.multiplier).add_(range.before);
    }
}

} // namespace tunelab::detail
