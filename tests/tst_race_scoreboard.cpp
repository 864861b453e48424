#include "race/race.h"
#include "race/race_scoreboard.h"

#include <QtTest>

#include <cmath>

using namespace tunelab;

namespace {

RaceSpec twoSetupRace(bool fair) {
    RaceSpec spec;
    spec.name = "tiny";
    spec.experimentJson = R"({"name": "blobs", "seed": 5, "device": "cpu",
        "data": {"kind": "blobs", "samples": 200, "classes": 3, "features": 2},
        "model": {"layers": [{"type": "linear", "out_features": 3}]},
        "optimizer": {"type": "adam", "lr": 0.01}, "training": {"epochs": 3, "batch_size": 16}})";
    spec.setups = {{"SGD", R"({"type": "sgd", "lr": 0.1})", false},
                   {"Adam", R"({"type": "adam", "lr": 0.003})", false}};
    spec.fairLearningRates = fair;
    spec.targetLoss = 0.5;
    return spec;
}

RaceEvent started(int setup, RunId runId) {
    RaceEvent event;
    event.kind = RaceEventKind::SetupStarted;
    event.setup = setup;
    event.runId = runId;
    return event;
}

RaceEvent epoch(int setup, int number, int64_t step, double valLoss, double seconds) {
    RaceEvent event;
    event.kind = RaceEventKind::Run;
    event.setup = setup;
    event.run.kind = RunEventKind::Epoch;
    event.run.epoch.epoch = number;
    event.run.epoch.step = step;
    event.run.epoch.valLoss = valLoss;
    event.run.epoch.seconds = seconds;
    return event;
}

RaceEvent runFinished(int setup, RunStatus status, double trainSeconds) {
    RaceEvent event;
    event.kind = RaceEventKind::Run;
    event.setup = setup;
    event.run.kind = RunEventKind::Finished;
    event.run.summary.status = status;
    event.run.summary.trainSeconds = trainSeconds;
    event.run.summary.message = status == RunStatus::Diverged ? "nan" : "";
    return event;
}

RaceEntryResult entry(double bestValLoss, RunStatus status) {
    RaceEntryResult result;
    result.bestValLoss = bestValLoss;
    result.status = status;
    result.diverged = status == RunStatus::Diverged;
    return result;
}

} // namespace

class TestRaceScoreboard : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void rowsStartWaitingAtTheirOwnRates() {
        const RaceScoreboard plain(twoSetupRace(false));
        QCOMPARE(plain.results().size(), size_t(2));
        QCOMPARE(plain.results()[0].setup, std::string("SGD"));
        QCOMPARE(plain.results()[0].learningRate, 0.1);
        QCOMPARE(plain.results()[1].learningRate, 0.003);
        QCOMPARE(plain.results()[0].status, RunStatus::Queued);
        QCOMPARE(plain.bestRow(), -1);
        QVERIFY(!plain.finished());
        // In a fair race the range tests choose the rates.
        const RaceScoreboard fair(twoSetupRace(true));
        QVERIFY(std::isnan(fair.results()[0].learningRate));
    }

    void followsTheRunsLive() {
        RaceScoreboard board(twoSetupRace(false));
        QCOMPARE(board.apply(started(0, 7)), 0);
        QCOMPARE(board.apply(started(1, 8)), 1);
        QCOMPARE(board.setupOfRun(8), 1);
        QCOMPARE(board.setupOfRun(99), -1);
        QCOMPARE(board.results()[0].status, RunStatus::Running);
        QCOMPARE(board.results()[0].runId, RunId(7));

        QCOMPARE(board.apply(epoch(0, 1, 10, 0.8, 1.0)), 0);
        QCOMPARE(board.apply(epoch(0, 2, 20, 0.45, 2.0)), 0);
        QCOMPARE(board.apply(epoch(1, 1, 10, 0.6, 1.5)), 1);
        const RaceEntryResult& sgd = board.results()[0];
        QCOMPARE(sgd.finalValLoss, 0.45);
        QCOMPARE(sgd.bestValLoss, 0.45);
        QCOMPARE(sgd.stepsToTarget, int64_t(20));
        QCOMPARE(sgd.secondsToTarget, 3.0);
        QCOMPARE(sgd.wallSeconds, 3.0);
        QCOMPARE(sgd.status, RunStatus::Running);
        QCOMPARE(sgd.learningRate, 0.1); // the rate stays through the run's events
        QCOMPARE(sgd.rank, 1);
        QCOMPARE(board.results()[1].rank, 2);
        QCOMPARE(board.results()[1].stepsToTarget, int64_t(-1));
        QCOMPARE(board.bestRow(), 0);

        // A diverged set-up loses its rank, whatever its loss.
        QCOMPARE(board.apply(epoch(1, 2, 20, 0.1, 1.0)), 1);
        QCOMPARE(board.bestRow(), 1);
        QCOMPARE(board.apply(runFinished(1, RunStatus::Diverged, 2.5)), 1);
        QVERIFY(board.results()[1].diverged);
        QCOMPARE(board.results()[1].rank, 0);
        QCOMPARE(board.results()[1].wallSeconds, 2.5);
        QCOMPARE(board.bestRow(), 0);
        QVERIFY(board.rowFinished(1));
        QVERIFY(!board.rowFinished(0));
        // Steps change no row; events of unknown set-ups are ignored.
        RaceEvent steps;
        steps.setup = 0;
        steps.run.kind = RunEventKind::Steps;
        QCOMPARE(board.apply(steps), -1);
        QCOMPARE(board.apply(epoch(5, 1, 10, 0.1, 1.0)), -1);
    }

    void rangeTestsSetTheRates() {
        RaceScoreboard board(twoSetupRace(true));
        RaceEvent tested;
        tested.kind = RaceEventKind::RangeTested;
        tested.setup = 0;
        tested.rangeTest.suggestedLearningRate = 0.02;
        QCOMPARE(board.apply(tested), 0);
        QCOMPARE(board.results()[0].learningRate, 0.02);
        tested.setup = 1;
        tested.rangeTest.suggestedLearningRate = kNoValue;
        tested.rangeTest.message = "the loss never fell";
        QCOMPARE(board.apply(tested), 1);
        QCOMPARE(board.results()[1].learningRate, 0.003); // its own rate
        QVERIFY(QString::fromStdString(board.results()[1].message).contains("the loss never fell"));
        // The note stays once the set-up's run reports.
        board.apply(started(1, 3));
        board.apply(epoch(1, 1, 10, 0.7, 1.0));
        QVERIFY(
            QString::fromStdString(board.results()[1].message).contains("raced at its own learning rate"));
        QCOMPARE(board.results()[1].learningRate, 0.003);
    }

    void stopsAndFailures() {
        RaceScoreboard board(twoSetupRace(false));
        board.setupFailed(0, "cannot start");
        QCOMPARE(board.results()[0].status, RunStatus::Failed);
        QCOMPARE(board.results()[0].message, std::string("cannot start"));
        board.stopUnfinished("stopped by request before it started");
        QCOMPARE(board.results()[0].status, RunStatus::Failed); // finished rows keep their end
        QCOMPARE(board.results()[1].status, RunStatus::Stopped);
    }

    void finishedEventEndsTheRace() {
        RaceScoreboard board(twoSetupRace(false));
        RaceEvent done;
        done.kind = RaceEventKind::Finished;
        done.results = {entry(0.3, RunStatus::Completed), entry(0.2, RunStatus::Completed)};
        QCOMPARE(board.apply(done), -1);
        QVERIFY(board.finished());
        QVERIFY(board.succeeded());
        QCOMPARE(board.bestRow(), 1);
        QCOMPARE(board.results()[0].rank, 2);

        RaceScoreboard failed(twoSetupRace(false));
        done.ok = false;
        done.error = "device: no such device";
        failed.apply(done);
        QVERIFY(failed.finished());
        QVERIFY(!failed.succeeded());
        QCOMPARE(failed.error(), std::string("device: no such device"));
    }

    void ranks_data() {
        QTest::addColumn<QList<double>>("losses");
        QTest::addColumn<QList<int>>("statuses"); // 0 completed, 1 diverged, 2 failed, 3 stopped
        QTest::addColumn<QList<int>>("ranks");
        QTest::newRow("by best loss")
            << QList<double>{0.3, 0.1, 0.2} << QList<int>{0, 0, 0} << QList<int>{3, 1, 2};
        QTest::newRow("diverged and failed unranked")
            << QList<double>{0.3, 0.1, 0.2} << QList<int>{0, 1, 2} << QList<int>{1, 0, 0};
        QTest::newRow("stopped still ranks")
            << QList<double>{0.3, 0.1} << QList<int>{0, 3} << QList<int>{2, 1};
        QTest::newRow("no loss, no rank")
            << QList<double>{kNoValue, 0.4} << QList<int>{0, 0} << QList<int>{0, 1};
        QTest::newRow("ties keep set-up order")
            << QList<double>{0.2, 0.2} << QList<int>{0, 0} << QList<int>{1, 2};
    }

    void ranks() {
        QFETCH(QList<double>, losses);
        QFETCH(QList<int>, statuses);
        QFETCH(QList<int>, ranks);
        const RunStatus kinds[] = {RunStatus::Completed, RunStatus::Diverged, RunStatus::Failed,
                                   RunStatus::Stopped};
        std::vector<RaceEntryResult> results;
        for (int i = 0; i < losses.size(); ++i)
            results.push_back(entry(losses[i], kinds[statuses[i]]));
        rankRaceResults(results);
        for (int i = 0; i < ranks.size(); ++i)
            QCOMPARE(results[static_cast<size_t>(i)].rank, ranks[i]);
    }
};

QTEST_GUILESS_MAIN(TestRaceScoreboard)
#include "tst_race_scoreboard.moc"
