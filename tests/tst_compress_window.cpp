// "Optimize Model..." in the real window, offscreen, with a temporary run store: a trained run's plan
// (a quick pruned variant and int8) runs off the GUI thread, the pruned variant's run joins the runs
// table and the store, the results view shows the source and both variants with their accuracy, and
// Stop ends a plan early, keeping what finished.

#include "window/main_window.h"

#include "charts/scatter_chart_view.h"
#include "common/number_field.h"
#include "compress/compression_plan_dialog.h"
#include "compress/compression_results_model.h"
#include "compress/compression_results_view.h"
#include "compress/compression_variant_form.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "spec/spec.h"
#include "store/run_store.h"

#include <QAction>
#include <QDir>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace tunelab;

namespace {

ExperimentSpec blobs(int epochs) {
    ExperimentSpec spec = defaultExperiment();
    spec.name = "blobs";
    spec.device = "cpu";
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

QAction* menuAction(QMenu& menu, const QString& name) {
    for (QAction* action : menu.actions())
        if (action->objectName() == name)
            return action;
    return nullptr;
}

} // namespace

class TestCompressWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void optimizesAFinishedRun();
    void stopEndsThePlanEarly();

private:
    RunId trainSource();
    // Opens the Optimize Model dialog of `source` through the runs table's context menu.
    CompressionPlanDialog* openDialog(RunId source);

    QTemporaryDir m_dir;
    RunStore* m_store = nullptr;
    std::unique_ptr<MainWindow> m_window;
};

void TestCompressWindow::init() {
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

void TestCompressWindow::cleanup() {
    m_window.reset(); // stops a plan still running, then what trains
    m_store = nullptr;
}

RunId TestCompressWindow::trainSource() {
    m_window->setExperiment(blobs(3));
    QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
    if (!m_window->startRun())
        return 0;
    const RunId source = m_window->currentRunId();
    if (!finished.wait(60000) || m_window->lastStatus() != RunStatus::Completed)
        return 0;
    return source;
}

CompressionPlanDialog* TestCompressWindow::openDialog(RunId source) {
    m_window->runsView()->selectRuns({source});
    std::unique_ptr<QMenu> menu(m_window->runsView()->createContextMenu());
    QAction* optimize = menuAction(*menu, QStringLiteral("optimizeModelAction"));
    if (!optimize || !optimize->isEnabled())
        return nullptr;
    optimize->trigger();
    return m_window->findChild<CompressionPlanDialog*>();
}

void TestCompressWindow::optimizesAFinishedRun() {
    const RunId source = trainSource();
    QVERIFY(source > 0);
    QPointer<CompressionPlanDialog> dialog = openDialog(source);
    QVERIFY(dialog);
    QVERIFY(dialog->isVisible());
    QCOMPARE(dialog->sourceRun(), qint64(source));
    QCOMPARE(QDir::cleanPath(dialog->outputDirectory()),
             QDir::cleanPath(m_dir.filePath(QStringLiteral("compressed/%1-compression").arg(source))));
    QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));

    // A quick plan: one pruned variant with one epoch of fine-tuning, and int8.
    while (dialog->variantCount() > 0)
        dialog->removeVariant(0);
    CompressionVariantForm* prune = dialog->addVariant(VariantKind::Prune);
    prune->numberField(QStringLiteral("epochs"))->setIntegerValue(1);
    dialog->addVariant(VariantKind::Int8);
    dialog->latencyRepeatsField()->setIntegerValue(20);
    QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));

    QSignalSpy ended(m_window.get(), &MainWindow::compressionFinished);
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
    QVERIFY(m_window->isCompressing());
    QVERIFY(dialog->isRunning());
    QVERIFY(ended.wait(150000));
    QCOMPARE(ended.takeFirst().at(0).toString(), QString());
    QVERIFY(!m_window->isCompressing());
    QVERIFY(!dialog->isRunning());
    QVERIFY2(dialog->log()->toPlainText().contains(QStringLiteral("prune")),
             qPrintable(dialog->log()->toPlainText()));

    // The results: the source and both variants, measured.
    QCOMPARE(dialog->tabs()->currentIndex(), 1);
    const CompressionResult& result = dialog->resultsView()->result();
    QCOMPARE(dialog->resultsView()->resultsModel()->rowCount(), 3);
    QCOMPARE(result.source.runId, source);
    QCOMPARE(result.variants.size(), size_t(2));
    for (const VariantResult* model : {&result.source, &result.variants[0], &result.variants[1]}) {
        QVERIFY2(model->ok(), model->message.c_str());
        QVERIFY2(std::isfinite(model->valAccuracy) && model->valAccuracy > 0.5, model->name.c_str());
        QVERIFY2(QFile::exists(QString::fromStdString(model->file)), model->file.c_str());
    }
    QCOMPARE(result.variants[0].kind, std::string("prune"));
    QVERIFY(result.variants[0].nonzeroParameters < result.variants[0].parameters);
    QCOMPARE(result.variants[1].kind, std::string("int8"));
    QVERIFY(!dialog->resultsView()->sizeChart()->points().isEmpty());

    // The pruned variant is a run of the store, and of the runs table.
    const RunId pruned = result.variants[0].runId;
    QVERIFY(pruned > source);
    const auto record = m_store->run(pruned);
    QVERIFY(record);
    QCOMPARE(record->status, RunStatus::Completed);
    QVERIFY(record->hasModel);
    QCOMPARE(record->name, std::string("blobs / prune"));
    const RunsTableModel* runs = m_window->runsModel();
    QVERIFY(runs->contains(pruned));
    QCOMPARE(runs->runAt(runs->rowForRun(pruned)).status, RunStatus::Completed);

    // Export… copies the verified file.
    const QString copy = m_dir.filePath(QStringLiteral("prune-copy.pt"));
    QCOMPARE(dialog->exportModelTo(QStringLiteral("prune"), copy), QString());
    QCOMPARE(QFileInfo(copy).size(), QFileInfo(QString::fromStdString(result.variants[0].file)).size());
    QVERIFY(!dialog->exportModelTo(QStringLiteral("nothing"), copy).isEmpty());

    // The same run's entry brings the same dialog forward.
    QCOMPARE(m_window->optimizeModel(source), dialog.data());
}

void TestCompressWindow::stopEndsThePlanEarly() {
    const RunId source = trainSource();
    QVERIFY(source > 0);
    QPointer<CompressionPlanDialog> dialog = m_window->optimizeModel(source);
    QVERIFY(dialog);
    while (dialog->variantCount() > 0)
        dialog->removeVariant(0);
    dialog->addVariant(VariantKind::Prune)->numberField(QStringLiteral("epochs"))->setIntegerValue(100000);
    dialog->addVariant(VariantKind::Int8);
    QSignalSpy ended(m_window.get(), &MainWindow::compressionFinished);
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
    // Stop once the pruned variant trains: the log says its run started.
    QTRY_VERIFY_WITH_TIMEOUT(dialog->log()->toPlainText().contains(QStringLiteral("training blobs / ")),
                             60000);
    QTest::mouseClick(dialog->stopButton(), Qt::LeftButton);
    QVERIFY(ended.wait(60000));
    QCOMPARE(ended.takeFirst().at(0).toString(), QString());
    const CompressionResult& result = dialog->resultsView()->result();
    QCOMPARE(result.variants.size(), size_t(1)); // int8 was skipped
    QCOMPARE(result.variants[0].status, RunStatus::Stopped);
    const RunsTableModel* runs = m_window->runsModel();
    QCOMPARE(runs->runAt(runs->rowForRun(result.variants[0].runId)).status, RunStatus::Stopped);
}

QTEST_MAIN(TestCompressWindow)
#include "tst_compress_window.moc"
