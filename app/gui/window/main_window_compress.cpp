// "Optimize Model..." on a run of the runs table: the compression plan dialog, and its plan run off
// the GUI thread by a CompressionTask, drained from a timer like every other runner: progress lines
// go to the dialog and the status bar, the variants' run events to the run session's queue (so their
// rows appear and move in the runs table as they train), and the result to the dialog's results view.

#include "window/main_window.h"

#include "common/qt_text.h"
#include "compress/compression_plan_dialog.h"
#include "compress/compression_task.h"
#include "runs/runs_table_model.h"
#include "store/run_store.h"
#include "window/run_session.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QStandardPaths>
#include <QTimer>

#include <utility>

namespace tunelab {

// Plans write beside the run store ("<store folder>/compressed/<run id>-<plan name>"), where a
// store's runs and their files stay together; without a store file, in the user's documents.
QString MainWindow::compressionOutputBase() const {
    const QString store = m_store ? fromStd(m_store->path()) : QString();
    const QString folder = !store.isEmpty() && store != QLatin1String(":memory:")
                               ? QFileInfo(store).absolutePath()
                               : QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
                                     .filePath(QStringLiteral("TuneLab"));
    return QDir(folder).filePath(QStringLiteral("compressed"));
}

CompressionPlanDialog* MainWindow::optimizeModel(qint64 id) {
    if (m_compressionDialog && (m_compressionDialog->sourceRun() == id || m_compressionDialog->isRunning())) {
        if (m_compressionDialog->sourceRun() != id)
            setState(tr("A plan for run %1 is running: stop it before optimizing another run")
                         .arg(m_compressionDialog->sourceRun()));
        m_compressionDialog->raise();
        m_compressionDialog->activateWindow();
        return m_compressionDialog;
    }
    const QString title = tr("Cannot optimize run %1").arg(id);
    const int row = m_runsModel->rowForRun(id);
    if (row < 0 || !m_store) {
        reportError(title, !m_store ? tr("No run store is open: the variants' runs are kept there.")
                                    : tr("Run %1 is not in the runs table.").arg(id));
        return nullptr;
    }
    const RunRow& run = m_runsModel->runAt(row);
    auto spec = parseExperimentSpec(run.specJson.toStdString());
    if (!run.hasModel || !isFinal(run.status) || !spec.ok()) {
        reportError(title, !spec.ok()
                               ? fromStd(spec.error())
                               : tr("Run %1 has no saved model (it failed or did not finish).").arg(id));
        return nullptr;
    }
    if (m_compressionDialog)
        m_compressionDialog->close(); // another run's plan, not running: this run gets its own
    auto* dialog = new CompressionPlanDialog(id, run.name, spec.value(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setOutputBase(compressionOutputBase());
    QPointer<CompressionPlanDialog> guarded(dialog);
    dialog->setRunHandler([this, guarded](const CompressionPlan& plan) {
        return guarded ? startCompression(plan, guarded->outputDirectory()) : QString();
    });
    dialog->setStopHandler([this] { stopCompression(); });
    m_compressionDialog = dialog;
    dialog->show(); // not modal: the runs table and the charts follow the variants as they train
    return dialog;
}

QString MainWindow::startCompression(const CompressionPlan& plan, const QString& outputDirectory) {
    if (!m_store)
        return tr("No run store is open: the variants' runs are kept there.");
    if (m_compression)
        return tr("A plan is running already: stop it or wait for its end.");
    if (outputDirectory.isEmpty())
        return tr("The plan has no folder for its files.");
    CompressionOptions options;
    options.outputDirectory = QDir::toNativeSeparators(outputDirectory).toStdString();
    options.trainingThreads = 1; // as the window's own runs
    m_compression = std::make_unique<CompressionTask>(plan, *m_store, std::move(options));
    if (!m_compressionTimer) {
        m_compressionTimer = new QTimer(this);
        m_compressionTimer->setInterval(RunSession::kDrainIntervalMs);
        connect(m_compressionTimer, &QTimer::timeout, this, &MainWindow::drainCompression);
    }
    m_compressionTimer->start();
    const auto variants = static_cast<int>(plan.variants.size());
    setState(tr("Optimizing run %1: %2, files in %3")
                 .arg(plan.sourceRun)
                 .arg(variants == 1 ? tr("1 variant") : tr("%1 variants").arg(variants))
                 .arg(QDir::toNativeSeparators(outputDirectory)));
    return {};
}

void MainWindow::stopCompression() {
    if (!m_compression)
        return;
    m_compression->stop();
    setState(tr("Stopping the plan for run %1: the run in progress ends, the other variants are skipped")
                 .arg(m_compression->plan().sourceRun));
}

void MainWindow::drainCompression() {
    if (!m_compression) {
        m_compressionTimer->stop();
        return;
    }
    const RunId source = m_compression->plan().sourceRun;
    bool runEvents = false;
    for (CompressionTaskEvent& event : m_compression->drain()) {
        switch (event.kind) {
        case CompressionTaskEvent::Kind::Progress:
            if (m_compressionDialog)
                m_compressionDialog->appendProgress(fromStd(event.line));
            setState(tr("Optimizing run %1: %2").arg(source).arg(fromStd(event.line)));
            break;
        case CompressionTaskEvent::Kind::Run:
            m_session->runEvents()->onRunEvent(event.run); // drained with the window's own runs
            runEvents = true;
            break;
        case CompressionTaskEvent::Kind::Finished:
            if (event.result)
                finishCompression(*event.result); // the task's last event
            return;
        }
    }
    if (runEvents)
        m_session->keepDraining();
}

void MainWindow::finishCompression(const Result<CompressionResult>& result) {
    m_compressionTimer->stop();
    const bool stopped = m_compression && m_compression->stopRequested();
    m_compression.reset(); // its thread has pushed its last event: this joins at once
    // The variants' forwarded events first, then their records as the store holds them at the end;
    // a run whose Started event went by unseen joins the table here.
    m_session->drain();
    if (m_store) {
        QSet<RunId> variants; // an int8 variant's run is the source's, which did not change
        for (const VariantResult& variant :
             result.ok() ? result.value().variants : std::vector<VariantResult>{})
            if (variant.runId > 0 && variant.kind != "int8")
                variants.insert(variant.runId);
        for (const RunRecord& record : m_store->listRuns())
            if (variants.contains(record.id) || !m_runsModel->contains(record.id))
                m_runsModel->upsertRun(record);
    }
    if (!result.ok()) {
        const QString why = fromStd(result.error());
        if (m_compressionDialog)
            m_compressionDialog->showFailure(why);
        setState(tr("The plan did not run: %1").arg(why));
        Q_EMIT compressionFinished(why);
        return;
    }
    const CompressionResult& compressed = result.value();
    int measured = 0;
    for (const VariantResult& variant : compressed.variants)
        measured += variant.ok() ? 1 : 0;
    if (m_compressionDialog)
        m_compressionDialog->showResults(compressed);
    setState(tr("Optimized run %1%2: %3 of %4 measured, files in %5")
                 .arg(compressed.source.runId)
                 .arg(stopped ? tr(" (stopped)") : QString())
                 .arg(measured)
                 .arg(compressed.variants.size() == 1 ? tr("1 variant")
                                                      : tr("%1 variants").arg(compressed.variants.size()))
                 .arg(fromStd(compressed.outputDirectory)));
    Q_EMIT compressionFinished(QString());
}

void MainWindow::abandonCompression(const QString& why) {
    if (!m_compression)
        return;
    m_compression.reset(); // stops the plan and waits for its thread
    if (m_compressionTimer)
        m_compressionTimer->stop();
    if (m_compressionDialog)
        m_compressionDialog->showFailure(tr("Stopped: %1.").arg(why));
    Q_EMIT compressionFinished(why);
}

} // namespace tunelab
