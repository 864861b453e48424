#include "collecting_sink.h"
#include "training/run_manager.h"
#include "training/trainer.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

#include <cmath>

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
        while (!stepping && timer.elapsed() < 30000) {
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
        QVERIFY2(milliseconds < 500, qPrintable(QString::number(milliseconds) + " ms"));
        QVERIFY(summary.steps > 0);
        QVERIFY(!manager.isRunning(id.value()));
    }

    void pauseHoldsTheRunUntilResumed() {
        ExperimentSpec spec = blobsExperiment();
        spec.training.epochs = 100000;
        RunManager manager;
        auto id = manager.start(spec, singleThread());
        QVERIFY(id.ok());
        QTest::qWait(200);
        manager.setPaused(id.value(), true);
        QTest::qWait(100);
        manager.events().drain();
        QTest::qWait(300);
        for (const auto& event : manager.events().drain())
            QVERIFY(event.steps.empty());
        manager.setPaused(id.value(), false);
        QVERIFY(manager.events().waitForEvents(std::chrono::milliseconds(2000)));
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

    // The saved state dict loads in PyTorch with nn.Sequential's names.
    void savedModelLoadsInPyTorch() {
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
