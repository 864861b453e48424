#include "race_command.h"

#include "common/atomic_file.h"
#include "common/machine_limits.h"
#include "exit_codes.h"
#include "json_output.h"
#include "race/lr_range_test.h"
#include "race/race.h"
#include "race/race_runner.h"
#include "store/run_store.h"
#include "store_access.h"
#include "text_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <unistd.h>

namespace tunelab::cli {

namespace {

volatile std::sig_atomic_t g_raceInterrupts = 0;

// The first Ctrl-C stops the race (its runs are kept, as stopped); a second one leaves at once.
extern "C" void onRaceInterrupt(int) {
    if (++g_raceInterrupts > 1)
        _exit(kExitInterrupted);
}

void printErrorLines(const std::vector<std::string>& errors) {
    for (const auto& error : errors)
        std::fprintf(stderr, "error: %s\n", error.c_str());
}

nlohmann::ordered_json rangeTestJson(const LrRangeResult& curve, bool withPoints) {
    nlohmann::ordered_json json;
    json["suggested_lr"] = numberOrNull(curve.suggestedLearningRate);
    json["steps"] = curve.points.size();
    json["blew_up"] = curve.blewUp;
    json["message"] = curve.message;
    if (withPoints) {
        nlohmann::ordered_json points = nlohmann::ordered_json::array();
        for (const auto& point : curve.points)
            points.push_back({{"lr", point.learningRate},
                              {"loss", numberOrNull(point.loss)},
                              {"smoothed_loss", numberOrNull(point.smoothedLoss)}});
        json["points"] = std::move(points);
    }
    return json;
}

std::string rangeTestLine(const std::string& setup, const LrRangeResult& curve, int nameWidth) {
    char line[256];
    std::snprintf(line, sizeof(line), "  %-*s suggested lr %s (%zu steps%s)%s%s", nameWidth, setup.c_str(),
                  formatNumber(curve.suggestedLearningRate, "%.3g").c_str(), curve.points.size(),
                  curve.blewUp ? ", blew up" : "", curve.message.empty() ? "" : ": ", curve.message.c_str());
    return line;
}

void printResultsTable(std::FILE* out, const std::vector<RaceEntryResult>& results, double targetLoss) {
    int nameWidth = 5;
    for (const auto& result : results)
        nameWidth = std::max(nameWidth, static_cast<int>(result.setup.size()));
    const std::string target = std::isfinite(targetLoss) ? formatNumber(targetLoss, "%.4g") : "-";
    std::fprintf(out, "%-*s  %10s  %10s  %10s  %12s  %12s  %-10s  %8s\n", nameWidth, "setup", "lr",
                 "final val", "best val", "steps<=tgt", "s<=tgt", "status", "wall s");
    for (const auto& result : results) {
        std::fprintf(out, "%-*s  %10s  %10s  %10s  %12s  %12s  %-10s  %8s\n", nameWidth, result.setup.c_str(),
                     formatNumber(result.learningRate, "%.4g").c_str(),
                     formatNumber(result.finalValLoss).c_str(), formatNumber(result.bestValLoss).c_str(),
                     result.stepsToTarget < 0 ? "-" : std::to_string(result.stepsToTarget).c_str(),
                     formatNumber(result.secondsToTarget, "%.2f").c_str(), toString(result.status),
                     formatNumber(result.wallSeconds, "%.2f").c_str());
    }
    std::fprintf(out, "target validation loss: %s\n", target.c_str());
    for (const auto& result : results)
        if (!result.message.empty())
            std::fprintf(out, "%s: %s\n", result.setup.c_str(), result.message.c_str());
}

} // namespace

int runRace(const RaceOptions& options) {
    if (const std::string problem = threadsProblem(options.threads); !problem.empty()) {
        std::fprintf(stderr, "error: --%s\n", problem.c_str());
        return kExitBadInput;
    }
    auto loaded = loadRaceSpec(options.racePath);
    if (!loaded.ok()) {
        printErrorLines(loaded.errors());
        return kExitBadInput;
    }
    const RaceSpec spec = loaded.take();
    if (!options.device.empty())
        if (const std::string problem = deviceStringError(options.device); !problem.empty()) {
            std::fprintf(stderr, "error: --device: %s\n", problem.c_str());
            return kExitBadInput;
        }
    const std::string dbPath = options.dbPath.empty() ? RunStore::defaultPath() : options.dbPath;
    auto store = RunStore::open(dbPath);
    if (!store.ok()) {
        printErrorLines(store.errors());
        return kExitBadInput;
    }

    std::FILE* progressOut = options.json ? stderr : stdout;
    int nameWidth = 0;
    for (const auto& setup : spec.setups)
        nameWidth = std::max(nameWidth, static_cast<int>(setup.name.size()));
    RaceRunOptions runOptions;
    runOptions.device = options.device;
    runOptions.threadsPerSetup = options.threads;

    struct sigaction action {};
    action.sa_handler = onRaceInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    RaceRunner runner(store.value().get());
    const auto start = std::chrono::steady_clock::now();
    auto started = runner.start(spec, runOptions);
    if (!started.ok()) {
        printErrorLines(started.errors());
        return checkStoreSaved(*store.value(), kExitBadInput);
    }
    // The race's events, drained here as they come: progress lines, and the scoreboard that
    // holds the results table.
    RaceScoreboard scoreboard(spec);
    std::map<std::string, LrRangeResult> curves;
    bool stopSent = false;
    while (!scoreboard.finished()) {
        if (g_raceInterrupts > 0 && !stopSent) {
            stopSent = true;
            runner.requestStop();
        }
        // Wakes for the next event, or to notice Ctrl-C.
        runner.events().waitForEvents(std::chrono::milliseconds(50));
        for (const RaceEvent& event : runner.events().drain()) {
            const int setup = scoreboard.apply(event);
            const std::string name =
                setup >= 0 ? spec.setups[static_cast<size_t>(setup)].name : std::string();
            if (event.kind == RaceEventKind::RangeTested) {
                if (curves.empty())
                    std::fprintf(progressOut, "range tests (fair learning rates):\n");
                curves[name] = event.rangeTest;
                std::fprintf(progressOut, "%s\n", rangeTestLine(name, event.rangeTest, nameWidth).c_str());
            } else if (event.kind == RaceEventKind::SetupStarted) {
                std::fprintf(progressOut, "started %s as run %lld\n", name.c_str(),
                             static_cast<long long>(event.runId));
            } else if (event.kind == RaceEventKind::Run && event.run.kind == RunEventKind::Finished) {
                std::fprintf(progressOut, "%s %s after %d epochs: val_loss %s\n", name.c_str(),
                             toString(event.run.summary.status), event.run.summary.epochs,
                             formatNumber(event.run.summary.valLoss).c_str());
            }
            std::fflush(progressOut);
        }
    }
    runner.wait();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    RunStore& runStore = *store.value();
    runStore.flush();
    if (!scoreboard.succeeded()) {
        printErrorLines({scoreboard.error()});
        return checkStoreSaved(runStore, kExitBadInput);
    }
    // A set-up whose end the store could not save reads as interrupted there, and so here.
    std::vector<RaceEntryResult> results = scoreboard.results();
    const std::vector<LostWrite> lost = runStore.lostWrites();
    for (auto& result : results) {
        if (lostFinalStatus(lost, result.runId)) {
            result.message = "its end could not be saved in the run store";
            result.status = RunStatus::Interrupted;
        }
    }

    printResultsTable(progressOut, results, spec.targetLoss);
    if (!options.csvPath.empty()) {
        if (auto written = writeFileAtomically(options.csvPath, raceResultsCsv(results)); !written.ok()) {
            std::fprintf(stderr, "error: --csv: %s\n", written.error().c_str());
            return checkStoreSaved(runStore, kExitStoreFailed);
        }
    }
    if (options.json) {
        nlohmann::ordered_json json;
        json["race"] = spec.name;
        json["target_loss"] = numberOrNull(spec.targetLoss);
        json["fair_learning_rates"] = spec.fairLearningRates;
        json["seconds"] = seconds;
        nlohmann::ordered_json entries = nlohmann::ordered_json::array();
        for (const auto& result : results) {
            nlohmann::ordered_json entry;
            entry["setup"] = result.setup;
            entry["run_id"] = result.runId;
            entry["learning_rate"] = numberOrNull(result.learningRate);
            entry["final_val_loss"] = numberOrNull(result.finalValLoss);
            entry["best_val_loss"] = numberOrNull(result.bestValLoss);
            entry["steps_to_target"] = result.stepsToTarget < 0
                                           ? nlohmann::ordered_json(nullptr)
                                           : nlohmann::ordered_json(result.stepsToTarget);
            entry["seconds_to_target"] = numberOrNull(result.secondsToTarget);
            entry["diverged"] = result.diverged;
            entry["status"] = toString(result.status);
            entry["rank"] = result.rank;
            entry["wall_seconds"] = result.wallSeconds;
            entry["initial_parameters_hash"] = hashText(result.initialParametersHash);
            entry["batch_order_hash"] = hashText(result.batchOrderHash);
            entry["message"] = result.message;
            if (const auto curve = curves.find(result.setup); curve != curves.end())
                entry["range_test"] = rangeTestJson(curve->second, false);
            entries.push_back(std::move(entry));
        }
        json["results"] = std::move(entries);
        addStoreError(json, runStore);
        std::printf("%s\n", json.dump().c_str());
    } else {
        std::printf("runs stored in %s\n", dbPath.c_str());
    }
    std::fflush(stdout);

    if (g_raceInterrupts > 0)
        return checkStoreSaved(runStore, kExitInterrupted);
    const bool anyCompleted = std::any_of(results.begin(), results.end(), [](const RaceEntryResult& result) {
        return result.status == RunStatus::Completed;
    });
    return checkStoreSaved(runStore, anyCompleted ? kExitSuccess : kExitRunFailed);
}

int runLrFind(const LrFindOptions& options) {
    auto loaded = loadExperimentSpec(options.specPath);
    if (!loaded.ok()) {
        printErrorLines(loaded.errors());
        return kExitBadInput;
    }
    ExperimentSpec spec = loaded.take();
    if (!options.device.empty())
        spec.device = options.device;
    if (const std::string problem = deviceStringError(spec.device); !problem.empty()) {
        std::fprintf(stderr, "error: --device: %s\n", problem.c_str());
        return kExitBadInput;
    }
    if (options.maxLr <= options.minLr) {
        std::fprintf(stderr, "error: --max-lr must be greater than --min-lr\n");
        return kExitBadInput;
    }
    const LrRangeSettings settings{options.minLr, options.maxLr, options.steps};
    auto tested = runLrRangeTest(spec, settings);
    if (!tested.ok()) {
        printErrorLines(tested.errors());
        return kExitBadInput;
    }
    const LrRangeResult& curve = tested.value();
    const bool suggested = std::isfinite(curve.suggestedLearningRate);
    if (options.json) {
        std::printf("%s\n", rangeTestJson(curve, true).dump().c_str());
        return suggested ? kExitSuccess : kExitRunFailed;
    }
    size_t lowest = 0;
    for (size_t i = 0; i < curve.points.size(); ++i)
        if (curve.points[i].smoothedLoss < curve.points[lowest].smoothedLoss)
            lowest = i;
    std::printf(
        "%zu steps, learning rate %s to %s%s\n", curve.points.size(),
        formatNumber(options.minLr, "%.3g").c_str(),
        formatNumber(curve.points.empty() ? options.minLr : curve.points.back().learningRate, "%.3g").c_str(),
        curve.blewUp ? " (stopped at the blow-up)" : "");
    std::printf("%12s  %10s  %10s\n", "lr", "loss", "smoothed");
    const size_t stride = std::max<size_t>(1, curve.points.size() / 12);
    for (size_t i = 0; i < curve.points.size(); i += stride)
        std::printf("%12s  %10s  %10s\n", formatNumber(curve.points[i].learningRate, "%.4g").c_str(),
                    formatNumber(curve.points[i].loss).c_str(),
                    formatNumber(curve.points[i].smoothedLoss).c_str());
    if (!curve.points.empty())
        std::printf("lowest smoothed loss %s at lr %s\n",
                    formatNumber(curve.points[lowest].smoothedLoss).c_str(),
                    formatNumber(curve.points[lowest].learningRate, "%.4g").c_str());
    if (suggested)
        std::printf("suggested learning rate: %s\n",
                    formatNumber(curve.suggestedLearningRate, "%.4g").c_str());
    else
        std::printf("no suggestion: %s\n", curve.message.c_str());
    return suggested ? kExitSuccess : kExitRunFailed;
}

} // namespace tunelab::cli
