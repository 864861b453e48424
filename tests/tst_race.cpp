#include "race/race.h"
#include "race/race_runner.h"
#include "race/race_scoreboard.h"
#include "spec/spec.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <QElapsedTimer>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

using namespace tunelab;

namespace {

// Three well-separated blobs and a small MLP: a race of three set-ups trains in well under a second.
const char* kBlobsExperiment = R"({
    "name": "blobs", "seed": 5, "device": "cpu",
    "data": {"kind": "blobs", "samples": 200, "classes": 3, "features": 2},
    "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"},
                         {"type": "linear", "out_features": 3}]},
    "optimizer": {"type": "adam", "lr": 0.01, "betas": [0.8, 0.99]},
    "training": {"epochs": 3, "batch_size": 16}
})";

std::string raceJson(const std::string& extra) {
    return std::string(R"({"name": "tiny", "experiment": )") + kBlobsExperiment +
           (extra.empty() ? "" : ", " + extra) + "}";
}

const char* kThreeSetups = R"("setups": [
    {"name": "SGD", "optimizer": {"type": "sgd", "lr": 0.1}},
    {"name": "Adam", "optimizer": {"type": "adam", "lr": 0.01}},
    {"name": "RMSprop", "optimizer": {"type": "rmsprop", "lr": 0.005}}])";

RaceSpec threeSetupRace() {
    auto parsed = parseRaceSpec(raceJson(std::string(kThreeSetups) + R"(, "target_loss": 0.5)"));
    if (!parsed.ok())
        qFatal("the test race does not parse: %s", parsed.error().c_str());
    return parsed.take();
}

// The three set-ups for a hundred thousand epochs: a race that only a stop ends.
RaceSpec endlessRace() {
    RaceSpec spec = threeSetupRace();
    auto experiment = nlohmann::json::parse(spec.experimentJson);
    experiment["training"]["epochs"] = 100000;
    spec.experimentJson = experiment.dump();
    return spec;
}

EpochRecord epochRecord(int epoch, int64_t step, double valLoss, double seconds) {
    EpochRecord record;
    record.epoch = epoch;
    record.step = step;
    record.valLoss = valLoss;
    record.seconds = seconds;
    return record;
}

} // namespace

class TestRace : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parseErrors_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not an object") << "[1]"
                                       << "the race must be a JSON object";
        QTest::newRow("invalid json") << "{"
                                      << "invalid JSON";
        QTest::newRow("no experiment") << R"({"name": "x"})"
                                       << "experiment: missing";
        QTest::newRow("bad experiment") << R"({"experiment": {"data": {"kind": "moons"}}})"
                                        << "experiment: ";
        QTest::newRow("unknown key") << QString::fromStdString(raceJson(R"("setup": [])"))
                                     << "unknown key 'setup'; did you mean setups?";
        QTest::newRow("setups not array")
            << QString::fromStdString(raceJson(R"("setups": {})")) << "setups: expected a non-empty array";
        QTest::newRow("setup without name")
            << QString::fromStdString(raceJson(R"("setups": [{"optimizer": {"type": "sgd"}}])"))
            << "setups[0].name: expected a non-empty string";
        QTest::newRow("duplicate name") << QString::fromStdString(raceJson(
                                               R"("setups": [{"name": "A", "optimizer": {"type": "sgd"}},
                                                             {"name": "A", "optimizer": {"type": "adam"}}])"))
                                        << "setups[1].name: \"A\" is already the name of another set-up";
        QTest::newRow("no optimizer") << QString::fromStdString(raceJson(R"("setups": [{"name": "A"}])"))
                                      << "setups[0].optimizer: missing";
        QTest::newRow("negative lr")
            << QString::fromStdString(
                   raceJson(R"("setups": [{"name": "A", "optimizer": {"type": "sgd", "lr": -1}}])"))
            << "setups[0].optimizer.lr";
        QTest::newRow("unknown optimizer")
            << QString::fromStdString(raceJson(R"("setups": [{"name": "A", "optimizer": {"type": "lion"}}])"))
            << "setups[0].optimizer.type";
        QTest::newRow("betas on sgd")
            << QString::fromStdString(raceJson(
                   R"("setups": [{"name": "A", "optimizer": {"type": "sgd", "betas": [0.9, 0.99]}}])"))
            << "setups[0].optimizer";
        QTest::newRow("full_batch not bool")
            << QString::fromStdString(raceJson(
                   R"("setups": [{"name": "A", "optimizer": {"type": "sgd"}, "full_batch": "yes"}])"))
            << "setups[0].full_batch: expected true or false";
        QTest::newRow("max below min")
            << QString::fromStdString(raceJson(R"("range_test": {"min_lr": 1, "max_lr": 0.1})"))
            << "range_test.max_lr: must be greater than min_lr";
        QTest::newRow("too few steps") << QString::fromStdString(raceJson(R"("range_test": {"steps": 5})"))
                                       << "range_test.steps: expected an integer from 10";
        QTest::newRow("zero min_lr") << QString::fromStdString(raceJson(R"("range_test": {"min_lr": 0})"))
                                     << "range_test.min_lr: expected a positive learning rate";
        QTest::newRow("target not number") << QString::fromStdString(raceJson(R"("target_loss": "low")"))
                                           << "target_loss: expected a number";
        QTest::newRow("fair not bool") << QString::fromStdString(raceJson(R"("fair_learning_rates": 1)"))
                                       << "fair_learning_rates: expected true or false";
    }

    void parseErrors() {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        const auto parsed = parseRaceSpec(json.toStdString());
        QVERIFY(!parsed.ok());
        const QString error = QString::fromStdString(parsed.error());
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void parsesAndRoundTrips() {
        auto parsed = parseRaceSpec(raceJson(std::string(kThreeSetups) +
                                             R"(, "fair_learning_rates": true, "target_loss": 0.25,
                                                 "range_test": {"min_lr": 1e-5, "max_lr": 2, "steps": 50})"));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const RaceSpec spec = parsed.value();
        QCOMPARE(spec.name, std::string("tiny"));
        QCOMPARE(spec.setups.size(), size_t(3));
        QCOMPARE(spec.setups[1].name, std::string("Adam"));
        QVERIFY(spec.fairLearningRates);
        QCOMPARE(spec.targetLoss, 0.25);
        QCOMPARE(spec.rangeTest.minLr, 1e-5);
        QCOMPARE(spec.rangeTest.maxLr, 2.0);
        QCOMPARE(spec.rangeTest.steps, 50);

        auto again = parseRaceSpec(raceSpecToJson(spec));
        QVERIFY2(again.ok(), again.error().c_str());
        QCOMPARE(raceSpecToJson(again.value()), raceSpecToJson(spec));
        QCOMPARE(again.value().setups.size(), size_t(3));
        QCOMPARE(again.value().targetLoss, 0.25);
        QVERIFY(again.value().fairLearningRates);
    }

    void defaultSetupsWhenNoneGiven() {
        auto parsed = parseRaceSpec(raceJson(""));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const RaceSpec spec = parsed.value();
        QCOMPARE(spec.setups.size(), size_t(8));
        QVERIFY(std::isnan(spec.targetLoss));
        int fullBatch = 0;
        for (const auto& setup : spec.setups) {
            fullBatch += setup.fullBatch ? 1 : 0;
            const auto experiment = setupExperimentJson(spec, setup);
            QVERIFY2(experiment.ok(), experiment.error().c_str());
            QVERIFY2(parseExperimentSpec(experiment.value()).ok(), setup.name.c_str());
        }
        QCOMPARE(fullBatch, 1);
    }

    void setupExperimentSwapsOptimizer() {
        const RaceSpec spec = threeSetupRace();
        RaceSetup sgd{"SGD + momentum", R"({"type": "sgd", "lr": 0.1, "momentum": 0.9})", false};
        const auto text = setupExperimentJson(spec, sgd);
        QVERIFY2(text.ok(), text.error().c_str());
        // The base is Adam with betas; SGD would reject them, so the old object must be gone.
        QVERIFY(text.value().find("betas") == std::string::npos);
        const auto parsed = parseExperimentSpec(text.value());
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        QCOMPARE(parsed.value().optimizer.type, OptimizerType::Sgd);
        QCOMPARE(parsed.value().optimizer.lr, 0.1);
        QCOMPARE(parsed.value().optimizer.momentum, 0.9);
        QCOMPARE(parsed.value().name, std::string("tiny / SGD + momentum"));
        QVERIFY(!parsed.value().training.fullBatch);
        QCOMPARE(parsed.value().training.epochs, 3);

        const auto atRate = parseExperimentSpec(setupExperimentJson(spec, sgd, 0.02).value());
        QCOMPARE(atRate.value().optimizer.lr, 0.02);

        RaceSetup fullBatch{"GD", R"({"type": "sgd", "lr": 0.5})", true};
        const auto full = parseExperimentSpec(setupExperimentJson(spec, fullBatch).value());
        QVERIFY(full.value().training.fullBatch);

        RaceSetup broken{"Broken", R"({"type": "sgd", "lr": 0.1, "betas": [0.9, 0.99]})", false};
        const auto rejected = setupExperimentJson(spec, broken);
        QVERIFY(!rejected.ok());
        QVERIFY2(rejected.error().rfind("Broken: optimizer", 0) == 0, rejected.error().c_str());
    }

    // Every set-up starts from the same weights and sees the batches in the same order.
    void raceIsFair() {
        RaceRunner runner;
        const auto raced = runner.run(threeSetupRace());
        QVERIFY2(raced.ok(), raced.error().c_str());
        const auto& results = raced.value();
        QCOMPARE(results.size(), size_t(3));
        int started = 0, finishedEvents = 0;
        for (const auto& event : runner.events().drain()) {
            started += event.kind == RaceEventKind::SetupStarted ? 1 : 0;
            finishedEvents += event.kind == RaceEventKind::Run && event.run.kind == RunEventKind::Finished;
        }
        QCOMPARE(started, 3);
        QCOMPARE(finishedEvents, 3);
        for (const auto& result : results) {
            QCOMPARE(result.status, RunStatus::Completed);
            QVERIFY(std::isfinite(result.finalValLoss));
            QVERIFY(result.bestValLoss <= result.finalValLoss);
            QVERIFY2(result.initialParametersHash != 0, result.setup.c_str());
            QVERIFY2(result.batchOrderHash != 0, result.setup.c_str());
            QCOMPARE(result.initialParametersHash, results.front().initialParametersHash);
            QCOMPARE(result.batchOrderHash, results.front().batchOrderHash);
        }
        QCOMPARE(results[0].setup, std::string("SGD"));
        QCOMPARE(results[0].learningRate, 0.1);
        QCOMPARE(results[2].learningRate, 0.005);
        // The optimizers differ, so the curves must too.
        QVERIFY(results[0].finalValLoss != results[1].finalValLoss);
    }

    void rerunGivesIdenticalLosses() {
        const RaceSpec spec = threeSetupRace();
        RaceRunner first;
        RaceRunner second;
        const auto a = first.run(spec);
        const auto b = second.run(spec);
        QVERIFY(a.ok() && b.ok());
        for (size_t i = 0; i < a.value().size(); ++i) {
            QCOMPARE(a.value()[i].finalValLoss, b.value()[i].finalValLoss);
            QCOMPARE(a.value()[i].bestValLoss, b.value()[i].bestValLoss);
            QCOMPARE(a.value()[i].stepsToTarget, b.value()[i].stepsToTarget);
        }
    }

    void fairRaceUsesRangeTestRates() {
        RaceSpec spec = threeSetupRace();
        spec.fairLearningRates = true;
        spec.rangeTest = LrRangeSettings{1e-4, 1.0, 60};
        spec.setups.resize(2);
        RaceRunner runner;
        const auto raced = runner.run(spec);
        QVERIFY2(raced.ok(), raced.error().c_str());
        std::vector<double> suggestions;
        for (const auto& event : runner.events().drain())
            if (event.kind == RaceEventKind::RangeTested)
                suggestions.push_back(event.rangeTest.suggestedLearningRate);
        QCOMPARE(suggestions.size(), size_t(2));
        for (size_t i = 0; i < suggestions.size(); ++i) {
            QVERIFY(std::isfinite(suggestions[i]));
            QCOMPARE(raced.value()[i].learningRate, suggestions[i]);
        }
    }

    void stopBeforeStartStopsEverySetup() {
        RaceRunner runner;
        runner.requestStop();
        const auto raced = runner.run(threeSetupRace());
        QVERIFY(raced.ok());
        for (const auto& result : raced.value())
            QCOMPARE(result.status, RunStatus::Stopped);
        // The stop belonged to that race: the next one trains.
        const auto next = runner.run(threeSetupRace());
        QVERIFY(next.ok());
        for (const auto& result : next.value())
            QCOMPARE(result.status, RunStatus::Completed);
    }

    void stopDuringTheRaceKeepsStoppedRuns() {
        const RaceSpec spec = endlessRace();
        RaceRunner runner;
        QVERIFY(runner.start(spec).ok());
        QVERIFY(!runner.start(spec).ok()); // one race at a time
        // Every set-up has trained an epoch: then stop, and the race ends within a bounded time.
        RaceScoreboard scoreboard(spec);
        std::set<int> trained;
        QElapsedTimer clock;
        while (!scoreboard.finished()) {
            QVERIFY(runner.events().waitForEvents(std::chrono::seconds(20)));
            for (const RaceEvent& event : runner.events().drain()) {
                scoreboard.apply(event);
                if (event.kind == RaceEventKind::Run && event.run.kind == RunEventKind::Epoch)
                    trained.insert(event.setup);
            }
            if (trained.size() == 3 && !clock.isValid()) {
                clock.start();
                runner.requestStop();
            }
        }
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed()))); // unstopped: minutes
        runner.wait();
        QVERIFY(!runner.running());
        QVERIFY(scoreboard.succeeded());
        for (const auto& result : scoreboard.results()) {
            QCOMPARE(result.status, RunStatus::Stopped);
            QVERIFY(result.runId > 0);
        }
    }

    // Per set-up: started, then its run's events from Started to one Finished; one race Finished
    // comes last, and its results are the ones a scoreboard fed with the same events holds.
    void eventsComeInOrderWithOneFinish() {
        const RaceSpec spec = threeSetupRace();
        RaceRunner runner;
        QVERIFY(runner.start(spec).ok());
        std::vector<RaceEvent> events;
        while (events.empty() || events.back().kind != RaceEventKind::Finished) {
            QVERIFY(runner.events().waitForEvents(std::chrono::seconds(30)));
            for (RaceEvent& event : runner.events().drain())
                events.push_back(std::move(event));
        }
        runner.wait();
        QVERIFY(runner.events().drain().empty());
        RaceScoreboard scoreboard(spec);
        std::map<int, std::vector<RunEventKind>> runKinds;
        std::map<int, int> startedAt;
        int finishes = 0;
        for (size_t i = 0; i < events.size(); ++i) {
            const RaceEvent& event = events[i];
            scoreboard.apply(event);
            if (event.kind == RaceEventKind::Finished)
                ++finishes;
            else if (event.kind == RaceEventKind::SetupStarted)
                startedAt[event.setup] = static_cast<int>(i);
            else if (event.kind == RaceEventKind::Run) {
                QVERIFY2(startedAt.count(event.setup), "a run's events come after its set-up started");
                runKinds[event.setup].push_back(event.run.kind);
            }
        }
        QCOMPARE(finishes, 1);
        QCOMPARE(int(runKinds.size()), 3);
        for (const auto& [setup, kinds] : runKinds) {
            QCOMPARE(kinds.front(), RunEventKind::Started);
            QCOMPARE(kinds.back(), RunEventKind::Finished);
            QCOMPARE(int(std::count(kinds.begin(), kinds.end(), RunEventKind::Finished)), 1);
        }
        const auto& results = events.back().results;
        QCOMPARE(results.size(), size_t(3));
        for (size_t i = 0; i < results.size(); ++i) {
            QCOMPARE(results[i].finalValLoss, scoreboard.results()[i].finalValLoss);
            QCOMPARE(results[i].stepsToTarget, scoreboard.results()[i].stepsToTarget);
            QCOMPARE(results[i].rank, scoreboard.results()[i].rank);
        }
        QVERIFY(scoreboard.bestRow() >= 0);
    }

    void destructorStopsAndJoins() {
        const RaceSpec spec = endlessRace();
        QElapsedTimer clock;
        {
            RaceRunner runner;
            QVERIFY(runner.start(spec).ok());
            bool training = false;
            while (!training) {
                QVERIFY(runner.events().waitForEvents(std::chrono::seconds(20)));
                for (const RaceEvent& event : runner.events().drain())
                    training = training || event.kind == RaceEventKind::Run;
            }
            clock.start();
        } // the destructor stops the race and joins its thread
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed()))); // unstopped: minutes
    }

    void badDeviceIsAnError() {
        RaceRunner runner;
        RaceRunOptions options;
        options.device = "tpu";
        QVERIFY(!runner.run(threeSetupRace(), options).ok());
    }

    void entryResult_data() {
        QTest::addColumn<double>("target");
        QTest::addColumn<qint64>("steps");
        QTest::addColumn<double>("seconds");
        QTest::newRow("reached at epoch 2") << 0.5 << qint64(20) << 3.0;
        QTest::newRow("reached at once") << 0.9 << qint64(10) << 1.0;
        QTest::newRow("exactly the target") << 0.4 << qint64(30) << 6.0;
        QTest::newRow("never reached") << 0.1 << qint64(-1) << kNoValue;
        QTest::newRow("no target") << kNoValue << qint64(-1) << kNoValue;
    }

    void entryResult() {
        QFETCH(double, target);
        QFETCH(qint64, steps);
        QFETCH(double, seconds);
        RunSummary summary;
        summary.status = RunStatus::Completed;
        summary.trainSeconds = 7.5;
        summary.initialParametersHash = 11;
        summary.batchOrderHash = 22;
        const std::vector<EpochRecord> epochs = {epochRecord(1, 10, 0.8, 1.0), epochRecord(2, 20, 0.45, 2.0),
                                                 epochRecord(3, 30, 0.4, 3.0), epochRecord(4, 40, 0.42, 1.5)};
        const RaceEntryResult result = raceEntryResult("Adam", summary, epochs, target);
        QCOMPARE(result.setup, std::string("Adam"));
        QCOMPARE(result.finalValLoss, 0.42);
        QCOMPARE(result.bestValLoss, 0.4);
        QCOMPARE(qint64(result.stepsToTarget), steps);
        if (std::isnan(seconds))
            QVERIFY(std::isnan(result.secondsToTarget));
        else
            QCOMPARE(result.secondsToTarget, seconds);
        QCOMPARE(result.wallSeconds, 7.5);
        QVERIFY(!result.diverged);
        QCOMPARE(result.initialParametersHash, uint64_t(11));
        QCOMPARE(result.batchOrderHash, uint64_t(22));
    }

    void divergedEntry() {
        RunSummary summary;
        summary.status = RunStatus::Diverged;
        summary.message = "loss became nan";
        const RaceEntryResult result = raceEntryResult(
            "SGD", summary, {epochRecord(1, 5, 2.0, 0.1), epochRecord(2, 10, kNoValue, 0.1)}, 1.0);
        QVERIFY(result.diverged);
        QCOMPARE(result.status, RunStatus::Diverged);
        QCOMPARE(result.finalValLoss, 2.0);
        QCOMPARE(result.stepsToTarget, int64_t(-1));
        QCOMPARE(result.message, std::string("loss became nan"));
    }

    void resultsCsv() {
        RaceEntryResult plain;
        plain.setup = "Adam";
        plain.runId = 4;
        plain.learningRate = 0.001;
        plain.finalValLoss = 0.25;
        plain.bestValLoss = 0.125;
        plain.stepsToTarget = 40;
        plain.secondsToTarget = 1.5;
        plain.status = RunStatus::Completed;
        plain.wallSeconds = 2.0;
        plain.initialParametersHash = 0xabc;
        plain.batchOrderHash = 0xdef;
        RaceEntryResult quoted;
        quoted.setup = "SGD, \"fast\"";
        quoted.runId = 5;
        quoted.diverged = true;
        quoted.status = RunStatus::Diverged;
        quoted.message = "nan at step 3";
        const std::string csv = raceResultsCsv({plain, quoted});
        const QStringList lines = QString::fromStdString(csv).trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QVERIFY(
            lines[0].startsWith("setup,run_id,learning_rate,final_val_loss,best_val_loss,steps_to_target"));
        QCOMPARE(lines[1], QString("Adam,4,0.001,0.25,0.125,40,1.5,false,completed,2,0000000000000abc,"
                                   "0000000000000def,"));
        QCOMPARE(lines[2], QString("\"SGD, \"\"fast\"\"\",5,,,,,,true,diverged,0,0000000000000000,"
                                   "0000000000000000,nan at step 3"));
    }
};

QTEST_GUILESS_MAIN(TestRace)
#include "tst_race.moc"
