// Heartbeats and stale trials in the run store: a running trial whose evaluator stopped beating is
// failed with its values kept and retried as a new trial, at most the allowed number of times; a
// trial that beats, or belongs to this process, never goes stale. Runs on a SQLite file and, as
// tst_stale_trials_postgres, on a PostgreSQL server.

#include "study_store_test_support.h"

#include <chrono>
#include <thread>

using namespace tunelab;
using namespace tunelab::test;

namespace {

void sleepSeconds(double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Hands out a trial as `ask` does: running, with no owner process (its evaluator is elsewhere).
bool askTrial(RunStore& store, StudyId study) {
    return store
        .createTrial(study, assignment({{"x", "1"}}), TrialState::Running, RunStore::TrialOwner::Outside)
        .ok();
}

} // namespace

class TestStaleTrials : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void silentTrialIsFailedAndRetried();
    void retriesStopAtTheLimit();
    void beatingKeepsATrialAlive();
    void trialsThatAreNotStale_data();
    void trialsThatAreNotStale();
    void writerBeatsForOwnTrials();
};

void TestStaleTrials::silentTrialIsFailedAndRetried() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("shared", "{}").value();
    const auto asked = store->createTrial(study, assignment({{"x", "0.5"}, {"shape", "\"bowl\""}}),
                                          TrialState::Running, RunStore::TrialOwner::Outside);
    QVERIFY2(asked.ok(), asked.error().c_str());
    store->reportIntermediate(asked.value().id, 1, 0.9);
    store->reportIntermediate(asked.value().id, 2, 0.7);
    store->flush();
    sleepSeconds(1.2);

    QCOMPARE(store->failStaleTrials(study, 60.0, 2, 1.0), 1);
    const auto trials = store->trials(study, true);
    QCOMPARE(trials.size(), size_t(2));
    const TrialRecord& failed = trials[0];
    QCOMPARE(name(failed.state), QStringLiteral("failed"));
    QVERIFY2(failed.message.rfind("stale: its evaluator (handed out by ask) has not beaten for", 0) == 0,
             failed.message.c_str());
    QCOMPARE(failed.intermediate.size(), size_t(2)); // the failed attempt keeps what it reported
    QCOMPARE(failed.intermediate.at(2), 0.7);
    QVERIFY(failed.finishedAt > 0.0);
    const TrialRecord& retry = trials[1];
    QCOMPARE(retry.number, int64_t(1));
    QCOMPARE(name(retry.state), QStringLiteral("waiting"));
    QCOMPARE(retry.retryOf, int64_t(0));
    QCOMPARE(retry.requeues, 1);
    QVERIFY(retry.params == failed.params);
    QVERIFY(retry.intermediate.empty());
    QCOMPARE(retry.message, std::string("retry of trial 0, whose worker fell silent"));
    // Nothing is stale twice.
    QCOMPARE(store->failStaleTrials(study, 60.0, 2, 1.0), 0);

    // The silent evaluator comes back (its network was cut) and tells its result: the trial keeps its
    // end, and the retry is the one that counts.
    const auto late = store->finishTrial(asked.value().id, TrialState::Complete, 0.6, "");
    QVERIFY(!late.ok());
    QVERIFY2(late.error().find("trial 0 already ended as failed (stale: ") != std::string::npos &&
                 late.error().find("so this complete result is not counted") != std::string::npos,
             late.error().c_str());
    QCOMPARE(name(store->trials(study)[0].state), QStringLiteral("failed"));
    // A final state told twice (a commit whose reply was lost, then retried) is no mistake.
    QVERIFY(store->finishTrial(retry.id, TrialState::Complete, 0.5, "").ok());
    QVERIFY(store->finishTrial(retry.id, TrialState::Complete, 0.5, "").ok());
    QVERIFY(!store->finishTrial(retry.id, TrialState::Complete, 0.4, "").ok());
}

void TestStaleTrials::retriesStopAtTheLimit() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("shared", "{}").value();
    QVERIFY(askTrial(*store, study));
    sleepSeconds(1.2);
    QCOMPARE(store->failStaleTrials(study, 60.0, 1, 1.0), 1); // retried once: trial 1
    const auto claimed = store->claimWaitingTrial(study, RunStore::TrialOwner::Outside);
    QVERIFY(claimed);
    QCOMPARE(claimed->number, int64_t(1));
    sleepSeconds(1.2);
    QCOMPARE(store->failStaleTrials(study, 60.0, 1, 1.0), 1); // the limit: no trial 2
    const auto trials = store->trials(study);
    QCOMPARE(trials.size(), size_t(2));
    QCOMPARE(name(trials[1].state), QStringLiteral("failed"));
    QVERIFY2(trials[1].message.find("not retried: it has been retried 1 times") != std::string::npos,
             trials[1].message.c_str());
}

void TestStaleTrials::beatingKeepsATrialAlive() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("shared", "{}").value();
    const auto asked = store->createTrial(study, assignment({{"x", "1"}}), TrialState::Running,
                                          RunStore::TrialOwner::Outside);
    QVERIFY(asked.ok());
    for (int beat = 0; beat < 3; ++beat) {
        sleepSeconds(0.5);
        const auto beaten = store->beatTrial(study, 0);
        QVERIFY2(beaten.ok(), beaten.error().c_str());
        QCOMPARE(store->failStaleTrials(study, 60.0, 2, 1.0), 0);
    }
    QVERIFY(store->trial(study, 0)->heartbeatAt > asked.value().startedAt);
    QVERIFY(store->finishTrial(asked.value().id, TrialState::Complete, 0.5, "").ok());
    const auto late = store->beatTrial(study, 0);
    QVERIFY(!late.ok());
    QVERIFY2(late.error().find("trial 0 is not running") != std::string::npos, late.error().c_str());
    QVERIFY(!store->beatTrial(study, 7).ok());
}

void TestStaleTrials::trialsThatAreNotStale_data() {
    QTest::addColumn<bool>("owned");
    QTest::addColumn<double>("askGrace");
    // The workers' grace is short, but trials handed out by ask wait for their evaluator (0: forever).
    QTest::newRow("handed out by ask, no grace of its own") << false << 0.0;
    QTest::newRow("handed out by ask, a longer grace") << false << 30.0;
    // This process is alive whatever its beats say.
    QTest::newRow("this process's own") << true << 1.0;
}

void TestStaleTrials::trialsThatAreNotStale() {
    QFETCH(bool, owned);
    QFETCH(double, askGrace);
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("shared", "{}").value();
    QVERIFY(owned ? store->createTrial(study, assignment({{"x", "1"}})).ok() : askTrial(*store, study));
    QCOMPARE(store->trial(study, 0)->ownedByProcess, owned);
    sleepSeconds(1.2);
    QCOMPARE(store->failStaleTrials(study, 1.0, 2, askGrace), 0);
    QCOMPARE(name(store->trial(study, 0)->state), QStringLiteral("running"));
}

void TestStaleTrials::writerBeatsForOwnTrials() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    store->setHeartbeatInterval(0.2);
    store->setHeartbeatInterval(3.0); // only ever shortens
    QCOMPARE(store->heartbeatInterval(), 0.2);
    const StudyId study = store->createStudy("shared", "{}").value();
    const auto owned = store->createTrial(study, assignment({{"x", "1"}}));
    QVERIFY(owned.ok());
    const RunId run = store->createRun("trial 0", "{}").value();
    const double first = store->trial(study, 0)->heartbeatAt;
    QVERIFY(first > 0.0);
    QTRY_VERIFY_WITH_TIMEOUT(store->trial(study, 0)->heartbeatAt > first + 0.1, 5000);
    // Another process reading the store sees the beats too.
    auto reader = RunStore::openForReading(location.toStdString());
    QVERIFY(reader.ok());
    QVERIFY(reader.value()->trial(study, 0)->heartbeatAt > first);
    QVERIFY(store->finishTrial(owned.value().id, TrialState::Complete, 1.0, "").ok());
    const double finished = store->trial(study, 0)->heartbeatAt;
    sleepSeconds(0.6);
    QCOMPARE(store->trial(study, 0)->heartbeatAt, finished); // a finished trial is not beaten for
    QVERIFY(store->run(run));
}

QTEST_GUILESS_MAIN(TestStaleTrials)
#include "tst_stale_trials.moc"
