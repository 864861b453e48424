// The run store's runs: the default path, what a run's events store and read back, listing and
// deleting runs, flushing, and reopening the file. tst_run_store_files covers the file itself.

#include "run_store_test_support.h"
#include "zip_test_support.h"

#include <QElapsedTimer>

using namespace tunelab;
using namespace tunelab::test;

class TestRunStore : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void flushAsyncReturnsWhileTheFileIsLocked();
    void checkpointsOriginsAndLineageAreKept();
    void checkReadsWhatTheRowsHold();
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
    void tagsAndNotesAreKept();
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("nested/folders/runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    QCOMPARE(QString::fromStdString(store->path()), location);

    const double before = nowSeconds();
    const std::string spec = R"({"model": {"layers": [{"type": "linear", "out_features": 3}]}, "name": "ü"})";
    auto created = store->createRun("round trip", spec);
    QVERIFY2(created.ok(), created.error().c_str());
    const RunId id = created.value();
    QVERIFY(id > 0);
    {
        // createRun returns once the row is committed: queued, with this process as owner.
        RawDb raw(location);
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
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

    RawDb raw(location);
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    store->flush(); // nothing queued: returns at once
    const RunId id = store->createRun("flush", "{}").value();
    RawDb raw(location);
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
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    RunId id = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        id = store->createRun("drained", "{}").value();
        for (int batch = 0; batch < 50; ++batch)
            store->onRunEvent(stepsEvent(id, makeSteps(batch * 20 + 1, 20, 1)));
        RunSummary summary;
        summary.status = RunStatus::Completed;
        store->onRunEvent(finishedEvent(id, summary, std::make_shared<std::vector<char>>(10, 'x')));
    } // no flush: the destructor commits what is queued
    RawDb raw(location);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM step_metrics")), 1000);
    QCOMPARE(raw.text(QStringLiteral("SELECT status FROM runs WHERE id = %1").arg(id)), "completed");
    QCOMPARE(raw.number(QStringLiteral("SELECT length(model) FROM runs WHERE id = %1").arg(id)), 10);
}

void TestRunStore::reopen() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    RunId first = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        QCOMPARE(store->schemaVersion(), RunStore::kSchemaVersion);
        first = store->createRun("first", "{\"a\": 1}").value();
        store->onRunEvent(stepsEvent(first, makeSteps(1, 10, 1)));
        store->flush();
    }
    auto store = openStore(location);
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
    TUNELAB_SKIP_ON_SERVER("the journal mode (WAL) is the file's");
    RawDb raw(location);
    QCOMPARE(raw.text(QStringLiteral("PRAGMA journal_mode")), "wal");
}

void TestRunStore::tagsAndNotesAreKept() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    RunId id = 0;
    {
        auto store = openStore(location);
        QVERIFY(store);
        id = store->createRun("tagged", "{}").value();
        QVERIFY(store->run(id)->tags.empty());
        QVERIFY(store->setRunTags(id, {"baseline", "lr sweep", "ünïcode"}).ok());
        QVERIFY(store->setRunNote(id, "first line\n\tsecond, with a comma").ok());
        // Refused whole, with the reason; what was stored stays.
        const auto comma = store->setRunTags(id, {"fine", "a,b"});
        QVERIFY(!comma.ok());
        QVERIFY2(comma.error().find("comma") != std::string::npos, comma.error().c_str());
        QVERIFY(!store->setRunTags(id, {"\x1b[2J"}).ok());
        QVERIFY(!store->setRunTags(id, {""}).ok());
        QVERIFY(!store->setRunTags(id, {std::string(65, 'x')}).ok());
        // The message quotes the start of a long tag without cutting a character in two.
        const auto longTag = store->setRunTags(id, {"123456789012345ä" + std::string(60, 'x')});
        QVERIFY(!longTag.ok());
        QVERIFY2(QString::fromStdString(longTag.error()).contains(QStringLiteral("\"123456789012345…\"")),
                 longTag.error().c_str());
        QVERIFY(!store->setRunNote(id, "bell\a").ok());
        const auto missing = store->setRunTags(9999, {"x"});
        QVERIFY2(!missing.ok() && missing.error().find("no run with id 9999") != std::string::npos,
                 missing.error().c_str());
    }
    auto store = openStore(location);
    const auto record = store->run(id);
    QCOMPARE(record->tags, (std::vector<std::string>{"baseline", "lr sweep", "ünïcode"}));
    QCOMPARE(record->note, std::string("first line\n\tsecond, with a comma"));
    QCOMPARE(store->listRuns().front().tags.size(), size_t(3));
    QVERIFY(store->setRunTags(id, {}).ok()); // clearing
    QVERIFY(store->run(id)->tags.empty());
}

void TestRunStore::flushAsyncReturnsWhileTheFileIsLocked() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const RunId id = store->createRun("locked", "{}").value();
    store->onRunEvent(startedEvent(id, "cpu"));
    store->onRunEvent(stepsEvent(id, makeSteps(1, 5, 1)));
    store->flush();

    auto holder = std::make_unique<RawDb>(location);
    // Another process holds the write lock: the file's, or on a server the metrics table's (reads
    // still go through).
    QVERIFY(holder->exec(storeOnServer() ? QStringLiteral("BEGIN; LOCK TABLE step_metrics IN EXCLUSIVE MODE")
                                         : QStringLiteral("BEGIN EXCLUSIVE")));
    store->onRunEvent(stepsEvent(id, makeSteps(6, 5, 1)));
    std::atomic<bool> done{false};
    QElapsedTimer clock;
    clock.start();
    store->flushAsync([&done] { done = true; });
    // The lock is held until below: a flushAsync that waited for it would never return.
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(store->steps(id).size(), size_t(5)); // the committed ones, without waiting
    QVERIFY2(clock.elapsed() < 5000, qPrintable(QString::number(clock.elapsed())));
    QTest::qWait(300);
    QVERIFY(!done.load()); // the lock still holds the steps back
    QVERIFY(holder->exec(QStringLiteral("COMMIT")));
    holder.reset();
    QTRY_VERIFY_WITH_TIMEOUT(done.load(), 10000);
    QCOMPARE(store->steps(id).size(), size_t(10));
}

// `store check` on a file and on a server alike: a saved model whose archive fails its CRC-32 is
// named, and a store whose rows are sound checks clean.
void TestRunStore::checkReadsWhatTheRowsHold() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    const std::vector<char> sound =
        storedZip({{"archive/data.pkl", "pickle"}, {"archive/data/0", "weights"}});
    const std::vector<char> flipped = [&sound] {
        std::vector<char> bytes = sound;
        const std::string weights = "weights";
        *std::search(bytes.begin(), bytes.end(), weights.begin(), weights.end()) ^= 0x01;
        return bytes;
    }();
    {
        auto store = openStore(location);
        QVERIFY(store);
        for (const std::vector<char>* model : {&sound, &flipped}) {
            const RunId id = store->createRun(model == &sound ? "sound" : "flipped", "{}").value();
            RunSummary summary;
            summary.status = RunStatus::Completed;
            store->onRunEvent(finishedEvent(id, summary, std::make_shared<std::vector<char>>(*model)));
            store->flush();
            const auto problems = RunStore::checkFile(location.toStdString());
            QVERIFY2(problems.ok(), problems.error().c_str());
            if (model == &sound) {
                QVERIFY(problems.value().empty());
            } else {
                QCOMPARE(problems.value().size(), size_t(1));
                QCOMPARE(QString::fromStdString(problems.value()[0]),
                         QString("run %1 ('flipped'): its saved model is damaged: 'archive/data/0' does not "
                                 "match its CRC-32")
                             .arg(id));
            }
        }
    }
}

void TestRunStore::checkpointsOriginsAndLineageAreKept() {
    QTemporaryDir dir;
    TUNELAB_STORE_LOCATION(location, dir, QStringLiteral("runs.sqlite"));
    auto store = openStore(location);
    QVERIFY(store);
    const RunId parent = store->createRun("parent", "{}").value();
    QVERIFY(!store->checkpoint(parent));

    // An epoch's checkpoint, then the final one replaces it.
    auto checkpointAt = [](int epoch) {
        auto checkpoint = std::make_shared<TrainingCheckpoint>();
        checkpoint->epoch = epoch;
        checkpoint->step = 10 * epoch;
        checkpoint->parameters = 67;
        checkpoint->optimizer = "adam";
        checkpoint->state = {'s', char(epoch), '\0', 'x'};
        return checkpoint;
    };
    RunEvent epoch = epochEvent(parent, EpochRecord{2, 20});
    epoch.checkpoint = checkpointAt(2);
    store->onRunEvent(epoch);
    store->flush();
    QCOMPARE(store->checkpoint(parent)->epoch, 2);
    RunSummary summary;
    summary.status = RunStatus::Completed;
    summary.epochs = 3;
    RunEvent finished = finishedEvent(parent, summary, nullptr);
    finished.checkpoint = checkpointAt(3);
    store->onRunEvent(finished);
    store->flush();
    const auto kept = store->checkpoint(parent);
    QVERIFY(kept);
    QCOMPARE(kept->epoch, 3);
    QCOMPARE(kept->step, int64_t{30});
    QCOMPARE(kept->parameters, int64_t{67});
    QCOMPARE(kept->optimizer, std::string("adam"));
    QCOMPARE(kept->state, checkpointAt(3)->state);
    QVERIFY(store->run(parent)->hasCheckpoint);

    const RunId fork = store->createRun("fork", "{}", RunOrigin{parent, 3}).value();
    QCOMPARE(store->run(fork)->parentRun, parent);
    QCOMPARE(store->run(fork)->parentEpoch, 3);
    QCOMPARE(store->run(parent)->parentRun, RunId{0});
    QVERIFY(!store->run(fork)->hasCheckpoint);

    const StudyId study = store->createStudy("population", "{}").value();
    const auto first = store->createTrial(study, {}, TrialState::Running, RunStore::TrialOwner::ThisProcess,
                                          TrialLineage{2, -1, 0});
    const auto second = store->createTrial(study, {}, TrialState::Waiting, RunStore::TrialOwner::ThisProcess,
                                           TrialLineage{1, first.value().number, 4});
    const auto plain = store->createTrial(study, {});
    const auto trials = store->trials(study);
    QCOMPARE(trials.size(), size_t{3});
    QCOMPARE(trials[0].member, 2);
    QCOMPARE(trials[0].parentNumber, int64_t{-1});
    QCOMPARE(trials[1].member, 1);
    QCOMPARE(trials[1].parentNumber, first.value().number);
    QCOMPARE(trials[1].startEpoch, 4);
    QCOMPARE(trials[2].member, -1);
    QCOMPARE(trials[2].startEpoch, 0);
    // A waiting stretch keeps its place when a process claims it.
    const auto claimed = store->claimWaitingTrial(study);
    QVERIFY(claimed);
    QCOMPARE(claimed->number, second.value().number);
    QCOMPARE(claimed->parentNumber, first.value().number);
    QCOMPARE(claimed->startEpoch, 4);
    QVERIFY(plain.ok());

    // Deleting a run deletes its checkpoint with it.
    store->deleteRun(parent);
    QVERIFY(!store->checkpoint(parent));
    RawDb raw(location);
    QCOMPARE(raw.number(QStringLiteral("SELECT count(*) FROM run_checkpoints")), qint64(0));
}

QTEST_GUILESS_MAIN(TestRunStore)
#include "tst_run_store.moc"
