#include "spec/spec.h"
#include "store/run_store.h"
#include "study/experiment_objective.h"
#include "study/study.h"
#include "study/study_runner.h"
#include "study_test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

using namespace tunelab;
using namespace tunelab::test;

namespace {

const char* kSpace = R"({"parameters": [
    {"path": "x", "kind": "float", "low": -2, "high": 2},
    {"path": "y", "kind": "float", "low": -2, "high": 2}]})";

std::string studyJson(const std::string& extra, const std::string& space = kSpace) {
    return std::string(R"({"name": "synthetic", "space": )") + space + (extra.empty() ? "" : ", " + extra) +
           "}";
}

// Trains nothing: a quadratic bowl whose value falls with the epochs, so curves look like training.
class BowlObjective : public TrialObjective {
public:
    int epochs = 4;
    std::chrono::milliseconds epochTime{0};
    std::set<int64_t> failing; // trial numbers that fail
    std::set<int64_t> slow;    // trial numbers whose epochs take ten times longer
    std::atomic<int> evaluations{0};
    std::atomic<int> concurrent{0};
    std::atomic<int> maxConcurrent{0};

    TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) override {
        ++evaluations;
        const int now = ++concurrent;
        int seen = maxConcurrent.load();
        while (now > seen && !maxConcurrent.compare_exchange_weak(seen, now)) {
        }
        TrialOutcome outcome = run(task, reporter);
        --concurrent;
        return outcome;
    }

private:
    TrialOutcome run(const TrialTask& task, TrialReporter& reporter) {
        TrialOutcome outcome;
        if (failing.count(task.number)) {
            outcome.state = TrialState::Failed;
            outcome.message = "synthetic failure";
            return outcome;
        }
        const double x = task.params.at("x").toDouble();
        const double y = task.params.at("y").toDouble();
        const double floor = (x - 0.5) * (x - 0.5) + (y + 0.25) * (y + 0.25);
        double value = kNoValue;
        for (int epoch = 1; epoch <= epochs; ++epoch) {
            std::this_thread::sleep_for(slow.count(task.number) ? epochTime * 10 : epochTime);
            if (reporter.stopRequested()) {
                outcome.state = TrialState::Waiting;
                return outcome;
            }
            value = floor + 1.0 / epoch;
            if (reporter.report(epoch, value)) {
                outcome.state = TrialState::Pruned;
                outcome.value = value;
                outcome.prunedEpoch = epoch;
                return outcome;
            }
        }
        outcome.state = TrialState::Complete;
        outcome.value = value;
        return outcome;
    }
};

std::unique_ptr<RunStore> openStore(const QTemporaryDir& dir) {
    auto opened = RunStore::open(dir.filePath("study.sqlite").toStdString());
    if (!opened.ok())
        qWarning("%s", opened.error().c_str());
    return opened.ok() ? opened.take() : nullptr;
}

StudyId createStudy(RunStore& store, const std::string& json) {
    auto spec = parseStudySpec(json);
    if (!spec.ok()) {
        qWarning("%s", spec.error().c_str());
        return 0;
    }
    auto id = store.createStudy(spec.value().name.empty() ? "study" : spec.value().name,
                                studySpecToJson(spec.value()));
    return id.ok() ? id.value() : 0;
}

// A study far longer than any test: two trials at a time, each of a thousand 10 ms epochs.
StudyId createEndlessStudy(RunStore& store, BowlObjective& objective) {
    objective.epochs = 1000;
    objective.epochTime = std::chrono::milliseconds(10);
    return createStudy(store, studyJson(R"("sampler": "random", "budget": {"trials": 1000}, "parallel": 2)"));
}

std::string tinyExperiment() {
    return experimentSpecToJson(tinyBlobsExperiment("tiny", 5));
}

} // namespace

class TestStudy : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesAndWritesStudyFiles();
    void reportsBadStudyFiles_data();
    void reportsBadStudyFiles();
    void trialSwitchingOptimizerTypeDropsOldKeys();
    void runsTheTrialBudgetInParallel();
    void failingTrialsDoNotStopTheStudy();
    void prunesWithAsha();
    void stopRequeuesRunningTrialsAndResumeFinishesTheBudget();
    void endsWhenTheTimeBudgetIsSpent();
    void endsWhenTheGridIsExhausted();
    void sequentialStudiesReproduce();
    void trainsRealExperimentsAsTrials();
    void startReturnsAtOnceAndEventsComeInOrder();
    void stopTakesEffectWithinABoundedTime();
    void destructorStopsAndJoins();
    void unreadableStudyStartsNothing();
};

void TestStudy::parsesAndWritesStudyFiles() {
    const std::string json = R"({
        "name": "digits-lr", "experiment": )" +
                             tinyExperiment() + R"(,
        "space": {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true}]},
        "sampler": {"type": "gp", "seed": 7, "startup_trials": 5},
        "pruner": {"type": "asha", "min_epochs": 2, "reduction_factor": 4},
        "objective": {"metric": "val_accuracy", "at": "last"},
        "budget": {"trials": 30, "seconds": 120}, "parallel": 2,
        "heartbeat": {"grace_seconds": 90, "max_retries": 1, "ask_grace_seconds": 3600}})";
    auto parsed = parseStudySpec(json);
    QVERIFY2(parsed.ok(), parsed.error().c_str());
    const StudySpec& spec = parsed.value();
    QCOMPARE(QString::fromStdString(spec.name), QStringLiteral("digits-lr"));
    QCOMPARE(QString::fromStdString(spec.sampler.type), QStringLiteral("gp"));
    QCOMPARE(spec.sampler.seed, uint64_t(7));
    QCOMPARE(spec.sampler.startupTrials, 5);
    QCOMPARE(QString::fromStdString(spec.pruner.type), QStringLiteral("asha"));
    QCOMPARE(spec.pruner.minEpochs, 2);
    QCOMPARE(spec.pruner.reductionFactor, 4);
    QVERIFY(spec.objective.direction == ObjectiveDirection::Maximize); // accuracy defaults to maximize
    QVERIFY(spec.objective.at == ObjectiveAt::Last);
    QCOMPARE(spec.budget.trials, int64_t(30));
    QCOMPARE(spec.budget.seconds, 120.0);
    QCOMPARE(spec.parallel, 2);
    QCOMPARE(spec.heartbeat.graceSeconds, 90.0);
    QCOMPARE(spec.heartbeat.maxRetries, 1);
    QCOMPARE(spec.heartbeat.askGraceSeconds, 3600.0);

    auto again = parseStudySpec(studySpecToJson(spec));
    QVERIFY2(again.ok(), again.error().c_str());
    QCOMPARE(QString::fromStdString(studySpecToJson(again.value())),
             QString::fromStdString(studySpecToJson(spec)));
}

void TestStudy::reportsBadStudyFiles_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("syntax") << "{\"space\": "
                            << "invalid JSON";
    QTest::newRow("unknown key") << QString::fromStdString(studyJson(R"("samplr": "tpe")"))
                                 << "unknown key 'samplr'; did you mean sampler?";
    QTest::newRow("unknown sampler") << QString::fromStdString(studyJson(R"("sampler": "tpf")"))
                                     << "sampler.type: unknown sampler 'tpf'; did you mean tpe?";
    QTest::newRow("unknown pruner") << QString::fromStdString(studyJson(R"("pruner": {"type": "ahsa"})"))
                                    << "pruner.type: unknown pruner 'ahsa'";
    QTest::newRow("bad reduction") << QString::fromStdString(
                                          studyJson(R"("pruner": {"type": "asha", "reduction_factor": 1})"))
                                   << "pruner.reduction_factor: expected an integer of at least 2, got 1";
    QTest::newRow("no space") << R"({"name": "x"})"
                              << "space: missing";
    QTest::newRow("bad space")
        << QString::fromStdString(
               studyJson("", R"({"parameters": [{"path": "x", "kind": "float", "low": 1, "high": 0}]})"))
        << "space: parameters[0] (x): low 1 is above high 0";
    QTest::newRow("endless budget") << QString::fromStdString(studyJson(R"("budget": {"trials": 0})"))
                                    << "budget: set trials or seconds";
    QTest::newRow("grace under a second")
        << QString::fromStdString(studyJson(R"("heartbeat": {"grace_seconds": 0.5})"))
        << "heartbeat.grace_seconds: expected a number of seconds from 1 to 604800, got 0.5";
    QTest::newRow("unknown heartbeat key")
        << QString::fromStdString(studyJson(R"("heartbeat": {"grace": 60})"))
        << "heartbeat: unknown key 'grace'";
    QTest::newRow("negative retries")
        << QString::fromStdString(studyJson(R"("heartbeat": {"max_retries": -1})"))
        << "heartbeat.max_retries: expected a number of retries >= 0";
    QTest::newRow("metric without experiment")
        << QString::fromStdString(studyJson(R"("objective": {"metric": "val_loss"})"))
        << "a study without an experiment is scored by \"value\"";
    QTest::newRow("bad direction") << QString::fromStdString(
                                          studyJson(R"("objective": {"metric": "value", "direction": "up"})"))
                                   << "objective.direction: expected \"minimize\" or \"maximize\"";
    QTest::newRow("bad experiment")
        << QString::fromStdString(std::string(R"({"experiment": {"data": {"kind": "spirals"}}, "space": )") +
                                  kSpace + "}")
        << "experiment: ";
    QTest::newRow("space against experiment")
        << QString::fromStdString(
               std::string(R"({"experiment": )") + tinyExperiment() +
               R"(, "space": {"parameters": [{"path": "model.layers[9].out_features", "kind": "int", "low": 1, "high": 4}]}})")
        << "space: parameters[0] (model.layers[9].out_features): model.layers[9] does not exist";
    QTest::newRow("missing experiment file")
        << QString::fromStdString(std::string(R"({"experiment": "no-such.json", "space": )") + kSpace + "}")
        << "experiment: no-such.json: cannot open: No such file or directory";
}

void TestStudy::reportsBadStudyFiles() {
    QFETCH(QString, json);
    QFETCH(QString, message);
    const auto parsed = parseStudySpec(json.toStdString());
    QVERIFY(!parsed.ok());
    QVERIFY2(QString::fromStdString(parsed.error()).contains(message), parsed.error().c_str());
}

void TestStudy::trialSwitchingOptimizerTypeDropsOldKeys() {
    // A fully written-out base, as `runs show` or the window writes it: Adam with betas and eps.
    auto base = nlohmann::json::parse(tinyExperiment());
    base["optimizer"] = {{"type", "adam"}, {"lr", 0.01}, {"betas", {0.9, 0.999}}, {"eps", 1e-8}};
    Assignment params = {{"optimizer.type", ParamValue{"\"sgd\""}},
                         {"optimizer.momentum", ParamValue{"0.9"}}};
    auto applied = trialExperimentJson(base.dump(), params);
    QVERIFY2(applied.ok(), applied.error().c_str());
    auto spec = parseExperimentSpec(applied.value());
    QVERIFY2(spec.ok(), spec.error().c_str());
    QVERIFY(spec.value().optimizer.type == OptimizerType::Sgd);
    QCOMPARE(spec.value().optimizer.momentum, 0.9);
    QCOMPARE(spec.value().optimizer.lr, 0.01);
    // Keeping Adam leaves the keys alone.
    auto kept = trialExperimentJson(base.dump(), {{"optimizer.type", ParamValue{"\"adam\""}}});
    QVERIFY(kept.ok());
    QVERIFY(nlohmann::json::parse(kept.value())["optimizer"].contains("betas"));
}

void TestStudy::runsTheTrialBudgetInParallel() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const StudyId id =
        createStudy(*store, studyJson(R"("sampler": "random", "budget": {"trials": 12}, "parallel": 3)"));
    QVERIFY(id > 0);
    BowlObjective objective;
    objective.epochTime = std::chrono::milliseconds(5);
    int started = 0, finished = 0, eventsWithoutDuration = 0;
    StudyRunner runner(*store, id, objective);
    auto summary = runner.run();
    QVERIFY2(summary.ok(), summary.error().c_str());
    for (const StudyEvent& event : runner.events().drain()) {
        started += event.kind == StudyEventKind::TrialStarted;
        finished += event.kind == StudyEventKind::TrialFinished;
        // A finished trial's event carries both times, so views can show its duration.
        if (event.kind == StudyEventKind::TrialFinished &&
            !(event.trial.startedAt > 0.0 && event.trial.finishedAt >= event.trial.startedAt))
            ++eventsWithoutDuration;
    }
    QCOMPARE(summary.value().trialsStarted, int64_t(12));
    QCOMPARE(summary.value().trialsFinished, int64_t(12));
    QCOMPARE(started, 12);
    QCOMPARE(finished, 12);
    QCOMPARE(eventsWithoutDuration, 0);
    QVERIFY(objective.maxConcurrent.load() >= 2);
    QVERIFY(objective.maxConcurrent.load() <= 3);
    const auto trials = store->trials(id, true);
    QCOMPARE(int(trials.size()), 12);
    double best = INFINITY;
    for (int i = 0; i < 12; ++i) {
        QCOMPARE(trials[i].number, int64_t(i));
        QCOMPARE(QString(toString(trials[i].state)), QStringLiteral("complete"));
        QCOMPARE(int(trials[i].intermediate.size()), 4);
        best = std::min(best, trials[i].value);
    }
    QVERIFY(summary.value().best);
    QCOMPARE(summary.value().best->value, best);
    QVERIFY(QString::fromStdString(summary.value().endReason).contains("trial budget"));
}

void TestStudy::failingTrialsDoNotStopTheStudy() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const StudyId id =
        createStudy(*store, studyJson(R"("sampler": "sobol", "budget": {"trials": 6}, "parallel": 2)"));
    BowlObjective objective;
    objective.failing = {1, 4};
    StudyRunner runner(*store, id, objective);
    auto summary = runner.run();
    QVERIFY(summary.ok());
    const auto trials = store->trials(id);
    QCOMPARE(int(trials.size()), 6);
    int failed = 0;
    for (const auto& trial : trials) {
        if (trial.state == TrialState::Failed) {
            ++failed;
            QCOMPARE(QString::fromStdString(trial.message), QStringLiteral("synthetic failure"));
        }
    }
    QCOMPARE(failed, 2);
    QVERIFY(summary.value().best);
    QVERIFY(summary.value().best->number != 1 && summary.value().best->number != 4);
}

void TestStudy::prunesWithAsha() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const StudyId id = createStudy(
        *store,
        studyJson(R"("sampler": "random", "pruner": {"type": "asha", "min_epochs": 1, "reduction_factor": 3,
                            "warmup_epochs": 0, "startup_trials": 0}, "budget": {"trials": 15})"));
    BowlObjective objective;
    objective.epochs = 8; // rungs at epochs 1 and 3; 9 lies beyond the last epoch
    StudyRunner runner(*store, id, objective);
    QVERIFY(runner.run().ok());
    int pruned = 0;
    for (const auto& trial : store->trials(id, true)) {
        if (trial.state != TrialState::Pruned)
            continue;
        ++pruned;
        QVERIFY2(trial.prunedEpoch == 1 || trial.prunedEpoch == 3,
                 qPrintable(QString::number(trial.prunedEpoch)));
        QCOMPARE(int(trial.intermediate.size()), trial.prunedEpoch); // the curve up to the stop survives
        // The objective's rule (its best epoch), as for a complete trial.
        ObjectiveSpec byValue;
        byValue.metric = "value";
        QCOMPARE(trial.value, objectiveOverEpochs(trial.intermediate, byValue));
    }
    QVERIFY2(pruned >= 5, qPrintable(QString::number(pruned)));
}

void TestStudy::stopRequeuesRunningTrialsAndResumeFinishesTheBudget() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const StudyId id =
        createStudy(*store, studyJson(R"("sampler": "random", "budget": {"trials": 8}, "parallel": 2)"));
    BowlObjective objective;
    objective.epochTime = std::chrono::milliseconds(10);
    objective.slow = {1};
    int finished = 0;
    StudyRunner first(*store, id, objective);
    QVERIFY(first.start().ok());
    std::optional<StudyRunSummary> summary;
    while (!summary) {
        QVERIFY(first.events().waitForEvents(std::chrono::seconds(20)));
        for (const StudyEvent& event : first.events().drain()) {
            // Trial 1 is still in its first epochs when the third trial finishes.
            if (event.kind == StudyEventKind::TrialFinished && ++finished == 3)
                first.requestStop();
            if (event.kind == StudyEventKind::StudyFinished)
                summary = event.summary;
        }
    }
    QVERIFY(summary->stopped);
    int waiting = 0;
    for (const auto& trial : store->trials(id))
        waiting += trial.state == TrialState::Waiting;
    QVERIFY2(waiting >= 1, "a trial running at the stop goes back to waiting");
    QVERIFY(store->trial(id, 1)->state == TrialState::Waiting);
    QVERIFY(store->trial(id, 1)->intermediate.empty());
    QVERIFY(store->trialCount(id) < 8);

    StudyRunner second(*store, id, objective);
    QVERIFY(second.run().ok());
    const auto trials = store->trials(id);
    QCOMPARE(int(trials.size()), 8);
    for (const auto& trial : trials)
        QCOMPARE(QString(toString(trial.state)), QStringLiteral("complete"));
}

void TestStudy::endsWhenTheTimeBudgetIsSpent() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const StudyId id =
        createStudy(*store, studyJson(R"("sampler": "random", "budget": {"trials": 0, "seconds": 0.3})"));
    BowlObjective objective;
    objective.epochTime = std::chrono::milliseconds(25);
    StudyRunner runner(*store, id, objective);
    QElapsedTimer timer;
    timer.start();
    auto summary = runner.run();
    QVERIFY(summary.ok());
    QVERIFY(timer.elapsed() < 15000); // without the budget the study would never end
    QVERIFY(summary.value().trialsFinished >= 2);
    QVERIFY(QString::fromStdString(summary.value().endReason).contains("time budget"));
}

void TestStudy::endsWhenTheGridIsExhausted() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const std::string space = R"({"parameters": [{"path": "x", "kind": "float", "values": [0, 0.5, 1]},
                                                 {"path": "y", "kind": "categorical", "choices": [-0.25, 1]}]})";
    const StudyId id = createStudy(
        *store, studyJson(R"("sampler": "grid", "budget": {"trials": 100}, "parallel": 2)", space));
    BowlObjective objective;
    StudyRunner runner(*store, id, objective);
    auto summary = runner.run();
    QVERIFY(summary.ok());
    QCOMPARE(store->trialCount(id), int64_t(6));
    std::set<std::string> points;
    for (const auto& trial : store->trials(id))
        points.insert(trial.params.at("x").json + "," + trial.params.at("y").json);
    QCOMPARE(int(points.size()), 6);
    QCOMPARE(summary.value().best->params.at("x").json, std::string("0.5"));
    QVERIFY(QString::fromStdString(summary.value().endReason).contains("grid"));
}

void TestStudy::sequentialStudiesReproduce() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    std::vector<std::vector<std::string>> runs;
    for (const char* name : {"first", "second"}) {
        auto spec = parseStudySpec(studyJson(
            R"("sampler": {"type": "tpe", "seed": 3, "startup_trials": 4}, "budget": {"trials": 10})"));
        QVERIFY(spec.ok());
        const StudyId id = store->createStudy(name, studySpecToJson(spec.value())).value();
        BowlObjective objective;
        StudyRunner runner(*store, id, objective);
        QVERIFY(runner.run().ok());
        std::vector<std::string> params;
        for (const auto& trial : store->trials(id))
            params.push_back(trial.params.at("x").json + "," + trial.params.at("y").json);
        runs.push_back(params);
    }
    QCOMPARE(runs[0].size(), size_t(10));
    QVERIFY(runs[0] == runs[1]);
}

void TestStudy::trainsRealExperimentsAsTrials() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const std::string json = std::string(R"({"name": "tiny-lr", "experiment": )") + tinyExperiment() + R"(,
        "space": {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 1e-3, "high": 0.1, "log": true},
                                 {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]}]},
        "sampler": {"type": "random", "seed": 1},
        "objective": {"metric": "val_accuracy"},
        "budget": {"trials": 3}, "parallel": 2})";
    const StudyId id = createStudy(*store, json);
    QVERIFY(id > 0);
    auto spec = parseStudySpec(json);
    RunOptions runOptions;
    runOptions.threads = 1;
    RunEventQueue forwarded;
    ExperimentObjective objective(*store, spec.value().objective, runOptions, &forwarded);
    StudyRunner runner(*store, id, objective);
    auto summary = runner.run();
    QVERIFY2(summary.ok(), summary.error().c_str());
    const auto trials = store->trials(id, true);
    QCOMPARE(int(trials.size()), 3);
    for (const auto& trial : trials) {
        QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
        QVERIFY(trial.runId > 0);
        const auto run = store->run(trial.runId);
        QVERIFY(run);
        QCOMPARE(QString::fromStdString(run->name), QStringLiteral("tiny-lr trial %1").arg(trial.number));
        QCOMPARE(int(trial.intermediate.size()), 3);
        // Maximized accuracy at the best epoch.
        double best = 0;
        for (const auto& [epoch, value] : trial.intermediate)
            best = std::max(best, value);
        QCOMPARE(trial.value, best);
        QVERIFY(trial.value > 0.0 && trial.value <= 1.0);
    }
    QVERIFY(!forwarded.drain().empty());
    QVERIFY(summary.value().best);
}

QTEST_GUILESS_MAIN(TestStudy)
// start() returns before the first trial ends; each trial's events come started, intermediate,
// finished, in order, and exactly one StudyFinished comes last, with the summary.
void TestStudy::startReturnsAtOnceAndEventsComeInOrder() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    const StudyId id =
        createStudy(*store, studyJson(R"("sampler": "random", "budget": {"trials": 4}, "parallel": 2)"));
    BowlObjective objective;
    objective.epochTime = std::chrono::milliseconds(50);
    StudyRunner runner(*store, id, objective);
    QVERIFY(runner.start().ok());
    QVERIFY(!runner.finished());   // four epochs of 50 ms are still ahead
    QVERIFY(!runner.start().ok()); // a runner starts once

    std::vector<StudyEvent> events;
    while (events.empty() || events.back().kind != StudyEventKind::StudyFinished) {
        QVERIFY(runner.events().waitForEvents(std::chrono::seconds(20)));
        for (StudyEvent& event : runner.events().drain())
            events.push_back(std::move(event));
    }
    runner.wait();
    QVERIFY(runner.finished());
    QVERIFY(runner.events().drain().empty()); // nothing after the last event
    std::map<int64_t, std::vector<StudyEventKind>> perTrial;
    int studyFinished = 0;
    for (const StudyEvent& event : events) {
        if (event.kind == StudyEventKind::StudyFinished)
            ++studyFinished;
        else
            perTrial[event.trial.number].push_back(event.kind);
    }
    QCOMPARE(studyFinished, 1);
    QCOMPARE(int(perTrial.size()), 4);
    for (const auto& [number, kinds] : perTrial) {
        QCOMPARE(kinds.front(), StudyEventKind::TrialStarted);
        QCOMPARE(kinds.back(), StudyEventKind::TrialFinished);
        QCOMPARE(int(kinds.size()), 2 + objective.epochs);
    }
    const StudyEvent& last = events.back();
    QCOMPARE(last.summary.trialsFinished, int64_t(4));
    QVERIFY(last.summary.best.has_value());
    QCOMPARE(last.trial.number, last.summary.best->number);
}

void TestStudy::stopTakesEffectWithinABoundedTime() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    BowlObjective objective;
    const StudyId id = createEndlessStudy(*store, objective);
    StudyRunner runner(*store, id, objective);
    QVERIFY(runner.start().ok());
    // Wait for the first reported epoch, then stop.
    bool reported = false;
    while (!reported) {
        QVERIFY(runner.events().waitForEvents(std::chrono::seconds(20)));
        for (const StudyEvent& event : runner.events().drain())
            reported = reported || event.kind == StudyEventKind::TrialIntermediate;
    }
    QElapsedTimer clock;
    clock.start();
    runner.requestStop();
    std::optional<StudyRunSummary> summary;
    while (!summary) {
        QVERIFY(runner.events().waitForEvents(std::chrono::seconds(60)));
        for (const StudyEvent& event : runner.events().drain())
            if (event.kind == StudyEventKind::StudyFinished)
                summary = event.summary;
    }
    QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed()))); // unstopped: endless
    QVERIFY(summary->stopped);
    QCOMPARE(summary->endReason, std::string("stopped"));
}

void TestStudy::destructorStopsAndJoins() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    BowlObjective objective;
    const StudyId id = createEndlessStudy(*store, objective);
    QElapsedTimer clock;
    {
        StudyRunner runner(*store, id, objective);
        QVERIFY(runner.start().ok());
        QVERIFY(runner.events().waitForEvents(std::chrono::seconds(20)));
        clock.start();
    } // the destructor stops the study and joins its threads
    QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed()))); // unstopped: endless
    QCOMPARE(objective.concurrent.load(), 0); // no trial still evaluating
    for (const auto& trial : store->trials(id))
        QVERIFY(trial.state != TrialState::Running);
}

void TestStudy::unreadableStudyStartsNothing() {
    QTemporaryDir dir;
    auto store = openStore(dir);
    QVERIFY(store);
    BowlObjective objective;
    StudyRunner runner(*store, 12345, objective);
    const auto started = runner.start();
    QVERIFY(!started.ok());
    QVERIFY(started.error().find("12345") != std::string::npos);
    QVERIFY(!runner.events().waitForEvents(std::chrono::milliseconds(0)));
    QVERIFY(!runner.run().ok());
}

#include "tst_study.moc"
