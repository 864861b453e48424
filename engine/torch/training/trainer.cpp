#include "training/trainer.h"

#include "training/trainer_run.h"

namespace tunelab::detail {

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
    m_notes.insert(m_notes.end(), m_data.warnings.begin(), m_data.warnings.end());
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
    leaveOutSingleRowBatches(trainRows);
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
    // A recorded step holds everything constant but its inputs and the step's numbers: not what
    // changes between steps (masks, frozen layers, layer rates, rounding, mixup's weight, autocast's
    // cached casts) or waits for other processes.
    const bool replayable = m_device.is_cuda() ? m_options.cudaGraphs && detail::ReplayedStep::available()
                                               : m_options.replayableStepsOnCpu;
    if (replayable && !m_parallel && m_frozen.empty() && m_masks.empty() && m_rates.empty() &&
        m_fakeQuantized.empty() && !m_spec.fakeQuantize.enabled && m_spec.augment.mixup == 0.0 &&
        m_spec.training.precision == Precision::Float32)
        m_replayed = std::make_unique<detail::ReplayedStep>(
            [this](const detail::TrainingBatch& batch, const torch::Tensor& scalars) {
                return replayableStep(batch, scalars);
            },
            m_device);
}

// Batch norm normalizes over the rows of a batch in training, and a single row (or none) has nothing
// to normalize by: LibTorch stops the run there. A batch size that gives every step (or every
// process's share of it) fewer than two rows cannot train, and says so before the first step; a
// last batch that small (161 rows in batches of 32 leave one) is left out of each epoch, and the run
// says that too. With shuffling, each epoch leaves out another row.
void Trainer::leaveOutSingleRowBatches(int64_t trainRows) {
    const auto& layers = m_spec.model.layers;
    const auto norm = std::find_if(layers.begin(), layers.end(),
                                   [](const LayerSpec& layer) { return layer.type == LayerType::BatchNorm; });
    if (norm == layers.end())
        return;
    const int64_t processes = m_parallel ? m_parallel->settings().worldSize : 1;
    const auto fewestRows = [&](int64_t batchRows) {
        return batchRows / processes;
    }; // shardOfBatch's smallest
    const std::string layer = "model.layers[" + std::to_string(norm - layers.begin()) + "] (batchnorm)";
    if (fewestRows(m_batchSize) < 2) {
        std::string why = "training.batch_size " + std::to_string(m_batchSize);
        if (m_batchSize == trainRows && m_batchSize < m_spec.training.batchSize)
            why = "the training split's " + std::to_string(trainRows) + (trainRows == 1 ? " row" : " rows");
        throw RunEnded{RunStatus::Failed,
                       why + (processes > 1 ? " shared by " + std::to_string(processes) + " processes" : "") +
                           " gives a step fewer than 2 rows, and " + layer +
                           " normalizes over the rows of a batch in training: use a batch size of at least " +
                           std::to_string(2 * processes)};
    }
    const int64_t lastRows = trainRows - (m_stepsPerEpoch - 1) * m_batchSize;
    if (m_stepsPerEpoch > 1 && fewestRows(lastRows) < 2) {
        --m_stepsPerEpoch;
        m_notes.push_back("each epoch leaves out its last " +
                          (lastRows == 1 ? std::string("row") : std::to_string(lastRows) + " rows") + " (" +
                          std::to_string(trainRows) + " training rows in batches of " +
                          std::to_string(m_batchSize) + "): " + layer +
                          " cannot normalize a batch of fewer than 2 rows" +
                          (processes > 1 ? " per process" : ""));
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

} // namespace tunelab::detail

namespace tunelab {

RunSummary trainExperiment(RunId id, const ExperimentSpec& spec, const RunOptions& options,
                           RunControl& control, RunEventSink& sink) {
    detail::Trainer trainer(id, spec, options, control, sink);
    return trainer.run();
}

} // namespace tunelab
