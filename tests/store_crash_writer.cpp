// Helper for the run store's crash tests: writes runs (or a running trial) into a store until it
// is killed.
//
//   store_crash_writer <db path> <runs> [microseconds to sleep between step batches]
//
// Each line on stdout is a promise the store must keep after a SIGKILL, so it is printed only
// after flush() returned:
//   started <id>             the run row is committed
//   steps <id> <last step>   steps 1..last of the run are committed
//   finished <id>            the run is completed with all its steps, epochs and its model
// The shape of a run (and its values) is what tst_run_store expects; keep the two in step.
//
//   store_crash_writer <db path> trial
//
// creates study "crash study" with one running trial (parameter "lr" = 0.1) and kTrialEpochs
// intermediate values 1/epoch, prints "ready <study id> <trial id>" once all of it is committed,
// then waits to be killed, so the trial is left running by a process that no longer exists.

#include "store/run_store.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

using namespace tunelab;

namespace {

constexpr int kEpochs = 3;
constexpr int kBatchesPerEpoch = 4;
constexpr int kStepsPerBatch = 25;
constexpr size_t kModelBytes = 64 * 1024;

// Flushes right away, so the test sees each line as soon as it is true.
void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

constexpr int kTrialEpochs = 3;

int leaveRunningTrial(RunStore& store) {
    auto study = store.createStudy("crash study", "{}");
    if (!study) {
        std::fprintf(stderr, "%s\n", study.error().c_str());
        return 1;
    }
    auto trial = store.createTrial(study.value(), {{"lr", ParamValue{"0.1"}}}, TrialState::Running);
    if (!trial) {
        std::fprintf(stderr, "%s\n", trial.error().c_str());
        return 1;
    }
    for (int epoch = 1; epoch <= kTrialEpochs; ++epoch)
        store.reportIntermediate(trial.value().id, epoch, 1.0 / epoch);
    store.flush();
    say("ready " + std::to_string(study.value()) + " " + std::to_string(trial.value().id));
    for (;;)
        std::this_thread::sleep_for(std::chrono::seconds(1));
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: store_crash_writer <db path> <runs> [sleep microseconds]\n"
                             "       store_crash_writer <db path> trial\n");
        return 2;
    }
    const int runs = std::atoi(argv[2]);
    const auto pause = std::chrono::microseconds(argc > 3 ? std::atoi(argv[3]) : 0);

    auto opened = RunStore::open(argv[1]);
    if (!opened) {
        std::fprintf(stderr, "%s\n", opened.error().c_str());
        return 1;
    }
    std::unique_ptr<RunStore> store = opened.take();
    if (std::strcmp(argv[2], "trial") == 0)
        return leaveRunningTrial(*store);

    for (int index = 0; index < runs; ++index) {
        auto created = store->createRun("crash " + std::to_string(index), "{\"crash\": true}");
        if (!created) {
            std::fprintf(stderr, "%s\n", created.error().c_str());
            return 1;
        }
        const RunId id = created.value();
        say("started " + std::to_string(id));

        RunEvent started;
        started.kind = RunEventKind::Started;
        started.runId = id;
        started.device = "cpu";
        store->onRunEvent(started);

        int64_t step = 0;
        for (int epoch = 1; epoch <= kEpochs; ++epoch) {
            for (int batch = 0; batch < kBatchesPerEpoch; ++batch) {
                RunEvent steps;
                steps.kind = RunEventKind::Steps;
                steps.runId = id;
                for (int i = 0; i < kStepsPerBatch; ++i) {
                    ++step;
                    steps.steps.push_back({step, epoch, 1.0f / float(step), 0.01f, float(step % 13)});
                }
                store->onRunEvent(steps);
                // Every second batch is flushed, so some transactions carry two events.
                if (batch % 2 == 1) {
                    store->flush();
                    say("steps " + std::to_string(id) + " " + std::to_string(step));
                }
                if (pause.count() > 0)
                    std::this_thread::sleep_for(pause);
            }
            RunEvent epochEvent;
            epochEvent.kind = RunEventKind::Epoch;
            epochEvent.runId = id;
            epochEvent.epoch.epoch = epoch;
            epochEvent.epoch.step = step;
            epochEvent.epoch.trainLoss = 1.0 / epoch;
            epochEvent.epoch.valLoss = 2.0 / epoch;
            epochEvent.epoch.seconds = 0.5;
            store->onRunEvent(epochEvent);
        }

        RunEvent finished;
        finished.kind = RunEventKind::Finished;
        finished.runId = id;
        finished.summary.status = RunStatus::Completed;
        finished.summary.epochs = kEpochs;
        finished.summary.steps = step;
        finished.summary.trainLoss = 1.0 / kEpochs;
        finished.summary.bestEpoch = kEpochs;
        auto model = std::make_shared<std::vector<char>>(kModelBytes);
        for (size_t i = 0; i < model->size(); ++i)
            (*model)[i] = static_cast<char>((id * 31 + int64_t(i)) & 0xff);
        finished.model = model;
        store->onRunEvent(finished);
        store->flush();
        say("finished " + std::to_string(id));
    }
    return 0;
}
