// tunelab-cli with studies of several objectives: optimize --directions, ask/tell --values, study best
// as a Pareto front, a trained study scored by validation loss and parameter count, and the Optuna
// storage round trip.

#include "cli_test_support.h"
#include "study_cli_test_support.h"

#include <QtCore/QJsonArray>
#include <QtTest>

using namespace tunelab::test;

namespace {

const QByteArray kSpace = R"({"parameters": [{"path": "x", "kind": "float", "low": 0, "high": 1},
  {"path": "y", "kind": "float", "low": 0, "high": 1}]})";

// Prints x and 1 - sqrt(x) + y: a trade-off between the two, y only makes the second worse.
const QString kTradeOff =
    "/usr/bin/python3 -S -E -c \"import json, os; p = json.loads(os.environ['TUNELAB_PARAMS']); "
    "print(p['x'], 1 - p['x'] ** 0.5 + p['y'])\"";

CliResult cli(const QStringList& arguments) {
    return runCliFor(arguments, 120000);
}

// Creates the study `json` (its space is kSpace in space.json) for ask and tell; returns the store.
QString createToldStudy(const QTemporaryDir& folder, const QByteArray& json) {
    const QString db = folder.filePath("runs.sqlite");
    writeFile(folder, "space.json", kSpace);
    const CliResult created = cli({"study", "create", writeFile(folder, "study.json", json), "--db", db});
    if (created.exitCode != 0)
        qFatal("study create: %s", qPrintable(created.err));
    return db;
}

// `study best` of a study of several objectives: its Pareto front, each trial with two values.
QJsonArray bestFront(const QString& db, const QString& study) {
    const CliResult best = cli({"study", "best", study, "--db", db});
    if (best.exitCode != 0)
        qFatal("study best: %s", qPrintable(best.err));
    const QJsonArray front = QJsonDocument::fromJson(best.out.toUtf8()).array();
    for (const QJsonValue& item : front)
        if (item.toObject()["values"].toArray().size() != 2)
            qFatal("study best: a front trial without two values: %s", qPrintable(best.out));
    return front;
}

// Asks for a trial of `study`; returns its number.
QString askTrial(const QString& db, const QString& study) {
    const CliResult asked = cli({"ask", "--study", study, "--db", db});
    if (asked.exitCode != 0)
        qFatal("ask: %s", qPrintable(asked.err));
    return QString::number(asked.lastJsonLine()["trial"].toInt());
}

} // namespace

class TestMultiObjectiveCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void optimizeFindsAParetoFront() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kSpace);
        const QString db = folder.filePath("runs.sqlite");
        const CliResult run =
            cli({"optimize", "--space", space, "--command", kTradeOff, "--directions", "minimize,minimize",
                 "--trials", "30", "--seed", "2", "--name", "two", "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY2(run.err.contains("[Pareto front: "), qPrintable(run.err));
        const QJsonObject result = run.lastJsonLine();
        QCOMPARE(result["complete"].toInt(), 30);
        QCOMPARE(result["objectives"].toArray().size(), 2);
        const QJsonArray front = result["pareto_front"].toArray();
        QVERIFY(front.size() >= 3);
        QVERIFY(result["hypervolume"].toDouble() > 0.0);
        for (const QJsonValue& item : front)
            QCOMPARE(item.toObject()["values"].toArray().size(), 2);

        const CliResult best = cli({"study", "best", "two", "--db", db});
        QCOMPARE(best.exitCode, 0);
        const QJsonArray listed = QJsonDocument::fromJson(best.out.toUtf8()).array();
        QCOMPARE(listed.size(), front.size()); // every trial of the front, each with its parameters
        QVERIFY(listed[0].toObject()["params"].toObject().contains("x"));
        const CliResult text = cli({"study", "best", "two", "--format", "text", "--db", db});
        QVERIFY2(text.out.startsWith("Pareto front of two: "), qPrintable(text.out));
        const CliResult status = cli({"study", "status", "two", "--db", db});
        QVERIFY2(status.out.contains("minimize value 1, minimize value 2, sampler motpe"),
                 qPrintable(status.out));
        QVERIFY2(status.out.contains("hypervolume"), qPrintable(status.out));
    }

    void directionsThatDifferFromTheStudyAreRefused() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kSpace);
        const QString db = folder.filePath("runs.sqlite");
        QCOMPARE(cli({"optimize", "--space", space, "--command", kTradeOff, "--directions",
                      "minimize,minimize", "--trials", "2", "--name", "two", "--db", db})
                     .exitCode,
                 0);
        const CliResult again = cli({"optimize", "--command", kTradeOff, "--directions", "minimize,maximize",
                                     "--trials", "3", "--name", "two", "--db", db});
        QCOMPARE(again.exitCode, 2);
        QVERIFY2(again.err.contains(
                     "--directions minimize,maximize differs from study 'two', which has 2 objective(s)"),
                 qPrintable(again.err));
        const CliResult same = cli({"optimize", "--command", kTradeOff, "--directions", "minimize,minimize",
                                    "--trials", "3", "--name", "two", "--db", db});
        QVERIFY2(same.exitCode == 0, qPrintable(same.err));
        QCOMPARE(same.lastJsonLine()["complete"].toInt(), 3);
    }

    void aCommandThatPrintsTooFewNumbersFailsItsTrial() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kSpace);
        const CliResult run =
            cli({"optimize", "--space", space, "--command", "echo 0.5", "--directions", "minimize,maximize",
                 "--trials", "2", "--db", folder.filePath("runs.sqlite")});
        QVERIFY(run.exitCode != 0);
        QVERIFY2(run.err.contains("the last line of output is not 2 numbers (one per objective): '0.5'"),
                 qPrintable(run.err));
    }

    void aSingleObjectiveSamplerIsRefused() {
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kSpace);
        const CliResult run =
            cli({"optimize", "--space", space, "--command", "echo 1 2", "--directions", "minimize,minimize",
                 "--sampler", "gp", "--db", folder.filePath("runs.sqlite")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains("gp models one objective"), qPrintable(run.err));
    }

    void tellTakesOneValuePerObjective() {
        QTemporaryDir folder;
        const QString db = createToldStudy(folder, R"({"name": "told", "space": "space.json", "objectives": [
                                            {"name": "error"}, {"name": "speed", "direction": "maximize"}]})");
        const QString trial = askTrial(db, "told");
        const CliResult one =
            cli({"tell", "--study", "told", "--trial", trial, "--value", "0.5", "--db", db});
        QCOMPARE(one.exitCode, 2);
        QVERIFY2(one.err.contains("has 2 objectives: give --values"), qPrintable(one.err));
        const CliResult short_ =
            cli({"tell", "--study", "told", "--trial", trial, "--values", "0.5", "--db", db});
        QCOMPARE(short_.exitCode, 2);
        QVERIFY2(short_.err.contains("expected 2 numbers"), qPrintable(short_.err));
        const CliResult told =
            cli({"tell", "--study", "told", "--trial", trial, "--values", "0.5,120", "--db", db});
        QVERIFY2(told.exitCode == 0, qPrintable(told.err));
        QCOMPARE(told.lastJsonLine()["values"].toArray().size(), 2);
        const CliResult best = cli({"study", "best", "told", "--format", "text", "--db", db});
        QVERIFY2(best.out.contains("error 0.5  speed 120"), qPrintable(best.out));
    }

    // A bound keeps a trial off the front; with no trial inside the bounds, best says so.
    void boundsDecideWhatTheFrontMayHold() {
        QTemporaryDir folder;
        const QString db =
            createToldStudy(folder, R"({"name": "bounded", "space": "space.json", "objectives": [
                                            {"name": "error"}, {"name": "size", "at_most": 100}]})");
        const auto tell = [&](const QString& values) {
            return cli({"tell", "--study", "bounded", "--trial", askTrial(db, "bounded"), "--values", values,
                        "--db", db});
        };
        QCOMPARE(tell("0.1,500").exitCode, 0); // the best error, but too big
        const CliResult none = cli({"study", "best", "bounded", "--db", db});
        QCOMPARE(none.exitCode, 3);
        QVERIFY2(
            none.err.contains("has 1 complete trial, and none keeps to the objectives' at_most and at_least"),
            qPrintable(none.err));
        QCOMPARE(tell("0.4,80").exitCode, 0);
        const CliResult best = cli({"study", "best", "bounded", "--format", "text", "--db", db});
        QVERIFY2(best.out.contains("Pareto front of bounded: 1 trial\n") &&
                     best.out.contains("error 0.4  size 80"),
                 qPrintable(best.out));
    }

    // Scored by what training records (validation loss) and what the network is (its parameters):
    // the front trades one for the other, and each of its trials comes back as a runnable spec.
    void aTrainedStudyTradesLossForParameters() {
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        writeFile(folder, "experiment.json", moonsExperiment(200, 3, 32));
        const QString study = writeFile(folder, "study.json", R"({"name": "small-and-good",
          "experiment": "experiment.json",
          "space": {"parameters": [
            {"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1, "log": true},
            {"path": "model.layers[0].out_features", "kind": "int", "low": 2, "high": 64}]},
          "objectives": [{"metric": "val_loss"}, {"metric": "parameters"}],
          "sampler": {"type": "nsga2", "seed": 4}, "budget": {"trials": 8}})");
        const CliResult run = cli({"study", "run", study, "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonArray front = bestFront(db, "small-and-good");
        QVERIFY(!front.isEmpty());
        for (const QJsonValue& item : front) {
            const QJsonArray values = item.toObject()["values"].toArray();
            const int hidden = item.toObject()["experiment"]
                                   .toObject()["model"]
                                   .toObject()["layers"][0]
                                   .toObject()["out_features"]
                                   .toInt();
            // A linear layer 2 -> h, then h -> 2: (2 + 1) * h + (h + 1) * 2 parameters.
            QCOMPARE(values[1].toDouble(), double(3 * hidden + 2 * (hidden + 1)));
        }
        // The first trial of the front reruns as it is.
        writeFile(folder, "front.json", QJsonDocument(front[0].toObject()["experiment"].toObject()).toJson());
        const CliResult rerun = cli({"train", folder.filePath("front.json"), "--db", db});
        QVERIFY2(rerun.exitCode == 0, qPrintable(rerun.err));
    }

    void optunaReadsTheExportedFront() {
        if (!QFile::exists("/usr/bin/python3") ||
            QProcess::execute("/usr/bin/python3", {"-c", "import optuna"}) != 0)
            QSKIP("Debian's python3-optuna is not installed");
        QTemporaryDir folder;
        const QString space = writeFile(folder, "space.json", kSpace);
        const QString db = folder.filePath("runs.sqlite");
        const CliResult run = cli({"optimize", "--space", space, "--command", kTradeOff, "--directions",
                                   "minimize,minimize", "--trials", "20", "--name", "two", "--db", db});
        QCOMPARE(run.exitCode, 0);
        const int frontSize = static_cast<int>(run.lastJsonLine()["pareto_front"].toArray().size());
        const QString exported = folder.filePath("optuna.sqlite3");
        QCOMPARE(cli({"study", "export", "two", "--out", exported, "--db", db}).exitCode, 0);
        QProcess python;
        python.start("/usr/bin/python3",
                     {"-c",
                      "import sys, warnings, optuna; warnings.filterwarnings('ignore');"
                      "optuna.logging.set_verbosity(optuna.logging.ERROR);"
                      "s = optuna.load_study(study_name='two', storage='sqlite:///' + sys.argv[1]);"
                      "print(len(s.directions), len(s.best_trials), len(s.trials[0].values))",
                      exported});
        QVERIFY(python.waitForFinished(60000));
        QCOMPARE(QString::fromUtf8(python.readAllStandardOutput()).trimmed(),
                 QString("2 %1 2").arg(frontSize));
        const CliResult imported = cli({"study", "import", exported, "--name", "back", "--db", db});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        const CliResult best = cli({"study", "best", "back", "--db", db});
        QCOMPARE(QJsonDocument::fromJson(best.out.toUtf8()).array().size(), frontSize);
    }

    // Optuna's multi-objective study becomes a study of several objectives with the same front.
    void importsAParetoStudyOptunaMade() {
        if (!QFile::exists("/usr/bin/python3") ||
            QProcess::execute("/usr/bin/python3", {"-c", "import optuna"}) != 0)
            QSKIP("Debian's python3-optuna is not installed");
        QTemporaryDir folder;
        const QString file = folder.filePath("multi.sqlite3");
        QCOMPARE(QProcess::execute("/usr/bin/python3",
                                   {TUNELAB_SOURCE_DIR "/tests/optuna/make_pareto_study.py", file}),
                 0);
        const QString db = folder.filePath("runs.sqlite");
        const CliResult imported = cli({"study", "import", file, "--db", db});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        const CliResult status = cli({"study", "status", "pareto", "--db", db});
        QVERIFY2(status.out.contains("minimize value 1, maximize value 2, sampler motpe"),
                 qPrintable(status.out));
        const QJsonArray front = bestFront(db, "pareto");
        QVERIFY(!front.isEmpty());
        for (const QJsonValue& item : front) {
            const QJsonArray values = item.toObject()["values"].toArray();
            // make_pareto_study.py returns (x, y): the values are the parameters.
            QCOMPARE(values[0].toDouble(), item.toObject()["params"].toObject()["x"].toDouble());
            QCOMPARE(values[1].toDouble(), item.toObject()["params"].toObject()["y"].toDouble());
        }
    }
};

QTEST_GUILESS_MAIN(TestMultiObjectiveCli)
#include "tst_multi_objective_cli.moc"
