#include "training/trainer.h"

#include "common/machine_limits.h"

#include "data/dataset.h"
#include "health/gradient_health.h"
#include "optim/learning_rate_schedule.h"
#include "training/augmentation.h"
#include "training/checkpoint.h"
#include "training/data_parallel_run.h"
#include "training/determinism.h"
#include "training/devices.h"
#include "training/distillation.h"
#include "training/early_stopping.h"
#include "training/fine_tune.h"
#include "training/layer_health.h"
#include "training/losses.h"
#include "training/mixed_precision.h"
#include "training/network.h"
#include "training/optimizers.h"
#include "training/training_tensors.h"
#include "training/weight_masks.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>

namespace tunelab {

namespace {

using Clock = std::chrono::steady_clock;

// Health samples are taken at one step after every this many metric flushes (docs/gradient-health.md).
constexpr int kHealthSampleEveryFlushes = 1;

double secondsSince(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Thrown inside the loop to end a run early with a status other than failed.
struct RunEnded {
    RunStatus status;
    std::string message;
};

class Trainer {
public:
    Trainer(RunId id, const ExperimentSpec& spec, const RunOptions& options, RunControl& control,
            RunEventSink& sink)
        : m_id(id)
        , m_spec(spec)
        , m_options(options)
        , m_control(control)
        , m_sink(sink) {}

    RunSummary run();

private:
    void prepare(const std::string& deviceId);
    void resume(const TrainingCheckpoint& from);
    void initialise();
    void trainEpoch(int epoch);
    void step(const detail::TrainingBatch& batch, int epoch, double share);
    void endIfStopRequested();
    uint64_t experimentFingerprint() const;
    void flushSteps();
    void hashBatchOrder(const std::vector<int64_t>* order);
    EpochRecord validate(int epoch, double seconds);
    void afterEpoch(const EpochRecord& record);
    void waitWhilePaused();
    void finish(RunStatus status, const std::string& message);
    int firstEpoch() const { return m_options.resumeFrom ? m_options.resumeFrom->epoch + 1 : 1; }
    int lastEpoch() const {
        return m_options.lastEpoch > 0 ? std::min(m_options.lastEpoch, m_spec.training.epochs)
                                       : m_spec.training.epochs;
    }
    std::shared_ptr<const TrainingCheckpoint> checkpoint(int epoch);

    RunId m_id;
    const ExperimentSpec& m_spec;
    RunOptions m_options;
    RunControl& m_control;
    RunEventSink& m_sink;
    RunSummary m_summary;

    torch::Device m_device{torch::kCPU};
    Dataset m_data;
    detail::TrainingTensors m_tensors;
    detail::Network m_network{nullptr};
    detail::FlatParameters m_flat;
    std::unique_ptr<detail::FlatOptimizer> m_optimizer;
    std::unique_ptr<LearningRateSchedule> m_schedule;
    std::unique_ptr<detail::DataParallelRun> m_parallel; // null when this process trains alone
    detail::Augmenter m_augmenter;
    std::mt19937_64 m_shuffleRandom;
    int64_t m_batchSize = 1;
    int64_t m_stepsPerEpoch = 1;
    std::vector<int64_t> m_trainRows; // dataset row of each training row, for the batch order hash

    detail::LayerHealthRecorder m_health;
    bool m_sampleNextStep = true; // the first step and the first one after a flush
    int m_flushesSinceSample = 0;

    // Steps since the last flush; their losses stay on the device until then.
    std::vector<torch::Tensor> m_pendingLosses;
    std::vector<torch::Tensor> m_pendingNorms;
    std::vector<StepRecord> m_pendingSteps;
    Clock::time_point m_lastFlush;
    int64_t m_step = 0;
    double m_epochLossSum = 0.0;
    int64_t m_epochLossCount = 0;
    float m_lastStepLoss = std::numeric_limits<float>::quiet_NaN();

    detail::FrozenLayers m_frozen;
    detail::WeightMasks m_masks;
    detail::LayerRates m_rates;
    detail::FakeQuantizedWeights m_fakeQuantized;
    std::vector<std::string> m_notes; // what the run could not carry over or start from
    std::unique_ptr<detail::DeterministicAlgorithms> m_deterministic; // training.deterministic
    std::unique_ptr<OwnStream> m_stream;                              // the run's own CUDA stream, on a GPU
    double m_pausedSeconds = 0.0;
    std::unique_ptr<EarlyStoppingWatch> m_earlyStopping;
};

void Trainer::prepare(const std::string& deviceId) {
    m_device = torch::Device(deviceId);
    if (m_options.dataParallel.enabled()) {
        try {
            m_parallel = std::make_unique<detail::DataParallelRun>(m_options.dataParallel, m_device);
        } catch (const std::runtime_error& error) {
            throw RunEnded{RunStatus::Failed, error.what()};
        }
    }
    detail::RunData run;
    try {
        run = detail::prepareRunData(m_spec, m_options.teacher.get(), m_device);
    } catch (const std::runtime_error& error) {
        throw RunEnded{RunStatus::Failed, error.what()};
    }
    m_data = std::move(run.data);
    m_tensors = std::move(run.tensors);
    const DataSplit& split = run.split;
    m_augmenter = detail::Augmenter(m_spec.augment, m_spec.seed);
    // Initialise on the CPU from the run's own generator, so a seed gives the same network on every device.
    auto generator = at::make_generator<at::CPUGeneratorImpl>(m_spec.seed);
    m_network = detail::Network(m_spec.model, m_data.sampleShape, generator);
    if (m_spec.init.fromWeights() && !m_options.resumeFrom)
        initialise();
    if (m_spec.init.freezeBatchNorm)
        m_network->freezeBatchNormOf(m_spec.init.freezeLayers);
    m_network->to(m_device);
    if (!m_device.is_cpu())
        m_network->setDropoutGenerator(c10::nullopt);
    m_network->train();
    m_flat = detail::flattenParameters(*m_network, m_parallel ? detail::kExchangeControlWords : 0);
    m_frozen = detail::FrozenLayers(m_network, m_flat, m_spec.init.freezeLayers);
    m_rates = detail::LayerRates(m_network, m_spec.model);
    m_fakeQuantized = detail::FakeQuantizedWeights(m_network, m_spec.model, m_spec.fakeQuantize);
    if (m_spec.fakeQuantize.enabled && m_spec.fakeQuantize.activations)
        m_network->fakeQuantizeActivations();
    m_masks = detail::WeightMasks(m_network, m_flat, m_spec.model, m_spec.prune, m_spec.training.epochs);
    m_summary.parameters = m_flat.values.numel();
    {
        // Fairness evidence: equal seeds and data give equal hashes, whatever the optimizer.
        auto initial = m_flat.values.to(torch::kCPU).contiguous();
        m_summary.initialParametersHash =
            initial.numel() > 0 ? fnv1a64(initial.data_ptr(), initial.numel() * initial.element_size())
                                : kFnvOffsetBasis;
        m_summary.batchOrderHash = kFnvOffsetBasis;
    }
    m_trainRows = split.train;
    m_health.attach(m_network, m_flat);
    m_optimizer = detail::makeOptimizer(m_spec.optimizer, m_flat.values);

    const int64_t trainRows = m_tensors.trainX.size(0);
    m_batchSize = m_spec.training.fullBatch ? trainRows : std::min(m_spec.training.batchSize, trainRows);
    m_stepsPerEpoch = (trainRows + m_batchSize - 1) / m_batchSize;
    m_schedule = std::make_unique<LearningRateSchedule>(m_spec.schedule, m_spec.optimizer.lr,
                                                        m_spec.training.epochs, m_stepsPerEpoch);
    m_shuffleRandom.seed(m_spec.seed * 0x9E3779B97F4A7C15ULL + 17);
    if (m_options.resumeFrom)
        resume(*m_options.resumeFrom);
    if (m_parallel) {
        try {
            m_parallel->agree(experimentFingerprint(), m_flat);
        } catch (const std::runtime_error& error) {
            throw RunEnded{RunStatus::Failed, error.what()};
        }
        m_notes.push_back(m_parallel->note());
    }
}

// What every process of a data-parallel run must share: the experiment (wherever it runs), the
// training rows and the network's size.
uint64_t Trainer::experimentFingerprint() const {
    ExperimentSpec shared = m_spec;
    shared.device.clear();
    const std::string json = experimentSpecToJson(shared, -1);
    const int64_t numbers[] = {m_tensors.trainX.size(0), m_flat.values.numel(), m_batchSize,
                               m_options.lastEpoch, m_options.resumeFrom ? m_options.resumeFrom->epoch : 0};
    return fnv1a64(numbers, sizeof(numbers), fnv1a64(json.data(), json.size()));
}

void Trainer::initialise() {
    try {
        if (std::string note =
                detail::initialiseFromTrained(m_network, m_spec.init, m_options.initialWeights);
            !note.empty())
            m_notes.push_back(std::move(note));
    } catch (const std::runtime_error& error) {
        throw RunEnded{RunStatus::Failed, error.what()};
    }
}

void Trainer::resume(const TrainingCheckpoint& from) {
    const int last = lastEpoch();
    if (last <= from.epoch)
        throw RunEnded{RunStatus::Failed, "the run continues after epoch " + std::to_string(from.epoch) +
                                              " but would stop at epoch " + std::to_string(last) +
                                              ": set training.epochs above " + std::to_string(from.epoch)};
    try {
        std::string note = detail::restoreCheckpoint(
            from, detail::TrainingState{m_network, m_flat, *m_optimizer, m_spec.optimizer, m_shuffleRandom});
        if (!note.empty())
            m_notes.push_back(std::move(note));
    } catch (const std::runtime_error& error) {
        throw RunEnded{RunStatus::Failed, error.what()};
    }
    m_step = from.step;
    m_summary.epochs = from.epoch;
    m_summary.steps = from.step;
}

std::shared_ptr<const TrainingCheckpoint> Trainer::checkpoint(int epoch) {
    return std::make_shared<const TrainingCheckpoint>(detail::captureCheckpoint(
        detail::TrainingState{m_network, m_flat, *m_optimizer, m_spec.optimizer, m_shuffleRandom}, epoch,
        m_step));
}

// A data-parallel run does not pause: the other processes would wait for this one.
void Trainer::waitWhilePaused() {
    if (m_parallel || !m_control.paused.load(std::memory_order_relaxed))
        return;
    flushSteps();
    const auto start = Clock::now();
    while (m_control.paused.load() && !m_control.stopRequested.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    m_pausedSeconds += secondsSince(start);
}

// `share`: this process's part of the global batch (1 when it trains alone). Its mean loss times
// its share, summed over the processes, is the global batch's mean loss, and so are the gradients.
void Trainer::step(const detail::TrainingBatch& batch, int epoch, double share) {
    const double lr = m_schedule->learningRate(m_step, epoch - 1);
    const bool fused = m_optimizer->fusedCpu();
    if (!fused)
        m_flat.grads.zero_(); // the fused CPU step leaves the gradient zeroed itself
    m_fakeQuantized.round();
    torch::Tensor loss;
    if (batch.x.size(0) > 0) {
        auto output = detail::forwardInPrecision(
            m_spec.training.precision, [&] { return m_network->forward(batch.x); }, m_device);
        loss = detail::computeLoss(m_spec.loss, output, batch.y);
        if (batch.partnerY.defined()) // mixup: the mixed samples' labels, mixed alike
            loss = loss * batch.mix +
                   detail::computeLoss(m_spec.loss, output, batch.partnerY) * (1.0 - batch.mix);
        if (batch.teacher.defined())
            loss = detail::distillationLoss(output, loss, batch.teacher, m_spec.distill);
        if (share < 1.0)
            loss = loss * share;
        loss.backward();
    } else {
        loss = torch::zeros({}, m_flat.values.options()); // a batch smaller than the processes
    }
    m_fakeQuantized.restore();
    bool flushNow = static_cast<int>(m_pendingSteps.size()) + 1 >= m_options.stepFlushSteps ||
                    secondsSince(m_lastFlush) >= m_options.stepFlushSeconds;
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
    const bool sample = m_sampleNextStep && m_health.hasLayers();
    if (sample) {
        m_sampleNextStep = false;
        m_health.sampleGradients(m_step + 1);
    }
    const double clip = m_spec.training.gradClipNorm;
    m_rates.beforeStep(m_flat);
    StepRecord record{m_step + 1, epoch, 0.0f, static_cast<float>(lr), 0.0f};
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

EpochRecord Trainer::validate(int epoch, double seconds) {
    EpochRecord record;
    record.epoch = epoch;
    record.step = m_step;
    record.trainLoss =
        m_epochLossCount > 0 ? m_epochLossSum / static_cast<double>(m_epochLossCount) : kNoValue;
    record.learningRate = m_schedule->learningRate(std::max<int64_t>(m_step - 1, 0), epoch - 1);
    if (m_tensors.valX.defined()) {
        const auto scores = detail::scoreValidation(m_network, m_tensors, m_spec.loss, m_data.task);
        record.valLoss = scores.loss;
        record.valAccuracy = scores.accuracy;
        record.valMae = scores.mae;
    }
    record.seconds = seconds;
    return record;
}

void Trainer::afterEpoch(const EpochRecord& record) {
    m_summary.epochs = record.epoch;
    m_summary.trainLoss = record.trainLoss;
    m_summary.valLoss = record.valLoss;
    m_summary.valAccuracy = record.valAccuracy;
    m_summary.valMae = record.valMae;
    m_schedule->epochEnded(std::isfinite(record.valLoss) ? record.valLoss : record.trainLoss);
    if (!m_earlyStopping)
        m_earlyStopping = std::make_unique<EarlyStoppingWatch>(m_spec.training, m_tensors.valX.defined());
    std::string ending = m_earlyStopping->afterEpoch(record);
    m_summary.bestEpoch = m_earlyStopping->bestEpoch();
    if (!ending.empty())
        throw RunEnded{RunStatus::Completed, std::move(ending)};
}

void Trainer::finish(RunStatus status, const std::string& message) {
    m_summary.status = status;
    m_summary.message = message;
    RunEvent event;
    event.kind = RunEventKind::Finished;
    event.runId = m_id;
    if (m_network && status != RunStatus::Failed && status != RunStatus::Diverged) {
        try {
            event.model = std::make_shared<const std::vector<char>>(detail::saveStateDict(*m_network));
            if (m_optimizer)
                event.checkpoint = checkpoint(m_summary.epochs);
        } catch (const std::exception& error) {
            m_summary.message += (m_summary.message.empty() ? "" : "; ") +
                                 std::string("the model could not be saved: ") + error.what();
        }
    }
    if (!m_masks.empty())
        m_notes.push_back(m_masks.summary());
    if (m_deterministic) {
        std::string unmet;
        for (const std::string& operation : m_deterministic->unmet())
            unmet += (unmet.empty() ? "" : ", ") + operation;
        if (!unmet.empty())
            m_notes.push_back("training.deterministic: not reproducible on " + m_summary.device +
                              ", these operations have no deterministic implementation there: " + unmet);
        m_deterministic.reset();
    }
    if (status != RunStatus::Failed)
        for (const std::string& note : m_notes)
            m_summary.message += (m_summary.message.empty() ? "" : "; ") + note;
    event.summary = m_summary;
    m_sink.onRunEvent(event);
}

RunSummary Trainer::run() {
    m_summary.status = RunStatus::Running;
    Clock::time_point trainStart;
    bool training = false;
    auto stopClock = [&] {
        if (!training)
            return;
        training = false;
        m_summary.trainSeconds = std::max(0.0, secondsSince(trainStart) - m_pausedSeconds);
        m_summary.stepsPerSecond =
            m_summary.trainSeconds > 0.0 ? m_summary.steps / m_summary.trainSeconds : 0.0;
    };
    try {
        auto device = resolveDevice(m_options.device.empty() ? m_spec.device : m_options.device);
        if (!device.ok())
            throw RunEnded{RunStatus::Failed, device.error()};
        setComputeThreads(m_options.threads);
        lowerThreadPriority(m_options.niceness);
        if (m_spec.training.deterministic)
            m_deterministic =
                std::make_unique<detail::DeterministicAlgorithms>(device.value().rfind("cuda", 0) == 0);
        m_summary.device = device.value();
        m_stream = std::make_unique<OwnStream>(device.value());
        RunEvent started;
        started.kind = RunEventKind::Started;
        started.runId = m_id;
        started.device = device.value();
        m_sink.onRunEvent(started);
        prepare(device.value());

        trainStart = Clock::now();
        m_lastFlush = trainStart;
        training = true;
        for (int epoch = firstEpoch(); epoch <= lastEpoch(); ++epoch) {
            const auto epochStart = Clock::now();
            const double pausedBefore = m_pausedSeconds;
            m_epochLossSum = 0.0;
            m_epochLossCount = 0;
            m_masks.beginEpoch(epoch, m_flat);
            trainEpoch(epoch);
            m_summary.steps = m_step;
            EpochRecord record = validate(epoch, 0.0);
            record.seconds = secondsSince(epochStart) - (m_pausedSeconds - pausedBefore);
            RunEvent event;
            event.kind = RunEventKind::Epoch;
            event.runId = m_id;
            event.epoch = record;
            event.histograms = m_health.weightHistograms(epoch);
            if (m_control.checkpointRequested.exchange(false))
                event.checkpoint = checkpoint(epoch);
            m_sink.onRunEvent(event);
            afterEpoch(record);
        }
        stopClock();
        finish(RunStatus::Completed, {});
    } catch (const RunEnded& ended) {
        if (ended.status != RunStatus::Diverged)
            m_summary.steps = m_step;
        stopClock();
        if ((ended.status == RunStatus::Stopped || ended.status == RunStatus::Pruned) &&
            !m_pendingSteps.empty()) {
            try {
                flushSteps();
            } catch (const RunEnded&) {
            }
        }
        if (!std::isfinite(m_summary.trainLoss) && ended.status != RunStatus::Failed)
            m_summary.trainLoss = m_lastStepLoss;
        finish(ended.status, ended.message);
    } catch (const c10::Error& error) {
        stopClock();
        finish(RunStatus::Failed,
               "training failed at step " + std::to_string(m_step) + ": " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        stopClock();
        finish(RunStatus::Failed, "training failed at step " + std::to_string(m_step) + ": " + error.what());
    }
    return m_summary;
}

} // namespace

RunSummary trainExperiment(RunId id, const ExperimentSpec& spec, const RunOptions& options,
                           RunControl& control, RunEventSink& sink) {
    Trainer trainer(id, spec, options, control, sink);
    return trainer.run();
}

} // namespace tunelab
