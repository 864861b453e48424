#include "training/checkpoint.h"
#include "common/zip_archive_check.h"

#include <sstream>
#include <stdexcept>

namespace tunelab::detail {

namespace {

const std::string kParameters = "parameters";
const std::string kOptimizerSteps = "optimizer_steps";
const std::string kShuffle = "shuffle_generator";
const std::string kDropout = "dropout_generator";

std::string bufferKey(const std::string& name) {
    return "buffer/" + name;
}

std::string optimizerKey(const std::string& name) {
    return "optimizer/" + name;
}

// A layer's followed input range when its inputs are rounded (fake_quantize.activations): {min, max}.
std::string activationRangeKey(int layer) {
    return "activation_range/" + std::to_string(layer);
}

} // namespace

TrainingCheckpoint captureCheckpoint(const TrainingState& state, int epoch, int64_t step) {
    torch::NoGradGuard noGrad;
    torch::serialize::OutputArchive archive;
    archive.write(kParameters, state.flat.values.detach().to(torch::kCPU).clone());
    for (const auto& item : state.network->named_buffers())
        archive.write(bufferKey(item.key()), item.value().detach().to(torch::kCPU).clone(), true);
    for (int layer = 0; layer < state.network->layerCount(); ++layer) {
        const auto [min, max] = state.network->activationRange(layer);
        if (min.defined())
            archive.write(activationRangeKey(layer),
                          torch::stack({min.reshape({}), max.reshape({})}).to(torch::kCPU), true);
    }
    archive.write(kOptimizerSteps, torch::tensor(state.optimizer.steps(), torch::kLong));
    for (const auto& [name, buffer] : state.optimizer.stateBuffers())
        if (buffer->defined())
            archive.write(optimizerKey(name), buffer->detach().to(torch::kCPU).clone(), true);
    std::ostringstream shuffle;
    shuffle << state.shuffleRandom;
    archive.write(kShuffle, c10::IValue(shuffle.str()));
    if (const auto& dropout = state.network->dropoutGenerator(); dropout && dropout->device().is_cpu())
        archive.write(kDropout, dropout->get_state(), true);

    TrainingCheckpoint checkpoint;
    checkpoint.epoch = epoch;
    checkpoint.step = step;
    checkpoint.parameters = state.flat.values.numel();
    checkpoint.optimizer = toString(state.optimizerSpec.type);
    std::ostringstream bytes;
    archive.save_to(bytes);
    const std::string text = bytes.str();
    checkpoint.state.assign(text.begin(), text.end());
    return checkpoint;
}

std::string restoreCheckpoint(const TrainingCheckpoint& checkpoint, const TrainingState& state) {
    const int64_t parameters = state.flat.values.numel();
    if (checkpoint.parameters != parameters)
        throw std::runtime_error("the checkpoint holds a network of " +
                                 std::to_string(checkpoint.parameters) + " parameters, this one has " +
                                 std::to_string(parameters) +
                                 ": a run continues only with the network it was trained with");
    torch::NoGradGuard noGrad;
    torch::serialize::InputArchive archive;
    if (const std::string damage = zipArchiveDamage(checkpoint.state.data(), checkpoint.state.size());
        !damage.empty())
        throw std::runtime_error("the checkpoint is damaged: " + damage);
    try {
        archive.load_from(checkpoint.state.data(), checkpoint.state.size());
    } catch (const c10::Error& error) {
        throw std::runtime_error(std::string("the checkpoint cannot be read: ") +
                                 error.what_without_backtrace());
    }
    torch::Tensor values;
    if (!archive.try_read(kParameters, values) || values.numel() != parameters)
        throw std::runtime_error("the checkpoint's parameters are missing or of the wrong size");
    state.flat.values.copy_(values);
    for (auto& item : state.network->named_buffers()) {
        torch::Tensor saved;
        if (archive.try_read(bufferKey(item.key()), saved, true) && saved.sizes() == item.value().sizes())
            item.value().copy_(saved);
    }
    for (int layer = 0; layer < state.network->layerCount(); ++layer) {
        torch::Tensor range;
        if (archive.try_read(activationRangeKey(layer), range, true) && range.numel() == 2)
            state.network->setActivationRange(layer, range[0], range[1], state.flat.values.device());
    }
    c10::IValue shuffle;
    if (archive.try_read(kShuffle, shuffle) && shuffle.isString()) {
        std::istringstream text(shuffle.toStringRef());
        text >> state.shuffleRandom;
    }
    if (const auto& dropout = state.network->dropoutGenerator(); dropout && dropout->device().is_cpu()) {
        torch::Tensor saved;
        if (archive.try_read(kDropout, saved, true)) {
            at::Generator generator = *dropout;
            std::lock_guard<std::mutex> lock(generator.mutex());
            generator.set_state(saved);
        }
    }

    if (checkpoint.optimizer != toString(state.optimizerSpec.type))
        return "the optimizer changed from " + checkpoint.optimizer + " to " +
               toString(state.optimizerSpec.type) + ": its state starts fresh";
    torch::Tensor steps;
    if (archive.try_read(kOptimizerSteps, steps))
        state.optimizer.setSteps(steps.item<int64_t>());
    for (auto& [name, buffer] : state.optimizer.stateBuffers()) {
        torch::Tensor saved;
        if (!buffer->defined() || !archive.try_read(optimizerKey(name), saved, true))
            continue;
        if (saved.numel() != buffer->numel())
            throw std::runtime_error("the checkpoint's optimizer state " + name + " is of the wrong size");
        buffer->copy_(saved.view(buffer->sizes()));
    }
    return {};
}

} // namespace tunelab::detail
