#include "train_command.h"

#include "common/zip_archive_check.h"
#include "exit_codes.h"
#include "json_output.h"
#include "model/validation.h"
#include "progress_printer.h"
#include "store/run_store.h"
#include "store_access.h"
#include "train_processes.h"
#include "training/run_manager.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <unistd.h>

namespace tunelab::cli {

namespace {

volatile std::sig_atomic_t g_interruptCount = 0;

// The first Ctrl-C asks the run to stop (it is kept, as stopped); a second one leaves at once.
extern "C" void onInterrupt(int) {
    if (++g_interruptCount > 1)
        _exit(kExitInterrupted);
}

// The checkpoint of run `id` to continue from; when `spec` is given, it receives the run's experiment.
Result<std::shared_ptr<const TrainingCheckpoint>> parentCheckpoint(const RunStore& store, RunId id,
                                                                   ExperimentSpec* spec) {
    using Found = Result<std::shared_ptr<const TrainingCheckpoint>>;
    const auto run = store.run(id);
    if (!run)
        return Found::failure("--from: there is no run " + std::to_string(id) + " in " + store.path());
    auto checkpoint = store.checkpoint(id);
    if (!checkpoint)
        return Found::failure("--from: run " + std::to_string(id) + " (" + toString(run->status) +
                              ") kept no checkpoint to continue from: a run keeps one when it ends with its "
                              "weights intact (completed, stopped or pruned)");
    if (const std::string damage = zipArchiveDamage(checkpoint->state.data(), checkpoint->state.size());
        !damage.empty())
        return Found::failure("--from: run " + std::to_string(id) + "'s checkpoint is damaged: " + damage +
                              "; `tunelab-cli store check` lists everything damaged in " + store.path());
    if (spec) {
        auto parsed = parseExperimentSpec(run->specJson);
        if (!parsed.ok())
            return Found::failure("--from: run " + std::to_string(id) +
                                  "'s experiment cannot be read: " + parsed.error());
        *spec = parsed.take();
    }
    return Found(std::make_shared<const TrainingCheckpoint>(std::move(*checkpoint)));
}

void catchInterrupts() {
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

// Kills the ranks a launcher started when it leaves before its own training starts: they would
// wait for it until their timeout.
struct StartedRanksGuard {
    const TrainProcesses& processes;
    bool released = false;
    ~StartedRanksGuard() {
        if (released)
            return;
        for (const pid_t pid : processes.started)
            ::kill(pid, SIGKILL);
        waitForStartedRanks(processes);
    }
};

struct LastEventSink : RunEventSink {
    void onRunEvent(const RunEvent& event) override {
        if (event.kind == RunEventKind::Finished && !event.summary.message.empty() &&
            event.summary.status != RunStatus::Completed)
            std::fprintf(stderr, "process %d: %s: %s\n", rank, toString(event.summary.status),
                         event.summary.message.c_str());
    }
    int rank = 0;
};

int exitCodeOf(RunStatus status) {
    switch (status) {
    case RunStatus::Completed:
        return kExitSuccess;
    case RunStatus::Stopped:
    case RunStatus::Pruned:
        return kExitInterrupted;
    default:
        return kExitRunFailed;
    }
}

// A rank other than 0 of a data-parallel run trains its share and records nothing: rank 0's run is
// the one in the store. It reads what the spec starts from (fine-tuned weights, a teacher) itself.
int trainAsOtherRank(const ExperimentSpec& spec, RunOptions runOptions, const std::string& dbPath,
                     std::unique_ptr<RunStore> store) {
    if (!store && (spec.init.run > 0 || spec.distill.enabled()) && !(store = openRunStore(dbPath)))
        return kExitBadInput;
    if (const std::string problem = readStoredInputs(store.get(), spec, runOptions); !problem.empty()) {
        std::fprintf(stderr, "error: %s\n", problem.c_str());
        return kExitBadInput;
    }
    catchInterrupts();
    RunControl control;
    LastEventSink sink;
    sink.rank = runOptions.dataParallel.rank;
    std::atomic<bool> done{false};
    RunSummary summary;
    std::thread training([&] {
        summary = trainExperiment(0, spec, runOptions, control, sink);
        done = true;
    });
    while (!done) {
        if (g_interruptCount > 0)
            control.stopRequested = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    training.join();
    return exitCodeOf(summary.status);
}

} // namespace

int runTrain(const TrainOptions& options) {
    const bool forking = options.fromRun > 0;
    if (!options.specPath.empty() && options.useDefault) {
        std::fprintf(stderr, "error: give a spec file or --default (not both)\n");
        return kExitBadInput;
    }
    if (options.specPath.empty() && !options.useDefault && !forking) {
        std::fprintf(stderr, "error: give a spec file, --default or --from RUN\n");
        return kExitBadInput;
    }
    const std::string dbPath = runStorePath(options.dbPath);
    std::unique_ptr<RunStore> store;
    std::shared_ptr<const TrainingCheckpoint> checkpoint;
    ExperimentSpec spec = defaultExperiment();
    if (forking) {
        store = openRunStore(dbPath);
        if (!store)
            return kExitBadInput;
        auto parent = parentCheckpoint(*store, options.fromRun, options.specPath.empty() ? &spec : nullptr);
        if (!parent.ok()) {
            printErrors(parent.errors());
            return kExitBadInput;
        }
        checkpoint = parent.take();
    }
    if (!options.specPath.empty()) {
        auto loaded = loadExperimentSpec(options.specPath);
        if (!loaded.ok()) {
            printErrors(loaded.errors());
            return kExitBadInput;
        }
        spec = loaded.take();
    }
    if (options.epochs > 0)
        spec.training.epochs = options.epochs;
    if (checkpoint && spec.training.epochs <= checkpoint->epoch) {
        std::fprintf(
            stderr,
            "error: run %lld stopped after epoch %d and this experiment trains to epoch %d: give --epochs "
            "above %d to continue it\n",
            static_cast<long long>(options.fromRun), checkpoint->epoch, spec.training.epochs,
            checkpoint->epoch);
        return kExitBadInput;
    }
    if (!options.device.empty())
        spec.device = options.device;
    if (const std::string problem = deviceStringError(spec.device); !problem.empty()) {
        std::fprintf(stderr, "error: --device: %s\n", problem.c_str());
        return kExitBadInput;
    }

    // Check data and shapes before a run is recorded, so a typo does not leave a failed run behind.
    auto check = checkExperiment(spec);
    if (!check.ok()) {
        printErrors(check.errors());
        return kExitBadInput;
    }
    const int64_t rows = check.value().data->rows;
    const auto validationRows =
        static_cast<int64_t>(spec.data.validationFraction * static_cast<double>(rows) + 0.5);
    const int64_t trainRows = std::max<int64_t>(rows - validationRows, 1);
    const int64_t batch = spec.training.fullBatch ? trainRows : std::min(spec.training.batchSize, trainRows);
    const int64_t stepsPerEpoch = (trainRows + batch - 1) / batch;

    auto joined = joinTrainProcesses(options.worldSize);
    if (!joined.ok()) {
        printErrors(joined.errors());
        return kExitBadInput;
    }
    const TrainProcesses& processes = joined.value();
    StartedRanksGuard startedRanks{processes};
    RunOptions runOptions;
    runOptions.threads = threadsPerProcess(options.threads, processes);
    runOptions.resumeFrom = checkpoint;
    runOptions.dataParallel = processes.settings;
    runOptions.cudaGraphs = !options.noCudaGraphs;
    if (processes.settings.rank > 0)
        return trainAsOtherRank(spec, runOptions, dbPath, std::move(store));

    if (!store)
        store = openRunStore(dbPath);
    if (!store)
        return kExitBadInput;

    RunManager manager(store.get());
    auto started = manager.start(spec, runOptions, options.fromRun);
    if (!started.ok()) {
        printErrors(started.errors());
        return checkStoreSaved(*store, kExitBadInput); // a store that cannot record the run is exit 4
    }
    startedRanks.released = true;
    const RunId id = started.value();
    if (processes.settings.enabled())
        std::fprintf(stderr, "run %lld: training over %d processes (data parallel, rank 0 records)\n",
                     static_cast<long long>(id), processes.settings.worldSize);
    catchInterrupts();

    std::FILE* progressOut = options.json ? stderr : stdout;
    ProgressPrinter printer(progressOut, spec.training.epochs, stepsPerEpoch);
    RunSummary summary;
    bool finished = false;
    bool stopRequested = false;
    while (!finished) {
        if (g_interruptCount > 0 && !stopRequested) {
            stopRequested = true;
            manager.requestStop(id);
        }
        manager.events().waitForEvents(std::chrono::milliseconds(50));
        for (const RunEvent& event : manager.events().drain()) {
            printer.onEvent(event);
            if (event.kind == RunEventKind::Finished) {
                summary = event.summary;
                finished = true;
            }
        }
    }
    manager.waitForAll();
    waitForStartedRanks(processes);
    // The run is complete on disk before we report it; what the store could not save is said, and
    // a run whose end was not saved is reported as the store will show it: interrupted.
    store->flush();
    printer.finish();
    const std::string storeError = store->lostWritesReport();
    if (lostFinalStatus(store->lostWrites(), id)) {
        std::fprintf(stderr,
                     "run %lld %s, but the run store could not save its end: it will read as interrupted\n",
                     static_cast<long long>(id), toString(summary.status));
        summary.message = "trained to the end as " + std::string(toString(summary.status)) +
                          ", but the run store could not save it";
        summary.status = RunStatus::Interrupted;
    } else if (summary.status == RunStatus::Completed) {
        std::fprintf(progressOut, "run %lld completed: %d epochs, %lld steps in %.2f s (%.0f steps/s)%s%s\n",
                     static_cast<long long>(id), summary.epochs, static_cast<long long>(summary.steps),
                     summary.trainSeconds, summary.stepsPerSecond, summary.message.empty() ? "" : "; ",
                     summary.message.c_str());
    } else {
        std::fprintf(stderr, "run %lld %s: %s\n", static_cast<long long>(id), toString(summary.status),
                     summary.message.c_str());
    }
    if (options.json) {
        auto json = summaryToJson(id, spec.name, summary);
        addStoreError(json, *store);
        std::printf("%s\n", json.dump().c_str());
    } else if (storeError.empty()) {
        std::printf("run %lld stored in %s\n", static_cast<long long>(id), dbPath.c_str());
    } else {
        std::printf("run %lld not stored completely in %s\n", static_cast<long long>(id), dbPath.c_str());
    }
    std::fflush(stdout);

    return checkStoreSaved(*store, exitCodeOf(summary.status));
}

} // namespace tunelab::cli
