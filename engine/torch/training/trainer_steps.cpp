#include "training/trainer_run.h"

namespace tunelab::detail {

// `share`: this process's part of the global batch (1 when it trains alone). Its mean loss times
// its share, summed over the processes, is the global batch's mean loss, and so are the gradients.
void Trainer::step(const detail::TrainingBatch& batch, int epoch, double share) {
    const double lr = m_schedule->learningRate(m_step, epoch - 1);
    StepRecord record{m_step + 1, epoch, 0.0f, static_cast<float>(lr), 0.0f};
    const bool sample = m_sampleNextStep && m_health.hasLayers();
    bool flushNow = static_cast<int>(m_pendingSteps.size()) + 1 >= m_options.stepFlushSteps ||
                    secondsSince(m_lastFlush) >= m_options.stepFlushSeconds;
    if (m_replayed && !sample && m_replayed->takes(batch)) {
        auto [loss, norm] = m_replayed->run(batch, m_optimizer->nextStepScalars(lr));
        ++m_step;
        if (!m_replayed->problem().empty() && !m_replayProblemNoted) {
            m_replayProblemNoted = true;
            m_notes.push_back("its steps ran one kernel at a time: they could not be recorded as a CUDA "
                              "graph (" +
                              m_replayed->problem() + ")");
        }
        if (m_optimizer->fusedCpu()) // replayable steps on the CPU (tests): the fused steps' way
            record.gradNorm = norm.item<float>();
        else
            m_pendingNorms.push_back(norm);
        recordStep(loss, record, flushNow, false);
        return;
    }
    const bool fused = m_optimizer->fusedCpu();
    if (!fused || m_replayed)
        m_flat.grads.zero_(); // the fused CPU step leaves the gradient zeroed itself, a replayable one not
    m_fakeQuantized.round();
    torch::Tensor loss =
        batch.x.size(0) > 0 ? detail::lossWithGradients(m_network, batch, m_spec, m_device, share)
                            : torch::zeros({}, m_flat.values.options()); // a batch smaller than the processes
    m_fakeQuantized.restore();
    bool stopAfterStep = false;
    if (m_parallel) {
        detail::ExchangedStep exchanged;
        try {
            exchanged = m_parallel->exchange(m_flat, loss, m_control.stopRequested.load(), flushNow, m_step);
        } catch (const std::runtime_error& error) {
            throw RunEnded{RunStatus::Failed, error.what()};
        }
        loss = exchanged.loss;
        flushNow = exchanged.flush;
        stopAfterStep = exchanged.stop;
    }
    m_frozen.holdGradients(m_flat);
    m_masks.holdGradients(m_flat);
    if (sample) {
        m_sampleNextStep = false;
        m_health.sampleGradients(m_step + 1);
    }
    const double clip = m_spec.training.gradClipNorm;
    m_rates.beforeStep(m_flat);
    if (fused) {
        const double norm = detail::flatNormCpu(m_flat.grads);
        record.gradNorm = static_cast<float>(norm);
        m_optimizer->step(m_flat.values, m_flat.grads, lr,
                          clip > 0.0 ? std::min(1.0, clip / (norm + 1e-6)) : 1.0);
    } else {
        // No host synchronisation: the norm and the clipping factor stay on the device.
        auto norm = m_flat.grads.norm();
        if (clip > 0.0) {
            torch::NoGradGuard noGrad;
            m_flat.grads.mul_(torch::clamp_max(clip / (norm + 1e-6), 1.0));
        }
        m_optimizer->step(m_flat.values, m_flat.grads, lr);
        m_pendingNorms.push_back(norm);
    }
    m_rates.afterStep(m_flat);
    m_frozen.holdValues(m_flat);
    m_masks.holdValues(m_flat);
    ++m_step;
    if (sample)
        m_health.sampleUpdates(m_step);
    recordStep(loss, record, flushNow, stopAfterStep);
}

// The step ReplayedStep records (and runs eagerly before it records): the eager step's work for a
// run without masks, frozen layers or layer rates, with the optimizer's numbers read from `scalars`.
std::pair<torch::Tensor, torch::Tensor> Trainer::replayableStep(const detail::TrainingBatch& batch,
                                                                const torch::Tensor& scalars) {
    m_flat.grads.zero_();
    auto loss = detail::lossWithGradients(m_network, batch, m_spec, m_device, 1.0);
    torch::NoGradGuard noGrad;
    auto norm = m_flat.grads.norm();
    if (const double clip = m_spec.training.gradClipNorm; clip > 0.0)
        m_flat.grads.mul_(torch::clamp_max(clip / (norm + 1e-6), 1.0));
    m_optimizer->stepWithScalars(m_flat.values, m_flat.grads, scalars);
    return {loss.detach(), norm};
}

void Trainer::recordStep(const torch::Tensor& loss, const StepRecord& record, bool flushNow,
                         bool stopAfterStep) {
    m_pendingLosses.push_back(loss.detach());
    m_pendingSteps.push_back(record);
    if (flushNow)
        flushSteps();
    if (stopAfterStep)
        endIfStopRequested();
}

// Ends the run as the control asks: pruned by a study, or stopped. A data-parallel run's processes
// learn of a stop in the step's exchange, so all of them end after the same step.
void Trainer::endIfStopRequested() {
    if (!m_parallel && !m_control.stopRequested.load(std::memory_order_relaxed))
        return;
    if (const int pruned = m_control.prunedAfterEpoch.load(); pruned > 0)
        throw RunEnded{RunStatus::Pruned, "pruned by the study after epoch " + std::to_string(pruned)};
    throw RunEnded{RunStatus::Stopped, "stopped by request after step " + std::to_string(m_step)};
}

// Reads the pending losses in one transfer (no host synchronisation per step) and reports them.
// A non-finite loss ends the run as diverged at the first step that had one.
void Trainer::flushSteps() {
    m_lastFlush = Clock::now();
    if (m_pendingSteps.empty())
        return;
    const bool deviceNorms = !m_pendingNorms.empty();
    auto values = (deviceNorms ? torch::cat({torch::stack(m_pendingLosses), torch::stack(m_pendingNorms)})
                               : torch::stack(m_pendingLosses))
                      .to(torch::kCPU, torch::kFloat)
                      .contiguous();
    const float* losses = values.data_ptr<float>();
    const float* norms = deviceNorms ? losses + m_pendingSteps.size() : nullptr;
    size_t kept = m_pendingSteps.size();
    for (size_t i = 0; i < m_pendingSteps.size(); ++i) {
        m_pendingSteps[i].trainLoss = losses[i];
        if (norms)
            m_pendingSteps[i].gradNorm = norms[i];
        if (!std::isfinite(losses[i])) {
            kept = i + 1;
            break;
        }
        m_epochLossSum += losses[i];
        ++m_epochLossCount;
        m_lastStepLoss = losses[i];
    }
    m_pendingSteps.resize(kept);
    if (++m_flushesSinceSample >= kHealthSampleEveryFlushes) {
        m_flushesSinceSample = 0;
        m_sampleNextStep = true;
    }
    RunEvent event;
    event.kind = RunEventKind::Steps;
    event.runId = m_id;
    event.steps = std::move(m_pendingSteps);
    const StepRecord last = event.steps.back();
    event.layerHealth = m_health.take(last.step);
    m_sink.onRunEvent(event);
    m_pendingSteps.clear();
    m_pendingLosses.clear();
    m_pendingNorms.clear();
    if (!std::isfinite(last.trainLoss)) {
        m_summary.steps = last.step;
        throw RunEnded{RunStatus::Diverged, "the loss became " +
                                                std::string(std::isnan(last.trainLoss) ? "NaN" : "infinite") +
                                                " at step " + std::to_string(last.step) + " (epoch " +
                                                std::to_string(last.epoch) + "); try a lower learning rate"};
    }
}

// The dataset rows in the order this epoch batches them (`order` indexes the training rows;
// null means unshuffled), folded into the run's batch order hash.
void Trainer::hashBatchOrder(const std::vector<int64_t>* order) {
    std::vector<int64_t> rows(m_trainRows.size());
    for (size_t i = 0; i < rows.size(); ++i)
        rows[i] = m_trainRows[order ? static_cast<size_t>((*order)[i]) : i];
    m_summary.batchOrderHash = fnv1a64(rows.data(), rows.size() * sizeof(int64_t), m_summary.batchOrderHash);
}

void Trainer::trainEpoch(int epoch) {
    m_augmenter.beginEpoch(epoch);
    const int64_t rows = m_tensors.trainX.size(0);
    torch::Tensor x = m_tensors.trainX;
    torch::Tensor y = m_tensors.trainY;
    torch::Tensor teacher = m_tensors.teacherLogits;
    if (m_spec.training.shuffle && m_stepsPerEpoch > 1) {
        // One gather per epoch into contiguous shuffled copies; each step then takes a slice.
        std::vector<int64_t> order(static_cast<size_t>(rows));
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), m_shuffleRandom);
        hashBatchOrder(&order);
        auto index = torch::from_blob(order.data(), {rows}, torch::kLong).to(m_device);
        x = x.index_select(0, index);
        y = y.index_select(0, index);
        if (teacher.defined())
            teacher = teacher.index_select(0, index);
    } else {
        hashBatchOrder(nullptr);
    }
    for (int64_t batch = 0; batch < m_stepsPerEpoch; ++batch) {
        if (!m_parallel)
            endIfStopRequested();
        waitWhilePaused();
        const int64_t length = std::min(m_batchSize, rows - batch * m_batchSize);
        const BatchShard shard = m_parallel ? m_parallel->shard(length) : BatchShard{0, length};
        const int64_t start = batch * m_batchSize + shard.first;
        detail::TrainingBatch slice;
        slice.x = x.narrow(0, start, shard.count);
        slice.y = y.narrow(0, start, shard.count);
        slice.teacher = teacher.defined() ? teacher.narrow(0, start, shard.count) : teacher;
        detail::TrainingBatch augmented = m_augmenter.apply(std::move(slice), shard.first, length);
        if (m_tensors.teacher) // the teacher labels the batch as augmented
            augmented.teacher = m_tensors.teacher->logits(augmented.x);
        step(augmented, epoch, static_cast<double>(shard.count) / static_cast<double>(length));
    }
    flushSteps();
}

} // namespace tunelab::detail
