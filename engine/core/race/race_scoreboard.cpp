#include "race/race_scoreboard.h"

#include "spec/spec.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tunelab {

namespace {

bool isUnstable(const RaceEntryResult& result) {
    return result.diverged || result.status == RunStatus::Diverged || result.status == RunStatus::Failed;
}

} // namespace

void rankRaceResults(std::vector<RaceEntryResult>& results) {
    std::vector<size_t> ranked;
    for (size_t i = 0; i < results.size(); ++i) {
        results[i].rank = 0;
        if (!isUnstable(results[i]) && std::isfinite(results[i].bestValLoss))
            ranked.push_back(i);
    }
    // Stable: equal losses keep set-up order.
    std::stable_sort(ranked.begin(), ranked.end(),
                     [&](size_t a, size_t b) { return results[a].bestValLoss < results[b].bestValLoss; });
    for (size_t place = 0; place < ranked.size(); ++place)
        results[ranked[place]].rank = static_cast<int>(place) + 1;
}

RaceScoreboard::RaceScoreboard(const RaceSpec& spec)
    : m_rows(spec.setups.size())
    , m_ownRates(spec.setups.size(), kNoValue)
    , m_epochs(spec.setups.size())
    , m_summaries(spec.setups.size())
    , m_rangeMessages(spec.setups.size())
    , m_finishedRows(spec.setups.size(), false)
    , m_targetLoss(spec.targetLoss) {
    for (size_t i = 0; i < spec.setups.size(); ++i) {
        // The rate the set-up's experiment trains at: its optimizer's, or the optimizer's default.
        if (auto text = setupExperimentJson(spec, spec.setups[i]); text.ok())
            if (auto experiment = parseExperimentSpec(text.value()); experiment.ok())
                m_ownRates[i] = experiment.value().optimizer.lr;
        m_rows[i].setup = spec.setups[i].name;
        m_rows[i].learningRate = spec.fairLearningRates ? kNoValue : m_ownRates[i];
        m_summaries[i].status = RunStatus::Queued;
    }
}

int RaceScoreboard::apply(const RaceEvent& event) {
    if (event.kind == RaceEventKind::Finished) {
        m_finished = true;
        m_error = event.ok ? std::string() : (event.error.empty() ? "the race could not run" : event.error);
        if (event.ok) {
            m_rows = event.results;
            rankRaceResults(m_rows);
        }
        return -1;
    }
    if (event.setup < 0 || static_cast<size_t>(event.setup) >= m_rows.size())
        return -1;
    const auto index = static_cast<size_t>(event.setup);
    RaceEntryResult& row = m_rows[index];
    switch (event.kind) {
    case RaceEventKind::RangeTested:
        if (std::isfinite(event.rangeTest.suggestedLearningRate)) {
            row.learningRate = event.rangeTest.suggestedLearningRate;
        } else {
            row.learningRate = m_ownRates[index];
            m_rangeMessages[index] =
                "range test: " + event.rangeTest.message + "; raced at its own learning rate";
            row.message = m_rangeMessages[index];
        }
        return event.setup;
    case RaceEventKind::SetupStarted:
        m_setupOfRun[event.runId] = event.setup;
        row.runId = event.runId;
        m_summaries[index].status = RunStatus::Running;
        updateRow(index);
        return event.setup;
    case RaceEventKind::Run:
        switch (event.run.kind) {
        case RunEventKind::Started:
            m_summaries[index].status = RunStatus::Running;
            break;
        case RunEventKind::Steps:
            return -1; // the table shows epochs; curves are the views' business
        case RunEventKind::Epoch:
            m_epochs[index].push_back(event.run.epoch);
            m_summaries[index].trainSeconds += event.run.epoch.seconds;
            break;
        case RunEventKind::Finished:
            m_summaries[index] = event.run.summary;
            m_finishedRows[index] = true;
            break;
        }
        updateRow(index);
        return event.setup;
    case RaceEventKind::Finished:
        break;
    }
    return -1;
}

// The row from the run's epochs and summary (a live one while it trains), through the same
// raceEntryResult as a finished run's; the rate, the run and the range test's note stay.
void RaceScoreboard::updateRow(size_t index) {
    RaceEntryResult& row = m_rows[index];
    const double learningRate = row.learningRate;
    const RunId runId = row.runId;
    row = raceEntryResult(row.setup, m_summaries[index], m_epochs[index], m_targetLoss);
    row.learningRate = learningRate;
    row.runId = runId;
    const std::string& rangeMessage = m_rangeMessages[index];
    if (!rangeMessage.empty())
        row.message = row.message.empty() ? rangeMessage : row.message + "; " + rangeMessage;
    rankRaceResults(m_rows);
}

void RaceScoreboard::setupFailed(int setup, const std::string& message) {
    if (setup < 0 || static_cast<size_t>(setup) >= m_rows.size())
        return;
    const auto index = static_cast<size_t>(setup);
    m_summaries[index].status = RunStatus::Failed;
    m_summaries[index].message = message;
    m_finishedRows[index] = true;
    updateRow(index);
}

void RaceScoreboard::stopUnfinished(const std::string& message) {
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (m_finishedRows[i])
            continue;
        m_rows[i].status = RunStatus::Stopped;
        m_rows[i].message = message;
    }
    rankRaceResults(m_rows);
}

bool RaceScoreboard::rowFinished(int setup) const {
    return setup >= 0 && static_cast<size_t>(setup) < m_finishedRows.size() &&
           m_finishedRows[static_cast<size_t>(setup)];
}

int RaceScoreboard::bestRow() const {
    for (size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].rank == 1)
            return static_cast<int>(i);
    return -1;
}

int RaceScoreboard::setupOfRun(RunId runId) const {
    const auto found = m_setupOfRun.find(runId);
    return found == m_setupOfRun.end() ? -1 : found->second;
}

} // namespace tunelab
