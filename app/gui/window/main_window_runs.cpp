// The runs dock of the main window: the runs table, which runs the charts show, and the actions
// on recorded runs (load, duplicate, stop, delete, export).

#include "window/main_window.h"

#include "common/file_saving.h"
#include "common/qt_text.h"
#include "runs/confusion_matrix_view.h"
#include "runs/run_notes_dialog.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "runs/spec_diff_model.h"
#include "store/run_store.h"
#include "training/evaluation.h"
#include "training/model_export.h"
#include "window/metric_charts.h"
#include "window/run_session.h"

#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenu>
#include <QPointer>
#include <QScrollArea>
#include <QTabWidget>
#include <QTableView>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>

namespace tunelab {

namespace {

// "two-spirals-mlp-run12.json": the run's name, safe as a file name (a race run's "race / adam"
// holds a slash), and its id, so exports of several runs never overwrite each other.
QString exportFileName(const QString& runName, qint64 id, const QString& extension) {
    QString name;
    for (const QChar c : runName)
        name += c.isLetterOrNumber() || c == QLatin1Char('.') || c == QLatin1Char('_') ? c : QLatin1Char('-');
    while (name.contains(QStringLiteral("--")))
        name.replace(QStringLiteral("--"), QStringLiteral("-"));
    name =
        name.isEmpty() || name == QStringLiteral("-") ? QStringLiteral("run") : name + QStringLiteral("-run");
    return QStringLiteral("%1%2.%3").arg(name).arg(id).arg(extension);
}

} // namespace

void MainWindow::createRunsDock() {
    m_runsModel = new RunsTableModel(this);
    m_runsView = new RunsTableView;
    m_runsView->setRunsModel(m_runsModel);
    m_specDiff = new SpecDiffModel(this);
    auto* diffView = new QTableView;
    diffView->setModel(m_specDiff);
    diffView->horizontalHeader()->setStretchLastSection(true);
    // Setting names and run labels in full: the table scrolls sideways instead of cutting them.
    connect(m_specDiff, &QAbstractItemModel::modelReset, diffView,
            [diffView] { diffView->resizeColumnsToContents(); });
    diffView->verticalHeader()->hide();
    m_runsTabs = new QTabWidget;
    m_runsTabs->setDocumentMode(true);
    m_runsTabs->addTab(m_runsView, tr("Runs"));
    m_runsTabs->addTab(diffView, tr("Differences"));
    m_confusion = new ConfusionMatrixView;
    auto* confusionScroll = new QScrollArea; // many classes: it scrolls, cells keep their size
    confusionScroll->setWidgetResizable(true);
    confusionScroll->setFrameShape(QFrame::NoFrame);
    confusionScroll->setWidget(m_confusion);
    m_runsTabs->addTab(confusionScroll, tr("Confusion matrix"));
    m_runsTabs->setTabToolTip(2,
                              tr("Select one classification run: how its model sorts the validation rows"));
    connect(m_runsTabs, &QTabWidget::currentChanged, this, [this] { updateConfusionMatrix(); });
    m_runsTabs->setTabToolTip(1, tr("Select two or more runs: the settings that differ between them"));

    auto* dock = new QDockWidget(tr("Runs"), this);
    dock->setObjectName(QStringLiteral("runsDock"));
    dock->setWidget(m_runsTabs);
    addDockWidget(Qt::BottomDockWidgetArea, dock);
    m_viewMenu->addAction(dock->toggleViewAction());

    connect(m_runsView, &RunsTableView::selectionChangedRuns, this, &MainWindow::showRuns);
    connect(m_runsView, &RunsTableView::runActivated, this, [this](qint64 id) { loadRunSpec(id, false); });
    connect(m_runsView, &RunsTableView::duplicateRequested, this,
            [this](qint64 id) { loadRunSpec(id, true); });
    connect(m_runsView, &RunsTableView::stopRequested, this, [this](qint64 id) { m_session->stop(id); });
    connect(m_runsView, &RunsTableView::deleteRequested, this, &MainWindow::deleteRuns);
    connect(m_runsView, &RunsTableView::exportConfigRequested, this, &MainWindow::exportRunConfig);
    connect(m_runsView, &RunsTableView::exportModelRequested, this, &MainWindow::exportRunModel);
    connect(m_runsView, &RunsTableView::annotateRequested, this, &MainWindow::editRunNotes);
    connect(m_runsView, &RunsTableView::forkRequested, this, &MainWindow::forkRun);
    connect(m_runsView, &RunsTableView::optimizeModelRequested, this, &MainWindow::optimizeModel);
}

bool MainWindow::annotateRun(qint64 id, const QStringList& tags, const QString& note, QString* error) {
    std::vector<std::string> stored;
    for (const QString& tag : tags)
        stored.push_back(tag.toStdString());
    auto tagged = m_store ? m_store->setRunTags(id, stored) : Result<bool>::failure("no run store is open");
    auto noted = tagged.ok() ? m_store->setRunNote(id, note.toStdString()) : tagged;
    if (!noted.ok()) {
        const QString why = fromStd(noted.error());
        if (error)
            *error = why;
        reportError(tr("Cannot store the tags and note"), why);
        return false;
    }
    m_runsModel->setRunNotes(id, tags, note);
    return true;
}

void MainWindow::editRunNotes(qint64 id) {
    const int row = m_runsModel->rowForRun(id);
    if (row < 0)
        return;
    const RunRow& run = m_runsModel->runAt(row);
    RunNotesDialog dialog(tr("%1 #%2").arg(run.name).arg(id), run.tags, run.note, this);
    if (dialog.exec() == QDialog::Accepted)
        annotateRun(id, dialog.tags(), dialog.note());
}

void MainWindow::updateSpecDifferences(const QList<qint64>& ids) {
    QList<SpecDiffModel::RunSpec> specs;
    for (qint64 id : ids) {
        const int row = m_runsModel->rowForRun(id);
        if (row < 0)
            continue;
        const RunRow& run = m_runsModel->runAt(row);
        // What each run did, above what differs: regression runs show MAE where others show accuracy.
        QList<QPair<QString, QString>> metrics = {
            {tr("best val loss"), RunsTableModel::formatLoss(run.bestValLoss)},
            {tr("final val loss"), RunsTableModel::formatLoss(run.finalValLoss)}};
        if (std::isfinite(run.valAccuracy) || !std::isfinite(run.valMae))
            metrics.append({tr("val accuracy"), RunsTableModel::formatAccuracy(run.valAccuracy)});
        else
            metrics.append({tr("val MAE"), QString::asprintf("%.4g", run.valMae)});
        metrics.append({tr("duration"), RunsTableModel::formatDuration(run.durationSeconds)});
        metrics.append({tr("status"), QString::fromLatin1(toString(run.status))});
        specs.append({id, tr("%1 #%2").arg(run.name).arg(id), run.specJson, metrics});
    }
    m_specDiff->setRuns(specs);
    m_runsTabs->setTabText(1, specs.size() >= 2 ? tr("Differences (%1)").arg(m_specDiff->differenceCount())
                                                : tr("Differences"));
}

// Never waits for the store's writer: the session reads what is committed and completes a running
// run's curve once its queued points are.
void MainWindow::showRuns(const QList<qint64>& ids) {
    updateSpecDifferences(ids);
    m_session->showRuns(ids);
    updateConfusionMatrix();
}

void MainWindow::updateConfusionMatrix() {
    if (!m_runsTabs->currentWidget() || !m_runsTabs->currentWidget()->isAncestorOf(m_confusion))
        return; // worked out when its tab shows
    const quint64 request = ++m_confusionRequest;
    const QList<qint64> ids = m_runsView->selectedRunIds();
    const int row = ids.size() == 1 ? m_runsModel->rowForRun(ids.front()) : -1;
    if (row < 0 || !m_store) {
        m_confusion->setMessage(tr("Select one classification run to see how it sorts its validation rows"));
        return;
    }
    const RunRow& run = m_runsModel->runAt(row);
    const QString title = tr("%1 #%2").arg(run.name).arg(run.id);
    auto spec = parseExperimentSpec(run.specJson.toStdString());
    if (!spec.ok() || !run.hasModel) {
        m_confusion->setMessage(spec.ok() ? tr("%1 has no saved model (it did not finish)").arg(title)
                                          : tr("%1: %2").arg(title, fromStd(spec.error())));
        return;
    }
    m_confusion->setMessage(tr("Working out the confusion matrix of %1…").arg(title));
    // Off the GUI thread: a large validation split takes a while. The newest request wins.
    QPointer<MainWindow> window(this);
    m_confusionJobs.erase(std::remove_if(m_confusionJobs.begin(), m_confusionJobs.end(),
                                         [](const std::future<void>& job) {
                                             return job.wait_for(std::chrono::seconds(0)) ==
                                                    std::future_status::ready;
                                         }),
                          m_confusionJobs.end());
    m_confusionJobs.push_back(std::async(
        std::launch::async, [window, request, title, spec = spec.take(), model = m_store->model(run.id)]() {
            auto matrix = validationConfusion(spec, model);
            QMetaObject::invokeMethod(
                qApp,
                [window, request, title, matrix = std::move(matrix)]() mutable {
                    if (!window || request != window->m_confusionRequest)
                        return;
                    if (matrix.ok())
                        window->m_confusion->setMatrix(title, matrix.value().classes, matrix.value().counts);
                    else
                        window->m_confusion->setMessage(tr("%1: %2").arg(title, fromStd(matrix.error())));
                },
                Qt::QueuedConnection);
        }));
}

void MainWindow::loadRunSpec(qint64 id, bool asCopy) {
    const int row = m_runsModel->rowForRun(id);
    if (row < 0)
        return;
    auto spec = parseExperimentSpec(m_runsModel->runAt(row).specJson.toStdString());
    if (!spec.ok()) {
        reportError(tr("Cannot load run %1").arg(id), fromStd(spec.error()));
        return;
    }
    if (asCopy)
        spec.value().name += "-copy";
    if (!confirmReplacingExperiment(tr("loading the settings of run %1").arg(id)))
        return;
    replaceExperimentUndoably(spec.value(), tr("Load Run %1").arg(id));
    setState(asCopy ? tr("Copied the settings of run %1: edit them and press Run").arg(id)
                    : tr("Loaded the settings of run %1").arg(id));
}

void MainWindow::deleteRuns(const QList<qint64>& ids) {
    int deleted = 0;
    int running = 0;
    for (qint64 id : ids) {
        if (m_session->isActive(id)) {
            ++running; // a running run keeps writing; stop it first
            continue;
        }
        if (m_store)
            m_store->deleteRunQueued(id); // the writer commits it; the GUI thread does not wait
        m_runsModel->removeRun(id);
        m_session->forgetRun(id);
        ++deleted;
    }
    QString text = deleted == 1 ? tr("Deleted 1 run") : tr("Deleted %1 runs").arg(deleted);
    if (running > 0)
        text += tr("; %n still running, not deleted: stop it first", nullptr, running);
    setState(text);
}

QString MainWindow::runName(qint64 id) const {
    const int row = m_runsModel->rowForRun(id);
    return row >= 0 ? m_runsModel->runAt(row).name : QString();
}

void MainWindow::exportRunConfig(qint64 id) {
    const int row = m_runsModel->rowForRun(id);
    if (row < 0)
        return;
    const RunRow& run = m_runsModel->runAt(row);
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Run Config"),
                                                      exportFileName(run.name, id, QStringLiteral("json")),
                                                      tr("Experiment specs (*.json)"));
    if (path.isEmpty())
        return;
    if (const QString error = saveFileBytes(path, run.specJson.toUtf8() + '\n'); !error.isEmpty())
        reportError(tr("Cannot export"), error);
    else
        setState(tr("Exported the config of run %1 to %2 (tunelab-cli train runs it)").arg(id).arg(path));
}

void MainWindow::exportRunModel(qint64 id) {
    if (!m_store)
        return;
    QString filter;
    QString path = QFileDialog::getSaveFileName(
        this, tr("Export Model"), exportFileName(runName(id), id, QStringLiteral("pt")),
        tr("TorchScript, runs without TuneLab (*.pt);;State dict with readable names, and its spec "
           "(*.pth);;ONNX model (*.onnx)"),
        &filter);
    if (path.isEmpty())
        return;
    // A name typed without an extension gets the chosen filter's, so the format is the one chosen.
    if (QFileInfo(path).suffix().isEmpty())
        path += filter.contains(QStringLiteral("*.pth"))    ? QStringLiteral(".pth")
                : filter.contains(QStringLiteral("*.onnx")) ? QStringLiteral(".onnx")
                                                            : QStringLiteral(".pt");
    exportRunModelTo(id, path);
}

void MainWindow::exportRunModelTo(qint64 id, const QString& path) {
    const auto run = m_store ? m_store->run(id) : std::nullopt;
    auto spec = run ? parseExperimentSpec(run->specJson) : Result<ExperimentSpec>::failure("");
    if (!run || !run->hasModel || !spec.ok()) {
        const QString why =
            !run ? tr("There is no run %1.").arg(id)
            : !run->hasModel
                ? tr("Run %1 has no saved model (it failed or did not finish).").arg(id)
                : tr("Run %1's experiment cannot be read: %2").arg(id).arg(fromStd(spec.error()));
        reportError(tr("Cannot export"), why);
        Q_EMIT exportFinished(why);
        return;
    }
    const ExportFormat format =
        path.endsWith(QStringLiteral(".pth"), Qt::CaseInsensitive)    ? ExportFormat::StateDict
        : path.endsWith(QStringLiteral(".onnx"), Qt::CaseInsensitive) ? ExportFormat::Onnx
                                                                      : ExportFormat::TorchScript;
    setState(tr("Exporting the model of run %1 to %2 and checking the file…").arg(id).arg(path));
    // Off the GUI thread: the check rebuilds the model with its data and runs the written file.
    QPointer<MainWindow> window(this);
    RunStore* store = m_store.get();
    m_exportJobs.erase(std::remove_if(m_exportJobs.begin(), m_exportJobs.end(),
                                      [](const std::future<void>& job) {
                                          return job.wait_for(std::chrono::seconds(0)) ==
                                                 std::future_status::ready;
                                      }),
                       m_exportJobs.end());
    m_exportJobs.push_back(std::async(std::launch::async, [window, store, id, path, format,
                                                           spec = spec.take(), model = m_store->model(id)]() {
        auto exported = exportModel(spec, model, format, path.toStdString());
        if (exported.ok()) {
            ExportRecord record;
            record.format = toString(format);
            record.path = exported.value().path;
            record.bytes = exported.value().bytes;
            record.checkedRows = exported.value().checkedRows;
            record.maxAbsDifference = exported.value().maxAbsDifference;
            store->recordExport(id, record);
        }
        QMetaObject::invokeMethod(
            qApp,
            [window, id, path, exported = std::move(exported)]() {
                if (!window)
                    return;
                if (!exported.ok()) {
                    window->reportError(tr("Cannot export"), fromStd(exported.error()));
                    Q_EMIT window->exportFinished(fromStd(exported.error()));
                    return;
                }
                const ExportReport& report = exported.value();
                window->setState(
                    tr("Exported run %1 to %2: read back and run on %3 rows, largest difference %4")
                        .arg(id)
                        .arg(path)
                        .arg(report.checkedRows)
                        .arg(report.maxAbsDifference, 0, 'g', 3));
                Q_EMIT window->exportFinished(QString());
            },
            Qt::QueuedConnection);
    }));
}

} // namespace tunelab
