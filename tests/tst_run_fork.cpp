// "Fork from Here..." and "Export Model..." in the real window, offscreen, with a temporary run store: a
// finished run forks from its stored checkpoint, a running one at the end of the epoch it trains; the fork
// continues the parent's steps and epochs with the settings typed in the dialog, and the store records its
// origin.

#include "window/main_window.h"

#include "charts/loss_chart_view.h"
#include "common/number_field.h"
#include "events/run_events.h"
#include "experiment/training_form.h"
#include "runs/fork_run_dialog.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "window/run_session.h"

#include "number_field_test_support.h"
#include "zip_test_support.h"

#include <QAction>
#include <QMenu>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <memory>

using namespace tunelab;

namespace {

// Three blobs, a small network, a constant rate: every step's rate is the optimizer's.
ExperimentSpec blobs(int epochs) {
    ExperimentSpec spec = defaultExperiment();
    spec.name = "blobs";
    spec.data.kind = DataKind::Blobs;
    spec.data.samples = 300;
    spec.data.classes = 3;
    spec.data.features = 2;
    LayerSpec hidden;
    hidden.type = LayerType::Linear;
    hidden.outFeatures = 16;
    LayerSpec tanh;
    tanh.type = LayerType::Tanh;
    LayerSpec out = hidden;
    out.outFeatures = 3;
    spec.model.layers = {hidden, tanh, out};
    spec.optimizer.type = OptimizerType::Adam;
    spec.optimizer.lr = 0.01;
    spec.schedule = ScheduleSpec{};
    spec.training.epochs = epochs;
    spec.training.batchSize = 32;
    return spec;
}

QAction* forkAction(QMenu& menu) {
    for (QAction* action : menu.actions()) {
        if (action->objectName() == QLatin1String("forkAction"))
            return action;
    }
    return nullptr;
}

NumberField* field(const ForkRunDialog& dialog, const char* path) {
    return dialog.trainingForm()->findChild<NumberField*>(QLatin1String(path));
}

QString nameTip(const MainWindow& window, RunId id) {
    const RunsTableModel* model = window.runsModel();
    return model->index(model->rowForRun(id), RunsTableModel::NameColumn).data(Qt::ToolTipRole).toString();
}

} // namespace

class TestRunFork : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void forksAFinishedRunWithEditedSettings();
    void forksARunningRunAtTheEndOfItsEpoch();
    void aRunWithoutACheckpointCannotBeForked();
    void aDamagedCheckpointCannotBeForked();
    void exportsARunsModelAndChecksIt();

private:
    // Opens the fork dialog of `id` through the runs table's context menu.
    ForkRunDialog* openForkDialog(RunId id);
    // Records a completed three-epoch run of blobs named `name` with `checkpoint` (none when null)
    // and reopens the store so that the window lists it; 0 when it could not be recorded.
    RunId recordFinishedRun(const std::string& name, std::shared_ptr<const TrainingCheckpoint> checkpoint);

    QTemporaryDir m_dir;
    RunStore* m_store = nullptr;
    std::unique_ptr<MainWindow> m_window;
};

void TestRunFork::init() {
    QVERIFY(m_dir.isValid());
    QFile::remove(m_dir.filePath(QStringLiteral("runs.sqlite")));
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    auto store = RunStore::open(m_dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
    QVERIFY2(store.ok(), store.error().c_str());
    m_window->setRunStore(std::move(store.value()));
    m_store = m_window->runStore();
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestRunFork::cleanup() {
    m_window.reset(); // stops what still trains
    m_store = nullptr;
}

ForkRunDialog* TestRunFork::openForkDialog(RunId id) {
    m_window->runsView()->selectRuns({id});
    std::unique_ptr<QMenu> menu(m_window->runsView()->createContextMenu());
    QAction* fork = forkAction(*menu);
    if (!fork || !fork->isEnabled())
        return nullptr;
    fork->trigger();
    // A run that just ended may have its checkpoint still on its way to the file: the dialog
    // opens once the store has it.
    if (!QTest::qWaitFor([this] { return m_window->findChild<ForkRunDialog*>() != nullptr; }, 30000))
        return nullptr;
    return m_window->findChild<ForkRunDialog*>();
}

void TestRunFork::forksAFinishedRunWithEditedSettings() {
    m_window->setExperiment(blobs(3));
    QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
    QVERIFY(m_window->startRun());
    const RunId parent = m_window->currentRunId();
    QVERIFY(finished.wait(60000));
    QCOMPARE(QByteArray(toString(m_window->lastStatus())), QByteArray("completed"));

    QPointer<ForkRunDialog> dialog = openForkDialog(parent);
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QCOMPARE(dialog->forkEpoch(), 3);
    QCOMPARE(field(*dialog, "training.epochs")->text(), QStringLiteral("4")); // it trained all 3: more
    test::typeInto(field(*dialog, "optimizer.lr"), QStringLiteral("0.003"));

    // Not above the checkpoint's epoch: refused with a message, the typed value kept, nothing started.
    test::typeInto(field(*dialog, "training.epochs"), QStringLiteral("3"));
    QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
    QVERIFY(dialog->isVisible());
    QVERIFY2(dialog->message().contains(QStringLiteral("above 3")), qPrintable(dialog->message()));
    QCOMPARE(field(*dialog, "training.epochs")->text(), QStringLiteral("3"));
    QCOMPARE(m_window->runsModel()->runCount(), 1);
    QCOMPARE(m_window->currentRunId(), parent);

    test::typeInto(field(*dialog, "training.epochs"), QStringLiteral("6"));
    QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
    QTRY_VERIFY(!dialog);
    const RunId fork = m_window->currentRunId();
    QVERIFY(fork != parent);
    // Both curves, and the settings that differ, show at once.
    QCOMPARE(m_window->runsView()->selectedRunIds(), (QList<qint64>{parent, fork}));
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 60000);
    QCOMPARE(QByteArray(toString(m_window->lastStatus())), QByteArray("completed"));
    QCOMPARE(nameTip(*m_window, fork), QStringLiteral("forked from #%1 after epoch 3").arg(parent));

    m_store->flush();
    const auto record = m_store->run(fork);
    QVERIFY(record);
    QCOMPARE(record->parentRun, parent);
    QCOMPARE(record->parentEpoch, 3);
    QCOMPARE(record->name, std::string("blobs-fork"));
    const std::vector<EpochRecord> epochs = m_store->epochs(fork);
    QCOMPARE(epochs.size(), size_t(3));
    QCOMPARE(epochs.front().epoch, 4);
    QCOMPARE(epochs.back().epoch, 6);
    const std::vector<StepRecord> parentSteps = m_store->steps(parent);
    const std::vector<StepRecord> steps = m_store->steps(fork);
    QVERIFY(!parentSteps.empty() && !steps.empty());
    QCOMPARE(steps.front().step, parentSteps.back().step + 1); // its steps go on from the parent's
    QCOMPARE(steps.front().epoch, 4);
    for (const StepRecord& step : steps)
        QVERIFY2(qFuzzyCompare(step.learningRate, 0.003f), qPrintable(QString::number(step.learningRate)));
    QVERIFY(qFuzzyCompare(parentSteps.back().learningRate, 0.01f));

    // On the shared chart the fork starts where the parent was.
    LossChartView* chart = m_window->lossChart();
    QTRY_VERIFY(chart->pointCount(parent) > 0 && chart->pointCount(fork) > 0);
    const QList<QPointF> forkPoints = chart->displayedPoints(fork);
    QVERIFY(!forkPoints.isEmpty());
    const auto first = std::min_element(forkPoints.begin(), forkPoints.end(),
                                        [](const QPointF& a, const QPointF& b) { return a.x() < b.x(); });
    QVERIFY2(first->x() > double(parentSteps.back().step) - 1.0, qPrintable(QString::number(first->x())));
}

void TestRunFork::forksARunningRunAtTheEndOfItsEpoch() {
    m_window->setExperiment(blobs(100000)); // trains until stopped
    QVERIFY(m_window->startRun());
    const RunId parent = m_window->currentRunId();
    const RunsTableModel* runs = m_window->runsModel();
    QTRY_VERIFY_WITH_TIMEOUT(runs->runAt(runs->rowForRun(parent)).epochsDone >= 2, 60000);

    QPointer<ForkRunDialog> dialog = openForkDialog(parent);
    QVERIFY(dialog);
    QVERIFY(dialog->parentRunning());
    QCOMPARE(field(*dialog, "training.epochs")->text(), QStringLiteral("100000")); // the parent's plan
    test::typeInto(field(*dialog, "optimizer.lr"), QStringLiteral("0.003"));
    QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
    QVERIFY2(m_window->stateText().contains(QStringLiteral("waiting for the end of epoch")),
             qPrintable(m_window->stateText()));
    QVERIFY(m_window->runSession()->forkPending(parent));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->currentRunId() != parent, 60000);
    const RunId fork = m_window->currentRunId();
    QVERIFY(!m_window->runSession()->forkPending(parent));
    QTRY_VERIFY_WITH_TIMEOUT(runs->runAt(runs->rowForRun(fork)).epochsDone >= 3, 60000);
    // Both train on: the parent was only asked for a checkpoint.
    const int forkEpoch = runs->runAt(runs->rowForRun(fork)).parentEpoch;
    QVERIFY(forkEpoch >= 2);
    QTRY_VERIFY_WITH_TIMEOUT(runs->runAt(runs->rowForRun(parent)).epochsDone > forkEpoch, 60000);
    QVERIFY(m_window->runSession()->isActive(parent));
    QCOMPARE(m_window->runsView()->selectedRunIds(), (QList<qint64>{parent, fork}));
    m_window->runSession()->stop(parent);
    m_window->runSession()->stop(fork);
    QTRY_VERIFY_WITH_TIMEOUT(
        !m_window->runSession()->isActive(parent) && !m_window->runSession()->isActive(fork), 60000);

    m_store->flush();
    const auto record = m_store->run(fork);
    QVERIFY(record);
    QCOMPARE(record->parentRun, parent);
    QCOMPARE(record->parentEpoch, forkEpoch);
    const std::vector<EpochRecord> epochs = m_store->epochs(fork);
    QVERIFY(!epochs.empty());
    QCOMPARE(epochs.front().epoch, record->parentEpoch + 1);
    const std::vector<StepRecord> steps = m_store->steps(fork);
    QVERIFY(!steps.empty());
    QCOMPARE(steps.front().epoch, record->parentEpoch + 1);
    for (const StepRecord& step : steps)
        QVERIFY2(qFuzzyCompare(step.learningRate, 0.003f), qPrintable(QString::number(step.learningRate)));
    // The parent's own steps after the fork point kept its rate: they are its, not the fork's.
    const std::vector<StepRecord> parentSteps = m_store->steps(parent);
    QVERIFY(parentSteps.back().epoch > record->parentEpoch);
    QVERIFY(qFuzzyCompare(parentSteps.back().learningRate, 0.01f));
}

RunId TestRunFork::recordFinishedRun(const std::string& name,
                                     std::shared_ptr<const TrainingCheckpoint> checkpoint) {
    const auto id = m_store->createRun(name, experimentSpecToJson(blobs(3)));
    if (!id.ok())
        return 0;
    RunEvent started;
    started.kind = RunEventKind::Started;
    started.runId = id.value();
    started.device = "cpu";
    m_store->onRunEvent(started);
    RunEvent finished;
    finished.kind = RunEventKind::Finished;
    finished.runId = id.value();
    finished.summary.status = RunStatus::Completed;
    finished.summary.epochs = 3;
    finished.summary.steps = 24;
    finished.checkpoint = std::move(checkpoint);
    m_store->onRunEvent(finished);
    m_store->flush();
    m_window->setRunStore(RunStore::open(m_dir.filePath(QStringLiteral("runs.sqlite")).toStdString()).take());
    m_store = m_window->runStore();
    return id.value();
}

// Runs recorded before checkpoints were kept have none: the entry is off and says why, and asking
// anyway opens no dialog and names the reason.
void TestRunFork::aRunWithoutACheckpointCannotBeForked() {
    const RunId id = recordFinishedRun("old", nullptr);
    QVERIFY(id > 0);
    QVERIFY(!m_store->checkpoint(id));

    m_window->runsView()->selectRuns({id});
    std::unique_ptr<QMenu> menu(m_window->runsView()->createContextMenu());
    QAction* fork = forkAction(*menu);
    QVERIFY(fork);
    QVERIFY(!fork->isEnabled());
    QVERIFY2(fork->toolTip().contains(QStringLiteral("no checkpoint")), qPrintable(fork->toolTip()));

    m_window->forkRun(id);
    QTest::qWait(100);
    QVERIFY(!m_window->findChild<ForkRunDialog*>());
    QVERIFY2(m_window->stateText().contains(QStringLiteral("Cannot fork run %1").arg(id)),
             qPrintable(m_window->stateText()));
    QVERIFY2(m_window->stateText().contains(QStringLiteral("no checkpoint")),
             qPrintable(m_window->stateText()));
}

// A checkpoint whose archive fails its CRC-32 (a bit flipped on the disk) is refused before the dialog
// opens: forking from it would train on from a changed weight.
void TestRunFork::aDamagedCheckpointCannotBeForked() {
    auto checkpoint = std::make_shared<TrainingCheckpoint>();
    checkpoint->epoch = 3;
    checkpoint->optimizer = "adam";
    checkpoint->state =
        tunelab::test::storedZip({{"archive/data.pkl", "pickle"}, {"archive/data/0", "weights"}});
    const std::string weights = "weights";
    *std::search(checkpoint->state.begin(), checkpoint->state.end(), weights.begin(), weights.end()) ^= 0x02;
    const RunId id = recordFinishedRun("flipped", checkpoint);
    QVERIFY(id > 0);
    QVERIFY(m_store->checkpoint(id));

    m_window->forkRun(id);
    QTest::qWait(100);
    QVERIFY(!m_window->findChild<ForkRunDialog*>());
    QVERIFY2(m_window->stateText().contains(QStringLiteral("Cannot fork run %1").arg(id)) &&
                 m_window->stateText().contains(QStringLiteral("'archive/data/0' does not match its CRC-32")),
             qPrintable(m_window->stateText()));
}

// "Export Model..." writes TorchScript (.pt) or a readable state dict (.pth) off the GUI thread, checks it
// on the 60 validation rows (20 % of 300 blobs) and records the check with the run; a folder that
// cannot be written is reported and leaves nothing.
void TestRunFork::exportsARunsModelAndChecksIt() {
    m_window->setExperiment(blobs(2));
    QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
    QVERIFY(m_window->startRun());
    const RunId run = m_window->currentRunId();
    QVERIFY(finished.wait(60000));
    m_store->flush();

    QSignalSpy exported(m_window.get(), &MainWindow::exportFinished);
    const QString script = m_dir.filePath(QStringLiteral("blobs.pt"));
    const QString state = m_dir.filePath(QStringLiteral("blobs.pth"));
    m_window->exportRunModelTo(run, script);
    QVERIFY(exported.wait(60000));
    QCOMPARE(exported.takeFirst().at(0).toString(), QString());
    QVERIFY2(m_window->stateText().contains(QStringLiteral("read back and run on 60 rows")),
             qPrintable(m_window->stateText()));
    m_window->exportRunModelTo(run, state);
    QVERIFY(exported.wait(60000));
    QCOMPARE(exported.takeFirst().at(0).toString(), QString());
    QVERIFY(QFile::exists(state + QStringLiteral(".spec.json")));
    const auto records = m_store->exports(run);
    QCOMPARE(records.size(), size_t{2});
    QCOMPARE(QByteArray(records[0].format.c_str()), QByteArray("torchscript"));
    QCOMPARE(QByteArray(records[1].format.c_str()), QByteArray("state-dict"));
    QVERIFY(records[1].maxAbsDifference <= 1e-5);

    const QString nowhere = m_dir.filePath(QStringLiteral("missing-folder/blobs.pt"));
    m_window->exportRunModelTo(run, nowhere);
    QVERIFY(exported.wait(60000));
    QVERIFY2(exported.takeFirst().at(0).toString().contains(QStringLiteral("missing-folder")),
             qPrintable(m_window->stateText()));
    QVERIFY(!QFile::exists(nowhere));
    QCOMPARE(m_store->exports(run).size(), size_t{2});
}

QTEST_MAIN(TestRunFork)
#include "tst_run_fork.moc"
