// A study from the window, as a user runs one: "Search over…" on a field, the search settings,
// Start, the study view filling live, then the best trial exported and opened in the editor.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "experiment/training_form.h"
#include "runs/runs_table_model.h"
#include "search/search_space_editor.h"
#include "search/search_space_model.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/study_runner.h"
#include "study/study_view.h"

#include "number_field_test_support.h"
#include "search_menu_test_support.h"
#include "study_test_support.h"
#include "study_window_test_support.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <functional>
#include <memory>

using namespace tunelab;
using namespace tunelab::test;

namespace {

ExperimentSpec tinyExperiment() {
    return tinyBlobsExperiment("tiny-blobs", 2);
}

template <typename T> T* field(QWidget* parent, const char* name) {
    auto* found = parent->findChild<T*>(QString::fromLatin1(name));
    if (!found)
        qWarning("no field %s", name);
    return found;
}

} // namespace

class TestStudyWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void searchOverAddsTheFieldToTheSpace();
    void runsATinyStudyAndOpensTheBest();
    void badSpaceDoesNotStart();
    void storedStudyShowsItsSettings();
    void studyFileRoundTripsThroughTheWindow();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

void TestStudyWindow::init() {
    QVERIFY(m_dir.isValid());
    m_window = openStudyWindow(m_dir, QSize(1400, 900));
    QVERIFY(m_window);
}

void TestStudyWindow::cleanup() {
    m_window.reset();
}

void TestStudyWindow::searchOverAddsTheFieldToTheSpace() {
    auto* lr = field<QWidget>(m_window->trainingForm(), "optimizer.lr");
    QVERIFY(lr);
    m_window->experimentTabs()->setCurrentIndex(2); // the Training tab, as a user would see it
    QVERIFY(searchOverByRightClick(lr).found);
    SearchSpaceModel* model = m_window->studyPanel()->spaceEditor()->model();
    QCOMPARE(model->rowCount(), 1);
    QVERIFY(model->parameterPaths().contains(QStringLiteral("optimizer.lr")));
    // The window brings the Search tab and the study view forward.
    QCOMPARE(m_window->centralTabs()->currentWidget(),
             static_cast<QWidget*>(m_window->studyPanel()->studyView()));
    const auto space = parseSearchSpace(m_window->studyPanel()->spaceEditor()->spaceJson().toStdString());
    QVERIFY2(space.ok(), space.error().c_str());
    const SearchParameter& parameter = space.value().parameters().front();
    QVERIFY(parameter.log);
    QVERIFY(parameter.low < tinyExperiment().optimizer.lr && parameter.high > tinyExperiment().optimizer.lr);
}

void TestStudyWindow::runsATinyStudyAndOpensTheBest() {
    StudyPanel* panel = m_window->studyPanel();
    QVERIFY(searchOverByRightClick(field<QWidget>(m_window->trainingForm(), "optimizer.lr")).found);
    QVERIFY(searchOverByRightClick(field<QWidget>(m_window->trainingForm(), "training.batch_size")).found);
    QCOMPARE(panel->spaceEditor()->model()->rowCount(), 2);

    auto* sampler = field<QComboBox>(panel, "sampler");
    sampler->setCurrentIndex(sampler->findData(QStringLiteral("random")));
    typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("3"));
    typeInto(field<NumberField>(panel, "parallelTrials"), QStringLiteral("2"));
    auto* metric = field<QComboBox>(panel, "objectiveMetric");
    metric->setCurrentIndex(metric->findData(QStringLiteral("val_accuracy")));
    QCOMPARE(field<QComboBox>(panel, "objectiveDirection")->currentData().toString(),
             QStringLiteral("maximize"));

    QSignalSpy finished(panel, &StudyPanel::studyFinished);
    QTest::mouseClick(field<QPushButton>(panel, "startStudy"), Qt::LeftButton);
    QVERIFY2(panel->isRunning(), qPrintable(panel->stateText()));
    QVERIFY(finished.wait(60000));
    QVERIFY(!panel->isRunning());

    RunStore* store = m_window->runStore();
    const auto trials = store->trials(panel->currentStudy(), true);
    QCOMPARE(int(trials.size()), 3);
    for (const auto& trial : trials) {
        QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
        QCOMPARE(int(trial.intermediate.size()), 3);
        // Each trial's run shows in the runs table like any run.
        QVERIFY(m_window->runsModel()->contains(trial.runId));
    }
    QCOMPARE(m_window->studyPanel()->studyView()->findChildren<QWidget*>().isEmpty(), false);

    // Export best config: a complete experiment with the best trial's values.
    const auto record = store->study(panel->currentStudy());
    const auto best = bestTrial(trials, parseStudySpec(record->specJson).value().objective);
    QVERIFY(best);
    const QString exported = m_dir.filePath(QStringLiteral("best.json"));
    QString error;
    QVERIFY2(panel->exportBest(exported, &error), qPrintable(error));
    const auto spec = loadExperimentSpec(exported.toStdString());
    QVERIFY2(spec.ok(), spec.error().c_str());
    QCOMPARE(spec.value().optimizer.lr, best->params.at("optimizer.lr").toDouble());
    QCOMPARE(int64_t(spec.value().training.batchSize), best->params.at("training.batch_size").toInt());

    // Open best in editor: the forms show the best trial's values.
    QSignalSpy opened(panel, &StudyPanel::openExperimentRequested);
    Q_EMIT m_window->studyPanel()->studyView()->openBestRequested(best->number);
    QCOMPARE(opened.count(), 1);
    QCOMPARE(m_window->experiment().optimizer.lr, best->params.at("optimizer.lr").toDouble());
    QCOMPARE(int64_t(m_window->experiment().training.batchSize),
             best->params.at("training.batch_size").toInt());
}

void TestStudyWindow::badSpaceDoesNotStart() {
    StudyPanel* panel = m_window->studyPanel();
    panel->spaceEditor()->setSpaceJson(QStringLiteral(
        R"({"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.1, "high": 0.01}]})"));
    QVERIFY(!panel->startStudy());
    QVERIFY(!panel->isRunning());
    QVERIFY2(panel->stateText().contains(QStringLiteral("low 0.1 is above high 0.01")),
             qPrintable(panel->stateText()));
    QCOMPARE(m_window->runStore()->listStudies().size(), size_t(0));
}

void TestStudyWindow::storedStudyShowsItsSettings() {
    StudyPanel* panel = m_window->studyPanel();
    StudySpec spec;
    spec.name = "stored";
    spec.experimentJson = experimentSpecToJson(tinyExperiment());
    spec.spaceJson = R"({"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1,
                                         "log": true}]})";
    spec.sampler.type = "gp";
    spec.sampler.seed = 11;
    spec.sampler.startupTrials = 4;
    spec.pruner.type = "asha";
    spec.pruner.minEpochs = 2;
    spec.pruner.reductionFactor = 4;
    spec.budget.trials = 9;
    const auto created = m_window->runStore()->createStudy(spec.name, studySpecToJson(spec));
    QVERIFY2(created.ok(), created.error().c_str());
    panel->refreshStudyList();
    QVERIFY(panel->showStudy(created.value()));

    // Every setting of the stored study shows, down to the pruner's rungs.
    const StudySpec shown = panel->studySpec();
    QCOMPARE(shown.sampler.type, std::string("gp"));
    QCOMPARE(shown.sampler.seed, uint64_t(11));
    QCOMPARE(shown.sampler.startupTrials, 4);
    QCOMPARE(shown.pruner.type, std::string("asha"));
    QCOMPARE(shown.pruner.minEpochs, 2);
    QCOMPARE(shown.pruner.reductionFactor, 4);
    QCOMPARE(shown.budget.trials, int64_t(9));
    QCOMPARE(panel->spaceEditor()->model()->rowCount(), 1);
    QVERIFY(!field<NumberField>(panel, "prunerMinEpochs")->isEnabled());

    // Delete… removes it with its trials; the panel goes back to a new study.
    QVERIFY(field<QPushButton>(panel, "deleteStudy")->isEnabled());
    QVERIFY(panel->deleteShownStudy());
    QCOMPARE(m_window->runStore()->listStudies().size(), size_t(0));
    QCOMPARE(field<QComboBox>(panel, "studyChoice")->currentData().toLongLong(), qint64(0));
    QVERIFY(!field<QPushButton>(panel, "deleteStudy")->isEnabled());
    QVERIFY(!panel->deleteShownStudy());
    // The central tabs (curves, gradient health, study) leave the dock its 520 px in a 1280-px window.
    QVERIFY2(m_window->centralTabs()->minimumSizeHint().width() <= 740,
             qPrintable(QString::number(m_window->centralTabs()->minimumSizeHint().width())));
    // The whole panel fits the experiment dock's default width (520 px) without scrolling sideways.
    QVERIFY2(panel->minimumSizeHint().width() <= 480,
             qPrintable(QString::number(panel->minimumSizeHint().width())));
}

void TestStudyWindow::studyFileRoundTripsThroughTheWindow() {
    StudyPanel* panel = m_window->studyPanel();
    QVERIFY(searchOverByRightClick(field<QWidget>(m_window->trainingForm(), "optimizer.lr")).found);
    auto* pruner = field<QComboBox>(panel, "pruner");
    pruner->setCurrentIndex(pruner->findData(QStringLiteral("median")));
    typeInto(field<NumberField>(panel, "prunerWarmupEpochs"), QStringLiteral("2"));
    typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("7"));
    const QString path = m_dir.filePath(QStringLiteral("saved-study.json"));
    QVERIFY(m_window->saveStudyFile(path));

    // The file is a complete study for the CLI: the experiment inlined, the space and every setting.
    const auto loaded = loadStudySpec(path.toStdString());
    QVERIFY2(loaded.ok(), loaded.error().c_str());
    QCOMPARE(loaded.value().pruner.type, std::string("median"));
    QCOMPARE(loaded.value().pruner.warmupEpochs, 2);
    QCOMPARE(loaded.value().budget.trials, int64_t(7));
    QVERIFY(!loaded.value().experimentJson.empty());

    // Opened again in a fresh window, it shows as it was saved.
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    QVERIFY(m_window->openStudyFile(path));
    const StudySpec shown = m_window->studyPanel()->studySpec();
    QCOMPARE(shown.pruner.type, std::string("median"));
    QCOMPARE(shown.pruner.warmupEpochs, 2);
    QCOMPARE(shown.budget.trials, int64_t(7));
    QCOMPARE(m_window->studyPanel()->spaceEditor()->model()->rowCount(), 1);
    QCOMPARE(m_window->experiment().name, tinyExperiment().name);
}

QTEST_MAIN(TestStudyWindow)
#include "tst_study_window.moc"
