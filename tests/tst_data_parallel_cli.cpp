#include "cli_test_support.h"
#include "common/loopback_port.h"
#include "store/run_store.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QProcess>
#include <QThread>
#include <QtTest>

#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

using namespace tunelab;
using tunelab::test::CliResult;
using tunelab::test::runCliFor;
using tunelab::test::runProgramFor;
using tunelab::test::writeFile;

// `tunelab-cli train --world-size N` and processes joined by the launchers' variables: one run
// trained by several real processes, recorded once, and what happens when one of them dies.

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitRunFailed = 3;
constexpr int kExitInterrupted = 130;

QByteArray moonsSpec(int epochs) {
    return QString(R"({
  "name": "moons-together", "seed": 4, "device": "cpu",
  "data": { "kind": "moons", "samples": 1200, "noise": 0.2, "validation_fraction": 0.2 },
  "model": { "layers": [ {"type": "linear", "out_features": 32}, {"type": "tanh"},
                         {"type": "linear", "out_features": 32}, {"type": "tanh"},
                         {"type": "linear", "out_features": 2} ] },
  "loss": { "type": "cross_entropy" },
  "optimizer": { "type": "adam", "lr": 0.01 },
  "training": { "epochs": %1, "batch_size": 50 }
})")
        .arg(epochs)
        .toUtf8();
}

// The processes `parent` started, from /proc.
QList<pid_t> childrenOf(qint64 parent) {
    QList<pid_t> children;
    QDir tasks(QString("/proc/%1/task").arg(parent));
    for (const QString& task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        std::ifstream file(tasks.filePath(task + "/children").toStdString());
        pid_t pid = 0;
        while (file >> pid)
            children.append(pid);
    }
    return children;
}

std::unique_ptr<RunStore> openStore(const QString& path) {
    auto opened = RunStore::openForReading(path.toStdString());
    return opened.ok() ? opened.take() : nullptr;
}

QProcessEnvironment rankEnvironment(int rank, int size, int port) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("OPENBLAS_NUM_THREADS", "1");
    environment.insert("RANK", QString::number(rank));
    environment.insert("WORLD_SIZE", QString::number(size));
    environment.insert("MASTER_ADDR", "127.0.0.1");
    environment.insert("MASTER_PORT", QString::number(port));
    return environment;
}

} // namespace

class TestDataParallelCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_folder;

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_folder.isValid());
        const CliResult help = runCliFor({"train", "--help"}, 30000);
        QVERIFY(help.out.contains("--world-size"));
    }

    // The launcher starts the other process, rank 0 records one run, and its curve is the one a
    // single process trains.
    void worldSizeTwoRecordsOneRunWithTheSingleProcessCurve() {
        const QString spec = writeFile(m_folder, "moons.json", moonsSpec(3));
        const QString db = m_folder.filePath("together.db");
        const CliResult alone = runCliFor({"train", spec, "--db", db, "--json", "--threads", "1"}, 60000);
        QCOMPARE(alone.exitCode, 0);
        const CliResult together =
            runCliFor({"train", spec, "--db", db, "--json", "--world-size", "2"}, 60000);
        QVERIFY2(together.exitCode == 0, qPrintable(together.err));
        const QJsonObject result = together.lastJsonLine();
        QCOMPARE(result["status"].toString(), QString("completed"));
        QVERIFY(result["message"].toString().contains("trained by 2 processes (data parallel over gloo)"));
        QVERIFY(together.err.contains("training over 2 processes"));

        auto store = openStore(db);
        QVERIFY(store);
        QCOMPARE(int(store->listRuns().size()), 2); // the single-process run and the two-process one
        const auto single = store->steps(alone.lastJsonLine()["run_id"].toInt());
        const auto parallel = store->steps(result["run_id"].toInt());
        QCOMPARE(parallel.size(), single.size());
        QVERIFY(parallel.size() >= 50);
        for (size_t i = 0; i < 50; ++i) {
            const double difference = std::abs(parallel[i].trainLoss - single[i].trainLoss) /
                                      std::max(1e-12, double(std::abs(single[i].trainLoss)));
            QVERIFY2(difference <= 1e-5, qPrintable(QString("step %1: %2").arg(i + 1).arg(difference)));
        }
    }

    // torchrun's and srun's way: each process started on its own, told its place by variables.
    void processesJoinedByVariablesTrainOneRun() {
        const QString spec = writeFile(m_folder, "moons-vars.json", moonsSpec(2));
        const QString db = m_folder.filePath("variables.db");
        const int port = freeLoopbackPort();
        QProcess other;
        other.setProcessEnvironment(rankEnvironment(1, 2, port));
        other.start(TUNELAB_CLI, {"train", spec, "--db", db, "--json", "--threads", "1"});
        QVERIFY(other.waitForStarted());
        QProcess first;
        first.setProcessEnvironment(rankEnvironment(0, 2, port));
        first.start(TUNELAB_CLI, {"train", spec, "--db", db, "--json", "--threads", "1"});
        QVERIFY(first.waitForFinished(60000));
        QVERIFY(other.waitForFinished(60000));
        QCOMPARE(first.exitCode(), 0);
        QCOMPARE(other.exitCode(), 0);
        QVERIFY(other.readAllStandardOutput().isEmpty()); // only rank 0 reports
        auto store = openStore(db);
        QVERIFY(store);
        QCOMPARE(int(store->listRuns().size()), 1);
        QCOMPARE(toString(store->listRuns().front().status), "completed");
    }

    // A killed process stops the run within seconds: rank 0 records it failed, saying what happened,
    // with every step trained before, and its launcher names the process that died.
    void aKilledProcessFailsTheRunAndKeepsItsSteps() {
        const QString spec = writeFile(m_folder, "moons-long.json", moonsSpec(100000));
        const QString db = m_folder.filePath("killed.db");
        QProcess launcher;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("OPENBLAS_NUM_THREADS", "1");
        launcher.setProcessEnvironment(environment);
        launcher.start(TUNELAB_CLI, {"train", spec, "--db", db, "--json", "--world-size", "2"});
        QVERIFY(launcher.waitForStarted());
        QElapsedTimer timer;
        timer.start();
        bool training = false;
        while (!training && timer.elapsed() < 30000) {
            QThread::msleep(100);
            launcher.waitForReadyRead(10);
            training = launcher.peek(1 << 20).contains("epoch 2") ||
                       launcher.readAllStandardError().contains("epoch 2");
        }
        const QList<pid_t> children = childrenOf(launcher.processId());
        QCOMPARE(children.size(), 1);
        ::kill(children.front(), SIGKILL);
        timer.restart();
        QVERIFY(launcher.waitForFinished(30000));
        QVERIFY2(timer.elapsed() < 15000, qPrintable(QString::number(timer.elapsed())));
        QCOMPARE(launcher.exitCode(), kExitRunFailed);
        const QString err = QString::fromUtf8(launcher.readAllStandardError());
        QVERIFY2(err.contains("lost the others"), qPrintable(err));
        QVERIFY2(err.contains("process 1 of 2 (pid " + QString::number(children.front()) +
                              ") was killed by signal 9"),
                 qPrintable(err));
        auto store = openStore(db);
        QVERIFY(store);
        const auto runs = store->listRuns();
        QCOMPARE(int(runs.size()), 1);
        QCOMPARE(toString(runs.front().status), "failed");
        QVERIFY(QString::fromStdString(runs.front().summary.message).contains("lost the others"));
        QVERIFY(store->steps(runs.front().id).size() > 24);
    }

    // Ctrl-C or a SIGTERM to the launcher stops every process after the same step; the run is kept.
    void aStopEndsEveryProcessAndKeepsTheRun() {
        const QString spec = writeFile(m_folder, "moons-stop.json", moonsSpec(100000));
        const QString db = m_folder.filePath("stopped.db");
        QProcess launcher;
        launcher.start(TUNELAB_CLI, {"train", spec, "--db", db, "--world-size", "2"});
        QVERIFY(launcher.waitForStarted());
        QElapsedTimer timer;
        timer.start();
        while (!launcher.peek(1 << 20).contains("epoch 2") && timer.elapsed() < 30000)
            launcher.waitForReadyRead(100);
        const QList<pid_t> children = childrenOf(launcher.processId());
        QCOMPARE(children.size(), 1);
        ::kill(static_cast<pid_t>(launcher.processId()), SIGTERM);
        QVERIFY(launcher.waitForFinished(30000));
        QCOMPARE(launcher.exitCode(), kExitInterrupted);
        QVERIFY(!QDir(QString("/proc/%1").arg(children.front())).exists());
        auto store = openStore(db);
        QVERIFY(store);
        QCOMPARE(toString(store->listRuns().front().status), "stopped");
    }

    void wrongVariablesAreRefusedBeforeTraining_data() {
        QTest::addColumn<QStringList>("variables");
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QString>("message");
        QTest::newRow("rank without size")
            << QStringList{"RANK=1"} << QStringList{} << "WORLD_SIZE is not set";
        QTest::newRow("rank past the size")
            << QStringList{"RANK=2", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=5000"}
            << QStringList{} << "RANK=\"2\"";
        QTest::newRow("disagreeing sizes")
            << QStringList{"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=5000"}
            << QStringList{"--world-size", "3"} << "--world-size 3 disagrees";
    }
    void wrongVariablesAreRefusedBeforeTraining() {
        QFETCH(QStringList, variables);
        QFETCH(QStringList, options);
        QFETCH(QString, message);
        const QString spec = writeFile(m_folder, "moons-bad.json", moonsSpec(1));
        const QString db = m_folder.filePath("refused.db");
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const QString& variable : variables)
            environment.insert(variable.section('=', 0, 0), variable.section('=', 1));
        const CliResult result =
            runProgramFor(TUNELAB_CLI, QStringList{"train", spec, "--db", db} + options, 30000, environment);
        QCOMPARE(result.exitCode, kExitBadInput);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
        QVERIFY(!QFile::exists(db)); // nothing recorded
    }
};

QTEST_GUILESS_MAIN(TestDataParallelCli)
#include "tst_data_parallel_cli.moc"
