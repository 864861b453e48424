#include "spec/spec.h"

#include <QtTest>

using namespace tunelab;

namespace {

const char* kIssueExample = R"({
  "name": "digits-mlp",
  "seed": 7,
  "device": "auto",
  "data": { "kind": "csv", "path": "../shared/data/digits.csv", "target": "digit", "task": "classification",
            "validation_fraction": 0.2, "standardize": true },
  "model": { "layers": [ {"type": "linear", "out_features": 256}, {"type": "relu"}, {"type": "dropout", "p": 0.1},
                         {"type": "linear", "out_features": 10} ] },
  "loss": { "type": "cross_entropy" },
  "optimizer": { "type": "adam", "lr": 0.001, "weight_decay": 0.0 },
  "schedule": { "type": "cosine", "warmup_epochs": 1 },
  "training": { "epochs": 20, "batch_size": 64, "grad_clip_norm": 0,
                "early_stopping": { "metric": "val_loss", "patience": 5 } }
})";

// A valid spec with one part replaced, so each bad case changes exactly one thing.
QByteArray specWith(const QByteArray& from, const QByteArray& to) {
    QByteArray text(kIssueExample);
    const int at = text.indexOf(from);
    Q_ASSERT_X(at >= 0, "specWith", from.constData());
    return text.replace(at, from.size(), to);
}

} // namespace

class TestSpec : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesTheDocumentedExample() {
        auto spec = parseExperimentSpec(kIssueExample, "/experiments");
        QVERIFY2(spec.ok(), spec.error().c_str());
        const ExperimentSpec& s = spec.value();
        QCOMPARE(s.name, std::string("digits-mlp"));
        QCOMPARE(s.seed, uint64_t(7));
        QCOMPARE(s.data.kind, DataKind::Csv);
        QCOMPARE(s.data.path, std::string("/shared/data/digits.csv"));
        QCOMPARE(s.data.target, std::string("digit"));
        QVERIFY(s.data.standardize);
        QCOMPARE(s.model.layers.size(), size_t(4));
        QCOMPARE(s.model.layers[0].type, LayerType::Linear);
        QCOMPARE(s.model.layers[0].outFeatures, int64_t(256));
        QCOMPARE(s.model.layers[2].p, 0.1);
        QCOMPARE(s.optimizer.type, OptimizerType::Adam);
        QCOMPARE(s.schedule.type, ScheduleType::Cosine);
        QCOMPARE(s.schedule.warmupEpochs, 1.0);
        QCOMPARE(s.training.epochs, 20);
        QCOMPARE(s.training.batchSize, int64_t(64));
        QVERIFY(s.training.earlyStopping.enabled);
        QCOMPARE(s.training.earlyStopping.patience, 5);
    }

    void resolvedSpecRoundTrips_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("issue example") << QByteArray(kIssueExample);
        QTest::newRow("default experiment") << QByteArray(experimentSpecToJson(defaultExperiment()).c_str());
        QTest::newRow("full batch sgd nesterov") << specWith(
            R"("optimizer": { "type": "adam", "lr": 0.001, "weight_decay": 0.0 })",
            R"("optimizer": { "type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "l1": 0.001 })");
        QTest::newRow("conv network")
            << QByteArray(R"({"data": {"kind": "csv", "path": "d.csv", "input_shape": [1, 8, 8]},
            "model": {"layers": [{"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
              {"type": "batchnorm"}, {"type": "leaky_relu", "negative_slope": 0.2}, {"type": "maxpool2d"},
              {"type": "flatten"}, {"type": "layernorm"}, {"type": "elu", "alpha": 0.5}, {"type": "linear", "out_features": 10}]},
            "schedule": {"type": "reduce_on_plateau", "patience": 2}, "training": {"batch_size": "full"}})");
    }
    void resolvedSpecRoundTrips() {
        QFETCH(QByteArray, json);
        auto first = parseExperimentSpec(json.toStdString(), "/base");
        QVERIFY2(first.ok(), first.error().c_str());
        const std::string written = experimentSpecToJson(first.value());
        auto second = parseExperimentSpec(written, "/elsewhere");
        QVERIFY2(second.ok(), second.error().c_str());
        QCOMPARE(experimentSpecToJson(second.value()), written);
    }

    void reportsMistakesWithTheirPath_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{\n  \"name\": \"x\",\n  oops\n}")
                                  << "line 3, column 3: invalid JSON";
        QTest::newRow("not an object") << QByteArray("[1, 2]") << "the spec must be a JSON object";
        QTest::newRow("out_features text")
            << specWith(R"({"type": "linear", "out_features": 10})",
                        R"({"type": "linear", "out_features": "abc"})")
            << R"(model.layers[3].out_features: expected a positive integer, got "abc")";
        QTest::newRow("out_features zero")
            << specWith(R"("out_features": 256)", R"("out_features": 0)")
            << "model.layers[0].out_features: expected a positive integer, got 0";
        QTest::newRow("out_features missing")
            << specWith(R"({"type": "linear", "out_features": 256})", R"({"type": "linear"})")
            << "model.layers[0].out_features: missing; expected a positive integer";
        QTest::newRow("unknown top key")
            << specWith(R"("seed": 7)", R"("sed": 7)") << R"(sed: unknown key; did you mean "seed"?)";
        QTest::newRow("unknown layer key")
            << specWith(R"("out_features": 256)", R"("out_feature": 256)")
            << R"(model.layers[0].out_feature: unknown key for a linear layer; did you mean "out_features"?)";
        QTest::newRow("key of another layer type")
            << specWith(R"({"type": "relu"})", R"({"type": "relu", "p": 0.5})")
            << "model.layers[1].p: unknown key for a relu layer";
        QTest::newRow("unknown layer type")
            << specWith(R"({"type": "relu"})", R"({"type": "reul"})")
            << R"(model.layers[1].type: unknown layer type "reul"; did you mean "relu"?)";
        QTest::newRow("dropout p") << specWith(R"("p": 0.1)", R"("p": 1.5)")
                                   << "model.layers[2].p: expected a probability from 0 to below 1, got 1.5";
        QTest::newRow("empty layers") << specWith(R"("layers": [)", R"("layers": [], "x": [)")
                                      << "model.layers: expected a non-empty list of layers";
        QTest::newRow("negative lr") << specWith(R"("lr": 0.001)", R"("lr": -1)")
                                     << "optimizer.lr: expected a positive learning rate, got -1";
        QTest::newRow("unknown optimizer")
            << specWith(R"("type": "adam")", R"("type": "adma")")
            << R"(optimizer.type: unknown optimizer "adma"; did you mean "adam"?)";
        QTest::newRow("momentum on adam")
            << specWith(R"("weight_decay": 0.0 })", R"("weight_decay": 0.0, "momentum": 0.9 })")
            << "optimizer.momentum: unknown key for the adam optimizer";
        QTest::newRow("nesterov without momentum")
            << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                        R"("type": "sgd", "nesterov": true)")
            << "optimizer.nesterov: Nesterov momentum needs optimizer.momentum > 0";
        QTest::newRow("bad batch size")
            << specWith(R"("batch_size": 64)", R"("batch_size": "half")")
            << R"(training.batch_size: expected a positive integer or "full", got "half")";
        QTest::newRow("bad epochs") << specWith(R"("epochs": 20)", R"("epochs": 2.5)")
                                    << "training.epochs: expected a positive integer, got 2.5";
        QTest::newRow("bad fraction")
            << specWith(R"("validation_fraction": 0.2)", R"("validation_fraction": 1)")
            << "data.validation_fraction: expected a number from 0 to below 1, got 1";
        QTest::newRow("unknown data kind") << specWith(R"("kind": "csv")", R"("kind": "cvs")")
                                           << R"(data.kind: unknown data kind "cvs"; did you mean "csv"?)";
        QTest::newRow("missing path") << specWith(R"("path": "../shared/data/digits.csv", )", "")
                                      << "data.path: missing; expected the path of a CSV file";
        QTest::newRow("generator key on csv")
            << specWith(R"("standardize": true)", R"("standardize": true, "noise": 1)")
            << "data.noise: unknown key for csv data";
        QTest::newRow("bad device") << specWith(R"("device": "auto")", R"("device": "gpu")")
                                    << R"(device: expected "auto", "cpu", "cuda" or "cuda:N", got "gpu")";
        QTest::newRow("bad schedule gamma")
            << specWith(R"("type": "cosine", "warmup_epochs": 1)", R"("type": "step", "gamma": 2)")
            << "schedule.gamma: expected a number above 0 and at most 1, got 2";
        QTest::newRow("regression loss on classes")
            << specWith(R"("type": "cross_entropy")", R"("type": "mse")")
            << "loss.type: mse does not fit a classification task";
        QTest::newRow("accuracy for regression")
            << specWith(R"("task": "classification")", R"("task": "regression")")
                   .replace("cross_entropy", "mse")
                   .replace(R"("metric": "val_loss")", R"("metric": "val_accuracy")")
            << "training.early_stopping.metric: val_accuracy is for classification";
        QTest::newRow("layer not an object")
            << specWith(R"({"type": "relu"})", "42") << "model.layers[1]: expected a layer object";
        QTest::newRow("bad input shape") << specWith(R"("standardize": true)", R"("input_shape": [1, 0, 8])")
                                         << "data.input_shape: expected 1 to 3 positive integers";
    }
    void reportsMistakesWithTheirPath() {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        auto spec = parseExperimentSpec(json.toStdString(), "/base");
        QVERIFY(!spec.ok());
        const QString error = QString::fromStdString(spec.error());
        QVERIFY2(error.contains(expected), qPrintable("got: " + error));
    }

    void reportsEveryMistakeAtOnce() {
        QByteArray json =
            specWith(R"("lr": 0.001)", R"("lr": 0)").replace(R"("epochs": 20)", R"("epochs": 0)");
        auto spec = parseExperimentSpec(json.toStdString(), "/base");
        QVERIFY(!spec.ok());
        QCOMPARE(spec.errors().size(), size_t(2));
    }

    void resolvesRelativePathsAgainstTheSpecFolder() {
        QTemporaryDir folder;
        QVERIFY(folder.isValid());
        QDir(folder.path()).mkpath("specs");
        QFile file(folder.filePath("specs/run.json"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(kIssueExample);
        file.close();
        auto spec = loadExperimentSpec(file.fileName().toStdString());
        QVERIFY2(spec.ok(), spec.error().c_str());
        QCOMPARE(QString::fromStdString(spec.value().data.path),
                 QDir::cleanPath(folder.filePath("shared/data/digits.csv")));
    }

    void relativeBaseFolderBecomesAbsolute() {
        auto spec = parseExperimentSpec(
            R"({"data": {"kind": "csv", "path": "d.csv"}, "model": {"layers": [{"type": "relu"}]}})", ".");
        QVERIFY2(spec.ok(), spec.error().c_str());
        QCOMPARE(QString::fromStdString(spec.value().data.path), QDir::current().absoluteFilePath("d.csv"));
    }

    void missingFileNamesTheFile() {
        auto spec = loadExperimentSpec("/no/such/spec.json");
        QVERIFY(!spec.ok());
        QVERIFY(QString::fromStdString(spec.error()).contains("/no/such/spec.json: cannot open"));
    }

    void shippedExamplesAreValid() {
        const QDir examples(QString(TUNELAB_SOURCE_DIR) + "/resources/experiments");
        const QStringList files = examples.entryList({"*.json"});
        QVERIFY(files.size() >= 3);
        for (const QString& name : files) {
            auto spec = loadExperimentSpec(examples.filePath(name).toStdString());
            QVERIFY2(spec.ok(), qPrintable(name + ": " + QString::fromStdString(spec.error())));
        }
    }

    void appliesDefaults() {
        auto spec = parseExperimentSpec(
            R"({"data": {"kind": "regression"}, "model": {"layers": [{"type": "linear", "out_features": 1}]}})");
        QVERIFY2(spec.ok(), spec.error().c_str());
        QCOMPARE(spec.value().loss.type, LossType::Mse); // regression data picks a regression loss
        QCOMPARE(spec.value().data.task, TaskKind::Regression);
        QCOMPARE(spec.value().optimizer.type, OptimizerType::Adam);
        QCOMPARE(spec.value().device, std::string("auto"));
    }
};

QTEST_APPLESS_MAIN(TestSpec)
#include "tst_spec.moc"
