// A study with two objectives from the window: the study file's objectives reach the study view
// (one column each, the Pareto front tab, the hypervolume), the run fills them live, the panel keeps
// the objectives the form cannot edit, and a trial of the front is exported.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "spec/spec.h"
#include "store/run_store.h"
#include "study/pareto_results.h"
#include "study/study_trials_model.h"
#include "study/study_view.h"

#include "study_test_support.h"
#include "study_window_test_support.h"

#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <memory>

using namespace tunelab;
using namespace tunelab::test;

class TestStudyParetoWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void runsAStudyWithTwoObjectives();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

void TestStudyParetoWindow::init() {
    QVERIFY(m_dir.isValid());
    m_window = openStudyWindow(m_dir, QSize(1280, 860));
    QVERIFY(m_window);
}

void TestStudyParetoWindow::cleanup() {
    if (m_window)
        m_window->studyPanel()->shutdown();
    m_window.reset();
}

void TestStudyParetoWindow::runsAStudyWithTwoObjectives() {
    StudyPanel* panel = m_window->studyPanel();
    StudySpec spec;
    spec.name = "loss and accuracy";
    spec.experimentJson = experimentSpecToJson(tinyBlobsExperiment("tiny-blobs", 3));
    spec.spaceJson = R"({"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.3,
                                         "log": true}]})";
    spec.sampler.type = "random";
    spec.sampler.seed = 5;
    spec.pruner.type = "none";
    spec.objective.metric = "val_loss";
    ObjectiveSpec accuracy;
    accuracy.metric = "val_accuracy";
    accuracy.direction = ObjectiveDirection::Maximize;
    accuracy.name = "accuracy";
    spec.moreObjectives = {accuracy};
    spec.budget.trials = 4;
    spec.parallel = 2;
    panel->applyStudySpec(spec);

    // The form edits the first objective; the others are named under it and kept.
    auto* more = panel->findChild<QLabel*>(QStringLiteral("moreObjectives"));
    QVERIFY(more && !more->isHidden());
    QVERIFY2(more->text().contains(QStringLiteral("accuracy (maximize)")), qPrintable(more->text()));
    QCOMPARE(panel->studySpec().moreObjectives.size(), size_t(1));
    QCOMPARE(panel->studySpec().moreObjectives.front().name, std::string("accuracy"));

    QSignalSpy finished(panel, &StudyPanel::studyFinished);
    QVERIFY2(panel->startStudy(), qPrintable(panel->stateText()));
    QVERIFY(finished.wait(60000));

    RunStore* store = m_window->runStore();
    const auto trials = store->trials(panel->currentStudy(), true);
    QCOMPARE(int(trials.size()), 4);
    for (const TrialRecord& trial : trials) {
        QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
        QCOMPARE(trial.moreValues.size(), size_t(1));
        QVERIFY(!trial.intermediate.empty()); // the first objective's, for the curves tab
    }
    const std::vector<ObjectiveSpec> objectives = studyObjectives(spec);
    QSet<qint64> front;
    for (const TrialRecord& trial : paretoTrials(objectives, trials))
        front.insert(trial.number);
    QVERIFY(!front.isEmpty());
    QVERIFY2(panel->stateText().contains(QStringLiteral("Pareto front of %1 trials").arg(front.size())),
             qPrintable(panel->stateText()));

    StudyView* view = panel->studyView();
    view->flush();
    StudyTrialsModel* model = view->trialsModel();
    QCOMPARE(model->objectiveCount(), 2);
    QCOMPARE(model->headerData(model->objectiveColumn(1), Qt::Horizontal).toString(),
             QStringLiteral("accuracy"));
    QCOMPARE(model->paretoFront(), front);
    QCOMPARE(view->plotTabs()->indexOf(view->paretoTab()), 0);
    for (const TrialRecord& trial : trials)
        QVERIFY(!model->trialAt(model->rowOfTrial(trial.number)).intermediate.empty());

    // Export acts on the chosen trial of the front: its experiment, with its learning rate.
    const qint64 chosen = *front.begin();
    QSignalSpy exportRequests(view, &StudyView::exportTrialRequested);
    view->setSelectedTrials({chosen});
    QVERIFY(view->exportBestButton()->isEnabled());
    QTest::mouseClick(view->exportBestButton(), Qt::LeftButton);
    QCOMPARE(exportRequests.count(), 1);
    const QString exported = m_dir.filePath(QStringLiteral("front.json"));
    QString error;
    QVERIFY2(panel->exportTrial(chosen, exported, &error), qPrintable(error));
    const auto experiment = loadExperimentSpec(exported.toStdString());
    QVERIFY2(experiment.ok(), experiment.error().c_str());
    const auto chosenTrial = std::find_if(
        trials.begin(), trials.end(), [chosen](const TrialRecord& trial) { return trial.number == chosen; });
    QVERIFY(chosenTrial != trials.end());
    QCOMPARE(experiment.value().optimizer.lr, chosenTrial->params.at("optimizer.lr").toDouble());

    // Shown again from the store: the same objectives and front.
    view->clear();
    QVERIFY(panel->showStudy(panel->currentStudy()));
    QCOMPARE(view->trialsModel()->objectiveCount(), 2);
    QCOMPARE(view->trialsModel()->paretoFront(), front);
    QCOMPARE(panel->studySpec().moreObjectives.size(), size_t(1));
}

QTEST_MAIN(TestStudyParetoWindow)
#include "tst_study_pareto_window.moc"
