// The run store's studies and trials across threads and processes: numbering that stays unique,
// waiting trials that go to one process each, trials owned by a process that died go back to
// waiting, and trials handed out to an outside evaluator stay running.

#include "study_store_test_support.h"
#include "thread_sanitizer_test_support.h"

#include <algorithm>
#include <atomic>

#include <csignal>
#include <sys/wait.h>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// A child process that runs `work` on a store of its own and exits with its result. The parent
// holds no open store when it forks, so the child starts with no other threads to worry about.
pid_t forkChild(const std::function<int()>& work) {
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t child = fork();
    if (child == 0)
        _exit(work());
    return child;
}

int exitCodeOf(pid_t child) {
    int status = 0;
    if (waitpid(child, &status, 0) != child)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

class TestStudyStoreProcesses : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void createTrialFromThreads();
    void createTrialFromProcesses();
    void addAndClaimFromProcesses();
    void requeueOwners_data();
    void requeueOwners();
    void requeueAfterKill();
    void outsideTrialsOutliveTheProcessThatHandedThemOut();
    void numberedTrialsNeverTakeAnotherSuggestionsNumber();
};

void TestStudyStoreProcesses::createTrialFromThreads() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("threads", "{}").value();
    constexpr int kThreads = 4;
    constexpr int kPerThread = 25;
    std::atomic<int> failures{0};
    std::vector<std::vector<int64_t>> handedOut(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const auto trial = store->createTrial(study, assignment({{"thread", std::to_string(t)}}));
                if (trial.ok())
                    handedOut[size_t(t)].push_back(trial.value().number);
                else
                    ++failures;
            }
        });
    }
    for (auto& thread : threads)
        thread.join();
    QCOMPARE(failures.load(), 0);
    std::vector<int64_t> all;
    for (const auto& mine : handedOut) {
        QVERIFY(std::is_sorted(mine.begin(), mine.end())); // each thread sees its numbers rise
        all.insert(all.end(), mine.begin(), mine.end());
    }
    std::sort(all.begin(), all.end());
    QCOMPARE(all, range(kThreads * kPerThread)); // unique and consecutive
    QCOMPARE(numbers(store->trials(study)), range(kThreads * kPerThread));
}

void TestStudyStoreProcesses::createTrialFromProcesses() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    StudyId study = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        study = store->createStudy("processes", "{}").value();
    }
    constexpr int kPerProcess = 40;
    int startGate[2];
    QCOMPARE(pipe(startGate), 0);
    std::vector<pid_t> children;
    for (int process = 0; process < 2; ++process) {
        children.push_back(forkChild([&] {
            close(startGate[1]);
            auto store = RunStore::open(location.toStdString());
            if (!store)
                return 10;
            char go = 0;
            if (read(startGate[0], &go, 1) != 0) // returns 0 once the parent closes its end
                return 11;
            for (int i = 0; i < kPerProcess; ++i) {
                if (!store.value()->createTrial(study, {}).ok())
                    return 12;
            }
            return 0;
        }));
    }
    close(startGate[0]);
    close(startGate[1]); // both children start at once
    for (pid_t child : children) {
        QVERIFY(child > 0);
        QCOMPARE(exitCodeOf(child), 0);
    }
    auto store = openStore(location);
    QVERIFY(store);
    QCOMPARE(numbers(store->trials(study)), range(2 * kPerProcess));
    RawDb raw(location);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(DISTINCT owner_pid) FROM trials")), 2);
}

void TestStudyStoreProcesses::addAndClaimFromProcesses() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    constexpr int kWaiting = 60;
    constexpr int kProcesses = 3;
    constexpr int kAddedPerProcess = 20;
    StudyId study = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        study = store->createStudy("claims", "{}").value();
        for (int i = 0; i < kWaiting; ++i)
            QVERIFY(store->createTrial(study, {}, TrialState::Waiting).ok());
    }
    int startGate[2];
    int handedOut[2]; // (0 added | 1 claimed, trial number) pairs from every child
    QCOMPARE(pipe(startGate), 0);
    QCOMPARE(pipe(handedOut), 0);
    std::vector<pid_t> children;
    for (int process = 0; process < kProcesses; ++process) {
        children.push_back(forkChild([&] {
            close(startGate[1]);
            close(handedOut[0]);
            auto opened = RunStore::open(location.toStdString());
            if (!opened)
                return 10;
            auto store = opened.take();
            char go = 0;
            if (read(startGate[0], &go, 1) != 0) // returns 0 once the parent closes its end
                return 11;
            // Adds a trial and claims a waiting one in turn, until it added its share and the queue is empty.
            int added = 0;
            bool queueEmpty = false;
            while (added < kAddedPerProcess || !queueEmpty) {
                if (added < kAddedPerProcess) {
                    const auto trial = store->createTrial(study, {});
                    if (!trial.ok())
                        return 12;
                    const int64_t record[2] = {0, trial.value().number};
                    if (write(handedOut[1], record, sizeof record) != ssize_t(sizeof record))
                        return 13;
                    ++added;
                }
                if (!queueEmpty) {
                    const auto claimed = store->claimWaitingTrial(study);
                    queueEmpty = !claimed;
                    const int64_t record[2] = {1, claimed ? claimed->number : 0};
                    if (claimed && write(handedOut[1], record, sizeof record) != ssize_t(sizeof record))
                        return 14;
                }
            }
            return 0;
        }));
    }
    close(startGate[0]);
    close(startGate[1]); // every child starts at once
    close(handedOut[1]);
    std::vector<int64_t> added, claimed;
    int64_t record[2];
    while (read(handedOut[0], record, sizeof record) == ssize_t(sizeof record))
        (record[0] ? claimed : added).push_back(record[1]);
    close(handedOut[0]);
    for (pid_t child : children) {
        QVERIFY(child > 0);
        QCOMPARE(exitCodeOf(child), 0);
    }
    // Every waiting trial went to exactly one process, and the added ones took the numbers after them.
    std::sort(claimed.begin(), claimed.end());
    QCOMPARE(claimed, range(kWaiting));
    std::sort(added.begin(), added.end());
    std::vector<int64_t> expectedAdded;
    for (int64_t number = kWaiting; number < kWaiting + kProcesses * kAddedPerProcess; ++number)
        expectedAdded.push_back(number);
    QCOMPARE(added, expectedAdded);
    auto store = openStore(location);
    QVERIFY(store);
    const auto trials = store->trials(study);
    QCOMPARE(numbers(trials), range(kWaiting + kProcesses * kAddedPerProcess));
    QVERIFY(std::all_of(trials.begin(), trials.end(),
                        [](const TrialRecord& trial) { return trial.state == TrialState::Running; }));
}

void TestStudyStoreProcesses::requeueOwners_data() {
    QTest::addColumn<QString>("owner"); // dead, self, alive, reused (alive, but not the process that started)
    QTest::addColumn<QString>("host");  // here, elsewhere
    QTest::addColumn<QString>("state");
    QTest::addColumn<int>("requeued");
    QTest::newRow("owner gone") << "dead"
                                << "here"
                                << "running" << 1;
    QTest::newRow("this process") << "self"
                                  << "here"
                                  << "running" << 0;
    QTest::newRow("owner alive") << "alive"
                                 << "here"
                                 << "running" << 0;
    QTest::newRow("pid given to another process") << "reused"
                                                  << "here"
                                                  << "running" << 1;
    QTest::newRow("another host") << "dead"
                                  << "elsewhere"
                                  << "running" << 0;
    QTest::newRow("finished, owner gone") << "dead"
                                          << "here"
                                          << "complete" << 0;
}

void TestStudyStoreProcesses::requeueOwners() {
    TUNELAB_SKIP_QPROCESS_UNDER_THREAD_SANITIZER();
    QFETCH(QString, owner);
    QFETCH(QString, host);
    QFETCH(QString, state);
    QFETCH(int, requeued);
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("owners", "{}").value();
    const auto trial = store->createTrial(study, {}).value();
    store->reportIntermediate(trial.id, 1, 0.5);
    QVERIFY(store->finishTrial(trial.id, TrialState::Complete, 0.5, "").ok());

    QProcess alive;
    alive.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("sleep 30")});
    QVERIFY(alive.waitForStarted());
    const qint64 pid = owner == "dead" ? deadPid() : owner == "self" ? qint64(getpid()) : alive.processId();
    QVERIFY(pid > 0);
    {
        RawDb raw(location);
        // The owner's start time: unknown (as in rows from before schema 4), except that a reused
        // pid's row remembers a start that the process now holding the pid does not have.
        QVERIFY(raw.exec(QStringLiteral("UPDATE trials SET state = '%1', owner_pid = %2, owner_host = '%3',"
                                        " owner_started = %4")
                             .arg(state)
                             .arg(pid)
                             .arg(host == "here" ? hostName() : QStringLiteral("elsewhere.example"))
                             .arg(owner == "reused" ? QStringLiteral("1") : QStringLiteral("NULL"))));
    }
    QCOMPARE(store->requeueInterruptedTrials(study), requeued);
    const auto read = store->trial(study, 0);
    QCOMPARE(name(read->state), requeued ? QStringLiteral("waiting") : state);
    QCOMPARE(read->requeues, requeued);
    QCOMPARE(read->intermediate.size(), size_t(requeued ? 0 : 1));
    if (requeued)
        QVERIFY(QString::fromStdString(read->message).contains(QStringLiteral("(pid %1 on").arg(pid)));
    alive.kill();
    alive.waitForFinished();
}

void TestStudyStoreProcesses::outsideTrialsOutliveTheProcessThatHandedThemOut() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    StudyId study = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        study = store->createStudy("asked", "{}").value();
        QVERIFY(store->createTrial(study, assignment({{"lr", "0.01"}}), TrialState::Waiting).ok()); // 0
    }
    // Like `tunelab-cli ask`, a short-lived process hands out a waiting trial and a new one, then
    // exits; a third trial it evaluates itself dies with it.
    const pid_t child = forkChild([&] {
        auto opened = RunStore::open(location.toStdString());
        if (!opened)
            return 10;
        auto store = opened.take();
        if (!store->claimWaitingTrial(study, RunStore::TrialOwner::Outside))
            return 11;
        if (!store->createTrial(study, assignment({{"lr", "0.1"}}), TrialState::Running,
                                RunStore::TrialOwner::Outside))
            return 12;
        if (!store->createTrial(study, assignment({{"lr", "0.2"}}), TrialState::Running))
            return 13;
        return 0;
    });
    QVERIFY(child > 0);
    QCOMPARE(exitCodeOf(child), 0);

    auto store = openStore(location);
    QVERIFY(store);
    QCOMPARE(store->requeueInterruptedTrials(study), 1);
    QCOMPARE(name(store->trial(study, 0)->state), QStringLiteral("running"));
    QCOMPARE(name(store->trial(study, 1)->state), QStringLiteral("running"));
    QCOMPARE(name(store->trial(study, 2)->state), QStringLiteral("waiting"));
    // The outside evaluator's answer still lands.
    QVERIFY(store->finishTrial(store->trial(study, 1)->id, TrialState::Complete, 0.25, "").ok());
    QCOMPARE(store->trial(study, 1)->value, 0.25);
}

void TestStudyStoreProcesses::numberedTrialsNeverTakeAnotherSuggestionsNumber() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const StudyId study = store->createStudy("numbered", "{}").value();
    const auto first = store->createTrialNumbered(study, 0, assignment({{"lr", "0.1"}}));
    QVERIFY2(first.ok(), first.error().c_str());
    QVERIFY(first.value());
    QCOMPARE(first.value()->number, int64_t(0));
    // Number 0 is taken (another process suggested for it first): nothing is added.
    const auto late = store->createTrialNumbered(study, 0, assignment({{"lr", "0.2"}}));
    QVERIFY(late.ok());
    QVERIFY(!late.value());
    QCOMPARE(store->trialCount(study), int64_t(1));
    const auto next = store->createTrialNumbered(study, 1, assignment({{"lr", "0.2"}}));
    QVERIFY(next.ok() && next.value());
    QCOMPARE(next.value()->number, int64_t(1));
    QVERIFY(!store->createTrialNumbered(study + 100, 0, {}).ok()); // no such study
}

void TestStudyStoreProcesses::requeueAfterKill() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    StudyId study = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        study = store->createStudy("killed", "{}").value();
        QVERIFY(store->createTrial(study, assignment({{"lr", "0.01"}})).ok()); // 0: finished below
        QVERIFY(store->finishTrial(store->trial(study, 0)->id, TrialState::Complete, 0.3, "").ok());
    }
    int ready[2];
    QCOMPARE(pipe(ready), 0);
    const pid_t child = forkChild([&] {
        close(ready[0]);
        auto opened = RunStore::open(location.toStdString());
        if (!opened)
            return 10;
        auto store = opened.take();
        const auto trial = store->createTrial(study, assignment({{"lr", "0.1"}}), TrialState::Running);
        if (!trial)
            return 11;
        for (int epoch = 1; epoch <= 4; ++epoch)
            store->reportIntermediate(trial.value().id, epoch, 1.0 / epoch);
        store->flush();
        const char line = 'r';
        if (write(ready[1], &line, 1) != 1)
            return 12;
        for (;;)
            pause(); // until killed
    });
    QVERIFY(child > 0);
    close(ready[1]);
    char line = 0;
    QCOMPARE(read(ready[0], &line, 1), ssize_t(1));
    close(ready[0]);
    QCOMPARE(kill(child, SIGKILL), 0);
    QCOMPARE(exitCodeOf(child), 128 + SIGKILL);

    auto store = openStore(location);
    QVERIFY(store);
    const auto mine = store->createTrial(study, {}, TrialState::Running).value(); // 2: this process's
    QCOMPARE(store->trial(study, 1)->intermediate.size(), size_t(4));
    QCOMPARE(store->requeueInterruptedTrials(study), 1);
    const auto trials = store->trials(study, true);
    QCOMPARE(trials.size(), size_t(3));
    QCOMPARE(name(trials[0].state), "complete");
    QCOMPARE(name(trials[1].state), "waiting");
    QCOMPARE(trials[1].requeues, 1);
    QCOMPARE(QString::fromStdString(trials[1].message),
             QStringLiteral("re-queued: the process that ran it (pid %1 on %2) ended before it finished")
                 .arg(child)
                 .arg(hostName()));
    QVERIFY(trials[1].intermediate.empty());
    QCOMPARE(trials[1].params, assignment({{"lr", "0.1"}}));
    QCOMPARE(name(trials[2].state), "running");
    QCOMPARE(store->requeueInterruptedTrials(study), 0);
    // The re-queued trial is the next one handed out, and counts its requeue from then on.
    const auto claimed = store->claimWaitingTrial(study);
    QVERIFY(claimed);
    QCOMPARE(claimed->number, 1);
    QCOMPARE(claimed->requeues, 1);
    QCOMPARE(mine.number, 2);
}

QTEST_GUILESS_MAIN(TestStudyStoreProcesses)
#include "tst_study_store_processes.moc"
