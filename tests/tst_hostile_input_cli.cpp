// tunelab-cli given hostile input: a store that is not sound, names meant to drive the terminal, and
// settings that would ask for millions of threads.
#include "cli_test_support.h"
#include "run_store_test_support.h"

#include <sys/resource.h>

using namespace tunelab;
using namespace tunelab::test;

namespace {

CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 60000);
}

// Sets the window title, then clears the screen; a C1 CSI (U+009B) too.
const QString kHostileName = QStringLiteral("x\x1b]0;owned\x07\x1b[2J\u009by");
const QString kHostileSql =
    QStringLiteral("'x' || char(27) || ']0;owned' || char(7) || char(27) || '[2J' || char(155) || 'y'");

bool makeStore(const QString& path) {
    auto store = openStore(path);
    if (!store)
        return false;
    const auto id = store->createRun("plain", "{}");
    if (!id.ok())
        return false;
    store->onRunEvent(startedEvent(id.value(), "cpu"));
    store->onRunEvent(stepsEvent(id.value(), makeSteps(1, 400, 1)));
    store->flush();
    return true;
}

} // namespace

class TestHostileInputCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // A study file with mistakes is refused before any run store is made for it.
    void aBadStudyFileMakesNoStore_data() {
        QTest::addColumn<QString>("verb");
        QTest::newRow("create") << "create";
        QTest::newRow("run") << "run";
    }
    void aBadStudyFileMakesNoStore() {
        QFETCH(QString, verb);
        QTemporaryDir dir;
        QFile file(dir.filePath("study.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"name": "x", "space": {"parameters": []}, "sampler": "bogus"})");
        file.close();
        const QString db = dir.filePath("runs.sqlite");
        const CliResult result = runCli({"study", verb, file.fileName(), "--db", db});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains("sampler.type: unknown sampler 'bogus'"), qPrintable(result.err));
        QVERIFY(!QFile::exists(db));
    }

    void checkSaysOkForASoundStore() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path));
        const CliResult result = runCli({"store", "check", "--db", path});
        QCOMPARE(result.exitCode, 0);
        QVERIFY2(result.out.contains(path + ": ok"), qPrintable(result.out));
    }

    void checkListsTheDamage() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray bytes = file.readAll();
        for (int i = bytes.size() - 2 * 4096; i < bytes.size() - 4096; ++i)
            bytes[i] = static_cast<char>(i * 131);
        file.seek(0);
        file.write(bytes);
        file.close();
        const CliResult check = runCli({"store", "check", "--db", path});
        QCOMPARE(check.exitCode, 4);
        QVERIFY2(check.err.contains("is damaged"), qPrintable(check.err));
        // A command that would write refuses, and says how to read what is left.
        const CliResult train = runCli({"train", "--default", "--db", path, "--epochs", "1"});
        QCOMPARE(train.exitCode, 2);
        QVERIFY2(train.err.contains("will not write into it") && train.err.contains("runs list --db"),
                 qPrintable(train.err));
    }

    void unreadableRecordsAreNotReportedAsMissing_data() {
        QTest::addColumn<QString>("table");
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("study status") << "studies" << QStringList{"study", "status", "kept"};
        QTest::newRow("study delete") << "studies" << QStringList{"study", "delete", "kept"};
        QTest::newRow("runs show") << "runs" << QStringList{"runs", "show", "1"};
    }
    void unreadableRecordsAreNotReportedAsMissing() {
        QFETCH(QString, table);
        QFETCH(QStringList, arguments);
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path));
        {
            auto store = openStore(path);
            QVERIFY(store && store->createStudy("kept", "{}").ok());
        }
        qint64 page = 0;
        {
            RawDb raw(path);
            page = raw.number("SELECT rootpage FROM sqlite_master WHERE name = '" + table + "'");
        }
        QVERIFY(page > 1);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray bytes = file.readAll();
        for (qint64 i = (page - 1) * 4096; i < page * 4096; ++i)
            bytes[int(i)] = static_cast<char>(i * 131);
        file.seek(0);
        file.write(bytes);
        file.close();
        // The study (or run) is there but unreadable: saying it does not exist, and inviting the user to
        // create it again, would mislead.
        const CliResult result = runCli(arguments + QStringList{"--db", path});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains("the run store is damaged") && result.err.contains("store check --db") &&
                     !result.err.contains("create one"),
                 qPrintable(result.err));
    }

    void anEmptyFileStaysEmpty() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(QFile(path).open(QIODevice::WriteOnly));
        for (const QStringList& arguments :
             {QStringList{"store", "check", "--db", path}, QStringList{"runs", "list", "--db", path},
              QStringList{"train", "--default", "--db", path, "--epochs", "1"}}) {
            const CliResult result = runCli(arguments);
            QVERIFY2(result.exitCode == 2 || result.exitCode == 4, qPrintable(arguments.join(' ')));
            QVERIFY2(result.err.contains("the file is empty"), qPrintable(result.err));
        }
        QCOMPARE(QFileInfo(path).size(), qint64(0));
    }

    // Names, keys and messages reach the terminal from stores and files the user may not trust: every
    // command's output writes their control characters as \xNN escapes.
    void textFromStoresAndFilesCannotDriveTheTerminal_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<bool>("onStderr");
        QTest::newRow("runs list") << QStringList{"runs", "list"} << false;
        QTest::newRow("study list") << QStringList{"study", "list"} << false;
        QTest::newRow("study status") << QStringList{"study", "status", kHostileName} << false;
        QTest::newRow("unknown study") << QStringList{"study", "status", kHostileName + "2"} << true;
        QTest::newRow("spec key") << QStringList{"validate", "SPEC"} << true;
    }
    void textFromStoresAndFilesCannotDriveTheTerminal() {
        QFETCH(QStringList, arguments);
        QFETCH(bool, onStderr);
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        QVERIFY(makeStore(path));
        const QString space = writeFile(
            dir, "space.json", R"({"parameters": [{"path": "x", "kind": "float", "low": 0, "high": 1}]})");
        QCOMPARE(runCli({"optimize", "--space", space, "--command", "echo 0.5", "--trials", "1", "--name",
                         "plain", "--db", path})
                     .exitCode,
                 0);
        {
            RawDb raw(path);
            QVERIFY(raw.exec(QStringLiteral("UPDATE runs SET name = %1").arg(kHostileSql)));
            QVERIFY(raw.exec(QStringLiteral("UPDATE studies SET name = %1").arg(kHostileSql)));
        }
        const QString spec = writeFile(dir, "spec.json",
                                       "{\"name\": \"s\", \"x\\u001b]0;owned\\u0007\\u001b[2J\\u009by\": 1}");
        arguments.replaceInStrings("SPEC", spec);
        if (arguments.first() != "validate")
            arguments << "--db" << path;
        const CliResult result = runCli(arguments);
        const QString shown = onStderr ? result.err : result.out;
        const QString both = result.out + result.err;
        QVERIFY2(!both.contains(QChar(27)) && !both.contains(QChar(7)) && !both.contains(QChar(0x9b)),
                 qPrintable(both));
        QVERIFY2(shown.contains("x\\x1b]0;owned\\x07\\x1b[2J\\xc2\\x9by"), qPrintable(both));
    }

    void studyNamesCannotDriveTheTerminal_data() {
        QTest::addColumn<QStringList>("arguments");
        const QString name = QStringLiteral("x") + QChar(27) + "[2J" + QChar(27) + "]0;owned" + QChar(7);
        QTest::newRow("study create --name")
            << QStringList{"study", "create", "space-study.json", "--name", name};
        QTest::newRow("optimize --name") << QStringList{
            "optimize", "--space", "space.json", "--command", "echo 1", "--trials", "1", "--name", name};
    }

    // --name bypassed the study file's check on names: the study was stored, and its name then
    // cleared the screen in `study list` (and optimize could not load what it had just stored).
    void studyNamesCannotDriveTheTerminal() {
        QFETCH(QStringList, arguments);
        QTemporaryDir dir;
        QVERIFY(!writeFile(dir, "space.json",
                           R"({"parameters": [{"path": "x", "kind": "float", "low": 0, "high": 1}]})")
                     .isEmpty());
        QVERIFY(!writeFile(dir, "space-study.json", R"({"space": "space.json"})").isEmpty());
        for (QString& argument : arguments) {
            if (argument.endsWith(".json"))
                argument = dir.filePath(argument);
        }
        const QString db = dir.filePath("runs.sqlite");
        const CliResult result = runCli(arguments << "--db" << db);
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(
            result.err.contains("study name 'x\\x1b[2J\\x1b]0;owned\\x07': contains a control character"),
            qPrintable(result.err));
        QVERIFY2(!result.err.contains(QChar(27)) && !result.out.contains(QChar(27)), qPrintable(result.err));
        const CliResult list = runCli({"study", "list", "--db", db});
        QVERIFY2(!list.out.contains("x"), qPrintable(list.out));
    }

    // A name stored by an older TuneLab (or another program) is shown escaped.
    void storedStudyNamesAreShownEscaped() {
        QTemporaryDir dir;
        const QString space = writeFile(
            dir, "space.json", R"({"parameters": [{"path": "x", "kind": "float", "low": 0, "high": 1}]})");
        const QString study = writeFile(dir, "plain.json", R"({"space": "space.json"})");
        const QString db = dir.filePath("runs.sqlite");
        QCOMPARE(runCli({"study", "create", study, "--db", db}).exitCode, 0);
        {
            RawDb raw(db);
            QVERIFY(raw.exec(
                QStringLiteral("UPDATE studies SET name = 'x' || char(27) || '[2J' || char(155) || 'y'")));
        }
        const QString name = QStringLiteral("x") + QChar(27) + "[2J" + QChar(0x9b) + "y";
        for (const QStringList& arguments :
             {QStringList{"study", "list", "--db", db}, QStringList{"study", "status", name, "--db", db},
              QStringList{"study", "status", name + "z", "--db", db}}) {
            const CliResult result = runCli(arguments);
            const QString all = result.out + result.err;
            QVERIFY2(!all.contains(QChar(27)) && !all.contains(QChar(0x9b)), qPrintable(arguments.join(' ')));
            QVERIFY2(all.contains("x\\x1b[2J\\xc2\\x9by"), qPrintable(all));
        }
    }

    void resourceBombsAreRefusedWithAReason_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("expected");
        QTest::newRow("train --threads 100000") << QStringList{"train", "--default", "--threads", "100000"}
                                                << "threads 100000 is more than this machine's";
        QTest::newRow("race --threads 100000") << QStringList{"race", "race.json", "--threads", "100000"}
                                               << "--threads 100000 is more than this machine's";
        QTest::newRow("optimize --parallel 100000")
            << QStringList{"optimize", "--space", "space.json", "--command", "true", "--parallel", "100000"}
            << "--parallel 100000 is more than the 1024 trials TuneLab runs at once";
        const QString pastPerCore = QString::number(4 * QThread::idealThreadCount() + 1);
        QTest::newRow("optimize --parallel past 4 per core")
            << QStringList{"optimize", "--space",    "space.json", "--command",
                           "true",     "--parallel", pastPerCore}
            << "trials per core on this machine's";
    }

    void resourceBombsAreRefusedWithAReason() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        // The files exist (the command line checks that first); the limits are checked before they are read.
        for (QString& argument : arguments) {
            if (argument.endsWith(".json")) {
                argument = writeFile(dir, argument, "{}");
                QVERIFY(!argument.isEmpty());
            }
        }
        arguments << "--db" << dir.filePath("runs.sqlite");
        QElapsedTimer timer;
        timer.start();
        const CliResult result = runCli(arguments);
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(expected), qPrintable(result.err));
        QVERIFY(!QFileInfo::exists(dir.filePath("runs.sqlite")) || expected.contains("threads"));
    }

    // A layer 10^8 wide under a 6 GiB limit (ulimit -v) fails at once, with the numbers, instead of
    // allocating for a minute first.
    void aNetworkTooLargeForTheProcessFailsAtOnce() {
        QTemporaryDir dir;
        const QString spec = writeFile(
            dir, "wide.json",
            "{\"name\": \"wide\", \"data\": {\"kind\": \"moons\", \"samples\": 100}, \"model\": {\"layers\": "
            "[{\"type\": \"linear\", \"out_features\": 100000000}, {\"type\": \"relu\"}, {\"type\": "
            "\"linear\", \"out_features\": 2}]}, \"training\": {\"epochs\": 1}}");
        const CliResult result = runCliFor({"train", spec, "--db", dir.filePath("runs.sqlite")}, 60000, [] {
            const rlim_t sixGiB = rlim_t{6} << 30;
            rlimit limit{sixGiB, sixGiB};
            setrlimit(RLIMIT_AS, &limit);
        });
        QCOMPARE(result.exitCode, 3);
        QVERIFY2(result.err.contains("parameters need about 8.0 GB") &&
                     result.err.contains("this process may use"),
                 qPrintable(result.err));
    }
};

QTEST_GUILESS_MAIN(TestHostileInputCli)
#include "tst_hostile_input_cli.moc"
