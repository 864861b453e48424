// Comparing runs in the window as a user does: select two runs and read their results above what
// changed; select one classification run and read its confusion matrix on the validation split,
// which agrees with the accuracy the run reported.

#include "window/main_window.h"

#include "runs/confusion_matrix_view.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "runs/spec_diff_model.h"
#include "spec/spec.h"
#include "store/run_store.h"

#include "study_test_support.h"

#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace tunelab;
using namespace tunelab::test;

class TestRunCompare : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() {
        QVERIFY(m_dir.isValid());
        m_window = std::make_unique<MainWindow>();
        m_window->setInteractive(false);
        auto store = RunStore::open(m_dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
        QVERIFY2(store.ok(), store.error().c_str());
        m_window->setRunStore(store.take());
        m_window->resize(1280, 800);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanup() { m_window.reset(); }

    void resultsSitAboveWhatChangedAndTheMatrixAgreesWithTheRun() {
        ExperimentSpec spec = tinyBlobsExperiment("blobs", 2);
        spec.training.epochs = 4;
        m_window->setExperiment(spec);
        QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
        QVERIFY(m_window->startRun());
        QVERIFY(finished.wait(60000));
        const qint64 first = m_window->currentRunId();
        spec.optimizer.lr = 0.05;
        spec.model.layers[0].outFeatures = 16;
        m_window->setExperiment(spec);
        QVERIFY(m_window->startRun());
        QVERIFY(finished.wait(60000));
        const qint64 second = m_window->currentRunId();

        m_window->runsView()->selectRuns({first, second});
        SpecDiffModel* differences = m_window->specDifferences();
        QVERIFY(differences->metricCount() >= 4);
        QCOMPARE(differences->index(0, 0).data().toString(), QStringLiteral("best val loss"));
        QVERIFY(differences->index(0, 1).data().toString() != QStringLiteral("—"));
        QCOMPARE(differences->index(2, 0).data().toString(), QStringLiteral("val accuracy"));
        QStringList settings;
        for (int row = differences->metricCount(); row < differences->rowCount(); ++row)
            settings << differences->index(row, 0).data().toString();
        QVERIFY2(settings.contains(QStringLiteral("layer 1 · out_features")) &&
                     settings.contains(QStringLiteral("optimizer.lr")),
                 qPrintable(settings.join(", ")));

        // One run: its matrix, worked out when its tab shows.
        ConfusionMatrixView* matrix = m_window->confusionMatrix();
        m_window->runsView()->selectRuns({second});
        m_window->runsTabs()->setCurrentIndex(2);
        QTRY_VERIFY_WITH_TIMEOUT(matrix->classes() == 3, 30000);
        const RunRecord run = *m_window->runStore()->run(second);
        int64_t total = 0;
        for (int a = 0; a < 3; ++a)
            for (int p = 0; p < 3; ++p)
                total += matrix->count(a, p);
        QCOMPARE(total, int64_t(std::llround(spec.data.samples * spec.data.validationFraction)));
        QVERIFY2(std::abs(matrix->accuracy() - run.summary.valAccuracy) < 1e-9,
                 qPrintable(QStringLiteral("%1 vs %2").arg(matrix->accuracy()).arg(run.summary.valAccuracy)));
        // Two runs selected: it asks for one.
        m_window->runsView()->selectRuns({first, second});
        QCOMPARE(matrix->classes(), 0);
        QVERIFY(matrix->message().contains(QStringLiteral("Select one")));
    }

    void regressionRunsSayWhyThereIsNoMatrix() {
        ExperimentSpec spec = tinyBlobsExperiment("regression", 2);
        spec.data.kind = DataKind::Regression;
        spec.data.samples = 120;
        spec.loss.type = LossType::Mse;
        spec.model.layers.back().outFeatures = 1;
        spec.training.epochs = 2;
        m_window->setExperiment(spec);
        QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
        QVERIFY2(m_window->startRun(), qPrintable(m_window->stateText()));
        QVERIFY(finished.wait(60000));
        m_window->runsView()->selectRuns({m_window->currentRunId()});
        m_window->runsTabs()->setCurrentIndex(2);
        QTRY_VERIFY_WITH_TIMEOUT(
            m_window->confusionMatrix()->message().contains(QStringLiteral("regression")), 30000);
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(TestRunCompare)
#include "tst_run_compare.moc"
