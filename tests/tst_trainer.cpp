#include "collecting_sink.h"
#include "data/dataset.h"
#include "store/run_store.h"
#include "thread_sanitizer_test_support.h"
#include "training/run_manager.h"
#include "training/trainer.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

#include <cmath>
#include <random>
#include <set>
#include <thread>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

ExperimentSpec blobsExperiment() {
    return tunelab::test::blobsExperiment(3);
}

RunOptions singleThread() {
    RunOptions options;
    options.threads = 1;
    return options;
}

RunSummary train(const ExperimentSpec& spec, CollectingSink& sink, RunOptions options = singleThread()) {
    RunControl control;
    return trainExperiment(1, spec, options, control, sink);
}

// Drains a manager's queue until the run's Finished event or the timeout.
RunSummary waitForFinish(RunManager& manager, RunId id, std::vector<RunEvent>* seen = nullptr,
                         int timeoutMs = 60000) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeoutMs) {
        manager.events().waitForEvents(std::chrono::milliseconds(20));
        for (const auto& event : manager.events().drain()) {
            if (seen)
                seen->push_back(event);
            if (event.kind == RunEventKind::Finished && event.runId == id)
                return event.summary;
        }
    }
    return RunSummary{};
}

// A regression CSV whose features and target are far from zero mean and unit spread, so that feature
// standardization and the target's units both matter: 70 rows, 56 of them train (one full batch of
// 32 and a partial one of 24).
void writeRegressionCsv(const QString& path) {
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Text));
    QTextStream out(&file);
    out << "x0,x1,x2,y\n";
    std::mt19937 random(11);
    std::uniform_real_distribution<double> unit(-1.0, 1.0);
    for (int row = 0; row < 70; ++row) {
        const double x0 = unit(random), x1 = 250.0 + 200.0 * unit(random), x2 = 3.0 * unit(random);
        const double y = 20.0 + 3.0 * x0 + 0.01 * x1 + std::sin(x2) + 0.1 * unit(random);
        out << QString::number(x0, 'g', 9) << ',' << QString::number(x1, 'g', 9) << ','
            << QString::number(x2, 'g', 9) << ',' << QString::number(y, 'g', 9) << '\n';
    }
}

QJsonArray rowList(const std::vector<int64_t>& rows) {
    QJsonArray list;
    for (const int64_t row : rows)
        list.append(static_cast<qint64>(row));
    return list;
}

} // namespace

class TestTrainer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyOptimizerLowersTheLoss_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("lr");
        QTest::addColumn<double>("momentum");
        QTest::addColumn<bool>("nesterov");
        QTest::addColumn<bool>("fullBatch");
        QTest::newRow("sgd") << int(OptimizerType::Sgd) << 0.1 << 0.0 << false << false;
        QTest::newRow("sgd momentum") << int(OptimizerType::Sgd) << 0.05 << 0.9 << false << false;
        QTest::newRow("sgd nesterov") << int(OptimizerType::Sgd) << 0.05 << 0.9 << true << false;
        QTest::newRow("full-batch gradient descent")
            << int(OptimizerType::Sgd) << 0.5 << 0.0 << false << true;
        QTest::newRow("adagrad") << int(OptimizerType::Adagrad) << 0.05 << 0.0 << false << false;
        QTest::newRow("rmsprop") << int(OptimizerType::RmsProp) << 0.005 << 0.0 << false << false;
        QTest::newRow("rmsprop momentum") << int(OptimizerType::RmsProp) << 0.002 << 0.5 << false << false;
        QTest::newRow("adam") << int(OptimizerType::Adam) << 0.01 << 0.0 << false << false;
        QTest::newRow("adamw") << int(OptimizerType::AdamW) << 0.01 << 0.0 << false << false;
    }
    void everyOptimizerLowersTheLoss() {
        QFETCH(int, type);
        QFETCH(double, lr);
        QFETCH(double, momentum);
        QFETCH(bool, nesterov);
        QFETCH(bool, fullBatch);
        ExperimentSpec spec = blobsExperiment();
        spec.optimizer.type = OptimizerType(type);
        spec.optimizer.lr = lr;
        spec.optimizer.momentum = momentum;
        spec.optimizer.nesterov = nesterov;
        spec.optimizer.weightDecay = 1e-4;
        spec.training.fullBatch = fullBatch;
        if (fullBatch)
            spec.training.epochs = 40;
        CollectingSink sink;
        const RunSummary summary = train(spec, sink);
        QCOMPARE(summary.status, RunStatus::Completed);
        const auto epochs = sink.epochs();
        QCOMPARE(int(epochs.size()), spec.training.epochs);
        const double first = sink.steps().front().trainLoss;
        QVERIFY2(epochs.back().trainLoss < 0.5 * first,
                 qPrintable(QString("loss %1 -> %2").arg(first).arg(epochs.back().trainLoss)));
        QVERIFY(epochs.back().valAccuracy > 0.8);
    }

    void sameSeedSameCurveBitForBit() {
        ExperimentSpec spec = blobsExperiment();
        spec.model.layers.insert(spec.model.layers.begin() + 2, layer(LayerType::Dropout));
        spec.model.layers[2].p = 0.3;
        spec.data.standardize = true;
        CollectingSink first, second, other;
        train(spec, first);
        train(spec, second);
        spec.seed = 4;
        train(spec, other);
        const auto a = first.steps(), b = second.steps(), c = other.steps();
        QCOMPARE(a.size(), b.size());
        bool differs = false;
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(std::memcmp(&a[i].trainLoss, &b[i].trainLoss, sizeof(float)), 0);
            QCOMPARE(std::memcmp(&a[i].gradNorm, &b[i].gradNorm, sizeof(float)), 0);
            differs = differs || (i < c.size() && a[i].trainLoss != c[i].trainLoss);
        }
        QVERIFY(differs);
    }

    // Grad mode, generators and thread counts are per run: parallel runs give the curves they
    // give alone.
    void parallelRunsDoNotDisturbEachOther() {
        ExperimentSpec spec = blobsExperiment();
        spec.model.layers.insert(spec.model.layers.begin() + 2, layer(LayerType::Dropout));
        CollectingSink alone;
        train(spec, alone);

        RunManager manager;
        std::vector<RunId> ids;
        for (int i = 0; i < 3; ++i) {
            auto id = manager.start(spec, singleThread());
            QVERIFY2(id.ok(), id.error().c_str());
            ids.push_back(id.value());
        }
        std::map<RunId, std::vector<StepRecord>> curves;
        int finished = 0;
        QElapsedTimer timer;
        timer.start();
        while (finished < 3 && timer.elapsed() < 60000) {
            manager.events().waitForEvents(std::chrono::milliseconds(20));
            for (const auto& event : manager.events().drain()) {
                auto& curve = curves[event.runId];
                curve.insert(curve.end(), event.steps.begin(), event.steps.end());
                if (event.kind == RunEventKind::Finished) {
                    QCOMPARE(event.summary.status, RunStatus::Completed);
                    ++finished;
                }
            }
        }
        QCOMPARE(finished, 3);
        const auto reference = alone.steps();
        for (RunId id : ids) {
            QCOMPARE(curves[id].size(), reference.size());
            for (size_t i = 0; i < reference.size(); ++i)
                QCOMPARE(curves[id][i].trainLoss, reference[i].trainLoss);
        }
    }

    // A consumer that stops polling once every run has queued its last event must have seen every
    // Finished event, even while the store takes its time over them (it commits each to disk).
    void allEventsQueuedMeansNoFinishIsStillOnItsWay() {
        QTemporaryDir folder;
        auto store = RunStore::open(folder.filePath("runs.sqlite").toStdString());
        QVERIFY2(store.ok(), store.error().c_str());
        ExperimentSpec spec = blobsExperiment();
        spec.training.epochs = 1;
        for (int round = 0; round < 5; ++round) {
            RunManager manager(store.value().get());
            std::set<RunId> started;
            for (int i = 0; i < 3; ++i) {
                auto id = manager.start(spec, singleThread());
                QVERIFY2(id.ok(), id.error().c_str());
                started.insert(id.value());
            }
            std::set<RunId> finished;
            QElapsedTimer timer;
            timer.start();
            bool allQueued = false;
            while (!allQueued && timer.elapsed() < 60000) {
                allQueued = manager.allEventsQueued(); // asked first, as the workbench does
                for (const auto& event : manager.events().drain())
                    if (event.kind == RunEventKind::Finished)
                        finished.insert(event.runId);
                std::this_thread::yield();
            }
            QVERIFY(allQueued);
            QCOMPARE(finished, started);
            QCOMPARE(manager.activeRuns(), 0);
        }
    }

    void divergenceEndsTheRunAndKeepsTheCurve() {
        const ExperimentSpec spec = tunelab::test::sgdRegressionExperiment(1e4, 50);
        CollectingSink sink;
        const RunSummary summary = train(spec, sink);
        QCOMPARE(summary.status, RunStatus::Diverged);
        QVERIFY2(QString::fromStdString(summary.message).contains("the loss became"),
                 summary.message.c_str());
        const auto steps = sink.steps();
        QVERIFY(!steps.empty());
        QVERIFY(!std::isfinite(steps.back().trainLoss));
        for (size_t i = 0; i + 1 < steps.size(); ++i)
            QVERIFY(std::isfinite(steps[i].trainLoss)); // the curve ends at the first bad step
        QCOMPARE(summary.steps, steps.back().step);
        QVERIFY(summary.epochs < spec.training.epochs);
        const auto finished = sink.events().back();
        QCOMPARE(finished.kind, RunEventKind::Finished);
        QVERIFY(!finished.model); // a diverged network is not worth keeping
    }

    void stopTakesEffectWithinAStep() {
        ExperimentSpec spec = blobsExperiment();
        spec.training.epochs = 100000;
        RunManager manager;
        auto id = manager.start(spec, singleThread());
        QVERIFY(id.ok());
        std::vector<RunEvent> seen;
        // Wait until it is really training.
        QElapsedTimer timer;
        timer.start();
        bool stepping = false;
        while (!stepping && timer.elapsed() < 120000) {
            manager.events().waitForEvents(std::chrono::milliseconds(10));
            for (const auto& event : manager.events().drain())
                stepping = stepping || event.kind == RunEventKind::Steps;
        }
        QVERIFY(stepping);
        QElapsedTimer latency;
        latency.start();
        manager.requestStop(id.value());
        const RunSummary summary = waitForFinish(manager, id.value(), &seen);
        const qint64 milliseconds = latency.elapsed();
        QCOMPARE(summary.status, RunStatus::Stopped);
        // Within a step on a quiet machine; unstopped, 100000 epochs would take hours.
        QVERIFY2(milliseconds < 30000, qPrintable(QString::number(milliseconds) + " ms"));
        QVERIFY(summary.steps > 0);
        QVERIFY(!manager.isRunning(id.value()));
    }

    void pauseHoldsTheRunUntilResumed() {
        ExperimentSpec spec = blobsExperiment();
        spec.training.epochs = 100000;
        RunManager manager;
        auto id = manager.start(spec, singleThread());
        QVERIFY(id.ok());
        QVERIFY(manager.events().waitForEvents(std::chrono::seconds(60))); // it has started
        manager.setPaused(id.value(), true);
        // Steps already on their way may still arrive, on a busy machine late; once 300 ms passed
        // without one, none may follow. A run that does not pause never gets so quiet.
        QElapsedTimer quiet, bound;
        quiet.start();
        bound.start();
        while (quiet.elapsed() < 300 && bound.elapsed() < 30000) {
            manager.events().waitForEvents(std::chrono::milliseconds(20));
            for (const auto& event : manager.events().drain())
                if (!event.steps.empty())
                    quiet.restart();
        }
        QVERIFY(quiet.elapsed() >= 300);
        QTest::qWait(300);
        for (const auto& event : manager.events().drain())
            QVERIFY(event.steps.empty());
        manager.setPaused(id.value(), false);
        QVERIFY(manager.events().waitForEvents(std::chrono::seconds(60)));
        manager.requestStop(id.value());
        QCOMPARE(waitForFinish(manager, id.value()).status, RunStatus::Stopped);
    }

    void earlyStoppingEndsACompletedRun() {
        ExperimentSpec spec = blobsExperiment();
        spec.optimizer.lr = 1e-9;
        spec.training.epochs = 50;
        spec.training.earlyStopping.enabled = true;
        spec.training.earlyStopping.metric = MetricKind::ValAccuracy;
        spec.training.earlyStopping.patience = 2;
        CollectingSink sink;
        const RunSummary summary = train(spec, sink);
        QCOMPARE(summary.status, RunStatus::Completed);
        QVERIFY(summary.epochs < 10);
        QVERIFY2(QString::fromStdString(summary.message).contains("early stopping"), summary.message.c_str());
    }

    // Batch norm cannot normalize one row in training: a last batch of one row is left out of each
    // epoch, saying so, and a batch size of one is refused before the first step.
    void batchNormNeverGetsASingleRow() {
        ExperimentSpec spec = blobsExperiment();
        spec.model.layers.insert(spec.model.layers.begin() + 1, tunelab::test::layer(LayerType::BatchNorm));
        spec.training.epochs = 2;
        spec.training.batchSize = 239; // 240 training rows: a batch of 239 and one of 1
        CollectingSink sink;
        const RunSummary summary = train(spec, sink);
        QVERIFY2(summary.status == RunStatus::Completed, summary.message.c_str());
        QCOMPARE(int(sink.steps().size()), 2); // one step per epoch
        QVERIFY2(QString::fromStdString(summary.message)
                     .contains("each epoch leaves out its last row (240 training rows in batches of 239): "
                               "model.layers[1] (batchnorm)"),
                 summary.message.c_str());

        spec.training.batchSize = 1;
        CollectingSink single;
        const RunSummary refused = train(spec, single);
        QCOMPARE(refused.status, RunStatus::Failed);
        QVERIFY2(QString::fromStdString(refused.message)
                     .contains("training.batch_size 1 gives a step fewer than 2 rows"),
                 refused.message.c_str());
        QVERIFY(single.steps().empty());

        // Without batch norm a last row trains like any batch.
        spec.model.layers.erase(spec.model.layers.begin() + 1);
        spec.training.batchSize = 239;
        CollectingSink plain;
        QCOMPARE(train(spec, plain).status, RunStatus::Completed);
        QCOMPARE(int(plain.steps().size()), 4);
    }

    void gradientClippingLimitsTheStep() {
        ExperimentSpec spec = blobsExperiment();
        spec.optimizer.type = OptimizerType::Sgd;
        spec.optimizer.lr = 0.1;
        spec.training.gradClipNorm = 1e-4;
        CollectingSink sink;
        QCOMPARE(train(spec, sink).status, RunStatus::Completed);
        const auto epochs = sink.epochs();
        QVERIFY(std::fabs(epochs.front().trainLoss - epochs.back().trainLoss) < 0.01);
        QVERIFY(sink.steps().front().gradNorm > 1e-3); // reported before clipping
    }

    void schedulesReachTheOptimizer() {
        ExperimentSpec spec = blobsExperiment();
        spec.schedule.type = ScheduleType::Step;
        spec.schedule.stepSize = 2;
        spec.schedule.gamma = 0.5;
        CollectingSink sink;
        train(spec, sink);
        const auto steps = sink.steps();
        QCOMPARE(steps.front().learningRate, 0.01f);
        QCOMPARE(steps.back().learningRate, float(0.01 * 0.125));
    }

    void errorsBecomeFailedEvents_data() {
        QTest::addColumn<QString>("device");
        QTest::addColumn<QString>("csvPath");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing csv") << "cpu"
                                     << "/no/such/file.csv"
                                     << "cannot open";
        QTest::newRow("no cuda here") << "cuda:7"
                                      << ""
                                      << "cuda:7";
    }
    void errorsBecomeFailedEvents() {
        QFETCH(QString, device);
        QFETCH(QString, csvPath);
        QFETCH(QString, expected);
        ExperimentSpec spec = blobsExperiment();
        spec.device = device.toStdString();
        if (!csvPath.isEmpty()) {
            spec.data.kind = DataKind::Csv;
            spec.data.path = csvPath.toStdString();
        }
        CollectingSink sink;
        const RunSummary summary = train(spec, sink);
        QCOMPARE(summary.status, RunStatus::Failed);
        QVERIFY2(QString::fromStdString(summary.message).contains(expected), summary.message.c_str());
        QCOMPARE(sink.events().back().kind, RunEventKind::Finished);
    }

    void shapeErrorsFailBeforeTraining() {
        ExperimentSpec spec = blobsExperiment();
        spec.model.layers.back().outFeatures = 5;
        CollectingSink sink;
        const RunSummary summary = train(spec, sink);
        QCOMPARE(summary.status, RunStatus::Failed);
        QVERIFY2(QString::fromStdString(summary.message).contains("needs [3]"), summary.message.c_str());
        QVERIFY(sink.steps().empty());
    }

    // Regression trains as the same PyTorch script does, epoch by epoch: PyTorch's default initialisation
    // for the seed, features z-scored with the training rows' statistics only, [N, 1] targets, the mean
    // MSE of each batch, Adam's defaults, the last partial batch kept, and the validation MSE and MAE
    // as means over the rows in the target's units. Any one of these differing moves the curve by far
    // more than the tolerance.
    void regressionMatchesPyTorchEpochByEpoch() {
        TUNELAB_SKIP_QPROCESS_UNDER_THREAD_SANITIZER();
        if (!QFile::exists("/usr/bin/python3"))
            QSKIP("no /usr/bin/python3 with torch to train the reference");
        QTemporaryDir folder;
        const QString csv = folder.filePath("regression.csv");
        writeRegressionCsv(csv);
        ExperimentSpec spec;
        spec.seed = 7;
        spec.device = "cpu";
        spec.data.kind = DataKind::Csv;
        spec.data.path = csv.toStdString();
        spec.data.target = "y";
        spec.data.task = TaskKind::Regression;
        spec.data.standardize = true;
        spec.model.layers = {layer(LayerType::Linear, 16), layer(LayerType::ReLU),
                             layer(LayerType::Linear, 16), layer(LayerType::ReLU),
                             layer(LayerType::Linear, 1)};
        spec.loss.type = LossType::Mse;
        spec.optimizer.type = OptimizerType::Adam;
        spec.optimizer.lr = 0.01;
        spec.training.epochs = 4;
        spec.training.batchSize = 32;
        spec.training.shuffle = false; // PyTorch cannot draw TuneLab's batch order
        CollectingSink sink;
        QCOMPARE(train(spec, sink).status, RunStatus::Completed);
        const auto epochs = sink.epochs();
        QCOMPARE(int(epochs.size()), spec.training.epochs);

        const DataSplit split = splitDataset(70, spec.data.validationFraction, spec.seed);
        QJsonObject job{{"csv", csv},
                        {"target", "y"},
                        {"train", rowList(split.train)},
                        {"validation", rowList(split.validation)},
                        {"seed", static_cast<qint64>(spec.seed)},
                        {"hidden", QJsonArray{16, 16}},
                        {"lr", spec.optimizer.lr},
                        {"batch", static_cast<qint64>(spec.training.batchSize)},
                        {"epochs", spec.training.epochs}};
        QProcess python;
        python.start("/usr/bin/python3",
                     {QStringLiteral(TUNELAB_SOURCE_DIR "/tests/pytorch_regression_reference.py"),
                      QString::fromUtf8(QJsonDocument(job).toJson(QJsonDocument::Compact))});
        QVERIFY(python.waitForFinished(60000));
        const QByteArray errors = python.readAllStandardError();
        if (python.exitCode() != 0 && errors.contains("No module named 'torch'"))
            QSKIP("python3-torch is not installed");
        QVERIFY2(python.exitCode() == 0, errors.constData());
        const QJsonArray reference = QJsonDocument::fromJson(python.readAllStandardOutput()).array();
        QCOMPARE(reference.size(), spec.training.epochs);
        auto close = [](double ours, double theirs) {
            return std::fabs(ours - theirs) <= 1e-4 * std::fabs(theirs);
        };
        for (int i = 0; i < spec.training.epochs; ++i) {
            const QJsonArray expected = reference[i].toArray();
            const QString where = QString("epoch %1: tunelab train %2 val %3 mae %4, pytorch %5 %6 %7")
                                      .arg(i + 1)
                                      .arg(epochs[size_t(i)].trainLoss)
                                      .arg(epochs[size_t(i)].valLoss)
                                      .arg(epochs[size_t(i)].valMae)
                                      .arg(expected[0].toDouble())
                                      .arg(expected[1].toDouble())
                                      .arg(expected[2].toDouble());
            QVERIFY2(close(epochs[size_t(i)].trainLoss, expected[0].toDouble()), qPrintable(where));
            QVERIFY2(close(epochs[size_t(i)].valLoss, expected[1].toDouble()), qPrintable(where));
            QVERIFY2(close(epochs[size_t(i)].valMae, expected[2].toDouble()), qPrintable(where));
        }
    }

    // The saved state dict loads in PyTorch with nn.Sequential's names.
    void savedModelLoadsInPyTorch() {
        TUNELAB_SKIP_QPROCESS_UNDER_THREAD_SANITIZER();
        ExperimentSpec spec = blobsExperiment();
        spec.model.layers.insert(spec.model.layers.begin() + 1, layer(LayerType::BatchNorm));
        spec.training.epochs = 1;
        CollectingSink sink;
        QCOMPARE(train(spec, sink).status, RunStatus::Completed);
        const auto model = sink.events().back().model;
        QVERIFY(model && model->size() > 100);
        if (!QFile::exists("/usr/bin/python3"))
            QSKIP("no /usr/bin/python3 with torch to load the model");
        QTemporaryDir folder;
        QFile file(folder.filePath("model.pt"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(model->data(), qint64(model->size()));
        file.close();
        QProcess python;
        python.start("/usr/bin/python3", {"-c",
                                          "import sys, torch; d = torch.load(sys.argv[1]); "
                                          "print(','.join(f'{k}:{tuple(v.shape)}' for k, v in d.items()))",
                                          file.fileName()});
        QVERIFY(python.waitForFinished(60000));
        if (python.exitCode() != 0 && python.readAllStandardError().contains("No module named 'torch'"))
            QSKIP("python3-torch is not installed");
        const QString keys = QString::fromUtf8(python.readAllStandardOutput()).trimmed();
        QCOMPARE(keys,
                 QString("0.weight:(16, 4),0.bias:(16,),1.weight:(16,),1.bias:(16,),3.weight:(3, 16),"
                         "3.bias:(3,),1.running_mean:(16,),1.running_var:(16,),1.num_batches_tracked:()"));
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
