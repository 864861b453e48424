#pragma once

#include "events/run_events.h"
#include "spec/spec.h"
#include "training/data_parallel.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tunelab {

// How a run trains, beside its spec: where, on how many threads, and how often it reports.
// A distilling run's teacher (spec.distill.teacher_run): its resolved spec and saved model, read by
// the caller that has the store.
struct TeacherModel {
    int64_t run = 0;
    ExperimentSpec spec;
    std::vector<char> model;
};

struct RunOptions {
    std::string device;             // overrides the spec's device when not empty
    int threads = 1;                // LibTorch intra-op and OpenBLAS threads for this run (0 = one per core)
    int stepFlushSteps = 64;        // step records are pushed in batches of at most this many steps
    double stepFlushSeconds = 0.04; // ... or at least this often while training
    // Scheduling niceness of the run's thread (Linux; 0 keeps the caller's). A window raises it
    // so that the GUI thread, which sleeps most of the time, gets a core as soon as it wakes.
    int niceness = 0;
    // Continue from this checkpoint (a fork, or a population member's next stretch): its weights,
    // optimizer state and position; the first epoch trained is the checkpoint's epoch + 1.
    std::shared_ptr<const TrainingCheckpoint> resumeFrom;
    // The epoch to stop after (0: the spec's epochs). The learning-rate schedule still spans the
    // spec's epochs, so training in stretches follows the schedule of one long run.
    int lastEpoch = 0;
    // Fine-tuning from a run of the store (spec.init.run): its saved model, which the caller that has
    // the store reads (RunManager, the study objective). A spec's init.file is read by the trainer.
    std::shared_ptr<const std::vector<char>> initialWeights;
    // Distilling (spec.distill): the teacher.
    std::shared_ptr<const TeacherModel> teacher;
    // Training over several processes (docs/data-parallel.md): this process's rank and how to reach
    // the others. Every process calls trainExperiment with the same spec; rank 0's events are the run's.
    DataParallelSettings dataParallel;
    // On a GPU, record a training step as a CUDA graph and replay it for the steps after it, where the
    // run allows (docs/gpu.md).
    bool cudaGraphs = true;
    // Tests: on the CPU, run the steps a graph would replay through the same code, eagerly.
    bool replayableStepsOnCpu = false;
};

// Control flags a caller on another thread sets directly; the training loop reads them every step.
struct RunControl {
    std::atomic<bool> stopRequested{false};
    std::atomic<bool> paused{false};
    // Set with stopRequested by a study's pruner: the run ends as Pruned after this epoch.
    std::atomic<int> prunedAfterEpoch{0};
    // Set by anyone: the next epoch's event carries a checkpoint (then the flag is cleared).
    std::atomic<bool> checkpointRequested{false};
};

// Trains one experiment on the calling thread: loads the data, checks the shapes, trains, and
// reports everything through `sink` (Started, Steps, Epoch, then exactly one Finished). Never
// throws: LibTorch and data errors become a failed Finished event with a readable message.
RunSummary trainExperiment(RunId id, const ExperimentSpec& spec, const RunOptions& options,
                           RunControl& control, RunEventSink& sink);

} // namespace tunelab
