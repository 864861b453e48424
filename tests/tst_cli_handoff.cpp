// tunelab-cli without LibTorch: the commands that do not train run in tunelab-cli alone, the ones
// that train are parsed there and go on in tunelab-cli-training, wherever it is installed.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "cli_test_support.h"

using namespace tunelab::test;

namespace {

CliResult runProgram(const QString& program, const QStringList& arguments) {
    return runProgramFor(program, arguments, 120000);
}

// A copy of `program` at `path` (folders made), executable.
bool copyProgram(const QString& program, const QString& path) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    return QFile::copy(program, path) &&
           QFile::setPermissions(path, QFile::permissions(program) | QFileDevice::ExeOwner);
}

} // namespace

class TestCliHandoff : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void doesNotLinkLibTorchOrQt() {
        const CliResult ldd = runProgram("ldd", {TUNELAB_CLI});
        if (ldd.exitCode != 0)
            QSKIP("ldd cannot read tunelab-cli here");
        for (const char* library : {"libtorch", "libc10", "libQt6", "libopenblas", "libgomp"})
            QVERIFY2(!ldd.out.contains(library), qPrintable(QString("tunelab-cli loads ") + library));
        const CliResult training = runProgram("ldd", {TUNELAB_CLI_TRAINING});
        QVERIFY2(training.out.contains("libtorch") || training.out.contains("libc10"),
                 "tunelab-cli-training should be the one with LibTorch");
    }

    // A copy of tunelab-cli alone in a folder has every command that does not train.
    void commandsThatDoNotTrainNeedNothingElse() {
        QTemporaryDir folder;
        const QString alone = folder.filePath("bin/tunelab-cli");
        QVERIFY(copyProgram(TUNELAB_CLI, alone));
        const QString store = folder.filePath("runs.db");
        QCOMPARE(runProgram(alone, {"--version"}).exitCode, 0);
        const QString space =
            writeFile(folder, "space.json",
                      R"({"parameters": [{"path": "x", "kind": "float", "low": -1, "high": 1}]})");
        const CliResult optimize =
            runProgram(alone, {"optimize", "--db", store, "--space", space, "--trials", "3", "--sampler",
                               "random", "--name", "echo", "--command", "echo 1"});
        QVERIFY2(optimize.exitCode == 0, qPrintable(optimize.err));
        for (const QStringList& command :
             {QStringList{"study", "list"}, QStringList{"study", "status", "echo"},
              QStringList{"runs", "list"}}) {
            const CliResult listed = runProgram(alone, command + QStringList{"--db", store});
            QVERIFY2(listed.exitCode == 0, qPrintable(command.join(' ') + ": " + listed.err));
        }
    }

    // Help and option errors of a training command answer before any hand-off.
    void trainingCommandLinesAreCheckedFirst() {
        QTemporaryDir folder;
        const QString alone = folder.filePath("bin/tunelab-cli");
        QVERIFY(copyProgram(TUNELAB_CLI, alone));
        const CliResult badEpochs = runProgram(alone, {"train", "--default", "--epochs", "0"});
        QCOMPARE(badEpochs.exitCode, 2);
        QVERIFY2(badEpochs.err.contains("--epochs"), qPrintable(badEpochs.err));
        const CliResult help = runProgram(alone, {"race", "--help"});
        QCOMPARE(help.exitCode, 0);
        QVERIFY2(help.out.contains("--csv"), qPrintable(help.out));
    }

    void missingTrainingProgramIsNamed() {
        QTemporaryDir folder;
        const QString alone = folder.filePath("bin/tunelab-cli");
        QVERIFY(copyProgram(TUNELAB_CLI, alone));
        const CliResult train =
            runProgram(alone, {"train", "--default", "--epochs", "1", "--db", folder.filePath("runs.db")});
        QCOMPARE(train.exitCode, 3);
        QVERIFY2(train.err.contains("tunelab-cli-training") && train.err.contains("reinstall"),
                 qPrintable(train.err));
        QVERIFY2(!QFile::exists(folder.filePath("runs.db")) ||
                     runProgram(alone, {"runs", "list", "--db", folder.filePath("runs.db")})
                         .out.trimmed()
                         .isEmpty(),
                 "nothing may be recorded when the training program is missing");
    }

    // Installed: bin/tunelab-cli and libexec/tunelab/tunelab-cli-training.
    void installedLayoutTrains() {
        QTemporaryDir folder;
        const QString cli = folder.filePath("bin/tunelab-cli");
        QVERIFY(copyProgram(TUNELAB_CLI, cli));
        QVERIFY(copyProgram(TUNELAB_CLI_TRAINING, folder.filePath("libexec/tunelab/tunelab-cli-training")));
        const QString store = folder.filePath("runs.db");
        const CliResult train =
            runProgram(cli, {"train", "--default", "--epochs", "1", "--db", store, "--json"});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        QCOMPARE(train.lastJsonLine().value("status").toString(), QString("completed"));
        const CliResult runs = runProgram(cli, {"runs", "list", "--db", store});
        QVERIFY2(runs.out.contains("completed"), qPrintable(runs.out));
    }
};

QTEST_GUILESS_MAIN(TestCliHandoff)
#include "tst_cli_handoff.moc"
