#include "window/run_session.h"

#include "common/durations.h"
#include "window/metric_charts.h"

#include "charts/loss_chart_view.h"
#include "common/qt_text.h"
#include "health/gradient_health.h"
#include "runs/runs_table_model.h"
#include "store/run_store.h"
#include "training/run_manager.h"

#include <QElapsedTimer>
#include <QSet>
#include <QTimer>

#include <algorithm>
#include <cmath>

namespace tunelab {

RunSession::RunSession(RunsTableModel* runs, MetricCharts* charts, QObject* parent)
    : QObject(parent)
    , m_runs(runs)
    , m_charts(charts)
    , m_manager(std::make_unique<RunManager>(nullptr))
    , m_drainTimer(new QTimer(this))
    , m_healthTimer(new QTimer(this))
    , m_flushed(std::make_shared<EventQueue<Flushed>>()) {
    m_drainTimer->setInterval(kDrainIntervalMs);
    connect(m_drainTimer, &QTimer::timeout, this, &RunSession::drain);
    m_healthClock.start();
    // A turn reads runs for at most a few milliseconds, then lets the window paint and take input.
    m_healthTimer->setInterval(0);
    connect(m_healthTimer, &QTimer::timeout, this, [this] {
        constexpr qint64 kTurnMs = 4;
        QElapsedTimer turn;
        turn.start();
        while (!m_pendingHealth.empty() && turn.elapsed() < kTurnMs) {
            const RunId id = m_pendingHealth.back();
            m_pendingHealth.pop_back();
            if (!m_store || m_liveHealth.contains(id))
                continue; // a running run's flags come from its live samples
            const auto flags = detectHealthFlags(m_store->layerHealth(id), {}, m_store->weightHistograms(id));
            m_runs->setHealthFlags(id, QString::fromStdString(healthSummary(flags)));
        }
        if (m_pendingHealth.empty())
            m_healthTimer->stop();
    });
}

void RunSession::loadStoredHealthFlags(const std::vector<RunId>& ids) {
    m_pendingHealth.assign(ids.rbegin(), ids.rend()); // the first id is read first
    if (m_pendingHealth.empty())
        m_healthTimer->stop();
    else
        m_healthTimer->start();
}

RunSession::~RunSession() = default; // the manager's destructor stops the runs and joins them

void RunSession::setRunStore(RunStore* store) {
    m_manager.reset(); // the old manager's runs end before its store goes
    m_store = store;
    m_manager = std::make_unique<RunManager>(m_store);
    m_held.clear();
}

RunEventSink* RunSession::runEvents() {
    return &m_manager->events();
}

void RunSession::keepDraining() {
    m_drainTimer->start();
}

bool RunSession::isActive(RunId id) const {
    return m_manager->isRunning(id);
}

int RunSession::activeRuns() const {
    return m_manager->activeRuns();
}

Result<RunId> RunSession::start(const ExperimentSpec& spec) {
    return startRun(spec, RunOptions{}, 0);
}

Result<RunId> RunSession::startRun(const ExperimentSpec& spec, const RunOptions& runOptions, RunId parent) {
    RunOptions options = runOptions;
    options.niceness = kRunNiceness;
    Result<RunId> started = m_manager->start(spec, options, parent);
    if (!started.ok()) {
        m_lastStatus = RunStatus::Failed;
        return started;
    }
    m_runId = started.value();
    m_ownRuns.insert(m_runId);
    m_running = true;
    m_stopRequested = false;
    m_paused = false;
    const RunOrigin origin = options.resumeFrom ? RunOrigin{parent, options.resumeFrom->epoch} : RunOrigin{};
    m_runs->runQueued(m_runId, spec.name, experimentSpecToJson(spec), origin);
    m_runName = fromStd(spec.name);
    m_runEpochs = spec.training.epochs;
    m_epoch = 0;
    m_step = 0;
    if (!m_chartRuns.isEmpty())
        m_chartRuns.append(m_runId); // a chosen set of runs grows by the new one
    m_charts->addRun(m_runId, seriesLabel());
    Q_EMIT metricsChanged(QString());
    setState(tr("Starting run %1…").arg(m_runId));
    m_drainTimer->start();
    Q_EMIT controlsChanged();
    return started;
}

void RunSession::stop() {
    if (!m_running)
        return;
    m_manager->requestStop(m_runId); // an atomic flag: the worker sees it at its next step
    m_stopRequested = true;
    setState(tr("Stopping…"));
    Q_EMIT controlsChanged();
}

void RunSession::stop(RunId id) {
    if (id == m_runId)
        stop();
    else
        m_manager->requestStop(id);
}

void RunSession::stopAll() {
    m_manager->requestStopAll();
}

void RunSession::setPaused(bool paused) {
    if (!m_running)
        return;
    m_manager->setPaused(m_runId, paused);
    m_paused = paused;
    setState(paused ? tr("Paused %1 at step %2").arg(m_runName).arg(m_step)
                    : tr("Resuming %1").arg(m_runName));
}

QString RunSession::seriesLabel() const {
    return tr("%1 #%2").arg(m_runName).arg(m_runId);
}

bool RunSession::chartShows(RunId id) const {
    return m_chartRuns.isEmpty() ? id == m_runId : m_chartRuns.contains(id);
}

void RunSession::clearChart() {
    m_charts->clear();
    m_lastStep.clear();
    m_lastEpoch.clear();
    m_held.clear();
    if (m_running)
        m_charts->addRun(m_runId, seriesLabel()); // the running run keeps drawing, from here on
}

void RunSession::forgetRun(RunId id) {
    m_charts->removeRun(id);
    m_chartRuns.removeAll(id);
    m_held.remove(id);
}

namespace {

// The records after `last` (by their step or epoch number), and `last` moved to the newest.
template <typename Record, typename Number>
std::vector<Record> newerThan(const std::vector<Record>& records, Number& last, Number Record::*number) {
    std::vector<Record> newer;
    for (const Record& record : records)
        if (record.*number > last)
            newer.push_back(record);
    if (!newer.empty())
        last = newer.back().*number;
    return newer;
}

} // namespace

void RunSession::appendSteps(RunId id, const std::vector<StepRecord>& steps) {
    int64_t last = m_lastStep.value(id, 0);
    const std::vector<StepRecord> newer = newerThan(steps, last, &StepRecord::step);
    m_lastStep[id] = last;
    if (!newer.empty())
        m_charts->appendSteps(id, newer);
}

void RunSession::appendEpochs(RunId id, const std::vector<EpochRecord>& epochs) {
    int32_t last = m_lastEpoch.value(id, 0);
    const std::vector<EpochRecord> newer = newerThan(epochs, last, &EpochRecord::epoch);
    m_lastEpoch[id] = last;
    if (!newer.empty())
        m_charts->appendEpochs(id, newer);
}

// Reads only what the store has committed (its read connection never waits for the writer or for
// another process's lock). Newer points may still be queued for the writer: they are asked for
// with flushAsync, and live records of the shown runs wait in m_held until then.
void RunSession::showRuns(const QList<qint64>& ids) {
    m_chartRuns = ids;
    m_charts->clear();
    m_lastStep.clear();
    m_lastEpoch.clear();
    m_held.clear();
    const QList<qint64> shown = ids.isEmpty() && m_runId > 0 ? QList<qint64>{m_runId} : ids;
    loadCharts(shown);
    // Any shown run may have points queued for the writer (a running one, or one that just
    // ended): they come once committed.
    QList<qint64> waiting;
    for (qint64 id : shown)
        if (m_store) {
            m_held.insert(id, Held{});
            waiting.append(id);
        }
    ++m_selection;
    if (!waiting.isEmpty()) {
        ++m_pendingReloads;
        std::shared_ptr<EventQueue<Flushed>> flushed = m_flushed;
        // Called on the store's writer thread: it only queues the selection for the GUI timer.
        m_store->flushAsync([flushed, answer = Flushed{m_selection, waiting}] { flushed->push(answer); });
        m_drainTimer->start();
    }
    showRunHealth(shown.isEmpty() ? 0 : shown.first());
    m_charts->flush();
}

void RunSession::loadCharts(const QList<qint64>& ids) {
    for (qint64 id : ids) {
        const int row = m_runs->rowForRun(id);
        const QString name = row >= 0 ? m_runs->runAt(row).name : tr("run");
        m_charts->addRun(id, tr("%1 #%2").arg(name).arg(id));
        if (!m_store)
            continue;
        const std::vector<StepRecord> steps = m_store->steps(id);
        appendSteps(id, steps);
        appendEpochs(id, m_store->epochs(id));
        if (steps.empty() && (row < 0 || isFinal(m_runs->runAt(row).status)))
            m_charts->removeRun(id); // a run without steps gets no empty legend entry
    }
}

// GUI thread: the store committed everything queued before the selection; the curves get the
// committed points they lacked, then the live records held back meanwhile.
void RunSession::reloadFlushed(const Flushed& flushed) {
    --m_pendingReloads;
    if (flushed.selection != m_selection)
        return; // a newer selection waits for its own answer
    for (qint64 id : flushed.ids) {
        const auto held = m_held.find(id);
        if (held == m_held.end())
            continue; // the selection changed since
        if (m_store) {
            appendSteps(id, m_store->steps(id));
            appendEpochs(id, m_store->epochs(id));
        }
        appendSteps(id, held->steps);
        appendEpochs(id, held->epochs);
        m_held.erase(held);
    }
    m_charts->flush();
    Q_EMIT chartsReloaded();
}

void RunSession::showRunHealth(qint64 id) {
    if (id <= 0 || !m_store) {
        m_charts->clearRunHealth();
        return;
    }
    const int row = m_runs->rowForRun(id);
    const QString name = row >= 0 ? m_runs->runAt(row).name : tr("run");
    std::vector<LayerHealthSample> samples = m_store->layerHealth(id);
    if (const auto live = m_liveHealth.constFind(id);
        live != m_liveHealth.constEnd() && live->size() > samples.size())
        samples = *live; // the running run's newest samples may not be committed yet
    std::vector<WeightHistogram> histograms = m_store->weightHistograms(id);
    if (const auto live = m_liveHistograms.constFind(id);
        live != m_liveHistograms.constEnd() && live->size() > histograms.size())
        histograms = *live;
    const std::vector<HealthFlag> flags = detectHealthFlags(samples, {}, histograms);
    m_runs->setHealthFlags(id, QString::fromStdString(healthSummary(flags)));
    m_charts->showRunHealth(id, tr("%1 #%2").arg(name).arg(id), samples, histograms, flags);
}

void RunSession::applyHealthEvents(const std::vector<RunEvent>& events) {
    QHash<RunId, std::vector<LayerHealthSample>> samples;
    QHash<RunId, std::vector<WeightHistogram>> histograms;
    for (const RunEvent& event : events) {
        if (!event.layerHealth.empty())
            samples[event.runId].insert(samples[event.runId].end(), event.layerHealth.begin(),
                                        event.layerHealth.end());
        if (!event.histograms.empty())
            histograms[event.runId].insert(histograms[event.runId].end(), event.histograms.begin(),
                                           event.histograms.end());
        if (event.kind == RunEventKind::Started && m_chartRuns.isEmpty() && event.runId == m_runId)
            m_charts->showRunHealth(event.runId, seriesLabel(), {}, {}, {});
    }
    QSet<RunId> changed;
    for (auto it = samples.cbegin(); it != samples.cend(); ++it)
        changed.insert(it.key());
    for (auto it = histograms.cbegin(); it != histograms.cend(); ++it)
        changed.insert(it.key());
    for (RunId id : changed) {
        std::vector<LayerHealthSample>& all = m_liveHealth[id];
        const std::vector<LayerHealthSample> added = samples.value(id);
        all.insert(all.end(), added.begin(), added.end());
        std::vector<WeightHistogram>& allHistograms = m_liveHistograms[id];
        const std::vector<WeightHistogram> addedHistograms = histograms.value(id);
        allHistograms.insert(allHistograms.end(), addedHistograms.begin(), addedHistograms.end());
        // Detection reads every sample of the run: at most a few times a second while it trains.
        const qint64 now = m_healthClock.elapsed();
        const auto last = m_healthCheckedAt.constFind(id);
        if (last == m_healthCheckedAt.constEnd() || now - *last >= kHealthCheckIntervalMs) {
            m_healthCheckedAt[id] = now;
            m_liveFlags[id] = detectHealthFlags(all, {}, allHistograms);
            m_runs->setHealthFlags(id, QString::fromStdString(healthSummary(m_liveFlags[id])));
        }
        m_charts->appendRunHealth(id, added, addedHistograms, m_liveFlags.value(id));
    }
    for (const RunEvent& event : events) {
        if (event.kind == RunEventKind::Finished) {
            // The final word on its flags, from everything it sampled.
            if (m_liveHealth.contains(event.runId)) {
                const auto flags = detectHealthFlags(m_liveHealth.value(event.runId), {},
                                                     m_liveHistograms.value(event.runId));
                m_runs->setHealthFlags(event.runId, QString::fromStdString(healthSummary(flags)));
                m_charts->appendRunHealth(event.runId, {}, {}, flags);
            }
            m_healthCheckedAt.remove(event.runId);
            m_liveFlags.remove(event.runId);
            m_liveHealth.remove(event.runId); // the store has it all now
            m_liveHistograms.remove(event.runId);
        }
    }
}

void RunSession::drain() {
    // Asked before draining: when every run had queued its last event, this drain takes them all.
    const bool allQueued = m_manager->allEventsQueued();
    for (const Flushed& flushed : m_flushed->drain())
        reloadFlushed(flushed);
    const std::vector<RunEvent> events = m_manager->events().drain();
    // A study's trial runs were not started here: their rows come from the store.
    for (const RunEvent& event : events) {
        if (event.kind == RunEventKind::Started && m_store && !m_runs->contains(event.runId)) {
            if (const auto record = m_store->run(event.runId))
                m_runs->upsertRun(*record);
        }
    }
    m_runs->applyEvents(events); // one dataChanged per run, whatever the number of events
    // Records of one drain go to the charts in one call per run and kind.
    QHash<RunId, std::vector<StepRecord>> steps;
    QHash<RunId, std::vector<EpochRecord>> epochs;
    const auto flushRun = [&](RunId id) {
        if (const auto held = m_held.find(id); held != m_held.end()) {
            std::vector<StepRecord> takenSteps = steps.take(id);
            std::vector<EpochRecord> takenEpochs = epochs.take(id);
            held->steps.insert(held->steps.end(), takenSteps.begin(), takenSteps.end());
            held->epochs.insert(held->epochs.end(), takenEpochs.begin(), takenEpochs.end());
            return;
        }
        appendSteps(id, steps.take(id));
        appendEpochs(id, epochs.take(id));
    };
    for (const RunEvent& event : events) {
        if (event.kind == RunEventKind::Steps) {
            if (chartShows(event.runId))
                steps[event.runId].insert(steps[event.runId].end(), event.steps.begin(), event.steps.end());
            if (event.runId == m_runId && !event.steps.empty())
                m_step = event.steps.back().step;
            continue;
        }
        if (event.kind == RunEventKind::Epoch && chartShows(event.runId))
            epochs[event.runId].push_back(event.epoch);
        if (event.kind == RunEventKind::Finished)
            flushRun(event.runId); // its last points first, so that finishing sees the whole curve
        handleEvent(event);
    }
    QSet<RunId> rest;
    for (auto it = steps.cbegin(); it != steps.cend(); ++it)
        rest.insert(it.key());
    for (auto it = epochs.cbegin(); it != epochs.cend(); ++it)
        rest.insert(it.key());
    for (RunId id : rest)
        flushRun(id);
    applyHealthEvents(events);
    startPendingForks(events);

    if (!m_pendingForks.isEmpty()) {
        setState(forkWaitingText());
    } else if (m_running && !m_stopRequested && m_step > 0 && !m_paused) {
        setState(tr("Running %1 — epoch %2 of %3, step %4")
                     .arg(m_runName)
                     .arg(std::min(m_epoch + 1, m_runEpochs))
                     .arg(m_runEpochs)
                     .arg(m_step));
    }
    const int active = m_manager->activeRuns();
    Q_EMIT activeRunsChanged(active);
    const bool busyElsewhere = m_busyElsewhere && m_busyElsewhere();
    if (!m_running && allQueued && !busyElsewhere && m_pendingReloads == 0 && m_pendingForks.isEmpty())
        m_drainTimer->stop();
}

void RunSession::handleEvent(const RunEvent& event) {
    if (event.runId != m_runId)
        return;
    switch (event.kind) {
    case RunEventKind::Started:
        Q_EMIT deviceReported(fromStd(event.device));
        if (!m_stopRequested)
            setState(tr("Running %1 on %2").arg(m_runName, fromStd(event.device)));
        break;
    case RunEventKind::Epoch: {
        const EpochRecord& epoch = event.epoch;
        m_epoch = epoch.epoch;
        QStringList parts{tr("epoch %1").arg(epoch.epoch)};
        if (std::isfinite(epoch.valLoss))
            parts << tr("val loss %1").arg(epoch.valLoss, 0, 'g', 4);
        if (std::isfinite(epoch.valAccuracy))
            parts << tr("val acc %1%").arg(100.0 * epoch.valAccuracy, 0, 'f', 1);
        else if (std::isfinite(epoch.valMae))
            parts << tr("val MAE %1").arg(epoch.valMae, 0, 'g', 4);
        Q_EMIT metricsChanged(parts.join(QStringLiteral(" · ")));
        break;
    }
    case RunEventKind::Finished:
        finishRun(event.summary);
        break;
    case RunEventKind::Steps:
        break;
    }
}

void RunSession::finishRun(const RunSummary& summary) {
    m_running = false;
    m_lastStatus = summary.status;
    const QString message = fromStd(summary.message);
    switch (summary.status) {
    case RunStatus::Completed:
        setState(tr("Completed: %1 epochs, %2 steps in %3")
                     .arg(summary.epochs)
                     .arg(summary.steps)
                     .arg(formatDuration(summary.trainSeconds)));
        break;
    case RunStatus::Stopped:
        setState(tr("Stopped after %1 epochs, %2 steps").arg(summary.epochs).arg(summary.steps));
        break;
    case RunStatus::Pruned:
        setState(tr("Pruned after %1 epochs").arg(summary.epochs));
        break;
    case RunStatus::Diverged:
        setState(message.isEmpty() ? tr("Diverged") : tr("Diverged: %1").arg(message));
        break;
    case RunStatus::Failed:
        Q_EMIT runFailed(tr("Run failed"), message.isEmpty() ? tr("The run failed.") : message);
        break;
    default:
        setState(tr("Finished: %1").arg(QString::fromLatin1(toString(summary.status))));
        break;
    }
    if (m_charts->stepLossChart()->pointCount(m_runId) == 0)
        m_charts->removeRun(m_runId); // no curve, no legend entry
    m_charts->flush();                // the final points now, not one frame later
    Q_EMIT controlsChanged();
    Q_EMIT runFinished(m_runId);
}

} // namespace tunelab
