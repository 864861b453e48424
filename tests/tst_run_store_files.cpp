// The run store's file: migrations of old files, refusing newer or foreign files, opening for
// reading, several producers at once, a file locked by another process, reused pids, and a disk
// that fills up.

#include "file_size_limit_test_support.h"
#include "run_store_test_support.h"
#include "thread_sanitizer_test_support.h"

#include <algorithm>
#include <atomic>

using namespace tunelab;
using namespace tunelab::test;

class TestRunStoreFiles : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void migrateEmptyFile_data();
    void migrateEmptyFile();
    void refuseNewerVersion_data();
    void refuseNewerVersion();
    void refuseForeignFile_data();
    void refuseForeignFile();
    void refuseEmptyPath();
    void sqliteUrlNamesTheFile();
    void concurrentProducers();
    void lockedFileHoldsProducersBackAndLosesNothing();
    void openForReadingChangesNothing();
    void reusedPidDoesNotKeepARunAlive();
    void lostWritesAreRecordedAndAnnounced();
};

void TestRunStoreFiles::migrateEmptyFile_data() {
    QTest::addColumn<bool>("createFile");
    QTest::newRow("empty file") << true;
    QTest::newRow("no file yet") << false;
}

void TestRunStoreFiles::migrateEmptyFile() {
    QFETCH(bool, createFile);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    if (createFile) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
    }
    if (createFile) { // an empty file is someone's mistake, not a store to create (tst_store_damage)
        QVERIFY(!RunStore::open(path.toStdString()).ok());
        QCOMPARE(QFileInfo(path).size(), qint64(0));
        return;
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), RunStore::kSchemaVersion);
    store.reset();
    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT value FROM schema_meta WHERE key = 'schema_version'")),
             qint64(RunStore::kSchemaVersion));
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                                       " ('runs', 'step_metrics', 'epoch_metrics', 'schema_meta', 'studies',"
                                       " 'trials', 'trial_params', 'trial_values', 'layer_health',"
                                       " 'weight_histograms', 'run_checkpoints', 'run_exports')")),
             12);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM pragma_table_info('runs')")), 29);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM pragma_table_info('trials') WHERE name IN"
                                       " ('heartbeat_at', 'retry_of')")),
             2);
}

void TestRunStoreFiles::refuseNewerVersion_data() {
    QTest::addColumn<int>("version");
    QTest::newRow("next") << RunStore::kSchemaVersion + 1;
    QTest::newRow("far ahead") << 12;
}

void TestRunStoreFiles::refuseNewerVersion() {
    QFETCH(int, version);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    QVERIFY(openStore(path));
    {
        RawDb raw(path);
        QVERIFY(raw.exec(
            QStringLiteral("UPDATE schema_meta SET value = %1 WHERE key = 'schema_version'").arg(version)));
    }
    auto opened = RunStore::open(path.toStdString());
    QVERIFY(!opened.ok());
    QCOMPARE(QString::fromStdString(opened.error()),
             QStringLiteral("%1: schema version %2 is newer than this TuneLab understands (%3)")
                 .arg(path)
                 .arg(version)
                 .arg(RunStore::kSchemaVersion));
    RawDb raw(path); // and left as it was
    QCOMPARE(raw.number(QStringLiteral("SELECT value FROM schema_meta")), version);
}

void TestRunStoreFiles::refuseForeignFile_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("sql"); // run on the file instead of writing content
    QTest::addColumn<QString>("reason");
    QByteArray garbage(8192, '\0');
    QRandomGenerator random(3);
    for (char& byte : garbage)
        byte = static_cast<char>(random.bounded(256));
    QTest::newRow("random bytes") << garbage << QString() << "file is not a database";
    QTest::newRow("short text") << QByteArray("hello\n") << QString() << "file is not a database";
    QTest::newRow("csv") << QByteArray("x,y\n1,2\n3,4\n").repeated(400) << QString()
                         << "file is not a database";
    QTest::newRow("someone else's database")
        << QByteArray() << "CREATE TABLE people(name TEXT); INSERT INTO people VALUES('ada');"
        << "it holds other tables";
}

void TestRunStoreFiles::refuseForeignFile() {
    QFETCH(QByteArray, content);
    QFETCH(QString, sql);
    QFETCH(QString, reason);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    if (sql.isEmpty()) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
    } else {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, sql.toUtf8().constData(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    }
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray original = file.readAll();
    file.close();

    auto opened = RunStore::open(path.toStdString());
    QVERIFY(!opened.ok());
    QCOMPARE(QString::fromStdString(opened.error()), path + " is not a TuneLab run store: " + reason);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), original); // the user's file is left alone
}

// sqlite:///PATH, as SQLAlchemy and Optuna write a store: three slashes, then the path.
void TestRunStoreFiles::sqliteUrlNamesTheFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("url.sqlite"));
    {
        auto store = RunStore::open("sqlite:///" + path.toStdString()); // an absolute path: four slashes
        QVERIFY2(store.ok(), store.ok() ? "" : store.error().c_str());
        QCOMPARE(QString::fromStdString(store.value()->path()), path);
        QVERIFY(store.value()->createRun("by url", "{}").ok());
    }
    QVERIFY(QFileInfo::exists(path));
    auto again = RunStore::openForReading(path.toStdString());
    QVERIFY(again.ok());
    QCOMPARE(again.value()->listRuns().size(), size_t(1));
    QVERIFY(!RunStore::open("sqlite:///").ok()); // no path: refused, never a private in-memory store
}

void TestRunStoreFiles::refuseEmptyPath() {
    const auto opened = RunStore::open(std::string());
    QVERIFY(!opened.ok());
    QVERIFY(!opened.error().empty());
}

void TestRunStoreFiles::concurrentProducers() {
    constexpr int kThreads = 8;
    constexpr int kStepsPerRun = 2000;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    std::vector<RunId> ids(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&store, &ids, t] {
            std::mt19937 random(1000 + t);
            const RunId id = store->createRun("producer " + std::to_string(t), "{}").value();
            ids[t] = id;
            store->onRunEvent(startedEvent(id, "cpu"));
            int64_t step = 1;
            int batches = 0;
            while (step <= kStepsPerRun) {
                // Batches end on epoch boundaries (every 500 steps), as the trainer's do.
                const int count = std::min<int>(int(random() % 50) + 1, int(500 - (step - 1) % 500));
                store->onRunEvent(stepsEvent(id, makeSteps(step, count, int32_t(step / 500) + 1)));
                step += count;
                if (++batches % 10 == 0)
                    store->flush(); // flushes from several threads at once
                if (step % 500 == 1)
                    store->onRunEvent(
                        epochEvent(id, {int32_t(step / 500), step - 1, 0.5, 0.5, 0.5, kNoValue, 0.01, 1.0}));
            }
            RunSummary summary;
            summary.status = RunStatus::Completed;
            summary.steps = kStepsPerRun;
            store->onRunEvent(finishedEvent(id, summary, nullptr));
        });
    }
    for (auto& thread : threads)
        thread.join();
    store->flush();
    QCOMPARE(QSet<RunId>(ids.begin(), ids.end()).size(), kThreads);
    for (RunId id : ids) {
        const auto steps = store->steps(id);
        QCOMPARE(steps.size(), size_t(kStepsPerRun));
        for (int i = 0; i < kStepsPerRun; ++i) {
            QCOMPARE(steps[i].step, int64_t(i + 1));
            QCOMPARE(steps[i].trainLoss, 1.0f / float(i + 1));
        }
        QCOMPARE(store->epochs(id).size(), size_t(kStepsPerRun / 500));
        QCOMPARE(statusOf(*store, id), "completed");
        QCOMPARE(store->run(id).value_or(RunRecord()).summary.steps, int64_t(kStepsPerRun));
    }
    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM step_metrics")), kThreads * kStepsPerRun);
}

void TestRunStoreFiles::lockedFileHoldsProducersBackAndLosesNothing() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    const RunId id = store->createRun("held back", "{}").value();
    store->onRunEvent(startedEvent(id, "cpu"));
    store->flush();

    // Another process holds the write lock past the busy timeout (5 s): the writer keeps its batch
    // and waits, and a training thread that gets thousands of writes ahead waits for room.
    auto holder = std::make_unique<RawDb>(path);
    QVERIFY(holder->exec(QStringLiteral("BEGIN EXCLUSIVE")));
    constexpr int kEvents = 12000; // the writer's stuck batch and a full queue are fewer
    std::atomic<bool> produced{false};
    std::thread producer([&] {
        for (int step = 1; step <= kEvents; ++step)
            store->onRunEvent(stepsEvent(id, makeSteps(step, 1, 1)));
        produced = true;
    });
    QTest::qWait(5500);
    const bool producedWhileLocked = produced.load();
    QVERIFY(holder->exec(QStringLiteral("COMMIT")));
    holder.reset();
    producer.join();
    QVERIFY(!producedWhileLocked);
    QVERIFY(produced.load());
    store->flush();
    QCOMPARE(store->steps(id).size(), size_t(kEvents));
}

void TestRunStoreFiles::openForReadingChangesNothing() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    // No file: an error, and still no file.
    const auto missing = RunStore::openForReading(path.toStdString());
    QVERIFY(!missing.ok());
    QVERIFY2(QString::fromStdString(missing.error()).contains(QStringLiteral("no run store here yet")),
             missing.error().c_str());
    QVERIFY(!QFile::exists(path));

    RunId id = 0;
    {
        auto store = openStore(path);
        QVERIFY(store);
        id = store->createRun("orphan", "{}").value();
        store->onRunEvent(startedEvent(id, "cpu"));
    }
    {
        RawDb raw(path);
        QVERIFY(
            raw.exec(QStringLiteral("UPDATE runs SET owner_pid = %1 WHERE id = %2").arg(deadPid()).arg(id)));
    }
    auto opened = RunStore::openForReading(path.toStdString());
    QVERIFY2(opened.ok(), opened.error().c_str());
    auto reader = opened.take();
    // The dead owner's run reads as interrupted, but the file is left saying running.
    QCOMPARE(reader->run(id)->status, RunStatus::Interrupted);
    QCOMPARE(RawDb(path).text(QStringLiteral("SELECT status FROM runs WHERE id = %1").arg(id)),
             QStringLiteral("running"));
    // Writes fail with a reason instead of waiting for a writer that is not there.
    const auto created = reader->createRun("not here", "{}");
    QVERIFY(!created.ok());
    QVERIFY2(created.error().find("reading only") != std::string::npos, created.error().c_str());
    reader->onRunEvent(stepsEvent(id, makeSteps(1, 3, 1)));
    reader->flush();
    QCOMPARE(reader->steps(id).size(), size_t(0));
    QCOMPARE(reader->listRuns().size(), size_t(1));
}

void TestRunStoreFiles::reusedPidDoesNotKeepARunAlive() {
    TUNELAB_SKIP_QPROCESS_UNDER_THREAD_SANITIZER();
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    RunId stillOwned = 0, reused = 0;
    {
        auto store = openStore(path);
        QVERIFY(store);
        stillOwned = store->createRun("owner alive", "{}").value();
        reused = store->createRun("pid reused", "{}").value();
        store->onRunEvent(startedEvent(stillOwned, "cpu"));
        store->onRunEvent(startedEvent(reused, "cpu"));
    }
    // Both rows name a living process; only one of them remembers that process's start.
    QProcess alive;
    alive.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("sleep 30")});
    QVERIFY(alive.waitForStarted());
    {
        RawDb raw(path);
        QVERIFY(raw.exec(QStringLiteral("UPDATE runs SET owner_pid = %1, owner_started = NULL WHERE id = %2")
                             .arg(alive.processId())
                             .arg(stillOwned)));
        QVERIFY(raw.exec(QStringLiteral("UPDATE runs SET owner_pid = %1, owner_started = 1 WHERE id = %2")
                             .arg(alive.processId())
                             .arg(reused)));
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->run(stillOwned)->status, RunStatus::Running);
    QCOMPARE(store->run(reused)->status, RunStatus::Interrupted);
    alive.kill();
    alive.waitForFinished();
}

// A disk that is full (here: a file-size limit of 0 bytes, so every write fails with EFBIG) loses
// the writes queued meanwhile; the store keeps a record of them per run and kind, calls its handler,
// and saves again once there is room.
void TestRunStoreFiles::lostWritesAreRecordedAndAnnounced() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    std::atomic<int> announced{0};
    store->setLostWriteHandler([&announced] { ++announced; });
    const RunId id = store->createRun("full disk", "{}").value();
    store->onRunEvent(startedEvent(id, "cpu"));
    store->flush();
    QVERIFY(store->lostWrites().empty());
    QCOMPARE(store->lostWritesReport(), std::string());
    {
        FileSizeLimit full(0);
        QVERIFY(full.isSet());
        EpochRecord epoch;
        epoch.epoch = 1;
        epoch.step = 10;
        store->onRunEvent(stepsEvent(id, makeSteps(1, 10, 1)));
        store->onRunEvent(epochEvent(id, epoch));
        RunSummary summary;
        summary.status = RunStatus::Completed;
        store->onRunEvent(finishedEvent(id, summary, nullptr));
        store->flush();
    }
    const std::vector<LostWrite> lost = store->lostWrites();
    QVERIFY(!lost.empty());
    QVERIFY(
        std::all_of(lost.begin(), lost.end(), [id](const LostWrite& write) { return write.runId == id; }));
    QVERIFY(lostFinalStatus(lost, id));
    QVERIFY(!lostFinalStatus(lost, id + 1));
    QVERIFY(announced > 0);
    const QString report = QString::fromStdString(store->lostWritesReport());
    QVERIFY2(report.startsWith("could not save everything to the run store " + path + ": disk I/O error"),
             qPrintable(report));
    QVERIFY2(report.contains(QStringLiteral("run %1: ").arg(id)), qPrintable(report));
    QVERIFY2(report.contains("final status and model"), qPrintable(report));
    QCOMPARE(store->run(id)->status, RunStatus::Running);

    // With room again, the store saves what comes next; the record of what was lost stays.
    store->setLostWriteHandler(nullptr);
    const RunId later = store->createRun("after the disk was freed", "{}").value();
    store->onRunEvent(startedEvent(later, "cpu"));
    store->flush();
    QCOMPARE(store->run(later)->status, RunStatus::Running);
    QCOMPARE(store->lostWrites().size(), lost.size());
}

QTEST_GUILESS_MAIN(TestRunStoreFiles)
#include "tst_run_store_files.moc"
