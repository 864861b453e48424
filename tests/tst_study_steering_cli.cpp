// Steering a stored study from tunelab-cli: adding trials to a spent study, enqueueing chosen
// parameters, copying a study with a new seed, warnings for settings that make no sense on a small
// budget, and one rule for a pruned trial's value. The real binary, a real SQLite file, tiny trained
// studies.

#include <QJsonArray>
#include <QJsonObject>
#include <QtTest>

#include "cli_test_support.h"
#include "study_cli_test_support.h"

#include <algorithm>
#include <cmath>

using namespace tunelab::test;

namespace {

CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 120000);
}

QJsonArray trialList(const QString& db, const QString& study) {
    return runCli({"study", "status", study, "--json", "--db", db}).json()["trial_list"].toArray();
}

} // namespace

class TestStudySteeringCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void addTrialsExtendsASpentStudy() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(120, 1, 32));
        const QString study = writeFile(folder, "study.json", moonsStudy("grow", 2));
        QCOMPARE(runCli({"study", "run", study, "--json", "--db", db}).exitCode, 0);

        // Spent: a plain run trains nothing and says how to go on.
        const CliResult spent = runCli({"study", "run", "grow", "--json", "--db", db});
        QCOMPARE(spent.lastJsonLine()["trials"].toInt(), 2);
        QVERIFY2(spent.err.contains("--add-trials"), qPrintable(spent.err));

        const CliResult grown = runCli({"study", "run", "grow", "--add-trials", "2", "--json", "--db", db});
        QVERIFY2(grown.exitCode == 0, qPrintable(grown.err));
        QCOMPARE(grown.lastJsonLine()["trials"].toInt(), 4);
        QVERIFY2(grown.err.contains("raised from 2 to 4"), qPrintable(grown.err));
        // The raised budget is stored: resume has nothing left, status counts 4 of 4.
        const CliResult status = runCli({"study", "status", "grow", "--db", db});
        QVERIFY2(status.out.contains("trials 4 of 4"), qPrintable(status.out));
        // The added trials are new ones, not the first two again.
        const QJsonArray trials = trialList(db, "grow");
        QCOMPARE(trials.size(), 4);
        QVERIFY(trials[2].toObject()["params"] != trials[0].toObject()["params"]);

        const CliResult both =
            runCli({"study", "run", "grow", "--add-trials", "1", "--trials", "9", "--db", db});
        QCOMPARE(both.exitCode, 2);
        QVERIFY2(both.err.contains("not both"), qPrintable(both.err));
        QCOMPARE(runCli({"study", "resume", "grow", "--add-trials", "1", "--json", "--db", db})
                     .lastJsonLine()["trials"]
                     .toInt(),
                 5);
    }

    void enqueuedParametersRunFirstAsGiven() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(120, 1, 32));
        const QString study = writeFile(folder, "study.json", moonsStudy("queue", 1));
        QCOMPARE(runCli({"study", "create", study, "--db", db}).exitCode, 0);

        const CliResult enqueued =
            runCli({"study", "enqueue", "queue", "--params",
                    R"({"optimizer.lr": 0.0123, "model.layers[0].out_features": 7})", "--db", db});
        QVERIFY2(enqueued.exitCode == 0, qPrintable(enqueued.err));
        QCOMPARE(enqueued.out.trimmed(), QString("0"));
        QCOMPARE(trialList(db, "queue")[0].toObject()["state"].toString(), QString("waiting"));

        const CliResult run = runCli({"study", "run", "queue", "--json", "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject trial = trialList(db, "queue")[0].toObject();
        QCOMPARE(trial["state"].toString(), QString("complete"));
        QCOMPARE(trial["params"].toObject()["optimizer.lr"].toDouble(), 0.0123);
        QCOMPARE(trial["params"].toObject()["model.layers[0].out_features"].toInt(), 7);
        QCOMPARE(run.lastJsonLine()["trials"].toInt(), 1); // the budget of 1 counted it
    }

    void enqueueRefusesWhatTheSpaceCannotHold_data() {
        QTest::addColumn<QString>("params");
        QTest::addColumn<QString>("reason");
        QTest::newRow("outside the range") << R"({"optimizer.lr": 0.5, "model.layers[0].out_features": 8})"
                                           << "outside the space's range";
        QTest::newRow("unknown path") << R"({"optimizer.lrr": 0.01, "model.layers[0].out_features": 8})"
                                      << "did you mean optimizer.lr";
        QTest::newRow("missing") << R"({"optimizer.lr": 0.01})"
                                 << "model.layers[0].out_features: missing";
        QTest::newRow("fraction for an int")
            << R"({"optimizer.lr": 0.01, "model.layers[0].out_features": 8.5})"
            << "expected an integer";
        QTest::newRow("not an object") << "[0.01, 8]"
                                       << "expected an object";
        QTest::newRow("not JSON") << "{lr: 0.01"
                                  << "line 1";
    }

    void enqueueRefusesWhatTheSpaceCannotHold() {
        QFETCH(QString, params);
        QFETCH(QString, reason);
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(120, 1, 32));
        QCOMPARE(
            runCli({"study", "create", writeFile(folder, "study.json", moonsStudy("queue", 1)), "--db", db})
                .exitCode,
            0);
        const CliResult enqueued = runCli({"study", "enqueue", "queue", "--params", params, "--db", db});
        QCOMPARE(enqueued.exitCode, 2);
        QVERIFY2(enqueued.err.contains(reason), qPrintable(enqueued.err));
        QCOMPARE(trialList(db, "queue").size(), 0); // nothing half-queued
    }

    void copyGetsANewSeedAndNewTrials() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(120, 1, 32));
        QCOMPARE(runCli({"study", "run", writeFile(folder, "study.json", moonsStudy("base", 2)), "--db", db})
                     .exitCode,
                 0);
        const CliResult copied = runCli({"study", "copy", "base", "--db", db});
        QVERIFY2(copied.exitCode == 0, qPrintable(copied.err));
        QCOMPARE(copied.out.trimmed(), QString("base-2"));
        QVERIFY2(copied.err.contains("('base' has seed 1)"), qPrintable(copied.err));
        QCOMPARE(runCli({"study", "run", "base-2", "--db", db}).exitCode, 0);
        QVERIFY(trialList(db, "base")[0].toObject()["params"] !=
                trialList(db, "base-2")[0].toObject()["params"]);

        // A chosen seed and name; the same seed as the source repeats its trials.
        QCOMPARE(runCli({"study", "copy", "base", "--name", "same", "--seed", "1", "--db", db}).exitCode, 0);
        QCOMPARE(runCli({"study", "run", "same", "--db", db}).exitCode, 0);
        QCOMPARE(trialList(db, "same")[0].toObject()["params"],
                 trialList(db, "base")[0].toObject()["params"]);
        const CliResult taken = runCli({"study", "copy", "base", "--name", "same", "--db", db});
        QCOMPARE(taken.exitCode, 2);
        QVERIFY2(taken.err.contains("already exists"), qPrintable(taken.err));
    }

    void nonsenseSettingsAreFlaggedBeforeTheStudyRuns() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(120, 1, 32));
        const QString study = writeFile(
            folder, "study.json",
            moonsStudy("small", 5)
                .replace(R"({"type": "random", "seed": 1})", R"({"type": "tpe", "startup_trials": 10})"));
        const CliResult created = runCli({"study", "create", study, "--db", db});
        QCOMPARE(created.exitCode, 0);
        QVERIFY2(created.err.contains("warning: the sampler's 10 trials at random use the whole budget of 5"),
                 qPrintable(created.err));
    }

    // A pruned trial's value follows the objective's rule (its best epoch here), in the study and in
    // the runs list, and its run reads "pruned" there.
    void prunedTrialsFollowTheObjectivesRule() {
        QTemporaryDir folder;
        const QString db = folder.filePath("s.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(200, 6, 32));
        // A huge learning rate for most trials: their loss rises after the first epochs.
        const QString study =
            writeFile(folder, "study.json", R"({"name": "pruned", "experiment": "experiment.json",
          "space": {"parameters": [{"path": "optimizer.lr", "kind": "float", "values": [0.01, 3.0, 5.0, 8.0]}]},
          "sampler": {"type": "grid"}, "pruner": {"type": "median", "startup_trials": 1, "warmup_epochs": 1},
          "budget": {"trials": 4}})");
        const CliResult run = runCli({"study", "run", study, "--json", "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonArray trials = trialList(db, "pruned");
        int pruned = 0;
        for (const auto& value : trials) {
            const QJsonObject trial = value.toObject();
            if (trial["state"].toString() != "pruned")
                continue;
            ++pruned;
            const CliResult runInfo =
                runCli({"runs", "show", QString::number(trial["run_id"].toInt()), "--db", db});
            QVERIFY2(runInfo.exitCode == 0, qPrintable(runInfo.err));
            const QJsonObject shown = runInfo.json();
            QCOMPARE(shown["status"].toString(), QString("pruned"));
            double best = INFINITY;
            for (const auto& epoch : shown["epoch_metrics"].toArray())
                best = std::min(best, epoch.toObject()["val_loss"].toDouble());
            QCOMPARE(trial["value"].toDouble(), best);
        }
        QVERIFY2(pruned > 0, qPrintable(run.err));
    }
};

QTEST_GUILESS_MAIN(TestStudySteeringCli)
#include "tst_study_steering_cli.moc"
