// tunelab-cli on a disk that fills up: the real binary under a file-size limit (RLIMIT_FSIZE, which
// makes writes past it fail like a full disk) and, for exports, on a small full tmpfs. A store that
// cannot save a run makes the command fail with exit 4 and say what was lost; an export that cannot
// be written leaves no truncated file and keeps the previous one.
#include "cli_test_support.h"
#include "file_size_limit_test_support.h"

#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtTest>

using namespace tunelab::test;

namespace {

// A network whose saved model (about 70 KB) is larger than the whole store file may grow under the
// limit below, so the run's end can never be saved however the writer batches its updates.
const QByteArray kBigModelExperiment = R"({"name": "big-model", "seed": 3, "device": "cpu",
    "data": {"kind": "moons", "samples": 300, "noise": 0.1},
    "model": {"layers": [{"type": "linear", "out_features": 128}, {"type": "relu"},
                         {"type": "linear", "out_features": 128}, {"type": "relu"},
                         {"type": "linear", "out_features": 2}]},
    "optimizer": {"type": "adam", "lr": 0.01},
    "training": {"epochs": 2, "batch_size": 32}})";

// SQLite needs 32 KiB for the WAL index; 48 KiB leaves the log room for a few pages only.
constexpr rlim_t kStoreLimit = 48 * 1024;

CliResult runCliLimited(const QStringList& arguments, rlim_t fileSizeLimit) {
    return runCliFor(arguments, 120000, [fileSizeLimit] { limitChildFileSize(fileSizeLimit); });
}

CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 120000);
}

const QByteArray kRace = R"({"name": "full-disk-race", "experiment": {"name": "moons", "seed": 3,
    "device": "cpu", "data": {"kind": "moons", "samples": 200, "noise": 0.1},
    "model": {"layers": [{"type": "linear", "out_features": 8}, {"type": "relu"},
                         {"type": "linear", "out_features": 2}]},
    "optimizer": {"type": "adam", "lr": 0.01}, "training": {"epochs": 2, "batch_size": 32}},
    "setups": [{"name": "Adam", "optimizer": {"type": "adam", "lr": 0.01}},
               {"name": "SGD", "optimizer": {"type": "sgd", "lr": 0.1}}]})";

} // namespace

class TestFullDisk : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void trainOnAFullStoreFailsAndSaysWhatWasLost() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "big.json", kBigModelExperiment);
        const QString db = folder.filePath("runs.sqlite");
        const CliResult first = runCli({"train", spec, "--db", db, "--json"});
        QCOMPARE(first.exitCode, 0);

        const CliResult full = runCliLimited({"train", spec, "--db", db, "--json"}, kStoreLimit);
        QCOMPARE(full.exitCode, 4);
        const QJsonObject json = full.lastJsonLine();
        QCOMPARE(json["run_id"].toInt(), 2);
        QVERIFY2(json["status"].toString() != "completed", qPrintable(full.out));
        const QString storeError = json["store_error"].toString();
        QVERIFY2(storeError.contains(db), qPrintable(storeError));
        QVERIFY2(storeError.contains("run 2: "), qPrintable(storeError));
        QVERIFY2(storeError.contains("final status and model"), qPrintable(storeError));
        QVERIFY2(storeError.contains("disk I/O error"), qPrintable(storeError)); // SQLite's error
        QVERIFY2(full.err.contains("error: could not save everything to the run store " + db),
                 qPrintable(full.err));
        QVERIFY2(!full.err.contains("run 2 completed:"), qPrintable(full.err));

        // The store still opens; the lost run reads as not completed, the earlier one is whole.
        const CliResult list = runCli({"runs", "list", "--db", db});
        QCOMPARE(list.exitCode, 0);
        const QStringList lines = list.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].contains(" completed "), qPrintable(lines[0]));
        QVERIFY2(lines[1].startsWith("2 ") && lines[1].contains(" interrupted "), qPrintable(lines[1]));
        const CliResult shown = runCli({"runs", "show", "1", "--db", db});
        QCOMPARE(shown.exitCode, 0);
        QCOMPARE(shown.json()["status"].toString(), QString("completed"));
        QCOMPARE(shown.json()["epoch_metrics"].toArray().size(), 2);
    }

    // Deleting a study on a full disk fails (exit 4), says the study is still there, and leaves it whole.
    void studyDeleteOnAFullDiskKeepsTheStudy() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", R"({"parameters": [
            {"path": "x", "kind": "float", "low": -5, "high": 5}]})");
        const QString db = folder.filePath("runs.sqlite");
        const CliResult created = runCli({"optimize", "--space", space, "--command", "echo 1", "--trials",
                                          "200", "--sampler", "random", "--name", "doomed", "--db", db});
        QCOMPARE(created.exitCode, 0);
        const CliResult full = runCliLimited({"study", "delete", "doomed", "--db", db}, kStoreLimit);
        QCOMPARE(full.exitCode, 4);
        QVERIFY2(full.err.contains("could not delete study") && full.err.contains("the study is still there"),
                 qPrintable(full.err));
        QVERIFY2(!full.err.contains("deleted ("), qPrintable(full.err));
        const CliResult status = runCli({"study", "status", "doomed", "--db", db, "--json"});
        QCOMPARE(status.exitCode, 0);
        QCOMPARE(status.json()["complete"].toInt(), 200);
        QCOMPARE(runCli({"study", "delete", "doomed", "--db", db}).exitCode, 0);
        QCOMPARE(runCli({"study", "status", "doomed", "--db", db}).exitCode, 2);
    }

    void trainWithoutJsonPrintsNoCompletion() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "big.json", kBigModelExperiment);
        const QString db = folder.filePath("runs.sqlite");
        QCOMPARE(runCli({"train", spec, "--db", db}).exitCode, 0);
        const CliResult full = runCliLimited({"train", spec, "--db", db}, kStoreLimit);
        QCOMPARE(full.exitCode, 4);
        QVERIFY2(!full.out.contains("completed:") && !full.err.contains("completed:"), qPrintable(full.err));
        QVERIFY2(full.out.contains("run 2 not stored completely in " + db), qPrintable(full.out));
        QVERIFY2(full.err.contains("run 2: "), qPrintable(full.err));
    }

    // --csv on a full file system: the store (on another disk) is fine, the results file cannot be
    // written. The tmpfs is mounted in a private mount namespace, so it vanishes with the command.
    void raceCsvOnAFullDiskLeavesNoTruncatedFile_data() {
        QTest::addColumn<bool>("previous");
        QTest::newRow("a previous file is kept") << true;
        QTest::newRow("no file is left") << false;
    }

    void raceCsvOnAFullDiskLeavesNoTruncatedFile() {
        QFETCH(bool, previous);
        QTemporaryDir folder;
        const QString race = writeFile(folder, "race.json", kRace);
        QVERIFY(QDir(folder.path()).mkdir("full"));
        const QString full = folder.filePath("full");
        const QString script =
            QString(
                "mount -t tmpfs -o size=64k tmpfs '%1' || exit 200; cd '%1'; %2"
                "dd if=/dev/zero of=filler bs=4096 2>/dev/null; "
                "'%3' race '%4' --db '%5' --csv '%1/results.csv' >/dev/null 2>'%5.err'; echo \"exit=$?\"; "
                "cat '%5.err'; echo; echo '--- files'; ls -A; echo '--- csv'; cat results.csv")
                .arg(full, previous ? "printf 'previous\\n' > results.csv; " : "", TUNELAB_CLI, race,
                     folder.filePath("runs.sqlite"));
        QProcess process;
        process.start("unshare", {"--mount", "--propagation", "private", "sh", "-c", script});
        QVERIFY(process.waitForFinished(120000));
        const QString out = QString::fromUtf8(process.readAllStandardOutput());
        if (process.exitStatus() != QProcess::NormalExit || !out.startsWith("exit="))
            QSKIP(qPrintable("cannot mount a small tmpfs here: " +
                             QString::fromUtf8(process.readAllStandardError())));
        QVERIFY2(!out.startsWith("exit=0\n"), qPrintable(out));
        QVERIFY2(out.contains("results.csv: could not write: No space left on device"), qPrintable(out));
        const QString files = out.section("--- files\n", 1).section("--- csv", 0, 0);
        const QStringList expectedFiles =
            previous ? QStringList{"filler", "results.csv"} : QStringList{"filler"};
        QCOMPARE(files.trimmed().split('\n'), expectedFiles);
        QCOMPARE(out.section("--- csv\n", 1), previous ? QString("previous\n") : QString());
    }
};

QTEST_GUILESS_MAIN(TestFullDisk)
#include "tst_full_disk.moc"
