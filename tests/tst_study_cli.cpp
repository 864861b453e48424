// tunelab-cli's study verbs end to end: the real binary, a real SQLite file, tiny shell commands as
// objectives and tiny generated data sets for trained trials.

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QtTest>

#include "cli_test_support.h"
#include "study_cli_test_support.h"

#include <cmath>
#include <csignal>
#include <memory>
#include <vector>

using namespace tunelab::test;

namespace {

// Every objective here finishes in seconds: a minute without exit means the run hung.
CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 60000);
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

const QByteArray kLineSpace = R"({"parameters": [{"path": "x", "kind": "float", "low": -5, "high": 5}]})";

// (x - 1.5)^2, with x read from TUNELAB_PARAMS by awk.
const QString kQuadratic =
    R"(awk -v p="$TUNELAB_PARAMS" 'BEGIN { sub(/.*"x":/, "", p); x = p + 0; print (x - 1.5) ^ 2 }')";

// Reads a QProcess's stderr until it contains `text` or `timeoutMs` passes.
bool waitForStderr(QProcess& process, QByteArray& seen, const QByteArray& text, int timeoutMs) {
    QElapsedTimer timer;
    timer.start();
    while (!seen.contains(text) && timer.elapsed() < timeoutMs) {
        process.waitForReadyRead(100);
        seen += process.readAllStandardError();
    }
    return seen.contains(text);
}

} // namespace

class TestStudyCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void optimizeFindsTheMinimumOfAQuadratic() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kLineSpace);
        const CliResult result =
            runCli({"optimize", "--space", space, "--command", kQuadratic, "--trials", "30", "--sampler",
                    "tpe", "--seed", "1", "--startup-trials", "8", "--direction", "minimize", "--name",
                    "quadratic", "--db", folder.filePath("study.sqlite")});
        QVERIFY2(result.exitCode == 0, qPrintable(result.err));
        QCOMPARE(result.out.trimmed().split('\n').size(), 1); // one JSON line, progress on stderr
        const QJsonObject json = result.lastJsonLine();
        QCOMPARE(json["study"].toString(), QString("quadratic"));
        QCOMPARE(json["trials"].toInt(), 30);
        QCOMPARE(json["complete"].toInt(), 30);
        QCOMPARE(json["failed"].toInt(), 0);
        QCOMPARE(json["pruned"].toInt(), 0);
        QVERIFY(json["seconds"].toDouble() > 0.0);
        QVERIFY2(json["best_value"].toDouble() < 0.05, qPrintable(result.out));
        const QJsonValue x = json["best_params"].toObject()["x"];
        QVERIFY(x.isDouble());
        QVERIFY(std::abs(x.toDouble() - 1.5) < 0.25);
        QVERIFY(std::abs((x.toDouble() - 1.5) * (x.toDouble() - 1.5) - json["best_value"].toDouble()) < 1e-4);
        QCOMPARE(result.err.count("complete  value"), 30);

        // The same name continues the study up to a larger budget.
        const CliResult more = runCli({"optimize", "--command", kQuadratic, "--trials", "35", "--name",
                                       "quadratic", "--db", folder.filePath("study.sqlite")});
        QVERIFY2(more.exitCode == 0, qPrintable(more.err));
        QCOMPARE(more.lastJsonLine()["trials"].toInt(), 35);
        QVERIFY(more.lastJsonLine()["best_value"].toDouble() <= json["best_value"].toDouble());
    }

    void failingTrialsAreRecordedAndTheStudyGoesOn_data() {
        QTest::addColumn<QString>("command");
        QTest::addColumn<QString>("message");
        // Negative x fails, positive x succeeds: both kinds appear among 8 seeded random trials.
        QTest::newRow("non-zero exit")
            << R"(case "$TUNELAB_PARAMS" in *'"x":-'*) echo broken >&2; exit 1;; esac; echo 1)"
            << "command exited with status 1: broken";
        QTest::newRow("no number") << R"(case "$TUNELAB_PARAMS" in *'"x":-'*) echo hello;; *) echo 1;; esac)"
                                   << "the last line of output is not a number: 'hello'";
        QTest::newRow("nan") << R"(case "$TUNELAB_PARAMS" in *'"x":-'*) echo nan;; *) echo " 1.0 ";; esac)"
                             << "not a finite number: 'nan'";
    }
    void failingTrialsAreRecordedAndTheStudyGoesOn() {
        QFETCH(QString, command);
        QFETCH(QString, message);
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kLineSpace);
        const CliResult result =
            runCli({"optimize", "--space", space, "--command", command, "--trials", "8", "--sampler",
                    "random", "--seed", "5", "--db", folder.filePath("s.sqlite")});
        QVERIFY2(result.exitCode == 0, qPrintable(result.err));
        const QJsonObject json = result.lastJsonLine();
        QCOMPARE(json["trials"].toInt(), 8);
        QVERIFY(json["failed"].toInt() > 0);
        QVERIFY(json["complete"].toInt() > 0);
        QCOMPARE(json["failed"].toInt() + json["complete"].toInt(), 8);
        QCOMPARE(json["best_value"].toDouble(), 1.0);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
    }

    void studyWithoutACompleteTrialExitsWithThree() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kLineSpace);
        const CliResult result = runCli({"optimize", "--space", space, "--command", "exit 4", "--trials", "2",
                                         "--sampler", "random", "--db", folder.filePath("s.sqlite")});
        QCOMPARE(result.exitCode, 3);
        QCOMPARE(result.lastJsonLine()["failed"].toInt(), 2);
        QVERIFY(result.lastJsonLine()["best_value"].isNull());
        QVERIFY(result.err.contains("command exited with status 4"));
    }

    void timeoutKillsTheCommandAndFailsTheTrial() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kLineSpace);
        QElapsedTimer timer;
        timer.start();
        const CliResult result = runCli({"optimize", "--space", space, "--command", "sleep 20; echo 1",
                                         "--trials", "2", "--timeout", "0.3", "--parallel", "2", "--sampler",
                                         "random", "--db", folder.filePath("s.sqlite")});
        QCOMPARE(result.exitCode, 3);
        QCOMPARE(result.lastJsonLine()["failed"].toInt(), 2);
        QVERIFY2(result.err.contains("timed out after 0.3 s"), qPrintable(result.err));
        QVERIFY2(timer.elapsed() < 15000, qPrintable(QString::number(timer.elapsed()))); // not the 2 x 20 s
    }

    void parallelRunsCommandsAtOnce() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kLineSpace);
        // Each command leaves a mark and waits (20 s at most) until two marks are there: two at a time,
        // the first two meet; one after the other, the first gives up and fails. Timings of a busy
        // machine do not enter: the trials' own start and finish times show the overlap.
        QVERIFY(QDir(folder.path()).mkdir("marks"));
        const QString marks = folder.filePath("marks");
        const QString command =
            QString(
                R"sh(touch '%1'/$$; i=0; while [ "$(ls '%1' | wc -l)" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; [ $i -lt 400 ] && echo 1)sh")
                .arg(marks);
        const QString db = folder.filePath("s.sqlite");
        const CliResult result =
            runCli({"optimize", "--space", space, "--command", command, "--trials", "4", "--parallel", "2",
                    "--sampler", "random", "--name", "pair", "--db", db});
        QVERIFY2(result.exitCode == 0, qPrintable(result.err));
        QCOMPARE(result.lastJsonLine()["complete"].toInt(), 4);
        const QJsonArray trials =
            runCli({"study", "status", "pair", "--json", "--db", db}).json()["trial_list"].toArray();
        QCOMPARE(trials.size(), 4);
        const QJsonObject first = trials[0].toObject();
        const QJsonObject second = trials[1].toObject();
        QVERIFY(std::max(first["started_at"].toDouble(), second["started_at"].toDouble()) <
                std::min(first["finished_at"].toDouble(), second["finished_at"].toDouble()));
    }

    void commandGetsTheParamsOnStdinAndInTheEnvironment() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", R"({"parameters": [
            {"path": "lr", "kind": "float", "low": 0.001, "high": 0.1, "log": true},
            {"path": "units", "kind": "int", "low": 8, "high": 64},
            {"path": "optimizer", "kind": "categorical", "choices": ["sgd", "adam"]}]})");
        const QString stdinCopy = folder.filePath("stdin.json");
        const QString environmentCopy = folder.filePath("environment.json");
        const QString command = QString(R"(cat > '%1'; printf '%s' "$TUNELAB_PARAMS" > '%2'; echo 0.5)")
                                    .arg(stdinCopy, environmentCopy);
        const CliResult result = runCli({"optimize", "--space", space, "--command", command, "--trials", "1",
                                         "--sampler", "random", "--db", folder.filePath("s.sqlite")});
        QVERIFY2(result.exitCode == 0, qPrintable(result.err));
        const QJsonObject fromStdin = QJsonDocument::fromJson(readFile(stdinCopy)).object();
        const QJsonObject fromEnvironment = QJsonDocument::fromJson(readFile(environmentCopy)).object();
        QCOMPARE(fromStdin, fromEnvironment);
        QCOMPARE(fromStdin, result.lastJsonLine()["best_params"].toObject());
        QVERIFY(fromStdin["lr"].isDouble());
        QVERIFY(fromStdin["units"].isDouble());
        QVERIFY(!readFile(stdinCopy).contains("units\":" + QByteArray::number(fromStdin["units"].toInt()) +
                                              ".0"));
        QVERIFY(fromStdin["optimizer"].toString() == "sgd" || fromStdin["optimizer"].toString() == "adam");
    }

    void intermediateValuesLetThePrunerStopACommand() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "space.json", kLineSpace);
        const QString study = writeFile(folder, "study.json", R"({"name": "pruned", "space": "space.json",
            "sampler": {"type": "random", "seed": 1}, "budget": {"trials": 8},
            "pruner": {"type": "median", "startup_trials": 2, "warmup_epochs": 1}})");
        QCOMPARE(runCli({"study", "create", study, "--db", db}).exitCode, 0);
        // Five epochs of (x - 1.5)^2 + 5 / epoch, then the final value; a pruned command is killed
        // before it writes the file at its end.
        const QString command = QString(R"sh(x=$(printf '%s' "$TUNELAB_PARAMS" | sed 's/.*"x"://; s/}//')
for e in 1 2 3 4 5; do
  echo "tunelab: epoch=$e value=$(awk -v x="$x" -v e="$e" 'BEGIN { print (x - 1.5) ^ 2 + 5 / e }')"
  sleep 0.05
done
echo x >> '%1'
awk -v x="$x" 'BEGIN { print (x - 1.5) ^ 2 + 1 }')sh")
                                    .arg(folder.filePath("finished"));
        const CliResult result = runCli({"optimize", "--name", "pruned", "--command", command, "--db", db});
        QVERIFY2(result.exitCode == 0, qPrintable(result.err));
        const QJsonObject json = result.lastJsonLine();
        QCOMPARE(json["trials"].toInt(), 8);
        QVERIFY2(json["pruned"].toInt() > 0, qPrintable(result.err));
        QCOMPARE(json["complete"].toInt() + json["pruned"].toInt(), 8);
        QVERIFY(result.err.contains("pruned at epoch"));
        QCOMPARE(readFile(folder.filePath("finished")).count('x'), json["complete"].toInt());
    }

    void interruptPutsRunningTrialsBackToWaiting() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        const QString space = writeFile(folder, "space.json", kLineSpace);
        QProcess process;
        const QString marker = folder.filePath("started");
        process.start(TUNELAB_CLI, {"optimize", "--space", space, "--command",
                                    QString("touch '%1'; sleep 30; echo 1").arg(marker), "--trials", "3",
                                    "--sampler", "random", "--name", "slow", "--db", db});
        QVERIFY(process.waitForStarted());
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(marker), 120000);
        ::kill(pid_t(process.processId()), SIGINT);
        QVERIFY(process.waitForFinished(25000)); // the sleeping command's process group is ended too
        QCOMPARE(process.exitCode(), 130);
        const CliResult status = runCli({"study", "status", "slow", "--json", "--db", db});
        QCOMPARE(status.exitCode, 0);
        QCOMPARE(status.json()["waiting"].toInt(), 1);
        QCOMPARE(status.json()["running"].toInt(), 0);
    }

    void badSpaceFilesAreBadInput_data() {
        QTest::addColumn<QByteArray>("space");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown kind")
            << QByteArray(R"({"parameters": [{"path": "x", "kind": "flaot", "low": 0, "high": 1}]})")
            << "parameters[0] (x): unknown kind 'flaot'; did you mean float?";
        QTest::newRow("empty range")
            << QByteArray(R"({"parameters": [{"path": "x", "kind": "float", "low": 1, "high": 0.5}]})")
            << "parameters[0] (x): low 1 is above high 0.5";
        QTest::newRow("not json") << QByteArray("{\"parameters\": [") << "";
    }
    void badSpaceFilesAreBadInput() {
        QFETCH(QByteArray, space);
        QFETCH(QString, message);
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        const QString path = writeFile(folder, "space.json", space);
        const CliResult result = runCli({"optimize", "--space", path, "--command", "echo 1", "--db", db});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains("is not a valid search space"), qPrintable(result.err));
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
        QVERIFY(runCli({"study", "list", "--json", "--db", db}).out.trimmed() == "[]"); // nothing was created

        // The same space inside a study file: the message names the "space" key.
        const QString study = writeFile(folder, "study.json", R"({"name": "bad", "space": "space.json"})");
        const CliResult created = runCli({"study", "create", study, "--db", db});
        QCOMPARE(created.exitCode, 2);
        QVERIFY2(created.err.contains("space"), qPrintable(created.err));
        QVERIFY2(created.err.contains(message), qPrintable(created.err));
    }

    void concurrentAsksGetDistinctTrials() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "space.json", kLineSpace);
        const QString study = writeFile(
            folder, "study.json",
            R"({"name": "crowd", "space": "space.json", "sampler": {"type": "random", "seed": 4}})");
        QCOMPARE(runCli({"study", "create", study, "--db", db}).exitCode, 0);
        // Eight evaluators ask at once: each gets its own trial number and its own suggestion.
        std::vector<std::unique_ptr<QProcess>> asks;
        for (int i = 0; i < 8; ++i) {
            auto process = std::make_unique<QProcess>();
            process->start(TUNELAB_CLI, {"ask", "--study", "crowd", "--db", db});
            asks.push_back(std::move(process));
        }
        QSet<int> numbers;
        QSet<double> values;
        for (auto& process : asks) {
            QVERIFY(process->waitForFinished(60000));
            QCOMPARE(process->exitCode(), 0);
            const QJsonObject json = QJsonDocument::fromJson(process->readAllStandardOutput()).object();
            numbers.insert(json["trial"].toInt());
            values.insert(json["params"].toObject()["x"].toDouble());
        }
        QCOMPARE(numbers, (QSet<int>{0, 1, 2, 3, 4, 5, 6, 7}));
        QCOMPARE(values.size(), 8);
    }

    void askAndTellRoundTrip() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "space.json", kLineSpace);
        const QString study = writeFile(
            folder, "study.json",
            R"({"name": "manual", "space": "space.json", "sampler": {"type": "random", "seed": 2}})");

        const CliResult missing = runCli({"ask", "--study", "manual", "--db", db});
        QCOMPARE(missing.exitCode, 2);
        QVERIFY2(missing.err.contains("no study named 'manual'") && missing.err.contains("study create"),
                 qPrintable(missing.err));

        QCOMPARE(runCli({"study", "create", study, "--db", db}).exitCode, 0);
        const CliResult duplicate = runCli({"study", "create", study, "--db", db});
        QCOMPARE(duplicate.exitCode, 2);
        QVERIFY2(duplicate.err.contains("already exists"), qPrintable(duplicate.err));

        const CliResult first = runCli({"ask", "--study", "manual", "--db", db});
        const CliResult second = runCli({"ask", "--study", "manual", "--db", db});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(second.exitCode, 0);
        QCOMPARE(first.json()["trial"].toInt(), 0);
        QCOMPARE(second.json()["trial"].toInt(), 1);
        const double x = first.json()["params"].toObject()["x"].toDouble();
        QVERIFY(x >= -5.0 && x <= 5.0);
        QVERIFY(first.json()["params"] != second.json()["params"]);

        const CliResult told =
            runCli({"tell", "--study", "manual", "--trial", "0", "--value", "2.5", "--db", db});
        QVERIFY2(told.exitCode == 0, qPrintable(told.err));
        QCOMPARE(told.json()["state"].toString(), QString("complete"));
        QCOMPARE(runCli({"tell", "--study", "manual", "--trial", "1", "--state", "pruned", "--message",
                         "slow", "--db", db})
                     .exitCode,
                 0);

        const CliResult again =
            runCli({"tell", "--study", "manual", "--trial", "0", "--value", "1", "--db", db});
        QCOMPARE(again.exitCode, 2);
        QVERIFY2(again.err.contains("trial 0 of study 'manual' is already complete"), qPrintable(again.err));
        const CliResult unknown =
            runCli({"tell", "--study", "manual", "--trial", "9", "--value", "1", "--db", db});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains("has no trial 9"), qPrintable(unknown.err));
        QCOMPARE(runCli({"tell", "--study", "manual", "--trial", "1", "--db", db}).exitCode,
                 2); // no value, no state

        const CliResult status = runCli({"study", "status", "manual", "--json", "--db", db});
        QCOMPARE(status.exitCode, 0);
        const QJsonObject json = status.json();
        QCOMPARE(json["trials"].toInt(), 2);
        QCOMPARE(json["complete"].toInt(), 1);
        QCOMPARE(json["pruned"].toInt(), 1);
        QCOMPARE(json["best_value"].toDouble(), 2.5);
        QCOMPARE(json["best_params"].toObject()["x"].toDouble(), x);
        const QJsonArray trials = json["trial_list"].toArray();
        QCOMPARE(trials.size(), 2);
        QCOMPARE(trials[1].toObject()["state"].toString(), QString("pruned"));
        QCOMPARE(trials[1].toObject()["message"].toString(), QString("slow"));

        const CliResult text = runCli({"study", "status", "manual", "--db", db});
        QVERIFY2(text.out.contains("1 complete, 1 pruned"), qPrintable(text.out));
        const CliResult best = runCli({"study", "best", "manual", "--format", "text", "--db", db});
        QVERIFY2(best.out.startsWith("value 2.5 (trial 0)"), qPrintable(best.out));

        const CliResult list = runCli({"study", "list", "--json", "--db", db});
        QCOMPARE(QJsonDocument::fromJson(list.out.toUtf8()).array().size(), 1);
        QCOMPARE(runCli({"study", "delete", "manual", "--db", db}).exitCode, 0);
        QCOMPARE(runCli({"study", "status", "manual", "--db", db}).exitCode, 2);
        QCOMPARE(runCli({"study", "delete", "manual", "--db", db}).exitCode, 2);
    }

    void studyRunTrainsTrialsAndTheBestSpecRetrains() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(200, 2, 32));
        const QString study = writeFile(folder, "study.json", moonsStudy("moons", 3));

        const CliResult run = runCli({"study", "run", study, "--json", "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject json = run.lastJsonLine();
        QCOMPARE(json["study"].toString(), QString("moons"));
        QCOMPARE(json["trials"].toInt(), 3);
        QCOMPARE(json["complete"].toInt(), 3);
        QCOMPARE(json["metric"].toString(), QString("val_loss"));
        QVERIFY(run.err.contains("trial 2 started"));

        // A second run of the spent study trains nothing more.
        const CliResult again = runCli({"study", "run", "moons", "--json", "--db", db});
        QCOMPARE(again.exitCode, 0);
        QCOMPARE(again.lastJsonLine()["trials"].toInt(), 3);

        const CliResult best = runCli({"study", "best", "moons", "--db", db});
        QCOMPARE(best.exitCode, 0);
        const QJsonObject spec = best.json();
        QCOMPARE(spec["name"].toString(), QString("moons-study"));
        const QJsonObject params = json["best_params"].toObject();
        QCOMPARE(spec["optimizer"].toObject()["lr"].toDouble(), params["optimizer.lr"].toDouble());
        QCOMPARE(spec["model"].toObject()["layers"].toArray()[0].toObject()["out_features"].toInt(),
                 params["model.layers[0].out_features"].toInt());

        const QString bestPath = writeFile(folder, "best.json", best.out.toUtf8());
        const CliResult train = runCli({"train", bestPath, "--json", "--threads", "1", "--db", db});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        QVERIFY2(std::abs(train.lastJsonLine()["val_loss"].toDouble() - json["best_value"].toDouble()) < 1e-6,
                 qPrintable(train.out + run.out));
    }

    // Every trial switches the optimizer away from the base's Adam, whose betas and eps the other
    // types reject: the printed best spec is the trial's own, which validates and trains as is.
    void bestSpecOfASwitchedOptimizerValidates() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(
            folder, "experiment.json",
            moonsExperiment(200, 2, 32)
                .replace(
                    R"("optimizer": {"type": "adam", "lr": 0.01})",
                    R"("optimizer": {"type": "adam", "lr": 0.01, "weight_decay": 0.0, "l1": 0.0, "betas": [0.9, 0.999], "eps": 1e-8})"));
        const QString study =
            writeFile(folder, "study.json", R"({"name": "switch", "experiment": "experiment.json",
          "space": {"parameters": [
            {"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "rmsprop", "adagrad"]},
            {"path": "optimizer.momentum", "kind": "float", "values": [0.5, 0.9], "when": {"optimizer.type": ["sgd", "rmsprop"]}}]},
          "sampler": {"type": "random", "seed": 4}, "budget": {"trials": 3}})");
        const CliResult run = runCli({"study", "run", study, "--json", "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QCOMPARE(run.lastJsonLine()["complete"].toInt(), 3);

        const CliResult best = runCli({"study", "best", "switch", "--format", "json", "--db", db});
        QCOMPARE(best.exitCode, 0);
        const QJsonObject optimizer = best.json()["optimizer"].toObject();
        QCOMPARE(optimizer["type"].toString(),
                 run.lastJsonLine()["best_params"].toObject()["optimizer.type"].toString());
        QVERIFY2(!optimizer.contains("betas"), qPrintable(best.out));
        const QString bestPath = writeFile(folder, "best.json", best.out.toUtf8());
        const CliResult validate = runCli({"validate", bestPath});
        QVERIFY2(validate.exitCode == 0, qPrintable(validate.out + validate.err));
    }

    void resumeAfterAKilledRunFinishesTheBudget() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        // About a second per trial, so the kill lands inside trial 1.
        writeFile(folder, "experiment.json", moonsExperiment(2000, 80, 8));
        const QString study = writeFile(folder, "study.json", moonsStudy("killed", 3));

        QProcess process;
        process.start(TUNELAB_CLI, {"study", "run", study, "--threads", "1", "--db", db});
        QVERIFY(process.waitForStarted());
        QByteArray seen;
        QVERIFY2(waitForStderr(process, seen, "trial 1 started", 120000), seen.constData());
        ::kill(pid_t(process.processId()), SIGKILL);
        QVERIFY(process.waitForFinished(120000));

        const CliResult before = runCli({"study", "status", "killed", "--json", "--db", db});
        QCOMPARE(before.json()["complete"].toInt(), 1);
        QCOMPARE(before.json()["running"].toInt(), 1); // its process is gone; resume re-queues it
        const QJsonObject killedTrial = before.json()["trial_list"].toArray()[1].toObject();

        const CliResult resume =
            runCli({"study", "resume", "killed", "--json", "--threads", "1", "--db", db});
        QVERIFY2(resume.exitCode == 0, qPrintable(resume.err));
        QCOMPARE(resume.lastJsonLine()["trials"].toInt(), 3);
        QCOMPARE(resume.lastJsonLine()["complete"].toInt(), 3);
        const CliResult after = runCli({"study", "status", "killed", "--json", "--db", db});
        const QJsonObject rerun = after.json()["trial_list"].toArray()[1].toObject();
        QCOMPARE(rerun["number"].toInt(), 1);
        QCOMPARE(rerun["state"].toString(), QString("complete"));
        QCOMPARE(rerun["params"].toObject(), killedTrial["params"].toObject());
    }

    void studyRunRejectsStudiesWithoutAnExperiment() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "space.json", kLineSpace);
        const QString study = writeFile(folder, "study.json", R"({"name": "plain", "space": "space.json"})");
        const CliResult run = runCli({"study", "run", study, "--db", db});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("has no experiment"), qPrintable(run.err));
    }
};

QTEST_GUILESS_MAIN(TestStudyCli)
#include "tst_study_cli.moc"
