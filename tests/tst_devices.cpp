// The devices a run can train on, as the window's device list and status bar show them, the device
// strings a spec or --device may name, and the CUDA stream each run on a GPU gets of its own.

#include "training/devices.h"

#include <torch/torch.h>

#include <QtTest>

#include <string>

using namespace tunelab;

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
};

QTEST_GUILESS_MAIN(TestDevices)
#include "tst_devices.moc"
