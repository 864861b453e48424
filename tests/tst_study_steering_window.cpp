// Steering studies from the window: numbers in the Search tab taken as typed or refused, the
// pruner's defaults following the study's scale, warnings for settings that make no sense before
// Start, trials added to a spent study, a copy with a fresh seed, and a stored study checked against
// its own experiment, not whatever the editor holds.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "search/search_settings_form.h"
#include "search/search_space_editor.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/study_runner.h"

#include "number_field_test_support.h"
#include "study_test_support.h"
#include "study_window_test_support.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace tunelab;
using namespace tunelab::test;

namespace {

template <typename T> T* field(QWidget* parent, const char* name) {
    auto* found = parent->findChild<T*>(QString::fromLatin1(name));
    if (!found)
        qWarning("no field %s", name);
    return found;
}

void choose(QWidget* parent, const char* box, const char* value) {
    auto* combo = field<QComboBox>(parent, box);
    combo->setCurrentIndex(combo->findData(QString::fromLatin1(value)));
}

StudySpec storedSpec(const ExperimentSpec& experiment, int64_t budget) {
    StudySpec spec;
    spec.name = "stored";
    spec.experimentJson = experimentSpecToJson(experiment);
    spec.spaceJson = R"({"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1,
                                         "log": true}]})";
    spec.sampler.type = "random";
    spec.sampler.seed = 5;
    spec.budget.trials = budget;
    spec.parallel = 1;
    return spec;
}

} // namespace

class TestStudySteeringWindow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() {
        QVERIFY(m_dir.isValid());
        m_window = openStudyWindow(m_dir, QSize(1280, 800));
        QVERIFY(m_window);
    }

    void cleanup() { m_window.reset(); }

    void searchNumbersAreTakenAsTypedOrRefused() {
        StudyPanel* panel = m_window->studyPanel();
        auto* trials = field<NumberField>(panel, "trialBudget");
        typeInto(trials, QStringLiteral("1e3"));
        QCOMPARE(panel->studySpec().budget.trials, int64_t(1000));
        typeInto(trials, QStringLiteral("1_500"));
        QCOMPARE(panel->studySpec().budget.trials, int64_t(1500));
        typeInto(trials, QString());
        QCOMPARE(panel->studySpec().budget.trials, int64_t(0)); // empty: no limit, as the placeholder says
        QCOMPARE(trials->placeholderText(), QStringLiteral("no limit"));

        // Refused in place, with the reason; Start says which field and why, and starts nothing.
        auto* parallel = field<NumberField>(panel, "parallelTrials");
        typeInto(parallel, QStringLiteral("0.5"));
        QVERIFY(!parallel->isValid());
        QVERIFY2(parallel->toolTip().contains(QStringLiteral("expected a positive number of trials")),
                 qPrintable(parallel->toolTip()));
        auto* seed = field<NumberField>(panel, "samplerSeed");
        typeInto(seed, QStringLiteral("-3"));
        QVERIFY(!seed->isValid());
        QVERIFY(searchOverByPath("optimizer.lr"));
        QVERIFY(!panel->startStudy());
        QVERIFY2(panel->stateText().contains(QStringLiteral("Parallel trials")),
                 qPrintable(panel->stateText()));
        QVERIFY2(panel->stateText().contains(QStringLiteral("Seed")), qPrintable(panel->stateText()));
        QCOMPARE(m_window->runStore()->listStudies().size(), size_t(0));
        typeInto(seed, QStringLiteral("9007199254740993")); // past 2^53: still the exact integer
        QVERIFY(seed->isValid());
        QCOMPARE(panel->studySpec().sampler.seed, uint64_t(9007199254740993ull));
    }

    void prunerDefaultsFollowTheStudysScale() {
        StudyPanel* panel = m_window->studyPanel();
        ExperimentSpec experiment = tinyBlobsExperiment("tiny-blobs", 2);
        experiment.training.epochs = 30;
        m_window->setExperiment(experiment);
        choose(panel, "pruner", "asha");
        typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("50"));
        PrunerSettings shown = panel->studySpec().pruner;
        QCOMPARE(shown.warmupEpochs, 3);
        QCOMPARE(shown.minEpochs, 4);
        QCOMPARE(shown.startupTrials, 10);
        // A number the user typed stays as typed; the others keep following the scale.
        typeInto(field<NumberField>(panel, "prunerWarmupEpochs"), QStringLiteral("5"));
        typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("10"));
        shown = panel->studySpec().pruner;
        QCOMPARE(shown.warmupEpochs, 5);
        QCOMPARE(shown.startupTrials, 3);
        QCOMPARE(shown.minEpochs, 4);
    }

    void nonsenseSettingsAreFlaggedBeforeStart() {
        StudyPanel* panel = m_window->studyPanel();
        auto* warnings = field<QLabel>(panel, "studyWarnings");
        choose(panel, "sampler", "tpe");
        typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("20"));
        QVERIFY(!warnings->isVisibleTo(panel));
        typeInto(field<NumberField>(panel, "trialBudget"), QStringLiteral("5"));
        typeInto(field<NumberField>(panel, "samplerStartupTrials"), QStringLiteral("10"));
        QVERIFY(warnings->isVisibleTo(panel));
        QVERIFY2(warnings->text().contains(QStringLiteral("10 trials at random use the whole budget of 5")),
                 qPrintable(warnings->text()));
    }

    void spentStudyTakesAddedTrials() {
        StudyPanel* panel = m_window->studyPanel();
        RunStore* store = m_window->runStore();
        const auto created = store->createStudy(
            "stored", studySpecToJson(storedSpec(tinyBlobsExperiment("tiny-blobs", 2), 1)));
        QVERIFY2(created.ok(), created.error().c_str());
        panel->refreshStudyList();
        QVERIFY(panel->showStudy(created.value()));
        auto* start = field<QPushButton>(panel, "startStudy");
        auto* add = field<NumberField>(panel, "addTrials");
        QVERIFY(add->isVisibleTo(panel));
        QVERIFY(field<NumberField>(panel, "trialBudget")->isReadOnly());
        QSignalSpy finished(panel, &StudyPanel::studyFinished);
        // Not spent yet: Resume runs the one trial of the budget.
        typeInto(add, QStringLiteral("0"));
        QVERIFY(start->isEnabled());
        QVERIFY(panel->startStudy());
        QVERIFY(finished.wait(60000));
        QCOMPARE(store->trialCount(created.value()), int64_t(1));

        // Spent: Resume is off with the reason until trials are added.
        QVERIFY(panel->showStudy(created.value()));
        typeInto(add, QStringLiteral("0"));
        QVERIFY(!start->isEnabled());
        QVERIFY2(start->toolTip().contains(QStringLiteral("add trials")), qPrintable(start->toolTip()));
        typeInto(add, QStringLiteral("2"));
        QVERIFY(start->isEnabled());
        QCOMPARE(start->text(), QStringLiteral("Resume (+2 trials)"));
        QTest::mouseClick(start, Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        QCOMPARE(store->trialCount(created.value()), int64_t(3));
        const auto spec = parseStudySpec(store->study(created.value())->specJson);
        QCOMPARE(spec.value().budget.trials, int64_t(3)); // kept in the store: the CLI sees it too
    }

    void newStudyAfterAStoredOneIsACopyWithAFreshSeed() {
        StudyPanel* panel = m_window->studyPanel();
        RunStore* store = m_window->runStore();
        const auto created = store->createStudy(
            "stored", studySpecToJson(storedSpec(tinyBlobsExperiment("tiny-blobs", 2), 4)));
        QVERIFY(created.ok());
        panel->refreshStudyList();
        QVERIFY(panel->showStudy(created.value()));
        QCOMPARE(panel->studySpec().sampler.seed, uint64_t(5));
        auto* choice = field<QComboBox>(panel, "studyChoice");
        choice->setCurrentIndex(0);
        Q_EMIT choice->activated(0);
        const StudySpec copy = panel->studySpec();
        QVERIFY(copy.sampler.seed != 5);
        QCOMPARE(copy.sampler.type, std::string("random"));
        QCOMPARE(copy.name, std::string("stored-2"));
        QVERIFY2(panel->stateText().contains(QStringLiteral("new seed")), qPrintable(panel->stateText()));
        QVERIFY(!field<NumberField>(panel, "addTrials")->isVisibleTo(panel));
    }

    // After a restart the editor may hold anything; the stored study's space is checked against the
    // experiment it was created with.
    void storedStudyIsCheckedAgainstItsOwnExperiment() {
        StudyPanel* panel = m_window->studyPanel();
        RunStore* store = m_window->runStore();
        StudySpec spec = storedSpec(tinyBlobsExperiment("tiny-blobs", 2), 4);
        spec.spaceJson = R"({"parameters": [{"path": "model.layers[0].out_features", "kind": "int", "low": 4,
                                             "high": 32}]})";
        QVERIFY(store->createStudy("stored", studySpecToJson(spec)).ok());
        // The editor now holds an experiment whose first layer has no width.
        ExperimentSpec other = tinyBlobsExperiment("other", 2);
        other.model.layers.front().type = LayerType::Tanh;
        m_window->setExperiment(other);
        panel->refreshStudyList();
        QVERIFY(panel->showStudy(store->findStudy("stored")->id));
        const QString summary = panel->spaceEditor()->summaryText();
        QVERIFY2(!summary.contains(QStringLiteral("rejects")) &&
                     !summary.contains(QStringLiteral("unknown key")),
                 qPrintable(summary));
    }

private:
    bool searchOverByPath(const char* path) {
        m_window->studyPanel()->searchOver(QString::fromLatin1(path), QStringLiteral("0.01"));
        return m_window->studyPanel()->spaceEditor()->spaceJson().contains(QString::fromLatin1(path));
    }

    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(TestStudySteeringWindow)
#include "tst_study_steering_window.moc"
