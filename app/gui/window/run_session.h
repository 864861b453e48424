#pragma once

#include "common/result.h"
#include "events/event_queue.h"
#include "events/run_events.h"
#include "health/gradient_health.h"
#include "spec/spec.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>

#include <functional>
#include <memory>
#include <vector>

class QTimer;

namespace tunelab {

class MetricCharts;
class RunManager;
class RunStore;
class RunsTableModel;
struct RunOptions;

// The window's runs: starts them through a RunManager, stops and pauses them (atomic flags in the
// engine), and drains the manager's queue from a 40 ms GUI timer into the runs table and the
// charts, in one batch per run. It also loads recorded runs' curves from the store, without ever
// waiting for the store's writer: what is committed is read at once, and a running run's curve is
// completed when the store says (through a queue) that its queued points are committed.
// Nothing here runs on a worker thread; MainWindow only shows what it reports.
class RunSession : public QObject {
    Q_OBJECT

public:
    static constexpr int kDrainIntervalMs = 40;
    // Training threads yield to the GUI thread, so the window stays responsive with many runs.
    static constexpr int kRunNiceness = 10;

    RunSession(RunsTableModel* runs, MetricCharts* charts, QObject* parent = nullptr);
    ~RunSession() override; // stops every run and waits for its thread

    // Records every run in this store from now on: the old manager's runs end first.
    void setRunStore(RunStore* store);
    RunStore* runStore() const { return m_store; }
    // The queue trial runs of a study forward their events to, drained with the window's runs.
    RunEventSink* runEvents();
    // While it says true (a study runs), the timer keeps draining without a run of the session.
    void setBusyElsewhere(std::function<bool()> busy) { m_busyElsewhere = std::move(busy); }
    void keepDraining(); // starts the timer (a study started)

    // Starts a run; a run already going keeps training beside it and the new one becomes the
    // current one. The error when it cannot start.
    Result<RunId> start(const ExperimentSpec& spec);
    // Starts `spec` from `from` (a fork of `parent`, run_session_fork.cpp): its steps and epochs go
    // on from the checkpoint's, and the runs table and the store record the origin. The error when
    // it cannot start (epochs not above the checkpoint's epoch, among others).
    Result<RunId> startFork(const ExperimentSpec& spec, std::shared_ptr<const TrainingCheckpoint> from,
                            RunId parent);
    // Forks a run that trains here at the end of the epoch it trains now: asks it for a checkpoint
    // and starts `spec` from the epoch's event that brings it (or from the run's Finished event,
    // when it ends first), then emits forkStarted; a fork that cannot start then comes as
    // runFailed. The error when `parent` is not a run of this session that is still going.
    Result<bool> forkAtEpochEnd(RunId parent, const ExperimentSpec& spec);
    bool forkPending(RunId parent) const;
    void stop(); // the current run
    void stop(RunId id);
    void stopAll();
    void setPaused(bool paused);
    bool isRunning() const { return m_running; }
    bool stopRequested() const { return m_stopRequested; }
    bool isActive(RunId id) const;
    int activeRuns() const;
    RunId currentRunId() const { return m_runId; }
    RunStatus lastStatus() const { return m_lastStatus; }
    void setLastStatus(RunStatus status) { m_lastStatus = status; }

    // Shows exactly these runs' curves (none: the current run). Returns at once.
    void showRuns(const QList<qint64>& ids);
    const QList<qint64>& shownRuns() const { return m_chartRuns; }
    void forgetRun(RunId id); // deleted: no longer shown
    // Works out the gradient-health flags (⚠) of stored runs from their stored samples, a few runs
    // per turn of the event loop, so the runs table shows them after a restart without holding the
    // window up. A new call replaces what is left of the previous one.
    void loadStoredHealthFlags(const std::vector<RunId>& ids);
    bool storedHealthFlagsPending() const { return !m_pendingHealth.empty(); }
    void clearChart();
    // Chart reloads waiting for the store's writer (a running run was selected).
    int pendingReloads() const { return m_pendingReloads; }

    void drain(); // the timer's work; tests may call it

Q_SIGNALS:
    void stateChanged(const QString& text);
    void metricsChanged(const QString& text);
    void activeRunsChanged(int active);
    void deviceReported(const QString& device); // the current run started on this device
    void runFailed(const QString& title, const QString& message);
    void controlsChanged();
    void runFinished(qint64 runId);
    void chartsReloaded(); // after a reload the store's flush allowed
    void forkStarted(qint64 parent, qint64 fork);

private:
    Result<RunId> startRun(const ExperimentSpec& spec, const RunOptions& options, RunId parent);
    // Starts the pending forks whose parents' checkpoints are among `events` (drain's last step).
    void startPendingForks(const std::vector<RunEvent>& events);
    QString forkWaitingText() const;
    bool chartShows(RunId id) const;
    QString seriesLabel() const;
    void loadCharts(const QList<qint64>& ids);
    void showRunHealth(qint64 id);
    void applyHealthEvents(const std::vector<RunEvent>& events);
    void handleEvent(const RunEvent& event);
    void finishRun(const RunSummary& summary);
    void setState(const QString& text) { Q_EMIT stateChanged(text); }
    // A selection's points up to flushAsync are committed; only the latest selection's answer
    // releases the held records (an older one committed less).
    struct Flushed {
        quint64 selection = 0;
        QList<qint64> ids;
    };
    void reloadFlushed(const Flushed& flushed);
    // Appends to the charts only what is newer than what they show (a run's curve may come from
    // the store and from the queue at once).
    void appendSteps(RunId id, const std::vector<StepRecord>& steps);
    void appendEpochs(RunId id, const std::vector<EpochRecord>& epochs);

    RunsTableModel* m_runs;
    MetricCharts* m_charts;
    RunStore* m_store = nullptr;
    std::unique_ptr<RunManager> m_manager;
    QTimer* m_drainTimer;
    QTimer* m_healthTimer;              // loadStoredHealthFlags' turns
    std::vector<RunId> m_pendingHealth; // newest last: taken from the back
    std::function<bool()> m_busyElsewhere;

    bool m_running = false;
    bool m_stopRequested = false;
    bool m_paused = false;
    RunId m_runId = 0;
    RunStatus m_lastStatus = RunStatus::Queued;
    QString m_runName; // the experiment's name when the current run started
    int m_runEpochs = 0;
    int m_epoch = 0;    // last finished epoch of the current run
    int64_t m_step = 0; // last step of the current run

    QList<qint64> m_chartRuns; // runs the chart shows; empty: the current run
    // Gradient-health samples of running runs so far, for their flags while they train.
    QHash<RunId, std::vector<LayerHealthSample>> m_liveHealth;
    QHash<RunId, std::vector<WeightHistogram>> m_liveHistograms; // the running runs' newest
    static constexpr qint64 kHealthCheckIntervalMs = 500;
    QElapsedTimer m_healthClock;                       // started with the session
    QHash<RunId, qint64> m_healthCheckedAt;            // when each running run's flags were last worked out
    QHash<RunId, std::vector<HealthFlag>> m_liveFlags; // and what they were
    // The store's writer says "committed" here (from its own thread): the selection to reload.
    std::shared_ptr<EventQueue<Flushed>> m_flushed;
    int m_pendingReloads = 0;
    quint64 m_selection = 0; // counts showRuns calls
    // Running runs shown from the store while their queued points are not committed yet: their
    // live records wait here until the store's flush lands, so the curve has no gap.
    struct Held {
        std::vector<StepRecord> steps;
        std::vector<EpochRecord> epochs;
    };
    QHash<RunId, Held> m_held;
    QHash<RunId, int64_t> m_lastStep;  // the last step each shown run's curve has
    QHash<RunId, int32_t> m_lastEpoch; // and its last epoch
    QSet<RunId> m_ownRuns;             // started here: their events all come through this session
    // Forks waiting for their running parent's checkpoint, by parent.
    struct PendingFork {
        ExperimentSpec spec;
        int epoch = 0; // the epoch the parent trained when it was asked
    };
    QHash<RunId, PendingFork> m_pendingForks;
};

} // namespace tunelab
