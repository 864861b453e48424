#pragma once

#include "events/run_events.h"
#include "race/lr_range.h"
#include "race/race.h"

#include <map>
#include <string>
#include <vector>

namespace tunelab {

enum class RaceEventKind { RangeTested, SetupStarted, Run, Finished };

// What a running race reports (RaceRunner::events()), in order; Finished comes once, last.
struct RaceEvent {
    RaceEventKind kind = RaceEventKind::Run;
    int setup = -1;                       // the set-up's index in the race (not for Finished)
    LrRangeResult rangeTest;              // RangeTested: the set-up's curve (fair races)
    RunId runId = 0;                      // SetupStarted
    RunEvent run;                         // Run: one event of the set-up's run
    bool ok = true;                       // Finished: false when the race could not run at all
    std::string error;                    // Finished, when not ok
    std::vector<RaceEntryResult> results; // Finished: one row per set-up, in set-up order
};

// The race's results table, kept from its events: one RaceEntryResult per set-up with the rate it
// races at, its status, final and best validation loss, steps and seconds to the target loss, and
// its rank. The race runner builds its final results with it, and the window and the CLI follow a
// running race with their own, so every view shows the same numbers.
class RaceScoreboard {
public:
    RaceScoreboard() = default;
    // One waiting row per set-up at the set-up's own learning rate (none yet in a fair race, whose
    // range tests choose it).
    explicit RaceScoreboard(const RaceSpec& spec);

    // Applies one event; returns the set-up whose row changed, -1 when none did (Finished replaces
    // every row: it returns -1 too).
    int apply(const RaceEvent& event);

    const std::vector<RaceEntryResult>& results() const { return m_rows; }
    // The row ranked first, or -1.
    int bestRow() const;
    // The set-up a run belongs to, or -1.
    int setupOfRun(RunId runId) const;
    // The Finished event arrived (and whether the race could run; why not).
    bool finished() const { return m_finished; }
    bool succeeded() const { return m_finished && m_error.empty(); }
    const std::string& error() const { return m_error; }

    // For the runner: a set-up that could not start, and the rows that never finished (stopped
    // before their run started).
    void setupFailed(int setup, const std::string& message);
    void stopUnfinished(const std::string& message);
    bool rowFinished(int setup) const;

private:
    void updateRow(size_t index);

    std::vector<RaceEntryResult> m_rows;
    std::vector<double> m_ownRates; // each set-up's own learning rate
    std::vector<std::vector<EpochRecord>> m_epochs;
    std::vector<RunSummary> m_summaries; // the run's summary once finished; status Running before
    std::vector<std::string> m_rangeMessages;
    std::vector<bool> m_finishedRows;
    std::map<RunId, int> m_setupOfRun;
    double m_targetLoss = kNoValue;
    bool m_finished = false;
    std::string m_error;
};

// Sets each row's rank: 1 for the lowest best validation loss among the stable rows (neither
// diverged nor failed) that have one, 0 for the others.
void rankRaceResults(std::vector<RaceEntryResult>& results);

} // namespace tunelab
