// The window on a store that other processes share (File › Open Shared Store…): it opens the store
// by its location, shows its only study, and keeps showing the trials other workers add and finish,
// as they happen. Runs on a SQLite file and, as tst_shared_store_window_postgres, on a PostgreSQL
// server.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "run_store_test_support.h"
#include "study/study_trials_model.h"
#include "study/study_view.h"
#include "study_test_support.h"

#include <QtWidgets/QApplication>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// A study as `study create` stores it: the tiny blobs experiment and one parameter.
std::string blobsStudyJson() {
    StudySpec spec;
    spec.name = "shared";
    spec.experimentJson = experimentSpecToJson(tinyBlobsExperiment("tiny-blobs", 2));
    spec.spaceJson =
        R"({"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1}]})";
    return studySpecToJson(spec);
}

StudyTrialsModel* trialsOf(MainWindow& window) {
    return window.studyPanel()->studyView()->trialsModel();
}

QString stateOfRow(MainWindow& window, int row) {
    return name(trialsOf(window)->trialAt(row).state);
}

} // namespace

class TestSharedStoreWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void showsWhatOtherWorkersDo();
    void refusesWhatCannotBeOpened();
};

void TestSharedStoreWindow::showsWhatOtherWorkersDo() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("shared.sqlite"));
    auto worker = openStore(location); // another process's store, as a worker on another host has it
    QVERIFY(worker);
    const StudyId study = worker->createStudy("shared", blobsStudyJson()).value();
    const auto first = worker->createTrial(study, assignment({{"optimizer.lr", "0.01"}}));
    QVERIFY(first.ok());

    MainWindow window;
    window.setInteractive(false);
    window.studyPanel()->setInteractive(false);
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QString error;
    QVERIFY2(window.openStoreLocation(location, QString(), &error), qPrintable(error));
    QCOMPARE(window.studyPanel()->currentStudy(), study);
    QCOMPARE(trialsOf(window)->rowCount(), 1);
    QCOMPARE(stateOfRow(window, 0), QStringLiteral("running"));

    // The worker reports, finishes its trial and starts another: the window follows.
    worker->reportIntermediate(first.value().id, 1, 0.8);
    QVERIFY(worker->finishTrial(first.value().id, TrialState::Complete, 0.8, "").ok());
    const auto second = worker->createTrial(study, assignment({{"optimizer.lr", "0.05"}}));
    QVERIFY(second.ok());
    QTRY_COMPARE_WITH_TIMEOUT(trialsOf(window)->rowCount(), 2, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(stateOfRow(window, 0), QStringLiteral("complete"), 5000);
    QCOMPARE(trialsOf(window)->trialAt(0).value, 0.8);
    QCOMPARE(trialsOf(window)->trialAt(0).intermediate.size(), size_t(1));
    QCOMPARE(stateOfRow(window, 1), QStringLiteral("running"));
    // A running trial's epochs show as they are reported.
    worker->reportIntermediate(second.value().id, 1, 0.6);
    worker->flush();
    QTRY_COMPARE_WITH_TIMEOUT(trialsOf(window)->trialAt(1).intermediate.size(), size_t(1), 5000);
    QCOMPARE(QString::fromStdString(window.runStore()->path()), QString::fromStdString(worker->path()));
}

void TestSharedStoreWindow::refusesWhatCannotBeOpened() {
    MainWindow window;
    window.setInteractive(false);
    QString error;
    QVERIFY(!window.openStoreLocation(QStringLiteral("postgresql://nobody@/none?host=/nonexistent&port=1"),
                                      QString(), &error));
    QVERIFY2(error.contains(QStringLiteral("cannot connect")) ||
                 error.contains(QStringLiteral("without PostgreSQL")),
             qPrintable(error));
    QVERIFY(!error.contains(QStringLiteral("secret")));
    QVERIFY(!window.openStoreLocation(QStringLiteral("postgresql://me:secret@/none?host=/nonexistent&port=1"),
                                      QString(), &error));
    QVERIFY2(!error.contains(QStringLiteral("secret")), qPrintable(error)); // the password is never shown
}

QTEST_MAIN(TestSharedStoreWindow)
#include "tst_shared_store_window.moc"
