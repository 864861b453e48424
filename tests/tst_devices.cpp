// The devices a run can train on, as the window's device list and status bar show them, the device
// strings a spec or --device may name, the CUDA stream each run on a GPU gets of its own, and the
// training step a GPU run records as a CUDA graph.

#include "collecting_sink.h"
#include "training/devices.h"
#include "training/trainer.h"

#include <torch/torch.h>

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <string>

using namespace tunelab;
using tunelab::test::CollectingSink;

class TestDevices : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theCpuComesFirstThenEveryGpuWithItsMemory() {
        const auto devices = availableDevices();
        QVERIFY(!devices.empty());
        QCOMPARE(devices.front().id, std::string("cpu"));
        QCOMPARE(devices.front().name, std::string("CPU"));
        const size_t gpus = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
        QCOMPARE(devices.size(), 1 + gpus);
        for (size_t i = 1; i < devices.size(); ++i) {
            QCOMPARE(devices[i].id, "cuda:" + std::to_string(i - 1));
            QVERIFY(!devices[i].name.empty());
            QVERIFY(devices[i].memoryBytes > 0);
        }
    }

    void deviceStringsResolveOrSayWhy() {
        const bool gpu = torch::cuda::is_available();
        QCOMPARE(resolveDevice("cpu").value(), std::string("cpu"));
        QCOMPARE(resolveDevice("auto").value(), std::string(gpu ? "cuda:0" : "cpu"));
        const auto bad = resolveDevice("gpu");
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().find("device") != std::string::npos, bad.error().c_str());
        const auto far = resolveDevice("cuda:64");
        QVERIFY(!far.ok());
        QVERIFY2(far.error().find(gpu ? "only" : "no CUDA device is available") != std::string::npos,
                 far.error().c_str());
    }

    void aRunOnAGpuGetsAStreamOfItsOwn() {
        QVERIFY(!OwnStream("cpu").active());
        if (!torch::cuda::is_available())
            QSKIP("no GPU here: a run on the CPU has no stream to own");
        QVERIFY(OwnStream("cuda:0").active());
    }

    // The step a CUDA graph records reads the optimizer's numbers from a tensor and zeroes the
    // gradient itself; run eagerly on the CPU it trains as the usual step does, mixed with usual
    // steps (the smaller last batch of each epoch, the steps that sample gradient health).
    void theStepAGraphReplaysTrainsAsTheUsualStep_data() {
        QTest::addColumn<int>("optimizer");
        QTest::addColumn<double>("clip");
        QTest::newRow("adam, clipped") << static_cast<int>(OptimizerType::Adam) << 0.5;
        QTest::newRow("adamw") << static_cast<int>(OptimizerType::AdamW) << 0.0;
        QTest::newRow("sgd, momentum") << static_cast<int>(OptimizerType::Sgd) << 0.0;
        QTest::newRow("rmsprop") << static_cast<int>(OptimizerType::RmsProp) << 0.0;
        QTest::newRow("adagrad") << static_cast<int>(OptimizerType::Adagrad) << 1.0;
    }

    void theStepAGraphReplaysTrainsAsTheUsualStep() {
        QFETCH(int, optimizer);
        QFETCH(double, clip);
        ExperimentSpec spec = tunelab::test::blobsExperiment(5);
        spec.optimizer.type = static_cast<OptimizerType>(optimizer);
        spec.optimizer.momentum = 0.9;
        spec.optimizer.weightDecay = 0.01;
        spec.training.gradClipNorm = clip;
        spec.training.epochs = 4; // 240 training rows: 7 batches of 32 and one of 16 per epoch
        RunOptions options;
        options.threads = 1;
        RunControl control;
        CollectingSink usual, replayable;
        trainExperiment(1, spec, options, control, usual);
        options.replayableStepsOnCpu = true;
        const RunSummary summary = trainExperiment(2, spec, options, control, replayable);
        QVERIFY2(summary.status == RunStatus::Completed, summary.message.c_str());
        const auto a = usual.steps(), b = replayable.steps();
        QCOMPARE(a.size(), b.size());
        QCOMPARE(a.size(), size_t(32));
        double worst = 0.0;
        for (size_t i = 0; i < a.size(); ++i) {
            worst = std::max(
                worst, double(std::abs(a[i].trainLoss - b[i].trainLoss) / std::max(1.0f, a[i].trainLoss)));
            QVERIFY2(std::abs(a[i].gradNorm - b[i].gradNorm) <= 1e-4 * std::max(1.0f, a[i].gradNorm),
                     qPrintable(QStringLiteral("step %1: norm %2 against %3")
                                    .arg(i + 1)
                                    .arg(b[i].gradNorm)
                                    .arg(a[i].gradNorm)));
        }
        QVERIFY2(worst <= 1e-5, qPrintable(QStringLiteral("largest loss difference %1").arg(worst)));
        QVERIFY(a.back().trainLoss < a.front().trainLoss);
    }
};

QTEST_GUILESS_MAIN(TestDevices)
#include "tst_devices.moc"
