// tunelab-cli's race and lr-find verbs end to end: the real binary, a real SQLite file and tiny
// generated data sets.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "cli_test_support.h"

#include <csignal>

using namespace tunelab::test;

namespace {

// Every race here trains in about a second: a minute without exit means it hung.
CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 60000);
}

QByteArray readFile(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QString exampleRace() {
    return QStringLiteral(TUNELAB_SOURCE_DIR "/resources/examples/race-moons.json");
}

const QByteArray kMoonsExperiment = R"({"name": "moons", "seed": 3, "device": "cpu",
    "data": {"kind": "moons", "samples": 300, "noise": 0.1},
    "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"},
                         {"type": "linear", "out_features": 2}]},
    "optimizer": {"type": "adam", "lr": 0.01},
    "training": {"epochs": 5, "batch_size": 32}})";

QByteArray race(const QByteArray& experiment, const QByteArray& setups, const QByteArray& extra = {}) {
    return R"({"name": "cli-race", "experiment": )" + experiment + R"(, "setups": )" + setups +
           (extra.isEmpty() ? QByteArray() : ", " + extra) + "}";
}

const QByteArray kTwoSetups = R"([{"name": "SGD", "optimizer": {"type": "sgd", "lr": 0.1}},
                                  {"name": "Adam", "optimizer": {"type": "adam", "lr": 0.01}}])";

} // namespace

class TestRaceCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void exampleRaceRunsAndWritesCsv() {
        QTemporaryDir folder;
        const QString csv = folder.filePath("results.csv");
        const CliResult result =
            runCli({"race", exampleRace(), "--db", folder.filePath("runs.sqlite"), "--json", "--csv", csv});
        QVERIFY2(result.exitCode == 0, qPrintable(result.err));
        const QJsonObject json = result.lastJsonLine();
        QCOMPARE(json["race"].toString(), QString("moons-race"));
        const QJsonArray results = json["results"].toArray();
        QCOMPARE(results.size(), 8);
        QString miniBatchOrder;
        for (const auto& value : results) {
            const QJsonObject entry = value.toObject();
            QCOMPARE(entry["status"].toString(), QString("completed"));
            QVERIFY(entry["final_val_loss"].isDouble());
            QCOMPARE(entry["initial_parameters_hash"].toString(),
                     results[0].toObject()["initial_parameters_hash"].toString());
            QVERIFY(entry["initial_parameters_hash"].toString() != "0000000000000000");
            if (entry["setup"].toString() != "Full-batch GD") {
                if (miniBatchOrder.isEmpty())
                    miniBatchOrder = entry["batch_order_hash"].toString();
                QCOMPARE(entry["batch_order_hash"].toString(), miniBatchOrder);
            }
        }
        // The table goes to stderr with --json, so stdout stays one JSON line.
        QVERIFY(result.err.contains("final val"));
        QCOMPARE(result.out.trimmed().count('\n'), 0);
        const QList<QByteArray> lines = readFile(csv).trimmed().split('\n');
        QCOMPARE(lines.size(), 9);
        QVERIFY(lines[0].startsWith("setup,run_id,learning_rate"));
    }

    void rerunGivesTheSameResults() {
        QTemporaryDir folder;
        const QString file = writeFile(folder, "race.json", race(kMoonsExperiment, kTwoSetups));
        const CliResult first = runCli({"race", file, "--db", folder.filePath("runs.sqlite"), "--json"});
        const CliResult second = runCli({"race", file, "--db", folder.filePath("runs.sqlite"), "--json"});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(second.exitCode, 0);
        const QJsonArray a = first.lastJsonLine()["results"].toArray();
        const QJsonArray b = second.lastJsonLine()["results"].toArray();
        QCOMPARE(a.size(), 2);
        QCOMPARE(b.size(), 2);
        for (int i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].toObject()["final_val_loss"].toDouble(),
                     b[i].toObject()["final_val_loss"].toDouble());
            QVERIFY(a[i].toObject()["run_id"].toInt() != b[i].toObject()["run_id"].toInt());
        }
        // The fairness hashes stay with the runs: `runs show` prints what the race printed.
        const QJsonObject raced = a[1].toObject();
        const CliResult shown = runCli({"runs", "show", QString::number(raced["run_id"].toInt()), "--db",
                                        folder.filePath("runs.sqlite")});
        QCOMPARE(shown.exitCode, 0);
        QCOMPARE(shown.json()["initial_parameters_hash"].toString(),
                 raced["initial_parameters_hash"].toString());
        QCOMPARE(shown.json()["batch_order_hash"].toString(), raced["batch_order_hash"].toString());
        QCOMPARE(shown.json()["initial_parameters_hash"].toString().size(), 16);
    }

    void tablePrintsEverySetup() {
        QTemporaryDir folder;
        const QString file =
            writeFile(folder, "race.json", race(kMoonsExperiment, kTwoSetups, R"("target_loss": 100)"));
        const CliResult result = runCli({"race", file, "--db", folder.filePath("runs.sqlite")});
        QCOMPARE(result.exitCode, 0);
        QVERIFY2(result.out.contains("steps<=tgt"), qPrintable(result.out));
        QVERIFY(result.out.contains("SGD "));
        QVERIFY(result.out.contains("Adam "));
        QVERIFY(result.out.contains("target validation loss: 100"));
        QVERIFY(!result.out.contains("range tests"));
    }

    void fairRacePrintsTheRangeTests() {
        QTemporaryDir folder;
        const QString file = writeFile(
            folder, "race.json",
            race(kMoonsExperiment, kTwoSetups,
                 R"("fair_learning_rates": true, "range_test": {"min_lr": 1e-5, "max_lr": 3, "steps": 60})"));
        const CliResult result = runCli({"race", file, "--db", folder.filePath("runs.sqlite"), "--json"});
        QCOMPARE(result.exitCode, 0);
        QVERIFY2(result.err.contains("range tests (fair learning rates)"), qPrintable(result.err));
        QCOMPARE(result.err.count("suggested lr"), 2);
        for (const auto& value : result.lastJsonLine()["results"].toArray()) {
            const QJsonObject entry = value.toObject();
            QCOMPARE(entry["learning_rate"].toDouble(),
                     entry["range_test"].toObject()["suggested_lr"].toDouble());
        }
    }

    void badInput_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QStringList>("extraArguments");
        QTest::addColumn<QString>("expected");
        QTest::newRow("bad learning rate")
            << race(kMoonsExperiment, R"([{"name": "SGD", "optimizer": {"type": "sgd", "lr": -1}}])")
            << QStringList() << "setups[0].optimizer.lr";
        QTest::newRow("no experiment")
            << QByteArray(R"({"setups": []})") << QStringList() << "experiment: missing";
        QTest::newRow("bad device") << race(kMoonsExperiment, kTwoSetups) << QStringList{"--device", "tpu"}
                                    << "--device";
    }

    void badInput() {
        QFETCH(QByteArray, content);
        QFETCH(QStringList, extraArguments);
        QFETCH(QString, expected);
        QTemporaryDir folder;
        const QString file = writeFile(folder, "race.json", content);
        const CliResult result =
            runCli(QStringList{"race", file, "--db", folder.filePath("runs.sqlite")} + extraArguments);
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(expected), qPrintable(result.err));
    }

    void everySetupDivergingIsARunFailure() {
        QTemporaryDir folder;
        const QByteArray experiment = R"({"seed": 1, "device": "cpu",
            "data": {"kind": "regression", "samples": 200, "features": 2, "scale": 1000},
            "model": {"layers": [{"type": "linear", "out_features": 1}]},
            "training": {"epochs": 5, "batch_size": 20}})";
        const QString file =
            writeFile(folder, "race.json",
                      race(experiment, R"([{"name": "Hot SGD", "optimizer": {"type": "sgd", "lr": 10}}])"));
        const CliResult result = runCli({"race", file, "--db", folder.filePath("runs.sqlite"), "--json"});
        QCOMPARE(result.exitCode, 3);
        const QJsonObject entry = result.lastJsonLine()["results"].toArray()[0].toObject();
        QVERIFY(entry["diverged"].toBool());
        QCOMPARE(entry["status"].toString(), QString("diverged"));
    }

    void terminateStopsTheRace() {
        QTemporaryDir folder;
        QByteArray longExperiment = kMoonsExperiment;
        longExperiment.replace(R"("epochs": 5)", R"("epochs": 100000)");
        const QString file = writeFile(folder, "race.json", race(longExperiment, kTwoSetups));
        QProcess process;
        process.start(TUNELAB_CLI, {"race", file, "--db", folder.filePath("runs.sqlite")});
        QVERIFY(process.waitForStarted());
        QByteArray output;
        QTRY_VERIFY_WITH_TIMEOUT((output += process.readAllStandardOutput()).contains("started Adam"),
                                 120000);
        ::kill(pid_t(process.processId()), SIGINT);
        QVERIFY(process.waitForFinished(120000));
        QCOMPARE(process.exitCode(), 130);
        output += process.readAllStandardOutput();
        QVERIFY2(output.contains("stopped"), output.constData());
    }

    void lrFindSuggestsARate() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "moons.json", kMoonsExperiment);
        const CliResult text = runCli({"lr-find", spec, "--steps", "100", "--max-lr", "10"});
        QVERIFY2(text.exitCode == 0, qPrintable(text.err));
        QVERIFY2(text.out.contains("suggested learning rate:"), qPrintable(text.out));
        QVERIFY(text.out.contains("lowest smoothed loss"));

        const CliResult json = runCli({"lr-find", spec, "--steps", "100", "--max-lr", "10", "--json"});
        QCOMPARE(json.exitCode, 0);
        const QJsonObject object = json.json();
        const double suggested = object["suggested_lr"].toDouble();
        QVERIFY(suggested > 1e-6 && suggested < 10.0);
        const QJsonArray points = object["points"].toArray();
        QVERIFY(points.size() > 10 && points.size() <= 100);
        QCOMPARE(points[0].toObject()["lr"].toDouble(), 1e-6);
    }

    void lrFindRejectsBadInput() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "moons.json", kMoonsExperiment);
        QCOMPARE(runCli({"lr-find", spec, "--min-lr", "1", "--max-lr", "0.1"}).exitCode, 2);
        const QString broken = writeFile(folder, "broken.json", R"({"data": {"kind": "moons"}})");
        QCOMPARE(runCli({"lr-find", broken}).exitCode, 2);
    }
};

QTEST_GUILESS_MAIN(TestRaceCli)
#include "tst_race_cli.moc"
