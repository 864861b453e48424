#pragma once

// Private to the engine: the trainer's run, shared by trainer.cpp (preparing, epochs, the end)
// and trainer_steps.cpp (an epoch's batches and each step).

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
#include "training/training_step.h"
#include "training/training_tensors.h"
#include "training/weight_masks.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <thread>

namespace tunelab::detail {

using Clock = std::chrono::steady_clock;

// Health samples are taken at one step after every this many metric flushes (docs/gradient-health.md).
constexpr int kHealthSampleEveryFlushes = 1;

inline double secondsSince(Clock::time_point start) {
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
    std::pair<torch::Tensor, torch::Tensor> replayableStep(const detail::TrainingBatch& batch,
                                                           const torch::Tensor& scalars);
    void recordStep(const torch::Tensor& loss, const StepRecord& record, bool flushNow, bool stopAfterStep);
    void endIfStopRequested();
    uint64_t experimentFingerprint() const;
    // Refuses a batch size that gives batch norm single rows, and leaves out a last batch that would.
    void leaveOutSingleRowBatches(int64_t trainRows);
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
    std::unique_ptr<detail::ReplayedStep> m_replayed; // the step as a CUDA graph, where the run allows
    bool m_replayProblemNoted = false;
    double m_pausedSeconds = 0.0;
    std::unique_ptr<EarlyStoppingWatch> m_earlyStopping;
};

} // namespace tunelab::detail
