// The run store after a crash: runs left behind by dead processes read as interrupted, a writer
// killed with SIGKILL at any moment leaves every finished run and flushed step intact, and a trial
// left running by a killed process goes back to the queue.

#include "run_store_test_support.h"

using namespace tunelab;
using namespace tunelab::test;

class TestRunStoreRecovery : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void interruptedAtOpen_data();
    void interruptedAtOpen();
    void interruptedWhileOpen();
    void crash_data();
    void crash();
    void trialOfKilledProcessIsRequeued();
};

void TestRunStoreRecovery::interruptedAtOpen_data() {
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("owner"); // dead, self, alive, none
    QTest::addColumn<QString>("host");  // here, elsewhere
    QTest::addColumn<RunStatus>("expected");
    QTest::newRow("running, owner gone") << "running"
                                         << "dead"
                                         << "here" << RunStatus::Interrupted;
    QTest::newRow("queued, owner gone") << "queued"
                                        << "dead"
                                        << "here" << RunStatus::Interrupted;
    QTest::newRow("completed, owner gone") << "completed"
                                           << "dead"
                                           << "here" << RunStatus::Completed;
    QTest::newRow("failed, owner gone") << "failed"
                                        << "dead"
                                        << "here" << RunStatus::Failed;
    QTest::newRow("running in this process") << "running"
                                             << "self"
                                             << "here" << RunStatus::Running;
    QTest::newRow("running, owner alive") << "running"
                                          << "alive"
                                          << "here" << RunStatus::Running;
    QTest::newRow("running on another host") << "running"
                                             << "dead"
                                             << "elsewhere" << RunStatus::Running;
    QTest::newRow("running, no owner recorded") << "running"
                                                << "none"
                                                << "here" << RunStatus::Running;
}

void TestRunStoreRecovery::interruptedAtOpen() {
    QFETCH(QString, status);
    QFETCH(QString, owner);
    QFETCH(QString, host);
    QFETCH(RunStatus, expected);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    QVERIFY(openStore(path));

    QProcess alive; // a process that outlives the check
    qint64 pid = 0;
    if (owner == "dead") {
        pid = deadPid();
    } else if (owner == "self") {
        pid = getpid();
    } else if (owner == "alive") {
        alive.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("sleep 30")});
        QVERIFY(alive.waitForStarted());
        pid = alive.processId();
    }
    QVERIFY(owner == "none" || pid > 0);
    const QString ownerHost = host == "here" ? hostName() : QStringLiteral("some-other-host");
    {
        RawDb raw(path);
        QVERIFY(raw.exec(
            QStringLiteral("INSERT INTO runs(name, status, owner_pid, owner_host)"
                           " VALUES('left over', '%1', %2, '%3')")
                .arg(status, owner == "none" ? QStringLiteral("NULL") : QString::number(pid), ownerHost)));
    }
    auto store = openStore(path);
    QVERIFY(store);
    const auto runs = store->listRuns();
    if (alive.state() != QProcess::NotRunning) {
        alive.kill();
        alive.waitForFinished();
    }
    QCOMPARE(runs.size(), size_t(1));
    QCOMPARE(name(runs[0].status), name(expected));
    QCOMPARE(name(runs[0].summary.status), name(expected));
    // open() persisted it, so other readers of the file agree.
    RawDb raw(path);
    QCOMPARE(raw.text(QStringLiteral("SELECT status FROM runs")), name(expected));
    if (expected == RunStatus::Interrupted)
        QVERIFY(QString::fromStdString(runs[0].error).contains(QString::number(pid)));
}

void TestRunStoreRecovery::interruptedWhileOpen() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    const qint64 pid = deadPid();
    QVERIFY(pid > 0);
    {
        RawDb raw(path);
        QVERIFY(raw.exec(QStringLiteral("INSERT INTO runs(name, status, owner_pid, owner_host)"
                                        " VALUES('other process', 'running', %1, '%2')")
                             .arg(pid)
                             .arg(hostName())));
    }
    // The owner died while this store was open: reads say so before the next open persists it.
    const auto runs = store->listRuns();
    QCOMPARE(runs.size(), size_t(1));
    QCOMPARE(name(runs[0].status), "interrupted");
    QCOMPARE(statusOf(*store, runs[0].id), "interrupted");
    RawDb raw(path);
    QCOMPARE(raw.text(QStringLiteral("SELECT status FROM runs")), "running");
}

void TestRunStoreRecovery::crash_data() {
    QTest::addColumn<QString>("killAfter"); // the kind of line ...
    QTest::addColumn<int>("count");         // ... and how many of them to see before the kill
    QTest::addColumn<int>("sleepMicros");   // the writer's pause between step batches
    QTest::addColumn<int>("delayMicros");   // extra delay between the line and the kill
    QTest::newRow("first run created") << "started" << 1 << 0 << 0;
    QTest::newRow("first steps") << "steps" << 1 << 0 << 0;
    QTest::newRow("mid first run, slow writer") << "steps" << 4 << 300 << 700;
    QTest::newRow("after one run") << "finished" << 1 << 0 << 0;
    QTest::newRow("after one run, a little later") << "finished" << 1 << 0 << 1500;
    QTest::newRow("after two runs, slow writer") << "finished" << 2 << 500 << 2000;
    QTest::newRow("mid fourth run") << "steps" << 20 << 0 << 300;
    QTest::newRow("after five runs") << "finished" << 5 << 0 << 100;
    QTest::newRow("after three runs, slow writer") << "finished" << 3 << 200 << 5000;
}

void TestRunStoreRecovery::crash() {
    QFETCH(QString, killAfter);
    QFETCH(int, count);
    QFETCH(int, sleepMicros);
    QFETCH(int, delayMicros);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));

    QProcess writer;
    writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    writer.start(QStringLiteral(STORE_CRASH_WRITER),
                 {path, QStringLiteral("100000"), QString::number(sleepMicros)});
    QVERIFY2(writer.waitForStarted(), qPrintable(writer.errorString()));

    QSet<RunId> started, finished;
    QMap<RunId, int64_t> flushedSteps;
    int seen = 0;
    const auto take = [&](const QByteArray& line) {
        const QList<QByteArray> words = line.trimmed().split(' ');
        if (words.size() < 2)
            return;
        const RunId id = words[1].toLongLong();
        if (words[0] == "started")
            started.insert(id);
        else if (words[0] == "finished")
            finished.insert(id);
        else if (words[0] == "steps" && words.size() == 3)
            flushedSteps[id] = std::max<int64_t>(flushedSteps.value(id), words[2].toLongLong());
        if (words[0] == killAfter.toUtf8())
            ++seen;
    };
    while (seen < count) {
        if (!writer.canReadLine()) {
            QVERIFY2(writer.waitForReadyRead(120000), "the writer stopped talking");
            continue;
        }
        take(writer.readLine());
    }
    if (delayMicros > 0)
        QThread::usleep(delayMicros);
    writer.kill(); // SIGKILL: no destructor, no flush, possibly mid-transaction
    QVERIFY(writer.waitForFinished(120000));
    QCOMPARE(writer.exitStatus(), QProcess::CrashExit);
    // Lines already in the pipe were printed after their flush, so they are promises too.
    for (const QByteArray& line : writer.readAllStandardOutput().split('\n'))
        take(line);

    {
        RawDb raw(path);
        QCOMPARE(raw.text(QStringLiteral("PRAGMA integrity_check")), "ok");
    }
    auto store = openStore(path);
    QVERIFY(store);
    const auto runs = store->listRuns();
    QSet<RunId> stored;
    int interrupted = 0;
    for (const RunRecord& run : runs) {
        stored.insert(run.id);
        const auto steps = store->steps(run.id);
        // A run finished but not yet reported (killed between flush and print) is complete too.
        if (finished.contains(run.id) || run.status == RunStatus::Completed) {
            QCOMPARE(name(run.status), "completed");
            QCOMPARE(run.summary.steps, int64_t(kCrashStepsPerRun));
            QCOMPARE(steps.size(), size_t(kCrashStepsPerRun));
            QCOMPARE(store->epochs(run.id).size(), size_t(kCrashEpochs));
            const auto model = store->model(run.id);
            QCOMPARE(model.size(), size_t(kCrashModelBytes));
            QCOMPARE(model[1000], static_cast<char>((run.id * 31 + 1000) & 0xff));
        } else {
            QCOMPARE(name(run.status), "interrupted");
            QVERIFY(!run.hasModel);
            ++interrupted;
        }
        for (size_t i = 0; i < steps.size(); ++i)
            QCOMPARE(steps[i].step, int64_t(i + 1)); // batches land whole or not at all
    }
    QVERIFY(interrupted <= 1); // the writer has one run in flight at a time
    for (RunId id : started)
        QVERIFY2(stored.contains(id), qPrintable(QStringLiteral("run %1 was reported created").arg(id)));
    for (auto it = flushedSteps.cbegin(); it != flushedSteps.cend(); ++it)
        QVERIFY2(int64_t(store->steps(it.key()).size()) >= it.value(),
                 qPrintable(QStringLiteral("run %1 lost flushed steps").arg(it.key())));
    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM runs WHERE status IN ('queued', 'running')")),
             0);
    qInfo("killed after %lld finished runs; %d interrupted; %lld runs stored", qint64(finished.size()),
          interrupted, qint64(runs.size()));
}

void TestRunStoreRecovery::trialOfKilledProcessIsRequeued() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    QProcess writer;
    writer.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    writer.start(QStringLiteral(STORE_CRASH_WRITER), {path, QStringLiteral("trial")});
    QVERIFY2(writer.waitForStarted(), qPrintable(writer.errorString()));
    QByteArray line;
    while (!line.endsWith('\n') && writer.waitForReadyRead(120000))
        line += writer.readAll();
    const QList<QByteArray> words = line.trimmed().split(' ');
    QCOMPARE(words.size(), 3);
    QCOMPARE(words[0], QByteArray("ready"));
    const StudyId studyId = words[1].toLongLong();
    const int64_t trialId = words[2].toLongLong();
    const qint64 writerPid = writer.processId();
    writer.kill(); // SIGKILL
    QVERIFY(writer.waitForFinished());

    auto store = openStore(path);
    QVERIFY(store);
    auto before = store->trials(studyId, true);
    QCOMPARE(before.size(), size_t(1));
    QCOMPARE(before[0].id, trialId);
    QCOMPARE(name(before[0].state), "running");
    QCOMPARE(int(before[0].intermediate.size()), kCrashTrialEpochs);

    QCOMPARE(store->requeueInterruptedTrials(studyId), 1);
    const auto after = store->trial(studyId, 0);
    QVERIFY(after);
    QCOMPARE(name(after->state), "waiting");
    QCOMPARE(after->requeues, 1);
    QCOMPARE(QString::fromStdString(after->message),
             QStringLiteral("re-queued: the process that ran it (pid %1 on %2) ended before it finished")
                 .arg(writerPid)
                 .arg(hostName()));
    QVERIFY(after->intermediate.empty()); // the rerun reports its own values
    QCOMPARE(after->params, (Assignment{{"lr", ParamValue{"0.1"}}}));
    QCOMPARE(store->requeueInterruptedTrials(studyId), 0);
    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM trial_values")), 0);
    QCOMPARE(raw.text(QStringLiteral("SELECT state FROM trials WHERE id = %1").arg(trialId)), "waiting");
}

QTEST_GUILESS_MAIN(TestRunStoreRecovery)
#include "tst_run_store_recovery.moc"
