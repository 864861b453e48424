#include "window/main_window.h"

#include "charts/loss_chart_view.h"
#include "common/number_field.h"
#include "events/run_events.h"
#include "experiment/data_form.h"
#include "experiment/layer_stack_model.h"
#include "experiment/network_editor.h"
#include "experiment/training_form.h"
#include "playground/playground_window.h"
#include "race/race_window.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "runs/spec_diff_model.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "window/metric_charts.h"

#include "file_size_limit_test_support.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtCore/QElapsedTimer>
#include <QtTest>

#include <algorithm>
#include <memory>

using tunelab::MainWindow;
using tunelab::RunStatus;

namespace {

QByteArray statusName(RunStatus status) {
    return QByteArray(tunelab::toString(status));
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void opensWithTheDefaultExperiment();
    void runPlotsTrainLossLive();
    void stopEndsTheRun();
    void badDataDisablesRunWithTheReason();
    void openingFileDataLoadsItOffTheGuiThread();
    void interactiveFailureOpensADialog();
    void pauseHoldsTheRun();
    void panelEditsReachTheExperiment();
    void saveWritesASpecTheCliRuns();
    void runsSurviveARestartWithTheirCurves();
    void networkMismatchDisablesRun();
    void runsTrainSideBySide();
    void openExperimentFile();
    void badExperimentFileKeepsTheCurrentOne();
    void toolsMenuOpensItsWindows();
    void rangeTestApplyPutsTheRateInTheSpec();
    void storeThatCannotWriteShowsALastingWarning();
    void saveOnAFullDiskKeepsThePreviousFile();

private:
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::init() {
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestMainWindow::cleanup() {
    m_window.reset(); // stops a run that is still going
}

void TestMainWindow::opensWithTheDefaultExperiment() {
    const QString name = QString::fromStdString(tunelab::defaultExperiment().name);
    QVERIFY(!name.isEmpty());
    QCOMPARE(m_window->windowTitle(),
             QStringLiteral("TuneLab — %1[*]").arg(name)); // [*]: shown when modified
    QVERIFY(!m_window->isWindowModified());
    QVERIFY(m_window->runAction()->isEnabled());
    QVERIFY(!m_window->stopAction()->isEnabled());
    QCOMPARE(m_window->runAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_R));
    QVERIFY2(m_window->deviceText().contains(QStringLiteral("cpu"), Qt::CaseInsensitive) ||
                 m_window->deviceText().contains(QStringLiteral("cuda"), Qt::CaseInsensitive),
             qPrintable(m_window->deviceText()));
    QVERIFY(!m_window->isRunning());
}

void TestMainWindow::runPlotsTrainLossLive() {
    QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
    m_window->runAction()->trigger();
    QVERIFY2(m_window->isRunning(), qPrintable(m_window->stateText()));
    QVERIFY(m_window->runAction()->isEnabled()); // another run may start beside it
    QVERIFY(m_window->stopAction()->isEnabled());
    const tunelab::RunId id = m_window->currentRunId();
    QVERIFY(id > 0);

    tunelab::LossChartView* chart = m_window->lossChart();
    QTRY_VERIFY_WITH_TIMEOUT(chart->displayedPoints(id).size() > 0, 60000);
    for (const QPointF& point : chart->displayedPoints(id)) {
        QVERIFY(point.x() >= 1.0); // x is the 1-based step
        QVERIFY(point.y() >= 0.0); // a loss
    }

    QVERIFY(finished.wait(120000));
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.first().first().toLongLong(), qint64(id));
    QCOMPARE(statusName(m_window->lastStatus()), statusName(RunStatus::Completed));
    QVERIFY2(m_window->stateText().startsWith(QStringLiteral("Completed")),
             qPrintable(m_window->stateText()));
    QVERIFY2(m_window->metricsText().contains(QStringLiteral("val acc")),
             qPrintable(m_window->metricsText()));
    QVERIFY(chart->pointCount(id) > 1);
    QVERIFY(m_window->runAction()->isEnabled());
    QVERIFY(!m_window->stopAction()->isEnabled());
}

void TestMainWindow::stopEndsTheRun() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 100000; // would run for hours; only Stop ends it
    m_window->setExperiment(spec);
    m_window->runAction()->trigger();
    QVERIFY(m_window->isRunning());
    const tunelab::RunId id = m_window->currentRunId();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->lossChart()->pointCount(id) > 0, 60000);

    m_window->stopAction()->trigger();
    QVERIFY(!m_window->stopAction()->isEnabled()); // no second stop while the first takes effect
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 60000);
    QCOMPARE(statusName(m_window->lastStatus()), statusName(RunStatus::Stopped));
    QVERIFY2(m_window->stateText().startsWith(QStringLiteral("Stopped")), qPrintable(m_window->stateText()));
    QVERIFY(m_window->runAction()->isEnabled());

    // The stopped run's curve stays; a new run gets its own.
    m_window->runAction()->trigger();
    QVERIFY(m_window->currentRunId() != id);
    QCOMPARE(m_window->lossChart()->seriesCount(), 2);
    m_window->stopAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 60000);
}

void TestMainWindow::badDataDisablesRunWithTheReason() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.data.kind = tunelab::DataKind::Csv;
    spec.data.path = "/nonexistent/tunelab/missing.csv";
    m_window->setExperiment(spec);
    // Before any training: Run is off and its tooltip says why, once the load has failed.
    QVERIFY(!m_window->runAction()->isEnabled());
    QTRY_VERIFY2(m_window->runAction()->toolTip().contains(QStringLiteral("missing.csv")),
                 qPrintable(m_window->runAction()->toolTip()));
    QVERIFY(!m_window->runAction()->isEnabled());
    QVERIFY(!m_window->startRun());
    QVERIFY(!m_window->isRunning());
    QCOMPARE(statusName(m_window->lastStatus()), statusName(RunStatus::Failed));
    QVERIFY2(m_window->stateText().contains(QStringLiteral("missing.csv")),
             qPrintable(m_window->stateText()));
    QCOMPARE(m_window->lossChart()->seriesCount(), 0); // no empty curve left in the legend
    QVERIFY(!m_window->findChild<QMessageBox*>());     // not interactive: no dialog

    m_window->setExperiment(tunelab::defaultExperiment());
    QVERIFY(m_window->runAction()->isEnabled());
}

// An experiment whose data is a file opens at once: the file loads off the GUI thread, and Run waits
// for it with the reason in its tooltip.
void TestMainWindow::openingFileDataLoadsItOffTheGuiThread() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.data.kind = tunelab::DataKind::Csv;
    spec.data.path = TUNELAB_SHARED_DATA_DIR "/iris.csv";
    spec.data.target = "species";
    spec.data.standardize = true;
    spec.model.layers.back().outFeatures = 3; // three species
    m_window->setExperiment(spec);
    QVERIFY(m_window->dataForm()->isLoading());
    QVERIFY(!m_window->dataForm()->hasData()); // not the data of the experiment before
    QVERIFY(!m_window->runAction()->isEnabled());
    QVERIFY2(m_window->runAction()->toolTip().contains(QStringLiteral("still loading")),
             qPrintable(m_window->runAction()->toolTip()));
    const QList<QLabel*> labels = m_window->dataForm()->findChildren<QLabel*>();
    QVERIFY(std::any_of(labels.begin(), labels.end(), [](const QLabel* label) {
        return label->text().startsWith(QStringLiteral("Loading iris.csv (")); // with the file's size
    }));
    // The network is not checked against the last experiment's data while this one's loads.
    tunelab::LayerStackModel* layers = m_window->networkEditor()->layerModel();
    QVERIFY(!layers->inputKnown());
    for (int row = 0; row < layers->layerCount(); ++row)
        QVERIFY2(layers->rowError(row).isEmpty(), qPrintable(layers->rowError(row)));
    QVERIFY2(m_window->networkEditor()->invalidReason().contains(QStringLiteral("once the data is loaded")),
             qPrintable(m_window->networkEditor()->invalidReason()));
    QTRY_VERIFY(m_window->dataForm()->hasData());
    QCOMPARE(m_window->dataForm()->dataset().rows, int64_t(150));
    QVERIFY2(m_window->runAction()->isEnabled(), qPrintable(m_window->runAction()->toolTip()));
    QCOMPARE(layers->inputShape(), tunelab::Shape{4});
    QVERIFY(m_window->networkEditor()->isValid());

    // Built-in data is made before setExperiment returns.
    m_window->setExperiment(tunelab::defaultExperiment());
    QVERIFY(!m_window->dataForm()->isLoading());
    QVERIFY(m_window->runAction()->isEnabled());
}

void TestMainWindow::interactiveFailureOpensADialog() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.data.kind = tunelab::DataKind::Csv;
    spec.data.path = "/nonexistent/tunelab/missing.csv";
    m_window->setExperiment(spec);
    QTRY_VERIFY(!m_window->dataForm()->isLoading());
    m_window->setInteractive(true);
    QVERIFY(!m_window->startRun());
    auto* box = m_window->findChild<QMessageBox*>();
    QVERIFY(box);
    QVERIFY(box->isVisible()); // window-modal and open(): the event loop keeps running
    QVERIFY2(box->text().contains(QStringLiteral("missing.csv")), qPrintable(box->text()));
    box->accept();
}

void TestMainWindow::pauseHoldsTheRun() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 100000;
    m_window->setExperiment(spec);
    QVERIFY(m_window->startRun());
    const auto id = m_window->currentRunId();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->lossChart()->pointCount(id) > 0, 60000);
    m_window->pauseAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->stateText().startsWith(QStringLiteral("Paused")), 30000);
    // Points already on their way may still land, on a busy machine late; once 300 ms passed without
    // one, none may follow. A run that does not pause never gets so quiet.
    qsizetype held = m_window->lossChart()->pointCount(id);
    QElapsedTimer quiet, bound;
    quiet.start();
    bound.start();
    while (quiet.elapsed() < 300 && bound.elapsed() < 30000) {
        QTest::qWait(20);
        if (m_window->lossChart()->pointCount(id) != held) {
            held = m_window->lossChart()->pointCount(id);
            quiet.restart();
        }
    }
    QVERIFY(quiet.elapsed() >= 300);
    QTest::qWait(300);
    QCOMPARE(m_window->lossChart()->pointCount(id), held);
    m_window->pauseAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->lossChart()->pointCount(id) > held, 60000);
    m_window->stopRun();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 60000);
}

void TestMainWindow::panelEditsReachTheExperiment() {
    QVERIFY(m_window->trainingForm() && m_window->dataForm());
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 3;
    spec.optimizer.type = tunelab::OptimizerType::Sgd;
    spec.optimizer.momentum = 0.5;
    m_window->trainingForm()->setSpec(spec);
    Q_EMIT m_window->trainingForm()->edited();
    QCOMPARE(m_window->experiment().training.epochs, 3);
    QCOMPARE(QByteArray(tunelab::toString(m_window->experiment().optimizer.type)), QByteArray("sgd"));
}

void TestMainWindow::saveWritesASpecTheCliRuns() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("saved.json"));
    QVERIFY(m_window->saveExperiment(path));
    auto loaded = tunelab::loadExperimentSpec(path.toStdString());
    QVERIFY2(loaded.ok(), loaded.error().c_str());
    QCOMPARE(tunelab::experimentSpecToJson(loaded.value()),
             tunelab::experimentSpecToJson(m_window->experiment()));
    QCOMPARE(m_window->windowFilePath(), path);
}

void TestMainWindow::openExperimentFile() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.name = "from-a-file";
    spec.training.epochs = 2;
    const QString path = dir.filePath(QStringLiteral("spec.json"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray::fromStdString(tunelab::experimentSpecToJson(spec)));
    file.close();

    QVERIFY2(m_window->openExperiment(path), qPrintable(m_window->stateText()));
    QCOMPARE(m_window->windowTitle(), QStringLiteral("TuneLab — from-a-file[*]"));
    QVERIFY(!m_window->isWindowModified());
    QCOMPARE(m_window->experiment().training.epochs, 2);
}

void TestMainWindow::badExperimentFileKeepsTheCurrentOne() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("broken.json"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"name": "broken", "training": {"epochs": "many"}})");
    file.close();

    const QString before = m_window->windowTitle();
    QVERIFY(!m_window->openExperiment(path));
    QCOMPARE(m_window->windowTitle(), before);
    // The message names the file and the JSON path of the mistake.
    QVERIFY2(m_window->stateText().contains(QStringLiteral("broken.json")),
             qPrintable(m_window->stateText()));
    QVERIFY2(m_window->stateText().contains(QStringLiteral("epochs")), qPrintable(m_window->stateText()));
}

void TestMainWindow::runsSurviveARestartWithTheirCurves() {
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
    auto store = tunelab::RunStore::open(path);
    QVERIFY2(store.ok(), store.error().c_str());
    m_window->setRunStore(std::move(store.value()));
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 3;
    m_window->setExperiment(spec);
    QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
    QVERIFY(m_window->startRun());
    QVERIFY(finished.wait(60000));
    const qint64 id = m_window->currentRunId();
    QCOMPARE(m_window->runsModel()->runCount(), 1);
    QCOMPARE(statusName(m_window->runsModel()->runAt(0).status), statusName(RunStatus::Completed));
    QVERIFY(m_window->metricCharts()->charts().at(1)->pointCount(id) == 3); // epoch loss, one per epoch
    m_window.reset();

    // A new window on the same store: the run, and its curve when selected.
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    auto reopened = tunelab::RunStore::open(path);
    QVERIFY(reopened.ok());
    m_window->setRunStore(std::move(reopened.value()));
    QCOMPARE(m_window->runsModel()->runCount(), 1);
    QCOMPARE(QByteArray(tunelab::toString(m_window->runsModel()->runAt(0).status)), QByteArray("completed"));
    QVERIFY(std::isfinite(m_window->runsModel()->runAt(0).bestValLoss)); // from the stored epochs
    m_window->runsView()->selectRuns({id});
    QTRY_VERIFY(m_window->lossChart()->pointCount(id) > 10);
    QCOMPARE(m_window->metricCharts()->charts().at(1)->pointCount(id), qsizetype(3));
}

void TestMainWindow::networkMismatchDisablesRun() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.model.layers.back().outFeatures = 5; // two classes need 2 outputs
    m_window->setExperiment(spec);
    QVERIFY(!m_window->networkEditor()->isValid());
    QVERIFY(!m_window->runAction()->isEnabled());
    QVERIFY2(m_window->runAction()->toolTip().contains(QStringLiteral("out_features")),
             qPrintable(m_window->runAction()->toolTip()));
    m_window->setExperiment(tunelab::defaultExperiment());
    QVERIFY(m_window->runAction()->isEnabled());
}

void TestMainWindow::runsTrainSideBySide() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 20;
    m_window->setExperiment(spec);
    QVERIFY(m_window->startRun());
    const qint64 first = m_window->currentRunId();
    spec.optimizer.type = tunelab::OptimizerType::Sgd;
    spec.optimizer.lr = 0.1;
    m_window->setExperiment(spec);
    QVERIFY(m_window->startRun());
    const qint64 second = m_window->currentRunId();
    QVERIFY(second != first);
    m_window->runsView()->selectRuns({first, second}); // both curves in the charts
    auto* model = m_window->runsModel();
    QTRY_VERIFY_WITH_TIMEOUT(statusName(model->runAt(model->rowForRun(first)).status) == "completed" &&
                                 statusName(model->runAt(model->rowForRun(second)).status) == "completed",
                             60000);
    QCOMPARE(model->runAt(model->rowForRun(second)).optimizer, QStringLiteral("sgd"));
    // The compare view lists what changed between the two.
    auto* differences = m_window->specDifferences();
    QStringList paths;
    for (int row = 0; row < differences->differenceCount(); ++row)
        paths << differences->pathAt(row);
    QVERIFY2(paths.contains("optimizer.type") && paths.contains("optimizer.lr"),
             qPrintable(paths.join(", ")));
    QTRY_VERIFY(m_window->lossChart()->pointCount(first) > 0 &&
                m_window->lossChart()->pointCount(second) > 0);
}

void TestMainWindow::toolsMenuOpensItsWindows() {
    for (const char* name : {"optimizerRaceAction", "lrRangeTestAction", "playgroundAction"}) {
        auto* action = m_window->findChild<QAction*>(QString::fromLatin1(name));
        QVERIFY2(action, name);
        const int before = QApplication::topLevelWidgets().size();
        action->trigger();
        QTRY_VERIFY2(QApplication::topLevelWidgets().size() > before, name);
    }
    QVERIFY(m_window->findChild<tunelab::RaceWindow*>());
    QVERIFY(m_window->findChild<tunelab::PlaygroundWindow*>());
}

void TestMainWindow::rangeTestApplyPutsTheRateInTheSpec() {
    m_window->applyLearningRate(0.0042);
    QCOMPARE(m_window->experiment().optimizer.lr, 0.0042);
    auto* lr = m_window->trainingForm()->findChild<tunelab::NumberField*>(QStringLiteral("optimizer.lr"));
    QVERIFY(lr);
    QVERIFY(qAbs(lr->value() - 0.0042) < 1e-9);
}

// The store loses writes (a full disk; here every write fails under a file-size limit of 0): the
// window says so in the status bar and in a warning, naming the store and the run, and the notice
// stays after the disk has room again.
void TestMainWindow::storeThatCannotWriteShowsALastingWarning() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = tunelab::RunStore::open(path.toStdString());
    QVERIFY2(store.ok(), store.error().c_str());
    m_window->setRunStore(std::move(store.value()));
    m_window->setInteractive(true);
    tunelab::RunStore* runStore = m_window->runStore();
    const tunelab::RunId id = runStore->createRun("lost", "{}").value();
    runStore->flush();
    QVERIFY(!m_window->storeLossLabel()->isVisible());
    {
        tunelab::test::FileSizeLimit full(0);
        QVERIFY(full.isSet());
        tunelab::RunEvent finished;
        finished.kind = tunelab::RunEventKind::Finished;
        finished.runId = id;
        finished.summary.status = RunStatus::Completed;
        runStore->onRunEvent(finished);
        runStore->flush();
    }
    QTRY_VERIFY(m_window->storeLossLabel()->isVisible());
    const QString details = m_window->storeLossLabel()->toolTip();
    QVERIFY2(details.contains(path), qPrintable(details));
    QVERIFY2(details.contains(QStringLiteral("run %1: final status and model").arg(id)), qPrintable(details));
    auto* warning = m_window->findChild<QMessageBox*>(QStringLiteral("storeLossWarning"));
    QVERIFY(warning);
    QVERIFY(warning->isVisible());
    QCOMPARE(warning->text(), details);
    warning->accept();

    // Later writes that succeed do not hide what was lost.
    runStore->createRun("saved", "{}");
    runStore->flush();
    QCoreApplication::processEvents();
    QVERIFY(m_window->storeLossLabel()->isVisible());
}

void TestMainWindow::saveOnAFullDiskKeepsThePreviousFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("saved.json"));
    QVERIFY(m_window->saveExperiment(path));
    QFile saved(path);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    const QByteArray before = saved.readAll();
    tunelab::ExperimentSpec spec = m_window->experiment();
    spec.name = "renamed";
    m_window->setExperiment(spec);
    {
        tunelab::test::FileSizeLimit full(16);
        QVERIFY(full.isSet());
        QVERIFY(!m_window->saveExperiment(path));
    }
    QVERIFY2(m_window->stateText().contains(path + QStringLiteral(": could not write: File too large")),
             qPrintable(m_window->stateText()));
    QVERIFY(saved.seek(0));
    QCOMPARE(saved.readAll(), before);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
             QStringList{QStringLiteral("saved.json")});
}

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
