// `tunelab-cli worker` against a shared store, with the faults a cluster meets: a worker killed in
// the middle of a trial (its trial is failed as stale and retried by another worker) and, on a
// PostgreSQL server, the server restarting under a running study (the worker reconnects and
// finishes). Runs on a SQLite file and, as tst_worker_cli_postgres, on a PostgreSQL server.

#include "cli_test_support.h"
#include "study_cli_test_support.h"
#include "study_store_test_support.h"

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>

#include <algorithm>
#include <chrono>
#include <thread>

#include <signal.h>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// A study whose trials each train for about a second, with a short grace period.
QByteArray slowStudy(const QByteArray& name, int trials, double graceSeconds) {
    return R"({"name": ")" + name + R"(", "experiment": "experiment.json",
      "space": {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1, "log": true}]},
      "sampler": {"type": "random", "seed": 1}, "pruner": "none",
      "objective": {"metric": "val_accuracy", "direction": "maximize"},
      "budget": {"trials": )" +
           QByteArray::number(trials) + R"(}, "heartbeat": {"grace_seconds": )" +
           QByteArray::number(graceSeconds) + "}}";
}

// Starts `tunelab-cli worker` for the study, with single-threaded BLAS.
void startWorker(QProcess& worker, const QString& location, const QString& study) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("OPENBLAS_NUM_THREADS", "1");
    worker.setProcessEnvironment(environment);
    worker.start(TUNELAB_CLI, {"worker", "--storage", location, "--study", study, "--threads", "1"});
}

// Waits until `ready` holds for the study's trials (read afresh each time), at most `seconds`.
template <typename Ready>
bool waitForTrials(const QString& location, const std::string& study, double seconds, Ready ready) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < seconds * 1000) {
        auto store = RunStore::openForReading(location.toStdString());
        if (store.ok()) {
            if (const auto record = store.value()->findStudy(study);
                record && ready(store.value()->trials(record->id)))
                return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

} // namespace

class TestWorkerCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void killedWorkersTrialIsRetriedByAnother();
    void hungWorkersTrialIsRetriedByAnother();
    void workerFinishesAcrossAServerRestart();
    void workerNeedsAStudy();
    void thousandFastTrialsOverFourProcesses();
    void workerDoesNotWaitForAskedTrials();
    void aStudyIsDeletedUnderItsWorkerOnlyByForce();
};

// Killed on this host: the next worker sees that its process is gone and runs its trial again.
void TestWorkerCli::killedWorkersTrialIsRetriedByAnother() {
    QTemporaryDir folder;
    TUNELAB_STORE_LOCATION(location, folder, QStringLiteral("runs.sqlite"));
    writeFile(folder, "experiment.json", moonsExperiment(1000, 160, 16));
    const QString studyFile = writeFile(folder, "study.json", slowStudy("shared", 3, 60.0));
    QCOMPARE(runCliFor({"study", "create", studyFile, "--storage", location}, 60000).exitCode, 0);
    QProcess first;
    startWorker(first, location, "shared");
    QVERIFY(waitForTrials(location, "shared", 60, [](const auto& trials) {
        return std::any_of(trials.begin(), trials.end(),
                           [](const TrialRecord& trial) { return trial.state == TrialState::Running; });
    }));
    first.kill(); // kill -9: the store file's locks go with the process
    first.waitForFinished();

    QProcess second;
    startWorker(second, location, "shared");
    QVERIFY2(second.waitForFinished(90000), "the second worker did not finish the study");
    QCOMPARE(second.exitCode(), 0);
    auto reader = RunStore::openForReading(location.toStdString());
    QVERIFY(reader.ok());
    const auto trials = reader.value()->trials(reader.value()->findStudy("shared")->id);
    QCOMPARE(trials.size(), size_t(3));
    for (const auto& trial : trials)
        QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
}

// Hung on another host (stopped: alive but silent, as a frozen machine or a cut network looks): its
// trial goes stale after the grace period, fails with its values kept, and is retried by the other
// worker, which then finishes the study. On the server run, where the server releases a hung
// worker's locks; a stopped process holding a SQLite file's write lock stops every process on that
// file, which is one more reason a file is for one host.
void TestWorkerCli::hungWorkersTrialIsRetriedByAnother() {
    if (!storeOnServer())
        QSKIP("a worker hung while it may hold locks: the PostgreSQL run of this suite");
    QTemporaryDir folder;
    TUNELAB_STORE_LOCATION(location, folder, QStringLiteral("runs.sqlite"));
    writeFile(folder, "experiment.json", moonsExperiment(1000, 160, 16));
    const QString studyFile = writeFile(folder, "study.json", slowStudy("shared", 3, 2.0));
    const CliResult created = runCliFor({"study", "create", studyFile, "--storage", location}, 60000);
    QVERIFY2(created.exitCode == 0, qPrintable(created.err));

    // The first worker hangs in the middle of a trial (stopped: alive, but silent, as a host that
    // froze or left the network); the second finishes the study and retries the silent trial.
    QProcess first;
    startWorker(first, location, "shared");
    QVERIFY(waitForTrials(location, "shared", 60, [](const auto& trials) {
        return std::any_of(trials.begin(), trials.end(),
                           [](const TrialRecord& trial) { return trial.state == TrialState::Running; });
    }));
    ::kill(static_cast<pid_t>(first.processId()), SIGSTOP);
    auto reader = RunStore::openForReading(location.toStdString());
    QVERIFY(reader.ok());
    const StudyId study = reader.value()->findStudy("shared")->id;
    int64_t silent = -1;
    for (const auto& trial : reader.value()->trials(study))
        if (trial.state == TrialState::Running)
            silent = trial.number;
    if (silent < 0) {
        first.kill();
        first.waitForFinished();
        QSKIP("the first worker finished its trial just before it was stopped; nothing to retry");
    }
    QProcess second;
    startWorker(second, location, "shared");
    const auto killFirst = qScopeGuard([&] {
        first.kill();
        first.waitForFinished();
    });
    QVERIFY2(second.waitForFinished(90000), "the second worker did not finish the study");
    QCOMPARE(second.exitCode(), 0);
    const auto trials = reader.value()->trials(study);
    QCOMPARE(trials.size(), size_t(4)); // the budget, and the failed attempt that was retried
    int complete = 0;
    for (const auto& trial : trials) {
        if (trial.number == silent) {
            QCOMPARE(name(trial.state), QStringLiteral("failed"));
            QVERIFY2(trial.message.rfind("stale: the process that ran it (pid ", 0) == 0,
                     trial.message.c_str());
            // The dead attempt's training run (when it got as far as one) reads as interrupted, not as
            // running forever.
            if (trial.runId > 0) {
                const auto run = reader.value()->run(trial.runId);
                QVERIFY(run);
                QCOMPARE(name(run->status), QStringLiteral("interrupted"));
            }
            continue;
        }
        QCOMPARE(name(trial.state), QStringLiteral("complete"));
        ++complete;
        if (trial.retryOf >= 0) {
            QCOMPARE(trial.retryOf, silent);
            QVERIFY(trial.params == trials[size_t(silent)].params);
        }
    }
    QCOMPARE(complete, 3);
    QCOMPARE(std::count_if(trials.begin(), trials.end(),
                           [](const TrialRecord& trial) { return trial.retryOf >= 0; }),
             std::ptrdiff_t(1));
    const QString output = QString::fromUtf8(second.readAllStandardOutput());
    QVERIFY2(output.contains("4 trials (3 complete, 0 pruned, 1 failed)"), qPrintable(output));
}

void TestWorkerCli::workerFinishesAcrossAServerRestart() {
    if (!storeOnServer())
        QSKIP("a server restart: the PostgreSQL run of this suite");
    // A server of this test's own, so that the restart cuts no other suite's connections.
    const QString serverDir =
        QDir::tempPath() + "/tunelab-restart-" + QString::number(QCoreApplication::applicationPid());
    const QString script = QStringLiteral(TUNELAB_SOURCE_DIR "/tests/postgres/postgres_server.sh");
    const CliResult started = runProgramFor(script, {"start", serverDir, "5433"}, 60000);
    QVERIFY2(started.exitCode == 0, qPrintable(started.err));
    QFile urlFile(serverDir + "/url");
    if (!urlFile.open(QIODevice::ReadOnly))
        QSKIP("no PostgreSQL server could be started for the restart");
    const QString adminUrl = QString::fromUtf8(urlFile.readAll()).trimmed();
    const auto stopServer = qScopeGuard([&] { runProgramFor(script, {"stop", serverDir}, 60000); });
    const CliResult database = runProgramFor("psql", {adminUrl, "-qc", "CREATE DATABASE restarted"}, 30000);
    QVERIFY2(database.exitCode == 0, qPrintable(database.err));
    QString location = adminUrl;
    location.replace("/postgres?", "/restarted?");

    QTemporaryDir folder;
    // Trials of a few seconds each: the restart must come while a trial after the first is running,
    // and a trial of a fraction of a second could start and finish between two looks at the store.
    writeFile(folder, "experiment.json", moonsExperiment(1000, 160, 16));
    const QString studyFile = writeFile(folder, "study.json", slowStudy("restarted", 4, 30.0));
    QCOMPARE(runCliFor({"study", "create", studyFile, "--storage", location}, 60000).exitCode, 0);
    QProcess worker;
    startWorker(worker, location, "restarted");
    const bool secondTrialRunning = waitForTrials(location, "restarted", 90, [](const auto& trials) {
        return std::any_of(trials.begin(), trials.end(), [](const TrialRecord& trial) {
            return trial.number >= 1 && trial.state == TrialState::Running;
        });
    });
    QVERIFY2(secondTrialRunning,
             qPrintable(QString("no trial after the first was seen running; the worker %1, its errors: %2")
                            .arg(worker.state() == QProcess::Running
                                     ? QStringLiteral("still runs")
                                     : QString("exited with %1").arg(worker.exitCode()))
                            .arg(QString::fromUtf8(worker.readAllStandardError()).right(2000))));
    const CliResult restarted = runProgramFor(script, {"restart", serverDir}, 60000);
    QVERIFY2(restarted.exitCode == 0, qPrintable(restarted.err));

    QVERIFY2(worker.waitForFinished(120000), "the worker did not finish after the restart");
    const QString errors = QString::fromUtf8(worker.readAllStandardError());
    QVERIFY2(worker.exitCode() == 0,
             qPrintable(QString("exit code %1; %2").arg(worker.exitCode()).arg(errors.right(2000))));
    QVERIFY2(!errors.contains("could not save"), qPrintable(errors));
    auto store = RunStore::openForReading(location.toStdString());
    QVERIFY(store.ok());
    const auto trials = store.value()->trials(store.value()->findStudy("restarted")->id);
    QCOMPARE(trials.size(), size_t(4));
    for (const auto& trial : trials)
        QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
}

void TestWorkerCli::workerNeedsAStudy() {
    QTemporaryDir folder;
    TUNELAB_STORE_LOCATION(location, folder, QStringLiteral("runs.sqlite"));
    const CliResult missing = runCliFor({"worker", "--storage", location, "--study", "nowhere"}, 60000);
    QCOMPARE(missing.exitCode, 2);
    QVERIFY2(missing.err.contains("nowhere"), qPrintable(missing.err));
}

// 1,000 trials of a command that answers at once, pulled by four processes at the same time: every trial
// number is handed out once, none is lost, and every process gets its share.
void TestWorkerCli::thousandFastTrialsOverFourProcesses() {
    QTemporaryDir folder;
    TUNELAB_STORE_LOCATION(location, folder, QStringLiteral("runs.sqlite"));
    const QString studyFile = writeFile(
        folder, "fast.json",
        R"({"name": "fast", "space": {"parameters": [{"path": "x", "kind": "float", "low": -5, "high": 5}]},
            "sampler": {"type": "random", "seed": 1}, "budget": {"trials": 1000}})");
    QCOMPARE(runCliFor({"study", "create", studyFile, "--storage", location}, 60000).exitCode, 0);
    std::vector<std::unique_ptr<QProcess>> processes;
    for (int i = 0; i < 4; ++i) {
        processes.push_back(std::make_unique<QProcess>());
        processes.back()->start(TUNELAB_CLI,
                                {"optimize", "--name", "fast", "--storage", location, "--command", "echo 1"});
    }
    for (auto& process : processes) {
        QVERIFY2(process->waitForFinished(240000), "a process did not finish");
        QCOMPARE(process->exitCode(), 0);
        const QString output = QString::fromUtf8(process->readAllStandardError());
        QVERIFY2(output.contains(QStringLiteral(" complete ")), "a process evaluated no trial");
    }
    auto store = RunStore::openForReading(location.toStdString());
    QVERIFY(store.ok());
    const auto trials = store.value()->trials(store.value()->findStudy("fast")->id);
    QCOMPARE(trials.size(), size_t(1000));
    for (size_t i = 0; i < trials.size(); ++i) {
        QCOMPARE(trials[i].number, int64_t(i)); // numbers 0..999, each once
        QVERIFY2(trials[i].state == TrialState::Complete, trials[i].message.c_str());
    }
}

// A trial handed out by `ask` may take its evaluator as long as it likes (the study sets no grace for
// asked trials): the worker spends the budget and leaves it running.
void TestWorkerCli::workerDoesNotWaitForAskedTrials() {
    QTemporaryDir folder;
    TUNELAB_STORE_LOCATION(location, folder, QStringLiteral("runs.sqlite"));
    writeFile(folder, "experiment.json", moonsExperiment(200, 5, 32));
    const QString studyFile = writeFile(folder, "study.json", slowStudy("asked", 2, 2.0));
    QCOMPARE(runCliFor({"study", "create", studyFile, "--storage", location}, 60000).exitCode, 0);
    const CliResult asked = runCliFor({"ask", "--study", "asked", "--storage", location}, 60000);
    QVERIFY2(asked.exitCode == 0, qPrintable(asked.err));
    const CliResult worker = runCliFor({"worker", "--storage", location, "--study", "asked"}, 60000);
    QVERIFY2(worker.exitCode == 0, qPrintable(worker.err));
    auto store = RunStore::openForReading(location.toStdString());
    QVERIFY(store.ok());
    const auto trials = store.value()->trials(store.value()->findStudy("asked")->id);
    QCOMPARE(trials.size(), size_t(2));
    QCOMPARE(name(trials[0].state), QStringLiteral("running")); // still its evaluator's
    QVERIFY(!trials[0].ownedByProcess);
    QCOMPARE(name(trials[1].state), QStringLiteral("complete"));
}

// `study delete` refuses a study whose trials a live worker is evaluating, unless forced; the worker
// then stops with exit 4 and says why. A worker that was killed does not hold the study: its trial goes
// back to waiting and the study deletes.
void TestWorkerCli::aStudyIsDeletedUnderItsWorkerOnlyByForce() {
    QTemporaryDir folder;
    TUNELAB_STORE_LOCATION(location, folder, QStringLiteral("runs.sqlite"));
    writeFile(folder, "experiment.json", moonsExperiment(1000, 160, 16));
    const auto anyRunning = [](const auto& trials) {
        return std::any_of(trials.begin(), trials.end(),
                           [](const TrialRecord& trial) { return trial.state == TrialState::Running; });
    };
    for (const QByteArray name : {"busy", "abandoned"}) {
        const QString studyFile = writeFile(folder, name + ".json", slowStudy(name, 4, 60.0));
        QCOMPARE(runCliFor({"study", "create", studyFile, "--storage", location}, 60000).exitCode, 0);
    }

    QProcess worker;
    startWorker(worker, location, "busy");
    QVERIFY(waitForTrials(location, "busy", 60, anyRunning));
    const CliResult refused = runCliFor({"study", "delete", "busy", "--storage", location}, 60000);
    QCOMPARE(refused.exitCode, 2);
    QVERIFY2(refused.err.contains("has 1 running trial") && refused.err.contains("--force"),
             qPrintable(refused.err));
    const CliResult forced = runCliFor({"study", "delete", "busy", "--force", "--storage", location}, 60000);
    QVERIFY2(forced.exitCode == 0, qPrintable(forced.err));
    QVERIFY2(worker.waitForFinished(90000), "the worker did not stop");
    const QString workerErrors = QString::fromUtf8(worker.readAllStandardError());
    QCOMPARE(worker.exitCode(), 4);
    QVERIFY2(workerErrors.contains("the study was deleted while it ran"), qPrintable(workerErrors));

    QProcess killed;
    startWorker(killed, location, "abandoned");
    QVERIFY(waitForTrials(location, "abandoned", 60, anyRunning));
    killed.kill();
    killed.waitForFinished();
    const CliResult deleted = runCliFor({"study", "delete", "abandoned", "--storage", location}, 60000);
    QVERIFY2(deleted.exitCode == 0, qPrintable(deleted.err));
}

QTEST_GUILESS_MAIN(TestWorkerCli)
#include "tst_worker_cli.moc"
