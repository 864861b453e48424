// A run store that is not sound is never written into and never silently replaced: empty files,
// dropped tables and damaged pages are errors that say what to do, readers work in a read-only
// folder, and a new store appears whole.
#include "common/zip_archive_check.h"
#include "run_store_test_support.h"
#include "zip_test_support.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>

#include <functional>

#include <sys/stat.h>
#include <sys/wait.h>

using namespace tunelab;
using namespace tunelab::test;

namespace {

QString errorOf(const Result<std::unique_ptr<RunStore>>& opened) {
    return opened.ok() ? QString() : QString::fromStdString(opened.error());
}

// A store with a few finished runs, closed (its WAL folded into the file).
bool makeStore(const QString& path, int runs) {
    auto store = openStore(path);
    if (!store)
        return false;
    for (int i = 0; i < runs; ++i) {
        const auto id = store->createRun("run " + std::to_string(i), "{}");
        if (!id.ok())
            return false;
        store->onRunEvent(startedEvent(id.value(), "cpu"));
        store->onRunEvent(stepsEvent(id.value(), makeSteps(1, 200, 1)));
        RunSummary summary;
        summary.status = RunStatus::Completed;
        summary.epochs = 1;
        store->onRunEvent(finishedEvent(id.value(), summary, nullptr));
    }
    store->flush();
    return true;
}

QByteArray contents(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Runs `body` as user nobody in a child process when the test runs as root (root writes anywhere),
// in this process otherwise. True when `body` returned true.
bool asUnprivilegedUser(const std::function<bool()>& body) {
    if (::geteuid() != 0)
        return body();
    const pid_t child = ::fork();
    if (child == 0) {
        const bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;
        ::_exit(dropped && body() ? 0 : 1);
    }
    int status = 0;
    return child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

// Runs `body` where the folder cannot be written. True when `body` returned true.
bool inReadOnlyFolder(const QString& folder, const std::function<bool()>& body) {
    ::chmod(folder.toLocal8Bit().constData(), 0555);
    const bool passed = asUnprivilegedUser(body);
    ::chmod(folder.toLocal8Bit().constData(), 0755);
    return passed;
}

} // namespace

class TestStoreDamage : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void anEmptyFileIsNotAStore() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(QFile(path).open(QIODevice::WriteOnly));
        const QString expected = "the file is empty, so it is not a TuneLab run store";
        QVERIFY2(errorOf(RunStore::open(path.toStdString())).contains(expected),
                 qPrintable(errorOf(RunStore::open(path.toStdString()))));
        QVERIFY(errorOf(RunStore::openForReading(path.toStdString())).contains(expected));
        QCOMPARE(QFileInfo(path).size(), qint64(0)); // untouched
    }

    // A FIFO would block SQLite's open forever; a folder fails with a message that does not say why.
    void aFifoOrAFolderIsNotAStore_data() {
        QTest::addColumn<bool>("fifo");
        QTest::newRow("fifo") << true;
        QTest::newRow("folder") << false;
    }
    void aFifoOrAFolderIsNotAStore() {
        QFETCH(bool, fifo);
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(fifo ? ::mkfifo(path.toUtf8().constData(), 0600) == 0 : QDir().mkdir(path));
        const QString expected = fifo ? "a FIFO, not a run store" : "a folder, not a run store";
        QVERIFY2(errorOf(RunStore::openForReading(path.toStdString())).contains(expected),
                 qPrintable(errorOf(RunStore::openForReading(path.toStdString()))));
        QVERIFY(errorOf(RunStore::open(path.toStdString())).contains(expected));
        const auto checked = RunStore::checkFile(path.toStdString());
        QVERIFY(!checked.ok() && QString::fromStdString(checked.error()).contains(expected));
    }

    void droppedTablesAreOneClearError_data() {
        QTest::addColumn<QString>("sql");
        QTest::addColumn<QString>("expected");
        QTest::newRow("runs dropped") << "DROP TABLE runs"
                                      << "the run store is damaged: its table 'runs' is missing";
        QTest::newRow("trials dropped")
            << "DROP TABLE trial_values; DROP TABLE trial_params; DROP TABLE trials"
            << "its table 'trials' is missing";
        QTest::newRow("every table dropped")
            << "DROP TABLE run_exports; DROP TABLE run_checkpoints; DROP TABLE weight_histograms;"
               " DROP TABLE layer_health;"
               " DROP TABLE trial_values;"
               " DROP TABLE trial_params; DROP TABLE trials; DROP TABLE studies; DROP TABLE epoch_metrics;"
               " DROP TABLE step_metrics; DROP TABLE runs; DROP TABLE schema_meta"
            << "is not a TuneLab run store: it holds no tables";
    }

    void droppedTablesAreOneClearError() {
        QFETCH(QString, sql);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path, 1));
        {
            RawDb raw(path);
            QVERIFY(raw.exec("PRAGMA foreign_keys=OFF; " + sql));
        }
        // Readers and writers get the same message, and nothing is re-created behind the user's back.
        QVERIFY2(errorOf(RunStore::openForReading(path.toStdString())).contains(expected),
                 qPrintable(errorOf(RunStore::openForReading(path.toStdString()))));
        QVERIFY2(errorOf(RunStore::open(path.toStdString())).contains(expected),
                 qPrintable(errorOf(RunStore::open(path.toStdString()))));
        RawDb raw(path);
        QCOMPARE(raw.text("SELECT count(*) FROM sqlite_master WHERE name = 'runs'"),
                 sql.contains("runs") ? QString("0") : QString("1"));
    }

    void damagedPagesAreNeverWrittenInto() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path, 6));
        QByteArray bytes = contents(path);
        const int pageSize = 4096;
        QVERIFY(bytes.size() > 8 * pageSize);
        // Random bytes over the last data pages: step metrics, where a quiet store would keep appending.
        QRandomGenerator random(7);
        for (int i = bytes.size() - 3 * pageSize; i < bytes.size() - pageSize; ++i)
            bytes[i] = static_cast<char>(random.bounded(256));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(bytes);
        }
        const QString error = errorOf(RunStore::open(path.toStdString()));
        QVERIFY2(error.contains("the run store is damaged") && error.contains("will not write into it") &&
                     error.contains("store check"),
                 qPrintable(error));
        QCOMPARE(contents(path), bytes); // not one byte written
        const auto problems = RunStore::checkFile(path.toStdString());
        QVERIFY(!problems.ok() || !problems.value().empty());
    }

    void readersOfADamagedStoreAreToldWhatToDo() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path, 3));
        qint64 page = 0;
        {
            RawDb raw(path);
            page = raw.number("SELECT rootpage FROM sqlite_master WHERE name = 'schema_meta'");
        }
        QVERIFY(page > 1);
        // Random bytes over the page every reader reads first.
        QByteArray bytes = contents(path);
        QRandomGenerator random(11);
        for (qint64 i = (page - 1) * 4096; i < page * 4096; ++i)
            bytes[int(i)] = static_cast<char>(random.bounded(256));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(bytes);
        }
        const QString error = errorOf(RunStore::openForReading(path.toStdString()));
        QVERIFY2(error.contains("the run store is damaged") && error.contains("store check --db " + path) &&
                     error.contains(".recover"),
                 qPrintable(error));
        QCOMPARE(contents(path), bytes);
    }

    void aSoundStoreChecksClean() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path, 2));
        const auto problems = RunStore::checkFile(path.toStdString());
        QVERIFY2(problems.ok(), problems.error().c_str());
        QVERIFY(problems.value().empty());
        QVERIFY(!RunStore::checkFile(dir.filePath("missing.sqlite").toStdString()).ok());
    }

    // Past SQLite's own check: stored experiments that do not parse, and saved models and checkpoints
    // whose archives do not match their CRC-32s (LibTorch would load them with changed weights).
    void storedContentIsChecked() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        const std::vector<char> sound =
            storedZip({{"archive/data.pkl", "pickle"}, {"archive/data/0", "weights!"}});
        std::vector<char> flipped = sound;
        const std::string pickle = "pickle";
        *std::search(flipped.begin(), flipped.end(), pickle.begin(), pickle.end()) ^= 0x10;
        QVERIFY(zipArchiveDamage(flipped.data(), flipped.size()) != "");
        {
            auto store = openStore(path);
            QVERIFY(store);
            auto finish = [&](const std::string& name, const std::string& spec,
                              const std::vector<char>& model, const std::vector<char>& checkpointState) {
                const auto id = store->createRun(name, spec);
                QVERIFY(id.ok());
                store->onRunEvent(startedEvent(id.value(), "cpu"));
                RunSummary summary;
                summary.status = RunStatus::Completed;
                summary.epochs = 1;
                RunEvent finished =
                    finishedEvent(id.value(), summary, std::make_shared<std::vector<char>>(model));
                auto checkpoint = std::make_shared<TrainingCheckpoint>();
                checkpoint->epoch = 1;
                checkpoint->optimizer = "adam";
                checkpoint->state = checkpointState;
                finished.checkpoint = checkpoint;
                store->onRunEvent(finished);
            };
            finish("sound", "{\"name\": \"sound\"}", sound, sound);
            finish("flipped model", "{}", flipped, sound);
            finish("flipped checkpoint", "{}", sound, flipped);
            finish("bad experiment", "{\"name\": \"x\",\n \"seed\" 1}", sound, sound);
            store->flush();
        }
        const auto problems = RunStore::checkFile(path.toStdString());
        QVERIFY2(problems.ok(), problems.error().c_str());
        QStringList lines;
        for (const auto& problem : problems.value())
            lines << QString::fromStdString(problem);
        QCOMPARE(lines.size(), 3);
        QVERIFY2(lines[0].startsWith("run 4 ('bad experiment'): its experiment cannot be read: line 2"),
                 qPrintable(lines[0]));
        QCOMPARE(lines[1], QString("run 2 ('flipped model'): its saved model is damaged: 'archive/data.pkl' "
                                   "does not match its CRC-32"));
        QCOMPARE(lines[2],
                 QString("run 3 ('flipped checkpoint'): its checkpoint is damaged: 'archive/data.pkl' "
                         "does not match its CRC-32"));
        // Still readable: the check reports, it does not refuse the store.
        auto reader = RunStore::openForReading(path.toStdString());
        QVERIFY2(reader.ok(), reader.error().c_str());
        QCOMPARE(reader.value()->listRuns().size(), size_t(4));
    }

    void readersWorkInAReadOnlyFolder() {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir("store"));
        const QString folder = dir.filePath("store");
        const QString path = folder + "/runs.sqlite";
        QVERIFY(makeStore(path, 3));
        ::chmod(dir.path().toLocal8Bit().constData(), 0755);
        ::chmod(path.toLocal8Bit().constData(), 0644);
        const std::string storePath = path.toStdString();
        QVERIFY(inReadOnlyFolder(folder, [storePath] {
            auto store = RunStore::openForReading(storePath);
            return store.ok() && store.value()->listRuns().size() == 3 && RunStore::checkFile(storePath).ok();
        }));
    }

    void writersAreRefusedAtOpenWhenTheStoreIsReadOnly_data() {
        QTest::addColumn<int>("folderMode");
        QTest::addColumn<int>("fileMode");
        QTest::addColumn<QString>("reason");
        QTest::newRow("read-only folder") << 0555 << 0666 << "its folder is read-only for this user";
        QTest::newRow("read-only file") << 0777 << 0444 << "the file is read-only for this user";
    }
    void writersAreRefusedAtOpenWhenTheStoreIsReadOnly() {
        QFETCH(int, folderMode);
        QFETCH(int, fileMode);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir("store"));
        const QString folder = dir.filePath("store");
        const QString path = folder + "/runs.sqlite";
        QVERIFY(makeStore(path, 2));
        const QByteArray before = contents(path);
        ::chmod(dir.path().toLocal8Bit().constData(), 0755);
        ::chmod(path.toLocal8Bit().constData(), mode_t(fileMode));
        ::chmod(folder.toLocal8Bit().constData(), mode_t(folderMode));
        const std::string storePath = path.toStdString();
        const std::string expected = reason.toStdString();
        // Said at open, before SQLite opens the file for reading only and fails at the first write.
        const bool refused = asUnprivilegedUser([storePath, expected] {
            const auto opened = RunStore::open(storePath);
            return !opened.ok() && opened.error().find(expected) != std::string::npos &&
                   opened.error().find("cannot write into this run store") != std::string::npos &&
                   RunStore::openForReading(storePath).ok();
        });
        ::chmod(folder.toLocal8Bit().constData(), 0755);
        QVERIFY(refused);
        QCOMPARE(contents(path), before);
    }

    void aNewStoreAppearsWhole() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("runs.sqlite").toStdString();
        // Two openers race to create the same new file; both get the one store.
        std::vector<std::string> errors(4);
        std::vector<std::thread> openers;
        for (size_t i = 0; i < errors.size(); ++i)
            openers.emplace_back([&, i] {
                auto opened = RunStore::open(path);
                errors[i] = opened.ok() ? std::string() : opened.error();
            });
        for (auto& opener : openers)
            opener.join();
        for (const auto& error : errors)
            QVERIFY2(error.empty(), error.c_str());
        auto store = RunStore::openForReading(path);
        QVERIFY(store.ok());
        QCOMPARE(store.value()->schemaVersion(), RunStore::kSchemaVersion);
        // No temporary file is left beside it.
        QCOMPARE(QDir(dir.path()).entryList(QStringList{"*.new-*"}, QDir::Files), QStringList());
    }
};

QTEST_GUILESS_MAIN(TestStoreDamage)
#include "tst_store_damage.moc"
