#pragma once

#include "common/result.h"
#include "events/run_events.h"
#include "race/lr_range.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

// An optimizer race (docs/race.md): one base experiment trained once per optimizer set-up, every
// set-up from identical initial weights, data order and seed, so that their curves differ by the
// optimizer alone.

struct RaceSetup {
    std::string name;          // "SGD + momentum"; unique within the race
    std::string optimizerJson; // the experiment's "optimizer" object for this set-up
    bool fullBatch = false;    // full-batch gradient descent: training.batch_size "full"
};

struct RaceSpec {
    std::string name;
    std::string experimentJson; // the base experiment (its optimizer is replaced per set-up)
    std::vector<RaceSetup> setups;
    bool fairLearningRates = false; // range-test each set-up and race it at its suggested rate
    LrRangeSettings rangeTest;
    double targetLoss = kNoValue; // "steps/seconds to reach": validation loss at or below this
};

// Reads a race file: "experiment" (object or path), "setups" [{"name", "optimizer": {...},
// "full_batch"}], "fair_learning_rates", "range_test" {"min_lr", "max_lr", "steps"},
// "target_loss". Without "setups" the race uses defaultRaceSetups(). A relative data path in the
// experiment becomes absolute. Errors name their place (setups[2].optimizer.lr: ...).
Result<RaceSpec> parseRaceSpec(std::string_view jsonText, const std::string& baseDirectory = ".");
Result<RaceSpec> loadRaceSpec(const std::string& path);
std::string raceSpecToJson(const RaceSpec& spec);

// The experiment of one set-up: the base with the set-up's optimizer (and learning rate when
// `learningRate` is finite), full batch when asked, and the name "<race> / <set-up>".
Result<std::string> setupExperimentJson(const RaceSpec& spec, const RaceSetup& setup,
                                        double learningRate = kNoValue);

// The race set-ups the workbench offers by default: SGD, SGD + momentum, Nesterov, Adagrad,
// RMSprop, Adam, AdamW, full-batch gradient descent, each with a usual learning rate.
std::vector<RaceSetup> defaultRaceSetups();

struct RaceEntryResult {
    std::string setup;
    RunId runId = 0;
    double learningRate = kNoValue; // the rate raced at (the range test's choice when fair)
    double finalValLoss = kNoValue;
    double bestValLoss = kNoValue;
    int64_t stepsToTarget = -1; // -1: never reached
    double secondsToTarget = kNoValue;
    bool diverged = false;
    RunStatus status = RunStatus::Queued;
    double wallSeconds = 0.0;
    std::string message;
    // Fairness evidence recorded by the trainer: equal across set-ups of one race.
    uint64_t initialParametersHash = 0;
    uint64_t batchOrderHash = 0;
    // 1 for the lowest best validation loss among the set-ups that stayed stable, 2 for the next;
    // 0 for a set-up without a finite loss, or one that diverged or failed (race_scoreboard.h).
    int rank = 0;
};

// One set-up's result from its run's summary and epochs.
RaceEntryResult raceEntryResult(const std::string& setup, const RunSummary& summary,
                                const std::vector<EpochRecord>& epochs, double targetLoss);
// The results table as CSV (one row per set-up, header first).
std::string raceResultsCsv(const std::vector<RaceEntryResult>& results);

} // namespace tunelab
