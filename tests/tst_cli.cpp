// tunelab-cli end to end: a real process, a real SQLite file, the real digits data.

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "cli_test_support.h"

#include "store/run_store.h"

#include <csignal>

using namespace tunelab::test;

namespace {

// Training real data takes a while; a hung run still fails well inside the suite's limit.
CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 120000);
}

QByteArray digitsSpec(int epochs) {
    const QByteArray data = QByteArray(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    return R"({"name": "digits-mlp", "seed": 7, "device": "cpu",
      "data": {"kind": "csv", "path": ")" +
           data + R"(", "target": "digit", "validation_fraction": 0.2, "standardize": true},
      "model": {"layers": [{"type": "linear", "out_features": 128}, {"type": "relu"}, {"type": "dropout", "p": 0.1},
                           {"type": "linear", "out_features": 10}]},
      "optimizer": {"type": "adam", "lr": 0.002},
      "schedule": {"type": "cosine", "warmup_epochs": 1},
      "training": {"epochs": )" +
           QByteArray::number(epochs) + R"(, "batch_size": 64}})";
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        if (!QFile::exists(QString(TUNELAB_SHARED_DATA_DIR) + "/digits.csv"))
            QSKIP("../shared/data/digits.csv is not here");
    }

    void trainsDigitsAndRecordsTheRun() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "digits.json", digitsSpec(20));
        const QString db = folder.filePath("runs.sqlite");
        const CliResult train = runCli({"train", spec, "--db", db, "--threads", "1", "--json"});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        const QJsonObject result = train.lastJsonLine();
        QCOMPARE(result["status"].toString(), QString("completed"));
        QCOMPARE(result["epochs"].toInt(), 20);
        QVERIFY(result["steps"].toInt() > 0);
        QVERIFY(result["train_seconds"].toDouble() > 0.0);
        QVERIFY(result["steps_per_second"].toDouble() > 0.0);
        QVERIFY(result.contains("train_loss") && result.contains("val_loss"));
        QVERIFY2(result["val_accuracy"].toDouble() >= 0.95,
                 qPrintable(QString::number(result["val_accuracy"].toDouble())));
        QVERIFY(train.err.contains("epoch 20/20")); // with --json, progress goes to stderr
        const int id = result["run_id"].toInt();

        const CliResult list = runCli({"runs", "list", "--db", db});
        QCOMPARE(list.exitCode, 0);
        QVERIFY(list.out.startsWith(QString::number(id) + " "));
        QVERIFY(list.out.contains("digits-mlp") && list.out.contains("completed"));

        const CliResult show = runCli({"runs", "show", QString::number(id), "--db", db});
        QCOMPARE(show.exitCode, 0);
        const QJsonObject run = QJsonDocument::fromJson(show.out.toUtf8()).object();
        QCOMPARE(run["status"].toString(), QString("completed"));
        QCOMPARE(run["epoch_metrics"].toArray().size(), 20);
        QCOMPARE(run["step_count"].toInt(), result["steps"].toInt());
        QCOMPARE(run["spec"].toObject()["name"].toString(), QString("digits-mlp"));
        QVERIFY(run["has_model"].toBool());

        const CliResult csv = runCli({"runs", "export", QString::number(id), "--format", "csv", "--db", db});
        QCOMPARE(csv.exitCode, 0);
        const QStringList rows = csv.out.trimmed().split('\n');
        QCOMPARE(
            rows.first(),
            QString(
                "kind,step,epoch,train_loss,learning_rate,grad_norm,val_loss,val_accuracy,val_mae,seconds"));
        QCOMPARE(rows.size(), 1 + result["steps"].toInt() + 20);

        // Tags and a note, kept in the store and shown by `runs show`; a bad tag changes nothing.
        QCOMPARE(runCli({"runs", "tag", QString::number(id), "baseline", "digits 20ep", "--db", db}).exitCode,
                 0);
        QCOMPARE(
            runCli({"runs", "note", QString::number(id), "first try\nadam at 2e-3", "--db", db}).exitCode, 0);
        const CliResult refused = runCli({"runs", "tag", QString::number(id), "a,b", "--db", db});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains("comma"), qPrintable(refused.err));
        const QJsonObject annotated =
            QJsonDocument::fromJson(runCli({"runs", "show", QString::number(id), "--db", db}).out.toUtf8())
                .object();
        QCOMPARE(annotated["tags"].toArray(), (QJsonArray{"baseline", "digits 20ep"}));
        QCOMPARE(annotated["note"].toString(), QString("first try\nadam at 2e-3"));
        QCOMPARE(runCli({"runs", "tag", "999", "x", "--db", db}).exitCode, 2);
    }

    void exitCodes_data() {
        QTest::addColumn<QByteArray>("spec");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        QTest::newRow("bad spec")
            << QByteArray(
                   R"({"data": {"kind": "spirals"}, "model": {"layers": [{"type": "linear", "out_features": "abc"}]}})")
            << QStringList() << 2 << "model.layers[0].out_features: expected a positive integer";
        QTest::newRow("bad data")
            << QByteArray(
                   R"({"data": {"kind": "csv", "path": "missing.csv"}, "model": {"layers": [{"type": "linear", "out_features": 2}]}})")
            << QStringList() << 2 << "missing.csv";
        QTest::newRow("impossible network")
            << QByteArray(
                   R"({"data": {"kind": "spirals"}, "model": {"layers": [{"type": "conv2d", "out_channels": 2}]}})")
            << QStringList() << 2 << "layer 0 (conv2d) needs an image input";
        QTest::newRow("no such device")
            << QByteArray(
                   R"({"data": {"kind": "spirals"}, "model": {"layers": [{"type": "linear", "out_features": 2}]}})")
            << QStringList{"--device", "cuda:99"} << 2 << "cuda:99";
        QTest::newRow("diverges")
            << QByteArray(
                   R"({"data": {"kind": "regression", "samples": 200}, "model": {"layers": [{"type": "linear", "out_features": 32}, {"type": "relu"}, {"type": "linear", "out_features": 1}]},
                                       "optimizer": {"type": "sgd", "lr": 10000}, "training": {"epochs": 30, "batch_size": 16}})")
            << QStringList() << 3 << "diverged";
        QTest::newRow("missing spec file") << QByteArray() << QStringList() << 2 << "";
    }
    void exitCodes() {
        QFETCH(QByteArray, spec);
        QFETCH(QStringList, extra);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        QTemporaryDir folder;
        const QString specPath =
            spec.isEmpty() ? folder.filePath("none.json") : writeFile(folder, "spec.json", spec);
        const CliResult result =
            runCli(QStringList{"train", specPath, "--db", folder.filePath("runs.sqlite")} + extra);
        QCOMPARE(result.exitCode, exitCode);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
    }

    void aForkContinuesARunFromItsCheckpoint() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "digits.json", digitsSpec(3));
        const QString db = folder.filePath("runs.sqlite");
        QCOMPARE(runCli({"train", spec, "--db", db, "--threads", "1", "--json"}).exitCode, 0);
        // The parent's experiment trains to epoch 3: continuing it needs more epochs, said, not assumed.
        const CliResult tooShort = runCli({"train", "--from", "1", "--db", db});
        QCOMPARE(tooShort.exitCode, 2);
        QVERIFY2(tooShort.err.contains("give --epochs above 3"), qPrintable(tooShort.err));
        const CliResult fork =
            runCli({"train", "--from", "1", "--epochs", "5", "--db", db, "--threads", "1", "--json"});
        QVERIFY2(fork.exitCode == 0, qPrintable(fork.err));
        QCOMPARE(fork.lastJsonLine()["epochs"].toInt(), 5);
        const QJsonObject shown = runCli({"runs", "show", "2", "--db", db}).json();
        QCOMPARE(shown["parent_run"].toInt(), 1);
        QCOMPARE(shown["parent_epoch"].toInt(), 3);
        QVERIFY(shown["has_checkpoint"].toBool());
        const QJsonArray epochs = shown["epoch_metrics"].toArray();
        QCOMPARE(epochs.size(), 2);
        QCOMPARE(epochs.first().toObject()["epoch"].toInt(), 4);
        // A run without a checkpoint (it never existed here) is refused with the reason.
        const CliResult missing = runCli({"train", "--from", "7", "--db", db});
        QCOMPARE(missing.exitCode, 2);
        QVERIFY2(missing.err.contains("there is no run 7"), qPrintable(missing.err));
    }

    void aPopulationStudyRunsFromTheCommandLine() {
        QTemporaryDir folder;
        const QByteArray study = R"({"name": "digits-pbt", "experiment": )" + digitsSpec(4) +
                                 R"(, "space": {"parameters": [
                {"path": "optimizer.lr", "kind": "float", "low": 0.0005, "high": 0.05, "log": true}]},
              "objective": {"metric": "val_loss", "at": "last"},
              "population": {"size": 4, "interval": 2}, "parallel": 2})";
        const QString file = writeFile(folder, "study.json", study);
        const QString db = folder.filePath("runs.sqlite");
        const CliResult run = runCli({"study", "run", file, "--db", db});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QVERIFY2(run.err.contains("every member of the population has trained its 4 epochs"),
                 qPrintable(run.err));
        QVERIFY2(run.err.contains("member 3, epochs 3-4"), qPrintable(run.err));
        QVERIFY2(run.err.contains(", copies member "), qPrintable(run.err));
        auto store = tunelab::RunStore::openForReading(db.toStdString());
        QVERIFY(store.ok());
        const auto trials = store.value()->trials(store.value()->findStudy("digits-pbt")->id);
        QCOMPARE(trials.size(), size_t{8});
        for (const auto& trial : trials)
            QCOMPARE(trial.startEpoch, trial.number < 4 ? 0 : 2);
        const QJsonObject status = runCli({"study", "status", "digits-pbt", "--db", db, "--json"}).json();
        const QJsonArray list = status["trial_list"].toArray();
        QCOMPARE(list.size(), 8);
        QCOMPARE(list.last().toObject()["start_epoch"].toInt(), 2);
        QVERIFY(list.last().toObject()["parent_trial"].toInt() < 4);
        QVERIFY(list.first().toObject()["parent_trial"].isNull());
    }

    void exportsARunAndRecordsItsCheck() {
        QTemporaryDir folder;
        const QString spec = writeFile(folder, "digits.json", digitsSpec(2));
        const QString db = folder.filePath("runs.sqlite");
        QCOMPARE(runCli({"train", spec, "--db", db, "--threads", "1", "--json"}).exitCode, 0);
        const QString model = folder.filePath("digits.pt");
        const CliResult exported = runCli({"export", "1", "-o", model, "--db", db, "--json"});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        const QJsonObject result = exported.lastJsonLine();
        QVERIFY(result["verified"].toBool());
        QCOMPARE(result["checked_rows"].toInt(), 359);
        QVERIFY(QFileInfo(model).size() > 38000); // 9,610 float weights and biases
        const QJsonArray exports = runCli({"runs", "show", "1", "--db", db}).json()["exports"].toArray();
        QCOMPARE(exports.size(), 1);
        QCOMPARE(exports.first().toObject()["format"].toString(), QString("torchscript"));
        QCOMPARE(exports.first().toObject()["path"].toString(), model);
        // ONNX, read back by OpenCV's DNN module; a TuneLab built without ONNX says so and writes nothing.
        const QString onnx = folder.filePath("digits.onnx");
        const CliResult written = runCli({"export", "1", "--format", "onnx", "-o", onnx, "--db", db});
        if (written.err.contains("built without ONNX support")) {
            QCOMPARE(written.exitCode, 3);
            QVERIFY(!QFile::exists(onnx));
        } else {
            QVERIFY2(written.exitCode == 0, qPrintable(written.err));
            QVERIFY2(written.out.contains("exported as onnx") &&
                         written.out.contains("verified: read back with OpenCV"),
                     qPrintable(written.out));
            QVERIFY(QFileInfo(onnx).size() > 38000);
        }
        // A run that does not exist, and a format that does not.
        QCOMPARE(runCli({"export", "9", "-o", model, "--db", db}).exitCode, 2);
        QCOMPARE(runCli({"export", "1", "--format", "onnx2", "-o", model, "--db", db}).exitCode, 2);
    }

    void unknownRunIdIsBadInput() {
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        // Commands that only read create nothing: without a store they say so.
        const CliResult missing = runCli({"runs", "show", "42", "--db", db});
        QCOMPARE(missing.exitCode, 2);
        QVERIFY2(missing.err.contains("no run store here yet"), qPrintable(missing.err));
        QVERIFY(!QFile::exists(db));
        QVERIFY(tunelab::RunStore::open(db.toStdString()).ok());
        const CliResult result = runCli({"runs", "show", "42", "--db", db});
        QCOMPARE(result.exitCode, 2);
        QVERIFY(result.err.contains("no run with id 42"));
    }

    // `runs delete` checks every id first: an unknown id or a run still training deletes nothing.
    void runsDeleteTakesFinishedRunsOnly() {
        using namespace tunelab;
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        std::vector<RunId> ids;
        {
            auto store = RunStore::open(db.toStdString());
            QVERIFY2(store.ok(), store.error().c_str());
            for (const RunStatus status : {RunStatus::Completed, RunStatus::Failed, RunStatus::Running}) {
                const auto id = store.value()->createRun(toString(status), "{}");
                QVERIFY(id.ok());
                ids.push_back(id.value());
                RunEvent event;
                event.kind = RunEventKind::Started;
                event.runId = id.value();
                store.value()->onRunEvent(event);
                if (status == RunStatus::Running)
                    continue; // this process is alive, so the run reads as running
                event.kind = RunEventKind::Finished;
                event.summary.status = status;
                store.value()->onRunEvent(event);
            }
            store.value()->flush();
        }
        const QString completed = QString::number(ids[0]), failed = QString::number(ids[1]),
                      running = QString::number(ids[2]);
        const CliResult unknown = runCli({"runs", "delete", completed, "999", "--db", db});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains("no run with id 999; nothing was deleted"), qPrintable(unknown.err));
        const CliResult busy = runCli({"runs", "delete", completed, running, "--db", db});
        QCOMPARE(busy.exitCode, 2);
        QVERIFY2(busy.err.contains("is running: stop it first"), qPrintable(busy.err));
        QCOMPARE(runCli({"runs", "show", completed, "--db", db}).exitCode, 0);

        const CliResult deleted = runCli({"runs", "delete", completed, failed, completed, "--db", db});
        QCOMPARE(deleted.exitCode, 0);
        QVERIFY2(deleted.err.contains("deleted run " + completed + " (completed, completed)") &&
                     deleted.err.contains("deleted run " + failed + " (failed, failed)"),
                 qPrintable(deleted.err));
        QCOMPARE(runCli({"runs", "show", completed, "--db", db}).exitCode, 2);
        QCOMPARE(runCli({"runs", "show", failed, "--db", db}).exitCode, 2);
        const CliResult list = runCli({"runs", "list", "--db", db});
        QVERIFY2(list.out.startsWith(running + " "), qPrintable(list.out));
    }

    void interruptStopsCleanlyAndKeepsTheRun() {
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        QProcess process;
        process.start(TUNELAB_CLI,
                      {"train", "--default", "--epochs", "100000", "--db", db, "--threads", "1"});
        QVERIFY(process.waitForStarted());
        // Wait for the first finished epoch, then press Ctrl-C.
        QByteArray output;
        QTRY_VERIFY_WITH_TIMEOUT((output += process.readAllStandardOutput()).contains("epoch 2/"), 120000);
        ::kill(pid_t(process.processId()), SIGINT);
        QVERIFY(process.waitForFinished(120000));
        QCOMPARE(process.exitCode(), 130);
        const CliResult list = runCli({"runs", "list", "--db", db});
        QVERIFY2(list.out.contains("stopped"), qPrintable(list.out));
    }

    void validatePrintsTheLayerTable() {
        QTemporaryDir folder;
        const CliResult result = runCli({"validate", writeFile(folder, "digits.json", digitsSpec(1))});
        QCOMPARE(result.exitCode, 0);
        QVERIFY2(result.out.contains("1797 samples of [64]"), qPrintable(result.out));
        QVERIFY(result.out.contains("8,320")); // 64 * 128 + 128 parameters in layer 0
        QVERIFY(result.out.contains("total"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
