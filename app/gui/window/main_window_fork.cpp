// "Fork from Here..." on a run of the runs table: the fork dialog, and starting the fork from the
// run's stored checkpoint (a finished run) or from the end of the epoch it trains (a running one).

#include "window/main_window.h"

#include "common/qt_text.h"
#include "common/zip_archive_check.h"
#include "experiment/training_form.h"
#include "runs/fork_run_dialog.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "store/run_store.h"
#include "window/run_session.h"

#include <QAction>
#include <QApplication>
#include <QPointer>
#include <QSignalBlocker>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

namespace tunelab {

void MainWindow::forkRun(qint64 id) {
    openForkDialog(id, false);
}

// `flushed`: the store committed everything queued before this call, so a checkpoint the run's
// last event brought is in the file if it ever will be.
void MainWindow::openForkDialog(qint64 id, bool flushed) {
    const int row = m_runsModel->rowForRun(id);
    if (row < 0)
        return;
    const RunRow& run = m_runsModel->runAt(row);
    const QString title = tr("Cannot fork run %1").arg(id);
    auto spec = parseExperimentSpec(run.specJson.toStdString());
    if (!spec.ok()) {
        reportError(title, fromStd(spec.error()));
        return;
    }
    const bool running = !isFinal(run.status);
    int forkEpoch = run.epochsDone + 1; // a running run continues after the epoch it trains
    if (!running) {
        const std::optional<TrainingCheckpoint> checkpoint = m_store ? m_store->checkpoint(id) : std::nullopt;
        if (!checkpoint && m_store && run.hasCheckpoint && !flushed) {
            // It just ended: its checkpoint may still be on its way to the file. The store calls
            // back on its writer thread, which only posts to the GUI thread.
            QPointer<MainWindow> window(this);
            m_store->flushAsync([window, id] {
                QMetaObject::invokeMethod(
                    qApp,
                    [window, id] {
                        if (window)
                            window->openForkDialog(id, true);
                    },
                    Qt::QueuedConnection);
            });
            return;
        }
        if (!checkpoint) {
            const QString why = RunsTableView::forkBlockedReason(run);
            reportError(title, !m_store
                                   ? tr("No run store is open: a finished run's checkpoint is kept there.")
                               : why.isEmpty() ? tr("The run store holds no checkpoint of this run.")
                                               : why);
            return;
        }
        if (const std::string damage = zipArchiveDamage(checkpoint->state.data(), checkpoint->state.size());
            !damage.empty()) {
            reportError(title, tr("The run's checkpoint in the run store is damaged (%1): continuing from it "
                                  "would train from changed weights.")
                                   .arg(fromStd(damage)));
            return;
        }
        forkEpoch = checkpoint->epoch;
    }

    auto* dialog = new ForkRunDialog(id, run.name, spec.value(), forkEpoch, running, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    offerDevices(dialog->trainingForm());
    if (run.epochsDone > 0 && run.stepsDone > 0) // for the schedule preview's steps per epoch
        dialog->trainingForm()->setTrainingRows(run.stepsDone / run.epochsDone *
                                                std::max<int64_t>(1, spec.value().training.batchSize));
    dialog->setStartHandler([this, id](const ExperimentSpec& fork) { return startFork(id, fork); });
    if (running) {
        // The parent trains on while the dialog is open: the epoch the fork continues after moves too.
        connect(m_runsModel, &QAbstractItemModel::dataChanged, dialog, [this, dialog, id] {
            const int at = m_runsModel->rowForRun(id);
            if (at < 0)
                return;
            const RunRow& now = m_runsModel->runAt(at);
            const bool stillRunning = !isFinal(now.status);
            const int epoch = stillRunning ? now.epochsDone + 1 : now.epochsDone;
            if (epoch != dialog->forkEpoch() || stillRunning != dialog->parentRunning())
                dialog->setForkEpoch(epoch, stillRunning);
        });
    }
    dialog->open(); // not exec(): a nested event loop would re-enter the session's drain
}

QString MainWindow::startFork(qint64 parent, const ExperimentSpec& spec) {
    const int row = m_runsModel->rowForRun(parent);
    if (row < 0)
        return tr("Run %1 is no longer in the runs table.").arg(parent);
    if (!isFinal(m_runsModel->runAt(row).status)) {
        Result<bool> waiting = m_session->forkAtEpochEnd(parent, spec);
        return waiting.ok() ? QString() : fromStd(waiting.error());
    }
    std::optional<TrainingCheckpoint> checkpoint = m_store ? m_store->checkpoint(parent) : std::nullopt;
    if (!checkpoint)
        return tr("Run %1 has no checkpoint to continue from.").arg(parent);
    Result<RunId> started = m_session->startFork(
        spec, std::make_shared<const TrainingCheckpoint>(std::move(*checkpoint)), parent);
    if (!started.ok())
        return fromStd(started.error());
    showFork(parent, started.value());
    return {};
}

// The fork trains: the charts and the Differences tab show it beside its parent.
void MainWindow::showFork(qint64 parent, qint64 fork) {
    if (m_pauseAction->isChecked()) {
        const QSignalBlocker blocker(m_pauseAction);
        m_pauseAction->setChecked(false);
    }
    updateActions();
    if (m_store) // the selected runs' curves come from the store; without one the session keeps both
        m_runsView->selectRuns({parent, fork});
}

} // namespace tunelab
