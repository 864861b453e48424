// Population-based training from the window: switched on in the Search tab's form and run there
// (members and parents in the store, the Lineage tab), a study file's population kept through the
// form, typed values the engine refuses, and settings a population cannot have, each refused with
// a message and never changed for the user.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "search/search_space_editor.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/study_lineage_plot.h"
#include "study/study_view.h"

#include "number_field_test_support.h"
#include "study_test_support.h"
#include "study_window_test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <set>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// Six epochs: with an interval of 2, each member trains three stretches.
ExperimentSpec sixEpochBlobs() {
    ExperimentSpec spec = tinyBlobsExperiment("tiny-blobs", 2);
    spec.training.epochs = 6;
    return spec;
}

const QString kLearningRateSpace = QStringLiteral(
    "{\"parameters\": [{\"path\": \"optimizer.lr\", \"kind\": \"float\", \"low\": 0.001, \"high\": 0.3, "
    "\"log\": true}]}");

template <typename T> T* field(QWidget* parent, const char* name) {
    auto* found = parent->findChild<T*>(QString::fromLatin1(name));
    if (!found)
        qWarning("no field %s", name);
    return found;
}

// A click on the check box's box, as a user ticks it (its row is wider than its text).
void clickCheckBox(QCheckBox* box) {
    QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(box->height() / 2, box->height() / 2));
}

} // namespace

class TestStudyPopulationWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void runsAPopulationSetUpInTheForm();
    void studyFileKeepsItsPopulation();
    void refusedTypedValueDoesNotStart_data();
    void refusedTypedValueDoesNotStart();
    void settingsAPopulationCannotHaveAreRefused();

private:
    // The population switched on in the form with `size` members compared every `interval` epochs.
    void setUpPopulation(const QString& size, const QString& interval);

    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

void TestStudyPopulationWindow::init() {
    QVERIFY(m_dir.isValid());
    m_window = openStudyWindow(m_dir, QSize(1280, 860));
    QVERIFY(m_window);
    m_window->setExperiment(sixEpochBlobs());
}

void TestStudyPopulationWindow::cleanup() {
    if (m_window)
        m_window->studyPanel()->shutdown();
    m_window.reset();
}

void TestStudyPopulationWindow::setUpPopulation(const QString& size, const QString& interval) {
    StudyPanel* panel = m_window->studyPanel();
    Q_EMIT panel->showRequested(); // the window brings the Search tab forward
    panel->spaceEditor()->setSpaceJson(kLearningRateSpace);
    auto* population = field<QCheckBox>(panel, "population");
    QVERIFY(population && !population->isChecked());
    QVERIFY(!field<NumberField>(panel, "populationSize")->isVisibleTo(panel)); // compact while off
    clickCheckBox(population);
    QVERIFY(population->isChecked());
    QVERIFY(field<NumberField>(panel, "populationSize")->isVisibleTo(panel));
    typeInto(field<NumberField>(panel, "populationSize"), size);
    typeInto(field<NumberField>(panel, "populationInterval"), interval);
}

void TestStudyPopulationWindow::runsAPopulationSetUpInTheForm() {
    StudyPanel* panel = m_window->studyPanel();
    auto* sampler = field<QComboBox>(panel, "sampler");
    auto* pruner = field<QComboBox>(panel, "pruner");
    QCOMPARE(sampler->currentData().toString(), QStringLiteral("auto"));
    QVERIFY(pruner->isEnabled());
    setUpPopulation(QStringLiteral("4"), QStringLiteral("2"));
    typeInto(field<NumberField>(panel, "parallelTrials"), QStringLiteral("2"));

    // New members are drawn at random, nothing is pruned, and the budget follows the population:
    // 4 members x ceil(6 epochs / 2).
    QCOMPARE(sampler->currentData().toString(), QStringLiteral("random"));
    QCOMPARE(pruner->currentData().toString(), QStringLiteral("none"));
    QVERIFY(!pruner->isEnabled());
    QCOMPARE(field<NumberField>(panel, "trialBudget")->integerValue(), int64_t(12));
    const StudySpec spec = panel->studySpec();
    QCOMPARE(spec.population.size, 4);
    QCOMPARE(spec.population.interval, 2);
    QCOMPARE(spec.budget.trials, int64_t(12));
    // The whole panel still fits the experiment dock's default width with the population's fields.
    QVERIFY2(panel->minimumSizeHint().width() <= 480,
             qPrintable(QString::number(panel->minimumSizeHint().width())));

    QSignalSpy finished(panel, &StudyPanel::studyFinished);
    QTest::mouseClick(field<QPushButton>(panel, "startStudy"), Qt::LeftButton);
    QVERIFY2(panel->isRunning(), qPrintable(panel->stateText()));
    QVERIFY(finished.wait(120000));

    const auto stored = parseStudySpec(m_window->runStore()->study(panel->currentStudy())->specJson);
    QVERIFY2(stored.ok(), stored.error().c_str());
    QCOMPARE(stored.value().population.size, 4);
    const auto trials = m_window->runStore()->trials(panel->currentStudy(), true);
    QCOMPARE(int(trials.size()), 12);
    std::set<int> members;
    int continued = 0;
    for (const TrialRecord& trial : trials) {
        QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
        QVERIFY(trial.member >= 0 && trial.member < 4);
        members.insert(trial.member);
        if (trial.parentNumber >= 0) {
            ++continued;
            QVERIFY(trial.startEpoch > 0);
        }
    }
    QCOMPARE(int(members.size()), 4);
    QCOMPARE(continued, 8); // every stretch after a member's first continues a trial

    StudyView* view = panel->studyView();
    view->flush();
    const int lineage = view->plotTabs()->indexOf(view->lineagePlot());
    QVERIFY(lineage >= 0);
    QCOMPARE(view->plotTabs()->tabText(lineage), QStringLiteral("Lineage"));
}

void TestStudyPopulationWindow::studyFileKeepsItsPopulation() {
    // A population without a trial budget: the budget follows its size and interval.
    const QString path = m_dir.filePath(QStringLiteral("population.json"));
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        const QString json =
            QStringLiteral("{\"name\": \"pbt-file\", \"experiment\": %1, \"space\": %2, \"objective\": "
                           "{\"metric\": \"val_loss\", \"at\": \"last\"}, \"population\": {\"size\": 3, "
                           "\"interval\": 1, \"quantile\": 0.3, \"resample_probability\": 0.5}}")
                .arg(QString::fromStdString(experimentSpecToJson(sixEpochBlobs())), kLearningRateSpace);
        file.write(json.toUtf8());
    }
    QVERIFY(m_window->openStudyFile(path));
    StudyPanel* panel = m_window->studyPanel();
    QVERIFY(field<QCheckBox>(panel, "population")->isChecked());
    StudySpec shown = panel->studySpec();
    QCOMPARE(shown.population.size, 3);
    QCOMPARE(shown.population.interval, 1);
    QCOMPARE(shown.population.quantile, 0.3);
    QCOMPARE(shown.population.resampleProbability, 0.5);
    QCOMPARE(shown.sampler.type, std::string("random"));
    QCOMPARE(shown.budget.trials, int64_t(18)); // 3 members x 6 stretches

    // Saved from the window, the file keeps the population; read back, it shows the same.
    const QString saved = m_dir.filePath(QStringLiteral("saved.json"));
    QVERIFY(m_window->saveStudyFile(saved));
    const auto loaded = loadStudySpec(saved.toStdString());
    QVERIFY2(loaded.ok(), loaded.error().c_str());
    QCOMPARE(loaded.value().population.size, 3);
    QCOMPARE(loaded.value().population.quantile, 0.3);
    QCOMPARE(loaded.value().population.resampleProbability, 0.5);

    // The budget was not typed: a longer interval shortens it. A typed one stays as typed.
    typeInto(field<NumberField>(panel, "populationInterval"), QStringLiteral("2"));
    QCOMPARE(panel->studySpec().budget.trials, int64_t(9));
    typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("7"));
    typeInto(field<NumberField>(panel, "populationInterval"), QStringLiteral("3"));
    QCOMPARE(panel->studySpec().budget.trials, int64_t(7));
    QCOMPARE(panel->studySpec().population.interval, 3);

    // Switched off, the study has no population; the fields keep their values for when it is on.
    clickCheckBox(field<QCheckBox>(panel, "population"));
    QCOMPARE(panel->studySpec().population.size, 0);
    clickCheckBox(field<QCheckBox>(panel, "population"));
    QCOMPARE(panel->studySpec().population.size, 3);
}

void TestStudyPopulationWindow::refusedTypedValueDoesNotStart_data() {
    QTest::addColumn<QString>("size");
    QTest::addColumn<QString>("interval");
    QTest::addColumn<QString>("fieldName");
    QTest::addColumn<QString>("message");
    QTest::newRow("one member") << "1"
                                << "2"
                                << "populationSize"
                                << "Members: expected a whole number of members from 2 to 256, got 1";
    QTest::newRow("no epochs between comparisons")
        << "4"
        << "0"
        << "populationInterval"
        << "Compared every: expected a whole number of epochs of at least 1, got 0";
}

void TestStudyPopulationWindow::refusedTypedValueDoesNotStart() {
    QFETCH(QString, size);
    QFETCH(QString, interval);
    QFETCH(QString, fieldName);
    QFETCH(QString, message);
    StudyPanel* panel = m_window->studyPanel();
    setUpPopulation(size, interval);

    // The field shows what was typed, framed red with the engine's reason, said under the fields too.
    auto* typed = field<NumberField>(panel, fieldName.toLatin1().constData());
    QCOMPARE(typed->text(), fieldName == QLatin1String("populationSize") ? size : interval);
    QVERIFY2(typed->toolTip().contains(message.section(QStringLiteral(": "), 1)),
             qPrintable(typed->toolTip()));
    QVERIFY(typed->styleSheet().contains(QStringLiteral("border")));
    auto* problems = field<QLabel>(panel, "populationProblems");
    QVERIFY(problems->isVisibleTo(panel));
    QCOMPARE(problems->text(), message);

    QVERIFY(!panel->startStudy());
    QVERIFY(!panel->isRunning());
    QVERIFY2(panel->stateText().contains(message), qPrintable(panel->stateText()));
    QCOMPARE(m_window->runStore()->listStudies().size(), size_t(0));
    QCOMPARE(typed->text(), fieldName == QLatin1String("populationSize") ? size : interval);

    // Put right, the frame and the message go.
    typeInto(typed, QStringLiteral("2"));
    QVERIFY(!problems->isVisibleTo(panel));
    QVERIFY(typed->styleSheet().isEmpty());
}

void TestStudyPopulationWindow::settingsAPopulationCannotHaveAreRefused() {
    StudyPanel* panel = m_window->studyPanel();
    setUpPopulation(QStringLiteral("4"), QStringLiteral("2"));
    auto* warnings = field<QLabel>(panel, "studyWarnings");

    // A width changes the network the members copy between: refused with the engine's reason.
    panel->spaceEditor()->setSpaceJson(
        QStringLiteral("{\"parameters\": [{\"path\": \"model.layers[0].out_features\", \"kind\": \"int\", "
                       "\"low\": 4, \"high\": 16}]}"));
    const QString network = QStringLiteral("members of a population copy each other's weights");
    QVERIFY2(warnings->text().contains(network), qPrintable(warnings->text()));
    QVERIFY(!panel->startStudy());
    QVERIFY2(panel->stateText().contains(network), qPrintable(panel->stateText()));
    QVERIFY2(panel->stateText().contains(QStringLiteral("model.layers[0].out_features")),
             qPrintable(panel->stateText()));

    // A pruner the user set stays set, and the study says why it cannot start.
    panel->spaceEditor()->setSpaceJson(kLearningRateSpace);
    QVERIFY(!warnings->text().contains(network));
    clickCheckBox(field<QCheckBox>(panel, "population")); // off: the pruner is free
    auto* pruner = field<QComboBox>(panel, "pruner");
    QVERIFY(pruner->isEnabled());
    pruner->setCurrentIndex(pruner->findData(QStringLiteral("asha")));
    clickCheckBox(field<QCheckBox>(panel, "population"));
    QCOMPARE(pruner->currentData().toString(), QStringLiteral("asha"));
    QVERIFY(pruner->isEnabled()); // for the user to set it to None
    const QString pruning = QStringLiteral("a population study stops no member early");
    QVERIFY2(warnings->text().contains(pruning), qPrintable(warnings->text()));
    QVERIFY(!panel->startStudy());
    QVERIFY2(panel->stateText().contains(pruning), qPrintable(panel->stateText()));
    QCOMPARE(pruner->currentData().toString(), QStringLiteral("asha"));

    // An interval as long as the training: no member would ever copy another.
    pruner->setCurrentIndex(pruner->findData(QStringLiteral("none")));
    QVERIFY(!pruner->isEnabled());
    typeInto(field<NumberField>(panel, "populationInterval"), QStringLiteral("6"));
    QVERIFY(!panel->startStudy());
    QVERIFY2(panel->stateText().contains(QStringLiteral("is not shorter than the training")),
             qPrintable(panel->stateText()));
    QCOMPARE(m_window->runStore()->listStudies().size(), size_t(0));
}

QTEST_MAIN(TestStudyPopulationWindow)
#include "tst_study_population_window.moc"
