// Studies with several objectives: the study file's rules, the store, the runner, and the Pareto
// front and hypervolume computed from what is stored.

#include <QtTest>

#include "store/run_store.h"
#include "study/pareto_results.h"
#include "study/study.h"
#include "study/study_runner.h"
#include "study/trial_history.h"

#include <cmath>

using namespace tunelab;

namespace {

const char* const kSpace = R"({"parameters": [{"path": "x", "kind": "float", "low": 0, "high": 1},)"
                           R"( {"path": "y", "kind": "float", "low": 0, "high": 1}]})";

std::string studyJson(const std::string& objectives, const std::string& extra = "") {
    return std::string(R"({"name": "two", "space": )") + kSpace + ", " + objectives +
           (extra.empty() ? "" : ", " + extra) + "}";
}

const std::string kTwoObjectives =
    R"("objectives": [{"direction": "minimize"}, {"direction": "maximize", "name": "gain"}])";

// Two conflicting objectives: x itself (minimised), and 1 - (1 - x)^2 - y (maximised, so best at x=1).
class TradeOffObjective : public TrialObjective {
public:
    TrialOutcome evaluate(const TrialTask& task, TrialReporter&) override {
        const double x = task.params.at("x").toDouble();
        const double y = task.params.at("y").toDouble();
        TrialOutcome outcome;
        outcome.state = TrialState::Complete;
        outcome.value = x;
        outcome.moreValues = {1.0 - (1.0 - x) * (1.0 - x) - y};
        return outcome;
    }
};

// Reports one value too few from trial 2 on.
class ShortObjective : public TradeOffObjective {
public:
    TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) override {
        TrialOutcome outcome = TradeOffObjective::evaluate(task, reporter);
        if (task.number >= 2)
            outcome.moreValues.clear();
        return outcome;
    }
};

TrialRecord complete(int64_t number, double first, double second) {
    TrialRecord trial;
    trial.number = number;
    trial.state = TrialState::Complete;
    trial.value = first;
    trial.moreValues = {second};
    return trial;
}

ObjectiveSpec objective(ObjectiveDirection direction, const std::string& name) {
    ObjectiveSpec spec;
    spec.metric = "value";
    spec.direction = direction;
    spec.name = name;
    return spec;
}

std::vector<int64_t> numbers(const std::vector<TrialRecord>& trials) {
    std::vector<int64_t> result;
    for (const TrialRecord& trial : trials)
        result.push_back(trial.number);
    return result;
}

} // namespace

class TestMultiObjectiveStudy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesSeveralObjectivesAndWritesThemBack() {
        auto parsed = parseStudySpec(studyJson(kTwoObjectives));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const StudySpec& spec = parsed.value();
        QVERIFY(isMultiObjective(spec));
        QCOMPARE(studyObjectives(spec).size(), size_t(2));
        QCOMPARE(objectiveLabel(spec.objective), std::string("value 1")); // distinct names for "value"
        QCOMPARE(objectiveLabel(spec.moreObjectives[0]), std::string("gain"));
        QCOMPARE(spec.moreObjectives[0].direction, ObjectiveDirection::Maximize);
        QCOMPARE(spec.sampler.type, std::string("motpe")); // the default for several objectives
        auto again = parseStudySpec(studySpecToJson(spec));
        QVERIFY2(again.ok(), again.error().c_str());
        QCOMPARE(studySpecToJson(again.value()), studySpecToJson(spec));
    }

    void refusesWhatCannotServeSeveralObjectives_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        QTest::newRow("both keys") << QString::fromStdString(studyJson(
                                          kTwoObjectives, R"("objective": {"direction": "minimize"})"))
                                   << "give either \"objective\" or \"objectives\"";
        QTest::newRow("single-objective sampler")
            << QString::fromStdString(studyJson(kTwoObjectives, R"("sampler": "gp")"))
            << "sampler.type: gp models one objective";
        QTest::newRow("pruner") << QString::fromStdString(studyJson(kTwoObjectives, R"("pruner": "median")"))
                                << "cannot prune";
        QTest::newRow("same name twice")
            << QString::fromStdString(studyJson(R"("objectives": [{"name": "a"}, {"name": "a"}])"))
            << "objectives[1]: the same as objectives[0]";
        QTest::newRow("too many") << QString::fromStdString(
                                         studyJson(R"("objectives": [{}, {}, {}, {}, {}])"))
                                  << "a list of 1 to 4 objectives";
        QTest::newRow("bad reference")
            << QString::fromStdString(studyJson(R"("objectives": [{"reference": "far"}, {}])"))
            << "objectives[0].reference: expected a finite number";
        QTest::newRow("training metric without experiment")
            << QString::fromStdString(studyJson(R"("objectives": [{}, {"metric": "parameters"}])"))
            << "objectives[1].metric: a study without an experiment is scored by \"value\"";
        QTest::newRow("bounds that no trial can keep")
            << QString::fromStdString(studyJson(R"("objectives": [{"at_most": 1, "at_least": 2}, {}])"))
            << "objectives[0]: at_most (1) is below at_least (2)";
        QTest::newRow("bounds on a single objective")
            << QString::fromStdString(studyJson(R"("objectives": [{"at_most": 1}])"))
            << "a study of one objective has no Pareto front to keep feasible";
        QTest::newRow("name on a single objective")
            << QString::fromStdString(studyJson(R"("objective": {"name": "loss"})"))
            << "objective: unknown key";
    }

    void refusesWhatCannotServeSeveralObjectives() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        auto parsed = parseStudySpec(json.toStdString());
        QVERIFY(!parsed.ok());
        QVERIFY2(QString::fromStdString(parsed.error()).contains(message), parsed.error().c_str());
    }

    void paretoTrialsFollowEachDirection() {
        const std::vector<ObjectiveSpec> objectives = {objective(ObjectiveDirection::Minimize, "cost"),
                                                       objective(ObjectiveDirection::Maximize, "gain")};
        std::vector<TrialRecord> trials = {complete(0, 1.0, 1.0), complete(1, 2.0, 3.0),
                                           complete(2, 2.0, 2.0), complete(3, 0.5, 0.2),
                                           complete(4, 3.0, 2.5)};
        TrialRecord failed;
        failed.number = 5;
        failed.state = TrialState::Failed;
        trials.push_back(failed);
        TrialRecord missing = complete(6, 0.1, kNoValue); // lacks its second value: never on the front
        trials.push_back(missing);
        QCOMPARE(numbers(paretoTrials(objectives, trials)), (std::vector<int64_t>{0, 1, 3}));

        const std::vector<double> reference = hypervolumeReference(objectives, trials);
        QCOMPARE(reference.size(), size_t(2));
        QCOMPARE(reference[0], 3.0 + 0.1 * 2.5); // the worst cost, a tenth of the range further
        QCOMPARE(reference[1], 0.2 - 0.1 * 2.8); // the worst gain, a tenth of the range lower
        const auto history = hypervolumeHistory(objectives, trials, reference);
        QCOMPARE(history.size(), size_t(7)); // one entry per finished trial
        for (size_t i = 1; i < history.size(); ++i)
            QVERIFY(history[i].hypervolume >= history[i - 1].hypervolume);
        QCOMPARE(history[2].hypervolume, history[1].hypervolume); // trial 2 is dominated by trial 1
        // The final volume, by hand: rectangles of the front (cost, gain) = (0.5, 0.2), (1, 1), (2, 3).
        const double r0 = reference[0], r1 = reference[1];
        const double expected = (r0 - 0.5) * (0.2 - r1) + (r0 - 1.0) * (1.0 - 0.2) + (r0 - 2.0) * (3.0 - 1.0);
        QVERIFY(std::abs(history.back().hypervolume - expected) < 1e-9);

        ObjectiveSpec fixed = objectives[1];
        fixed.reference = -1.0;
        QCOMPARE(hypervolumeReference({objectives[0], fixed}, trials)[1], -1.0); // the study's own
    }

    // A trial outside an objective's bound is off the front, and samplers see how far outside it is.
    void boundsKeepInfeasibleTrialsOffTheFront() {
        ObjectiveSpec cost = objective(ObjectiveDirection::Minimize, "cost");
        ObjectiveSpec gain = objective(ObjectiveDirection::Maximize, "gain");
        cost.atMost = 1.5;
        gain.atLeast = 0.5;
        const std::vector<ObjectiveSpec> objectives = {cost, gain};
        QCOMPARE(boundsViolation(objectives, {1.0, 1.0}), 0.0);
        QCOMPARE(boundsViolation(objectives, {2.0, 1.0}), 0.5 / 1.5);
        QCOMPARE(boundsViolation(objectives, {2.0, 0.25}), 0.5 / 1.5 + 0.25 / 1.0);
        QVERIFY(std::isinf(boundsViolation(objectives, {1.0, kNoValue})));
        const std::vector<TrialRecord> trials = {complete(0, 1.0, 1.0), complete(1, 2.0, 3.0),
                                                 complete(2, 0.5, 0.2), complete(3, 1.2, 1.1)};
        QCOMPARE(numbers(paretoTrials(objectives, trials)),
                 (std::vector<int64_t>{0, 3}));                                 // 1, 2 break a bound
        QCOMPARE(hypervolumeReference(objectives, trials)[0], 1.2 + 0.1 * 0.2); // from the feasible ones
        QVERIFY(paretoTrials(objectives, {complete(0, 2.0, 3.0)}).empty());

        StudySpec spec;
        spec.objective = cost;
        spec.moreObjectives = {gain};
        TrialHistory history(studyObjectives(spec));
        history.update(trials[1]);
        history.update(trials[0]);
        QCOMPARE(history.samplerHistory()[0].violation, 0.0);
        QCOMPARE(history.samplerHistory()[1].violation, 0.5 / 1.5);
        QCOMPARE(history.samplerHistory()[1].values, (std::vector<double>{2.0, -3.0})); // towards the minimum
    }

    void storeKeepsEveryObjectiveValue() {
        QTemporaryDir folder;
        auto store = RunStore::open(folder.filePath("runs.sqlite").toStdString());
        QVERIFY2(store.ok(), store.error().c_str());
        auto id = store.value()->createStudy("two", studyJson(kTwoObjectives));
        QVERIFY2(id.ok(), id.error().c_str());
        auto trial = store.value()->createTrial(id.value(), {{"x", ParamValue{"0.5"}}});
        QVERIFY(trial.ok());
        QVERIFY(store.value()->finishTrial(trial.value().id, TrialState::Complete, 0.5, "", 0, {0.75}).ok());
        auto other = store.value()->createTrial(id.value(), {{"x", ParamValue{"0.1"}}});
        QVERIFY(store.value()->finishTrial(other.value().id, TrialState::Failed, kNoValue, "broke").ok());
        store.value().reset();

        auto reopened = RunStore::open(folder.filePath("runs.sqlite").toStdString());
        QVERIFY(reopened.ok());
        const auto trials = reopened.value()->trials(id.value());
        QCOMPARE(trials.size(), size_t(2));
        QCOMPARE(trials[0].value, 0.5);
        QCOMPARE(trials[0].moreValues, std::vector<double>{0.75});
        QVERIFY(trials[1].moreValues.empty());
        QCOMPARE(trialValues(trials[0]), (std::vector<double>{0.5, 0.75}));
    }

    void runnerFindsTheTradeOffs() {
        QTemporaryDir folder;
        auto store = RunStore::open(folder.filePath("runs.sqlite").toStdString());
        QVERIFY(store.ok());
        for (const char* sampler : {"motpe", "nsga2", "random"}) {
            const std::string name = std::string("trade-off-") + sampler;
            const std::string json = "{\"name\": \"" + name + "\", \"space\": " + kSpace + ", " +
                                     kTwoObjectives + ", \"sampler\": {\"type\": \"" + sampler +
                                     "\", \"seed\": 3}, \"budget\": {\"trials\": 40}, \"parallel\": 2}";
            auto spec = parseStudySpec(json);
            QVERIFY2(spec.ok(), spec.error().c_str());
            auto id = store.value()->createStudy(name, json);
            QVERIFY2(id.ok(), id.error().c_str());
            TradeOffObjective objective;
            StudyRunner runner(*store.value(), id.value(), objective);
            auto summary = runner.run();
            QVERIFY2(summary.ok(), summary.error().c_str());
            const auto trials = store.value()->trials(id.value());
            QCOMPARE(trials.size(), size_t(40));
            for (const TrialRecord& trial : trials) {
                QCOMPARE(trial.state, TrialState::Complete);
                QCOMPARE(trial.moreValues.size(), size_t(1));
            }
            const auto front = paretoTrials(studyObjectives(spec.value()), trials);
            QVERIFY2(front.size() >= 3, sampler); // several trade-offs, not one best
        }
    }

    void aTrialWithTooFewValuesFailsWithAReason() {
        QTemporaryDir folder;
        auto store = RunStore::open(folder.filePath("runs.sqlite").toStdString());
        QVERIFY(store.ok());
        const std::string json = studyJson(kTwoObjectives, R"("sampler": "random", "budget": {"trials": 4})");
        auto id = store.value()->createStudy("short", json);
        QVERIFY(id.ok());
        ShortObjective objective;
        StudyRunner runner(*store.value(), id.value(), objective);
        QVERIFY(runner.run().ok());
        const auto trials = store.value()->trials(id.value());
        QCOMPARE(trials.size(), size_t(4));
        QCOMPARE(trials[1].state, TrialState::Complete);
        QCOMPARE(trials[2].state, TrialState::Failed);
        QVERIFY2(
            QString::fromStdString(trials[2].message).contains("gave 1 value; the study has 2 objectives"),
            trials[2].message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestMultiObjectiveStudy)
#include "tst_multi_objective_study.moc"
