// Population-based training end to end: a real population trains in stretches through the study
// runner, each stretch a run continued from its parent's checkpoint, with the lineage in the store.

#include "spec/spec.h"
#include "store/run_store.h"
#include "study/experiment_objective.h"
#include "study/study.h"
#include "study/study_runner.h"
#include "study_test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <memory>
#include <string>

using namespace tunelab;

namespace {

std::string populationStudy(const std::string& name, int size, int interval, int parallel) {
    ExperimentSpec experiment = tunelab::test::tinyBlobsExperiment(name, 3);
    experiment.training.epochs = 6;
    experiment.optimizer.type = OptimizerType::Sgd;
    experiment.optimizer.lr = 0.05;
    return "{\"name\": \"" + name + "\", \"experiment\": " + experimentSpecToJson(experiment) +
           ", \"space\": {\"parameters\": ["
           "{\"path\": \"optimizer.lr\", \"kind\": \"float\", \"low\": 0.001, \"high\": 0.5, \"log\": true},"
           "{\"path\": \"optimizer.momentum\", \"kind\": \"float\", \"low\": 0.0, \"high\": 0.95}]},"
           " \"sampler\": {\"type\": \"random\", \"seed\": 11},"
           " \"population\": {\"size\": " +
           std::to_string(size) + ", \"interval\": " + std::to_string(interval) +
           "}, \"parallel\": " + std::to_string(parallel) + "}";
}

// A run store in a temporary folder holding one population study, and the objective that trains it.
struct PopulationFixture {
    QTemporaryDir dir;
    std::unique_ptr<RunStore> store;
    StudyId id = 0;
    std::unique_ptr<ExperimentObjective> objective;

    explicit PopulationFixture(const std::string& studyText) {
        auto opened = RunStore::open(dir.filePath("runs.sqlite").toStdString());
        if (!opened.ok())
            return;
        store = opened.take();
        auto spec = parseStudySpec(studyText);
        if (!spec.ok())
            return;
        auto created = store->createStudy(spec.value().name, studySpecToJson(spec.value()));
        id = created.ok() ? created.value() : 0;
        RunOptions options;
        options.threads = 1;
        objective = std::make_unique<ExperimentObjective>(*store, ObjectiveSpec{}, options);
    }
    bool ready() const { return store && id > 0; }
};

} // namespace

class TestPopulationStudy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void aPopulationTrainsInStretchesAndKeepsItsLineage() {
        PopulationFixture fixture(populationStudy("pbt", 4, 2, 2));
        QVERIFY(fixture.ready());
        RunStore& store = *fixture.store;
        const StudyId id = fixture.id;
        StudyRunner runner(store, id, *fixture.objective);
        const auto summary = runner.run();
        QVERIFY2(summary.ok(), summary.error().c_str());
        QVERIFY2(summary.value().endReason.find("every member of the population has trained its 6 epochs") !=
                     std::string::npos,
                 summary.value().endReason.c_str());

        const auto trials = store.trials(id, true);
        QCOMPARE(trials.size(), size_t{12}); // 4 members x 3 stretches
        std::map<int64_t, TrialRecord> byNumber;
        std::map<int, int> stretchesOf;
        int exploits = 0;
        for (const TrialRecord& trial : trials) {
            byNumber[trial.number] = trial;
            QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
            QVERIFY(trial.member >= 0 && trial.member < 4);
            ++stretchesOf[trial.member];
            // Each stretch reports its own two epochs, numbered on from where it started.
            QCOMPARE(trial.intermediate.size(), size_t{2});
            QCOMPARE(trial.intermediate.begin()->first, trial.startEpoch + 1);
            const auto run = store.run(trial.runId);
            QVERIFY(run);
            QCOMPARE(run->summary.epochs, trial.startEpoch + 2);
            const auto epochs = store.epochs(trial.runId);
            QCOMPARE(epochs.size(), size_t{2});
            QCOMPARE(epochs.front().epoch, trial.startEpoch + 1);
            QVERIFY(run->hasCheckpoint);
            if (trial.parentNumber < 0) {
                QCOMPARE(trial.startEpoch, 0);
                QCOMPARE(run->parentRun, RunId{0});
                continue;
            }
            const TrialRecord& parent = byNumber.at(trial.parentNumber);
            QCOMPARE(trial.startEpoch, parent.startEpoch + 2);
            QCOMPARE(run->parentRun, parent.runId);
            QCOMPARE(run->parentEpoch, trial.startEpoch);
            // The continued run's steps go on from its parent's.
            QCOMPARE(store.steps(trial.runId).front().step, store.steps(parent.runId).back().step + 1);
            if (parent.member != trial.member) {
                ++exploits;
                QVERIFY(trial.params != parent.params); // explored
            } else {
                QVERIFY(trial.params == parent.params);
            }
        }
        for (int member = 0; member < 4; ++member)
            QCOMPARE(stretchesOf[member], 3);
        // At each of the two boundaries the worst of four (a quantile of 0.25) copies one of the best.
        QCOMPARE(exploits, 2);
        QVERIFY(summary.value().best);
    }

    void aStoppedPopulationResumesWhereItWas() {
        PopulationFixture fixture(populationStudy("pbt-resume", 3, 2, 1));
        QVERIFY(fixture.ready());
        RunStore& store = *fixture.store;
        const StudyId id = fixture.id;
        ExperimentObjective& objective = *fixture.objective;
        {
            StudyRunner first(store, id, objective);
            QVERIFY(first.start().ok());
            // Stop once four stretches have finished: a member is then halfway through.
            int finished = 0;
            while (finished < 4 && !first.finished()) {
                first.events().waitForEvents(std::chrono::milliseconds(20));
                for (const StudyEvent& event : first.events().drain())
                    finished += event.kind == StudyEventKind::TrialFinished;
            }
            first.requestStop();
            first.wait();
        }
        const auto partway = store.trials(id);
        QVERIFY(partway.size() < 9);
        StudyRunner second(store, id, objective);
        const auto summary = second.run();
        QVERIFY2(summary.ok(), summary.error().c_str());
        const auto trials = store.trials(id, true);
        int complete = 0;
        std::map<int, int> reached;
        for (const TrialRecord& trial : trials) {
            complete += trial.state == TrialState::Complete;
            if (trial.state == TrialState::Complete)
                reached[trial.member] = std::max(reached[trial.member], trial.intermediate.rbegin()->first);
        }
        QCOMPARE(complete, 9);
        for (int member = 0; member < 3; ++member)
            QCOMPARE(reached[member], 6);
    }
};

QTEST_GUILESS_MAIN(TestPopulationStudy)
#include "tst_population_study.moc"
