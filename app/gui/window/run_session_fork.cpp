// Forks: runs that continue another run's training from its checkpoint, with edited settings.

#include "window/run_session.h"

#include "common/qt_text.h"
#include "runs/runs_table_model.h"
#include "training/run_manager.h"

#include <QTimer>

#include <utility>

namespace tunelab {

namespace {

// The trainer refuses it too, but only once the run started: a refused fork never gets a row.
QString epochsProblem(const ExperimentSpec& spec, int checkpointEpoch) {
    if (spec.training.epochs > checkpointEpoch)
        return {};
    return RunSession::tr(
               "the fork continues after epoch %1 but would stop at epoch %2: set its epochs above %1")
        .arg(checkpointEpoch)
        .arg(spec.training.epochs);
}

} // namespace

Result<RunId> RunSession::startFork(const ExperimentSpec& spec,
                                    std::shared_ptr<const TrainingCheckpoint> from, RunId parent) {
    if (!from)
        return Result<RunId>::failure(
            tr("run %1 has no checkpoint to continue from").arg(parent).toStdString());
    if (const QString problem = epochsProblem(spec, from->epoch); !problem.isEmpty())
        return Result<RunId>::failure(problem.toStdString());
    // The charts follow the new run; the parent's curve stays beside it and goes on while it trains.
    if (m_chartRuns.isEmpty())
        m_chartRuns = {parent};
    RunOptions options;
    options.resumeFrom = std::move(from);
    return startRun(spec, options, parent);
}

Result<bool> RunSession::forkAtEpochEnd(RunId parent, const ExperimentSpec& spec) {
    if (const auto pending = m_pendingForks.constFind(parent); pending != m_pendingForks.cend())
        return Result<bool>::failure(tr("a fork of run %1 already waits for the end of epoch %2")
                                         .arg(parent)
                                         .arg(pending->epoch)
                                         .toStdString());
    const int row = m_runs->rowForRun(parent);
    // A run of this session whose Finished event is still queued has its checkpoint on the way.
    const bool ending = m_ownRuns.contains(parent) && row >= 0 && !isFinal(m_runs->runAt(row).status);
    if (!m_manager->requestCheckpoint(parent) && !ending)
        return Result<bool>::failure(
            tr("run %1 is not training in this window (a study's trial runs can be forked once they end)")
                .arg(parent)
                .toStdString());
    const int epoch = row >= 0 ? m_runs->runAt(row).epochsDone + 1 : 1;
    m_pendingForks.insert(parent, PendingFork{spec, epoch});
    setState(forkWaitingText());
    m_drainTimer->start();
    return true;
}

bool RunSession::forkPending(RunId parent) const {
    return m_pendingForks.contains(parent);
}

QString RunSession::forkWaitingText() const {
    QStringList waiting;
    for (auto it = m_pendingForks.cbegin(); it != m_pendingForks.cend(); ++it)
        waiting << tr("forking run %1: waiting for the end of epoch %2…").arg(it.key()).arg(it->epoch);
    waiting.sort();
    QString text = waiting.join(QStringLiteral("; "));
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    return text;
}

void RunSession::startPendingForks(const std::vector<RunEvent>& events) {
    if (m_pendingForks.isEmpty())
        return;
    struct Ready {
        RunId parent = 0;
        PendingFork fork;
        std::shared_ptr<const TrainingCheckpoint> from;
    };
    std::vector<Ready> ready;
    for (const RunEvent& event : events) {
        const auto pending = m_pendingForks.find(event.runId);
        if (pending == m_pendingForks.end())
            continue;
        if (event.checkpoint) {
            ready.push_back({event.runId, *pending, event.checkpoint});
            m_pendingForks.erase(pending);
        } else if (event.kind == RunEventKind::Finished) {
            m_pendingForks.erase(pending);
            Q_EMIT runFailed(tr("Cannot fork run %1").arg(event.runId),
                             tr("It ended %1 before the end of its epoch, without weights to continue from.")
                                 .arg(QString::fromLatin1(toString(event.summary.status))));
        }
    }
    // After the batch: a parent's own end in the same batch is handled before its fork becomes the
    // current run.
    for (Ready& fork : ready) {
        Result<RunId> started = startFork(fork.fork.spec, fork.from, fork.parent);
        if (!started.ok()) {
            Q_EMIT runFailed(tr("Cannot fork run %1").arg(fork.parent), fromStd(started.error()));
            continue;
        }
        Q_EMIT forkStarted(fork.parent, started.value());
    }
}

} // namespace tunelab
