#include "spec/spec.h"

#include "spec/optimizer_catalog.h"
#include "spec/spec_keys.h"

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
        const QByteArray adam = R"("optimizer": { "type": "adam", "lr": 0.001, "weight_decay": 0.0 })";
        QTest::newRow("sgd dampening") << specWith(
            adam, R"("optimizer": { "type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.5 })");
        QTest::newRow("adam amsgrad")
            << specWith(adam, R"("optimizer": { "type": "adam", "betas": [0.8, 0.99], "amsgrad": true })");
        QTest::newRow("adamw amsgrad")
            << specWith(adam, R"("optimizer": { "type": "adamw", "weight_decay": 0.1, "amsgrad": true })");
        QTest::newRow("rmsprop centered") << specWith(
            adam, R"("optimizer": { "type": "rmsprop", "alpha": 0.9, "momentum": 0.5, "centered": true })");
        QTest::newRow("adagrad lr_decay") << specWith(
            adam, R"("optimizer": { "type": "adagrad", "lr_decay": 0.001, "initial_accumulator": 0.1 })");
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
        QTest::newRow("nesterov with dampening")
            << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                        R"("type": "sgd", "momentum": 0.9, "dampening": 0.1, "nesterov": true)")
            << "optimizer.nesterov: Nesterov momentum needs optimizer.dampening = 0";
        QTest::newRow("dampening above one")
            << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                        R"("type": "sgd", "dampening": 1.5)")
            << "optimizer.dampening: expected a number from 0 to 1, got 1.5";
        QTest::newRow("dampening on adam")
            << specWith(R"("weight_decay": 0.0 })", R"("weight_decay": 0.0, "dampening": 0 })")
            << "optimizer.dampening: unknown key for the adam optimizer";
        QTest::newRow("amsgrad not a bool")
            << specWith(R"("weight_decay": 0.0 })", R"("weight_decay": 0.0, "amsgrad": 1 })")
            << "optimizer.amsgrad: expected true or false, got 1";
        QTest::newRow("amsgrad on sgd") << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                                                    R"("type": "sgd", "amsgrad": true)")
                                        << "optimizer.amsgrad: unknown key for the sgd optimizer";
        QTest::newRow("centered on adam")
            << specWith(R"("weight_decay": 0.0 })", R"("weight_decay": 0.0, "centered": true })")
            << "optimizer.centered: unknown key for the adam optimizer";
        QTest::newRow("negative lr_decay") << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                                                       R"("type": "adagrad", "lr_decay": -1)")
                                           << "optimizer.lr_decay: expected a number >= 0, got -1";
        QTest::newRow("lr_decay on rmsprop")
            << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                        R"("type": "rmsprop", "lr_decay": 0)")
            << "optimizer.lr_decay: unknown key for the rmsprop optimizer";
        QTest::newRow("beta of one")
            << specWith(R"("weight_decay": 0.0 })", R"("weight_decay": 0.0, "betas": [0.9, 1] })")
            << "optimizer.betas: expected two numbers from 0 to below 1 like [0.9, 0.999], got an array";
        QTest::newRow("rmsprop alpha") << specWith(R"("type": "adam", "lr": 0.001, "weight_decay": 0.0)",
                                                   R"("type": "rmsprop", "alpha": 1)")
                                       << "optimizer.alpha: expected a number from 0 to below 1, got 1";
        QTest::newRow("zero eps") << specWith(R"("weight_decay": 0.0 })",
                                              R"("weight_decay": 0.0, "eps": 0 })")
                                  << "optimizer.eps: expected a positive number, got 0";
        QTest::newRow("bad batch size")
            << specWith(R"("batch_size": 64)", R"("batch_size": "half")")
            << R"(training.batch_size: expected a positive integer or "full", got "half")";
        QTest::newRow("bad epochs") << specWith(R"("epochs": 20)", R"("epochs": 2.5)")
                                    << "training.epochs: expected a positive integer, got 2.5";
        // 2^31 - 1 is a positive integer: the message says what the limit is.
        QTest::newRow("epochs past the limit")
            << specWith(R"("epochs": 20)", R"("epochs": 2147483647)")
            << "training.epochs: expected a positive integer of at most 1000000000, got 2147483647";
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

    // Each optimizer's defaults where its keys are missing, as PyTorch has them.
    void appliesEachOptimizersDefaults_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("eps");
        QTest::addColumn<double>("weightDecay");
        QTest::addColumn<QString>("written"); // in the written optimizer object
        QTest::newRow("adagrad") << "adagrad" << 1e-10 << 0.0
                                 << R"("eps":1e-10,"initial_accumulator":0.0,"lr_decay":0.0)";
        QTest::newRow("adam") << "adam" << 1e-8 << 0.0
                              << R"("betas":[0.9,0.999],"eps":1e-08,"amsgrad":false)";
        QTest::newRow("adamw") << "adamw" << 1e-8 << 0.01 << R"("weight_decay":0.01)";
        QTest::newRow("rmsprop") << "rmsprop" << 1e-8 << 0.0
                                 << R"("alpha":0.99,"eps":1e-08,"momentum":0.0,"centered":false)";
        QTest::newRow("sgd") << "sgd" << 1e-8 << 0.0 << R"("momentum":0.0,"nesterov":false,"dampening":0.0)";
    }
    void appliesEachOptimizersDefaults() {
        QFETCH(QString, type);
        QFETCH(double, eps);
        QFETCH(double, weightDecay);
        QFETCH(QString, written);
        auto spec = parseExperimentSpec(
            specWith(R"("optimizer": { "type": "adam", "lr": 0.001, "weight_decay": 0.0 })",
                     "\"optimizer\": {\"type\": \"" + type.toUtf8() + "\"}")
                .toStdString());
        QVERIFY2(spec.ok(), spec.error().c_str());
        QCOMPARE(spec.value().optimizer.eps, eps);
        QCOMPARE(spec.value().optimizer.weightDecay, weightDecay);
        const QString json = QString::fromStdString(optimizerToJson(spec.value().optimizer));
        QVERIFY2(json.contains(written), qPrintable(json));
        // Written out, every key of the type reads back to the same optimizer.
        std::vector<std::string> errors;
        const OptimizerSpec back = readOptimizerJson(json.toStdString(), errors);
        QVERIFY(errors.empty());
        QCOMPARE(QString::fromStdString(optimizerToJson(back)), json);
    }

    // The new keys reach OptimizerSpec and the writer.
    void readsTheNewOptimizerKeys() {
        std::vector<std::string> errors;
        const OptimizerSpec sgd =
            readOptimizerJson(R"({"type": "sgd", "momentum": 0.9, "dampening": 0.25})", errors);
        const OptimizerSpec adamw = readOptimizerJson(R"({"type": "adamw", "amsgrad": true})", errors);
        const OptimizerSpec rmsprop = readOptimizerJson(R"({"type": "rmsprop", "centered": true})", errors);
        const OptimizerSpec adagrad = readOptimizerJson(R"({"type": "adagrad", "lr_decay": 0.5})", errors);
        QVERIFY(errors.empty());
        QCOMPARE(sgd.dampening, 0.25);
        QVERIFY(adamw.amsgrad);
        QCOMPARE(adamw.weightDecay, 0.01);
        QVERIFY(rmsprop.centered);
        QCOMPARE(adagrad.lrDecay, 0.5);
        QCOMPARE(adagrad.eps, 1e-10);
        // Errors name the path the caller gives, as a race file's set-ups do.
        readOptimizerJson(R"({"type": "adam", "amsgrad": "yes"})", errors, "setups[2].optimizer");
        QCOMPARE(int(errors.size()), 1);
        QCOMPARE(QString::fromStdString(errors.front()),
                 QString(R"(setups[2].optimizer.amsgrad: expected true or false, got "yes")"));
    }

    // Every catalog key is read by its optimizers and refused by the others, and what the catalog
    // lists is what keysForType (and so a trial's experiment) keeps.
    void catalogKeysMatchTheReader() {
        for (const OptimizerInfo& info : optimizerCatalog()) {
            QCOMPARE(*keysForType("optimizer", info.json), optimizerJsonKeys(info.type));
            for (const OptimizerKey* key : allOptimizerKeys()) {
                const std::string value = key->kind == OptimizerKeyKind::Bool   ? "false"
                                          : key->kind == OptimizerKeyKind::Pair ? "[0.5, 0.5]"
                                                                                : "0.5";
                std::vector<std::string> errors;
                readOptimizerJson(std::string(R"({"type": ")") + info.json + R"(", ")" + key->json +
                                      "\": " + value + "}",
                                  errors);
                QVERIFY2(errors.empty() == info.accepts(key->json),
                         (std::string(info.json) + " " + key->json).c_str());
            }
        }
        QCOMPARE(*keysForType("schedule", "step"),
                 (std::vector<std::string>{"type", "warmup_epochs", "step_size", "gamma"}));
        QCOMPARE(*keysForType("loss", "huber"), (std::vector<std::string>{"type", "delta"}));
        // A layer that a trial turns into another type keeps its place in the graph.
        QCOMPARE(*keysForType("model.layers[3]", "dropout"),
                 (std::vector<std::string>{"type", "p", "name", "inputs"}));
        QVERIFY(!keysForType("model.blocks.a.b.layers[3]", "relu"));
        QVERIFY(!keysForType("optimizer", "lbfgs"));
        QVERIFY(!keysForType("data", "csv"));
        QVERIFY(!keysForType("model.layers[x]", "relu"));
    }
};

QTEST_APPLESS_MAIN(TestSpec)
#include "tst_spec.moc"
