#include "run_store_test_support.h"

#include <QElapsedTimer>

using namespace tunelab;
using namespace tunelab::test;

class TestRunStore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void flushAsyncReturnsWhileTheFileIsLocked();
    void defaultPath_data();
    void defaultPath();
    void roundTrip_data();
    void roundTrip();
    void nanRoundTrip();
    void unknownRun();
    void listRunsOrder();
    void deleteRunRemovesItsMetrics();
    void flush_data();
    void flush();
    void destructorCommitsQueuedEvents();
    void reopen();
    void migrateEmptyFile_data();
    void migrateEmptyFile();
    void refuseNewerVersion_data();
    void refuseNewerVersion();
    void refuseForeignFile_data();
    void refuseForeignFile();
    void refuseEmptyPath();
    void concurrentProducers();
    void lockedFileHoldsProducersBackAndLosesNothing();
    void openForReadingChangesNothing();
    void reusedPidDoesNotKeepARunAlive();
};

void TestRunStore::defaultPath_data() {
    QTest::addColumn<QByteArray>("tunelabDb");
    QTest::addColumn<QByteArray>("xdgDataHome");
    QTest::addColumn<QByteArray>("home");
    QTest::addColumn<QString>("expected");
    QTest::newRow("TUNELAB_DB wins") << QByteArray("/tmp/x/my.sqlite") << QByteArray("/xdg")
                                     << QByteArray("/home/u") << "/tmp/x/my.sqlite";
    QTest::newRow("XDG_DATA_HOME") << QByteArray() << QByteArray("/xdg") << QByteArray("/home/u")
                                   << "/xdg/tunelab/runs.sqlite";
    QTest::newRow("HOME") << QByteArray() << QByteArray() << QByteArray("/home/u")
                          << "/home/u/.local/share/tunelab/runs.sqlite";
}

void TestRunStore::defaultPath() {
    QFETCH(QByteArray, tunelabDb);
    QFETCH(QByteArray, xdgDataHome);
    QFETCH(QByteArray, home);
    QFETCH(QString, expected);
    const QByteArray savedDb = qgetenv("TUNELAB_DB"), savedXdg = qgetenv("XDG_DATA_HOME"),
                     savedHome = qgetenv("HOME");
    const auto set = [](const char* name, const QByteArray& value) {
        if (value.isEmpty())
            qunsetenv(name);
        else
            qputenv(name, value);
    };
    set("TUNELAB_DB", tunelabDb);
    set("XDG_DATA_HOME", xdgDataHome);
    set("HOME", home);
    const QString actual = QString::fromStdString(RunStore::defaultPath());
    set("TUNELAB_DB", savedDb);
    set("XDG_DATA_HOME", savedXdg);
    set("HOME", savedHome);
    QCOMPARE(actual, expected);
}

void TestRunStore::roundTrip_data() {
    QTest::addColumn<RunStatus>("status");
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("modelBytes"); // -1: no model
    QTest::newRow("completed with model") << RunStatus::Completed << QString() << 300000;
    QTest::newRow("completed, empty model") << RunStatus::Completed << QString() << 0;
    QTest::newRow("stopped") << RunStatus::Stopped << "stopped by the user" << 1000;
    QTest::newRow("diverged") << RunStatus::Diverged << "loss became NaN at step 12" << -1;
    QTest::newRow("failed") << RunStatus::Failed << "model.layers[1]: expected 4 inputs, got 3" << -1;
}

void TestRunStore::roundTrip() {
    QFETCH(RunStatus, status);
    QFETCH(QString, message);
    QFETCH(int, modelBytes);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("nested/folders/runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(QString::fromStdString(store->path()), path);

    const double before = nowSeconds();
    const std::string spec = R"({"model": {"layers": [{"type": "linear", "out_features": 3}]}, "name": "ü"})";
    auto created = store->createRun("round trip", spec);
    QVERIFY2(created.ok(), created.error().c_str());
    const RunId id = created.value();
    QVERIFY(id > 0);
    {
        // createRun returns once the row is committed: queued, with this process as owner.
        RawDb raw(path);
        QCOMPARE(raw.text(QStringLiteral("SELECT status FROM runs WHERE id = %1").arg(id)), "queued");
        QCOMPARE(raw.number(QStringLiteral("SELECT owner_pid FROM runs WHERE id = %1").arg(id)),
                 qint64(getpid()));
        QCOMPARE(raw.text(QStringLiteral("SELECT owner_host FROM runs WHERE id = %1").arg(id)), hostName());
        QCOMPARE(statusOf(*store, id), "queued");
    }

    store->onRunEvent(startedEvent(id, "cuda:0"));
    std::vector<StepRecord> expectedSteps;
    // Three batches of different sizes; the last replaces step 40 (INSERT OR REPLACE).
    for (const auto& [first, count, epoch] :
         {std::tuple{1, 25, 1}, std::tuple{26, 15, 2}, std::tuple{41, 9, 2}}) {
        auto steps = makeSteps(first, count, epoch);
        expectedSteps.insert(expectedSteps.end(), steps.begin(), steps.end());
        store->onRunEvent(stepsEvent(id, steps));
    }
    expectedSteps[39].trainLoss = 42.0f;
    store->onRunEvent(stepsEvent(id, {expectedSteps[39]}));
    const std::vector<EpochRecord> expectedEpochs = {{1, 25, 0.9, 0.8, 0.5, kNoValue, 0.01, 1.5},
                                                     {2, 49, 0.7, 0.6, 0.75, kNoValue, 0.005, 1.25}};
    for (const auto& epoch : expectedEpochs)
        store->onRunEvent(epochEvent(id, epoch));
    RunSummary summary;
    summary.status = status;
    summary.epochs = 2;
    summary.steps = 49;
    summary.trainSeconds = 2.75;
    summary.stepsPerSecond = 17.8;
    summary.trainLoss = 0.7;
    summary.valLoss = 0.6;
    summary.valAccuracy = 0.75;
    summary.valMae = kNoValue;
    summary.bestEpoch = 2;
    summary.device = "cuda:0";
    summary.message = message.toStdString();
    std::shared_ptr<std::vector<char>> model;
    if (modelBytes >= 0) {
        model = std::make_shared<std::vector<char>>(modelBytes);
        QRandomGenerator random(7);
        for (char& byte : *model)
            byte = static_cast<char>(random.bounded(256)); // zeros included: it is a blob, not text
    }
    store->onRunEvent(finishedEvent(id, summary, model));
    store->flush();
    const double after = nowSeconds();

    const auto record = store->run(id);
    QVERIFY(record);
    QCOMPARE(record->id, id);
    QCOMPARE(record->name, std::string("round trip"));
    QCOMPARE(name(record->status), name(status));
    QCOMPARE(record->specJson, spec);
    QCOMPARE(record->device, std::string("cuda:0"));
    QVERIFY(record->createdAt >= before - 1.0 && record->createdAt <= after + 1.0);
    QVERIFY(record->startedAt >= record->createdAt);
    QVERIFY(record->finishedAt >= record->startedAt && record->finishedAt <= after + 1.0);
    QCOMPARE(record->error, message.toStdString());
    QCOMPARE(record->hasModel, modelBytes >= 0);
    const RunSummary& read = record->summary;
    QCOMPARE(name(read.status), name(status));
    QCOMPARE(read.epochs, summary.epochs);
    QCOMPARE(read.steps, summary.steps);
    QCOMPARE(read.trainSeconds, summary.trainSeconds);
    QCOMPARE(read.stepsPerSecond, summary.stepsPerSecond);
    QCOMPARE(read.trainLoss, summary.trainLoss);
    QCOMPARE(read.valLoss, summary.valLoss);
    QCOMPARE(read.valAccuracy, summary.valAccuracy);
    QVERIFY(std::isnan(read.valMae));
    QCOMPARE(read.bestEpoch, summary.bestEpoch);
    QCOMPARE(read.device, summary.device);
    QCOMPARE(read.message, summary.message);

    const auto steps = store->steps(id);
    QCOMPARE(steps.size(), expectedSteps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
        QCOMPARE(steps[i].step, expectedSteps[i].step);
        QCOMPARE(steps[i].epoch, expectedSteps[i].epoch);
        QCOMPARE(steps[i].trainLoss, expectedSteps[i].trainLoss); // float -> REAL -> float is exact
        QCOMPARE(steps[i].learningRate, expectedSteps[i].learningRate);
        QCOMPARE(steps[i].gradNorm, expectedSteps[i].gradNorm);
    }
    const auto epochs = store->epochs(id);
    QCOMPARE(epochs.size(), expectedEpochs.size());
    for (size_t i = 0; i < epochs.size(); ++i) {
        QCOMPARE(epochs[i].epoch, expectedEpochs[i].epoch);
        QCOMPARE(epochs[i].step, expectedEpochs[i].step);
        QCOMPARE(epochs[i].trainLoss, expectedEpochs[i].trainLoss);
        QCOMPARE(epochs[i].valLoss, expectedEpochs[i].valLoss);
        QCOMPARE(epochs[i].valAccuracy, expectedEpochs[i].valAccuracy);
        QVERIFY(std::isnan(epochs[i].valMae));
        QCOMPARE(epochs[i].learningRate, expectedEpochs[i].learningRate);
        QCOMPARE(epochs[i].seconds, expectedEpochs[i].seconds);
    }
    const auto bytes = store->model(id);
    QCOMPARE(bytes.size(), size_t(std::max(modelBytes, 0)));
    QVERIFY(!model || bytes == *model);
}

void TestRunStore::nanRoundTrip() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    const RunId id = store->createRun("nan", "{}").value();
    const float nanF = std::numeric_limits<float>::quiet_NaN();
    store->onRunEvent(stepsEvent(id, {{1, 1, nanF, nanF, nanF}, {2, 1, 0.5f, nanF, 1.0f}}));
    store->onRunEvent(epochEvent(id, {1, 2, kNoValue, kNoValue, kNoValue, kNoValue, kNoValue, kNoValue}));
    RunSummary summary;
    summary.status = RunStatus::Diverged;
    summary.trainSeconds = kNoValue;
    summary.stepsPerSecond = kNoValue;
    store->onRunEvent(finishedEvent(id, summary, nullptr));
    store->flush();

    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM step_metrics WHERE train_loss IS NULL")), 1);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM step_metrics WHERE learning_rate IS NULL")), 2);
    QCOMPARE(
        raw.number(QStringLiteral("SELECT count(*) FROM runs WHERE train_loss IS NULL AND val_mae IS NULL"
                                  " AND train_seconds IS NULL AND model IS NULL")),
        1);

    const auto steps = store->steps(id);
    QCOMPARE(steps.size(), size_t(2));
    QVERIFY(std::isnan(steps[0].trainLoss) && std::isnan(steps[0].learningRate) &&
            std::isnan(steps[0].gradNorm));
    QCOMPARE(steps[1].trainLoss, 0.5f);
    QVERIFY(std::isnan(steps[1].learningRate));
    const auto epochs = store->epochs(id);
    QCOMPARE(epochs.size(), size_t(1));
    for (double value : {epochs[0].trainLoss, epochs[0].valLoss, epochs[0].valAccuracy, epochs[0].valMae,
                         epochs[0].learningRate, epochs[0].seconds})
        QVERIFY(std::isnan(value));
    const auto record = store->run(id);
    QVERIFY(record);
    QCOMPARE(name(record->status), "diverged");
    QVERIFY(!record->hasModel);
    for (double value :
         {record->summary.trainSeconds, record->summary.stepsPerSecond, record->summary.trainLoss,
          record->summary.valLoss, record->summary.valAccuracy, record->summary.valMae})
        QVERIFY(std::isnan(value));
}

void TestRunStore::unknownRun() {
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("runs.sqlite")));
    QVERIFY(store);
    QVERIFY(!store->run(12345));
    QVERIFY(store->steps(12345).empty());
    QVERIFY(store->epochs(12345).empty());
    QVERIFY(store->model(12345).empty());
    // Events for a run that does not exist are dropped without taking the rest of the batch along.
    const RunId id = store->createRun("real", "{}").value();
    store->onRunEvent(stepsEvent(12345, makeSteps(1, 3, 1)));
    store->onRunEvent(stepsEvent(id, makeSteps(1, 3, 1)));
    store->flush();
    QCOMPARE(store->steps(id).size(), size_t(3));
    QVERIFY(store->steps(12345).empty());
}

void TestRunStore::listRunsOrder() {
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("runs.sqlite")));
    QVERIFY(store);
    QVERIFY(store->listRuns().empty());
    QStringList names;
    for (int i = 0; i < 6; ++i) {
        names << QStringLiteral("run %1").arg(i);
        QVERIFY(store->createRun(names.last().toStdString(), "{}").ok());
    }
    store->onRunEvent(startedEvent(store->listRuns()[2].id, "cpu"));
    store->flush();
    const auto runs = store->listRuns();
    QCOMPARE(runs.size(), size_t(6));
    for (size_t i = 0; i < runs.size(); ++i) {
        QCOMPARE(QString::fromStdString(runs[i].name), names[int(i)]);
        if (i > 0)
            QVERIFY(runs[i].id > runs[i - 1].id);
        QCOMPARE(name(runs[i].status), i == 2 ? "running" : "queued");
    }
}

void TestRunStore::deleteRunRemovesItsMetrics() {
    QTemporaryDir dir;
    auto store = openStore(dir.filePath(QStringLiteral("runs.sqlite")));
    QVERIFY(store);
    const RunId kept = store->createRun("kept", "{}").value();
    const RunId gone = store->createRun("gone", "{}").value();
    for (RunId id : {kept, gone}) {
        store->onRunEvent(stepsEvent(id, makeSteps(1, 5, 1)));
        EpochRecord epoch;
        epoch.epoch = 1;
        store->onRunEvent(epochEvent(id, epoch));
    }
    store->flush();
    const auto best = store->bestValidationLosses();
    QCOMPARE(best.size(), size_t(0)); // the epochs above have no validation loss
    EpochRecord validated;
    validated.epoch = 2;
    validated.valLoss = 0.25;
    store->onRunEvent(epochEvent(kept, validated));
    validated.epoch = 3;
    validated.valLoss = 0.5;
    store->onRunEvent(epochEvent(kept, validated));
    store->flush();
    QCOMPARE(store->bestValidationLosses(), (std::vector<std::pair<RunId, double>>{{kept, 0.25}}));
    store->deleteRun(gone);
    QVERIFY(!store->run(gone));
    QCOMPARE(store->stepCount(gone), int64_t(0));
    QVERIFY(store->epochs(gone).empty());
    QCOMPARE(store->stepCount(kept), int64_t(5));
    QCOMPARE(store->listRuns().size(), size_t(1));
}

void TestRunStore::flush_data() {
    QTest::addColumn<int>("batches");
    QTest::addColumn<int>("batchSize");
    QTest::newRow("one step") << 1 << 1;
    QTest::newRow("many small batches") << 300 << 3;
    QTest::newRow("few large batches") << 4 << 2500;
}

void TestRunStore::flush() {
    QFETCH(int, batches);
    QFETCH(int, batchSize);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    store->flush(); // nothing queued: returns at once
    const RunId id = store->createRun("flush", "{}").value();
    RawDb raw(path);
    const QString countSteps = QStringLiteral("SELECT count(*) FROM step_metrics WHERE run_id = %1").arg(id);
    for (int round = 1; round <= 3; ++round) {
        for (int batch = 0; batch < batches; ++batch)
            store->onRunEvent(
                stepsEvent(id, makeSteps(int64_t(round - 1) * batches * batchSize + batch * batchSize + 1,
                                         batchSize, round)));
        store->flush();
        // Another connection (as another process would) sees everything queued before flush().
        QCOMPARE(raw.number(countSteps), qint64(round) * batches * batchSize);
    }
}

void TestRunStore::destructorCommitsQueuedEvents() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    RunId id = 0;
    {
        auto store = openStore(path);
        QVERIFY(store);
        id = store->createRun("drained", "{}").value();
        for (int batch = 0; batch < 50; ++batch)
            store->onRunEvent(stepsEvent(id, makeSteps(batch * 20 + 1, 20, 1)));
        RunSummary summary;
        summary.status = RunStatus::Completed;
        store->onRunEvent(finishedEvent(id, summary, std::make_shared<std::vector<char>>(10, 'x')));
    } // no flush: the destructor commits what is queued
    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM step_metrics")), 1000);
    QCOMPARE(raw.text(QStringLiteral("SELECT status FROM runs WHERE id = %1").arg(id)), "completed");
    QCOMPARE(raw.number(QStringLiteral("SELECT length(model) FROM runs WHERE id = %1").arg(id)), 10);
}

void TestRunStore::reopen() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    RunId first = 0;
    {
        auto store = openStore(path);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), RunStore::kSchemaVersion);
        first = store->createRun("first", "{\"a\": 1}").value();
        store->onRunEvent(stepsEvent(first, makeSteps(1, 10, 1)));
        store->flush();
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), RunStore::kSchemaVersion);
    const auto record = store->run(first);
    QVERIFY(record);
    QCOMPARE(record->specJson, std::string("{\"a\": 1}"));
    // Left queued by a process that is still alive (this one): not interrupted.
    QCOMPARE(name(record->status), "queued");
    QCOMPARE(store->steps(first).size(), size_t(10));
    const RunId second = store->createRun("second", "{}").value();
    QVERIFY(second > first);
    QCOMPARE(store->listRuns().size(), size_t(2));
    RawDb raw(path);
    QCOMPARE(raw.text(QStringLiteral("PRAGMA journal_mode")), "wal");
}

void TestRunStore::migrateEmptyFile_data() {
    QTest::addColumn<bool>("createFile");
    QTest::newRow("empty file") << true;
    QTest::newRow("no file yet") << false;
}

void TestRunStore::migrateEmptyFile() {
    QFETCH(bool, createFile);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    if (createFile) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
    }
    auto store = openStore(path);
    QVERIFY(store);
    QCOMPARE(store->schemaVersion(), 4);
    store.reset();
    RawDb raw(path);
    QCOMPARE(raw.number(QStringLiteral("SELECT value FROM schema_meta WHERE key = 'schema_version'")), 4);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                                       " ('runs', 'step_metrics', 'epoch_metrics', 'schema_meta', 'studies',"
                                       " 'trials', 'trial_params', 'trial_values', 'layer_health',"
                                       " 'weight_histograms')")),
             10);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM pragma_table_info('runs')")), 24);
}

void TestRunStore::refuseNewerVersion_data() {
    QTest::addColumn<int>("version");
    QTest::newRow("next") << RunStore::kSchemaVersion + 1;
    QTest::newRow("far ahead") << 7;
}

void TestRunStore::refuseNewerVersion() {
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

void TestRunStore::refuseForeignFile_data() {
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

void TestRunStore::refuseForeignFile() {
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

void TestRunStore::refuseEmptyPath() {
    const auto opened = RunStore::open(std::string());
    QVERIFY(!opened.ok());
    QVERIFY(!opened.error().empty());
}

void TestRunStore::concurrentProducers() {
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

void TestRunStore::lockedFileHoldsProducersBackAndLosesNothing() {
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

// flushAsync never waits for the file: it returns at once while another connection holds the
// write lock, the reads still answer with what is committed, and `done` comes once the queued
// steps are committed after the lock is released.
void TestRunStore::flushAsyncReturnsWhileTheFileIsLocked() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("runs.sqlite"));
    auto store = openStore(path);
    QVERIFY(store);
    const RunId id = store->createRun("locked", "{}").value();
    store->onRunEvent(startedEvent(id, "cpu"));
    store->onRunEvent(stepsEvent(id, makeSteps(1, 5, 1)));
    store->flush();

    auto holder = std::make_unique<RawDb>(path);
    QVERIFY(holder->exec(QStringLiteral("BEGIN EXCLUSIVE")));
    store->onRunEvent(stepsEvent(id, makeSteps(6, 5, 1)));
    std::atomic<bool> done{false};
    QElapsedTimer clock;
    clock.start();
    store->flushAsync([&done] { done = true; });
    QVERIFY2(clock.elapsed() < 200, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(store->steps(id).size(), size_t(5)); // the committed ones, without waiting
    QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
    QTest::qWait(300);
    QVERIFY(!done.load()); // the lock still holds the steps back
    QVERIFY(holder->exec(QStringLiteral("COMMIT")));
    holder.reset();
    QTRY_VERIFY_WITH_TIMEOUT(done.load(), 10000);
    QCOMPARE(store->steps(id).size(), size_t(10));
}

void TestRunStore::openForReadingChangesNothing() {
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

void TestRunStore::reusedPidDoesNotKeepARunAlive() {
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

QTEST_GUILESS_MAIN(TestRunStore)
#include "tst_run_store.moc"
