#include "collecting_sink.h"
#include "common/loopback_port.h"
#include "training/data_parallel.h"
#include "training/trainer.h"

#include <QElapsedTimer>
#include <QtTest>

#include <cmath>
#include <map>
#include <thread>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

// Two moons through a tanh MLP: no dropout and no batch norm, whose draws and statistics are per
// process, so two processes follow one process's curve up to float rounding.
ExperimentSpec moonsExperiment() {
    ExperimentSpec spec;
    spec.name = "moons";
    spec.seed = 5;
    spec.device = "cpu";
    spec.data.kind = DataKind::Moons;
    spec.data.samples = 1000;
    spec.data.noise = 0.2;
    spec.model.layers = {layer(LayerType::Linear, 32), layer(LayerType::Tanh), layer(LayerType::Linear, 32),
                         layer(LayerType::Tanh), layer(LayerType::Linear, 2)};
    spec.optimizer.type = OptimizerType::Adam;
    spec.optimizer.lr = 0.01;
    spec.training.epochs = 2;
    spec.training.batchSize = 33; // 800 training rows: the last batch of each epoch has 8
    return spec;
}

struct RankResult {
    RunSummary summary;
    std::vector<StepRecord> steps;
    std::vector<EpochRecord> epochs;
};

// Trains `specs[r]` as rank r of a group on this host, one thread per rank, as separate processes
// would; `prepare` may change a rank's options or control before it starts.
std::vector<RankResult>
trainTogether(const std::vector<ExperimentSpec>& specs, double timeoutSeconds = 60.0,
              const std::function<void(int, RunOptions&, RunControl&)>& prepare = nullptr) {
    const int size = static_cast<int>(specs.size());
    const int port = freeLoopbackPort();
    std::vector<RankResult> results(size);
    std::vector<RunControl> controls(size);
    std::vector<CollectingSink> sinks(size);
    std::vector<std::thread> ranks;
    for (int rank = 0; rank < size; ++rank) {
        RunOptions options;
        options.threads = 1;
        options.dataParallel.rank = rank;
        options.dataParallel.worldSize = size;
        options.dataParallel.port = port;
        options.dataParallel.timeoutSeconds = timeoutSeconds;
        if (prepare)
            prepare(rank, options, controls[rank]);
        ranks.emplace_back([&, rank, options] {
            results[rank].summary = trainExperiment(1, specs[rank], options, controls[rank], sinks[rank]);
        });
    }
    for (auto& rank : ranks)
        rank.join();
    for (int rank = 0; rank < size; ++rank) {
        results[rank].steps = sinks[rank].steps();
        results[rank].epochs = sinks[rank].epochs();
    }
    return results;
}

RankResult trainAlone(const ExperimentSpec& spec) {
    RunOptions options;
    options.threads = 1;
    RunControl control;
    CollectingSink sink;
    RankResult result;
    result.summary = trainExperiment(1, spec, options, control, sink);
    result.steps = sink.steps();
    result.epochs = sink.epochs();
    return result;
}

// QCOMPARE on a RunStatus would delete[] the static text tunelab::toString returns.
QString statusText(RunStatus status) {
    return QString::fromUtf8(toString(status));
}

double relativeDifference(double a, double b) {
    return std::abs(a - b) / std::max(std::abs(b), 1e-12);
}

} // namespace

class TestDataParallel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        if (const std::string reason = dataParallelUnavailableReason(); !reason.empty())
            QSKIP(reason.c_str());
    }

    void batchShardsCoverTheBatchOnce_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("size");
        QTest::newRow("even") << 64 << 2;
        QTest::newRow("uneven") << 33 << 4;
        QTest::newRow("fewer rows than processes") << 2 << 3;
        QTest::newRow("alone") << 7 << 1;
    }
    void batchShardsCoverTheBatchOnce() {
        QFETCH(int, rows);
        QFETCH(int, size);
        int64_t next = 0;
        for (int rank = 0; rank < size; ++rank) {
            const BatchShard shard = shardOfBatch(rows, rank, size);
            QCOMPARE(shard.first, next);
            QVERIFY(shard.count == rows / size || shard.count == rows / size + 1);
            next += shard.count;
        }
        QCOMPARE(next, int64_t(rows));
    }

    void launcherVariablesAreReadAndCheckedByName() {
        auto read = [](std::map<std::string, std::string> variables) {
            return dataParallelFromEnvironment([variables](const char* name) -> const char* {
                const auto found = variables.find(name);
                return found == variables.end() ? nullptr : found->second.c_str();
            });
        };
        QCOMPARE(read({}).value().worldSize, 1);
        auto torchrun =
            read({{"RANK", "1"}, {"WORLD_SIZE", "3"}, {"MASTER_ADDR", "10.0.0.2"}, {"MASTER_PORT", "29500"}});
        QVERIFY(torchrun.ok());
        QCOMPARE(torchrun.value().rank, 1);
        QCOMPARE(torchrun.value().worldSize, 3);
        QCOMPARE(torchrun.value().address, std::string("10.0.0.2"));
        QCOMPARE(torchrun.value().port, 29500);
        auto srun = read({{"SLURM_PROCID", "2"},
                          {"SLURM_NTASKS", "4"},
                          {"MASTER_ADDR", "node1"},
                          {"MASTER_PORT", "4000"}});
        QVERIFY(srun.ok());
        QCOMPARE(srun.value().rank, 2);
        QCOMPARE(srun.value().worldSize, 4);
        // srun's variables alone (a job step that is not data parallel) change nothing.
        QCOMPARE(read({{"SLURM_PROCID", "2"}, {"SLURM_NTASKS", "4"}}).value().worldSize, 1);

        const auto rankTooLarge =
            read({{"RANK", "3"}, {"WORLD_SIZE", "3"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
        QVERIFY(!rankTooLarge.ok());
        QVERIFY2(rankTooLarge.error().find("RANK=\"3\"") != std::string::npos, rankTooLarge.error().c_str());
        QVERIFY(rankTooLarge.error().find("0 to 2") != std::string::npos);
        const auto noSize = read({{"RANK", "0"}});
        QVERIFY(!noSize.ok());
        QVERIFY(noSize.error().find("WORLD_SIZE is not set") != std::string::npos);
        const auto badPort =
            read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "http"}});
        QVERIFY(!badPort.ok());
        QVERIFY(badPort.error().find("MASTER_PORT=\"http\"") != std::string::npos);
        const auto noAddress = read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "5"}});
        QVERIFY(!noAddress.ok());
        QVERIFY(noAddress.error().find("MASTER_ADDR is not set") != std::string::npos);
    }

    // The equivalence: N processes with global batch B follow one process with batch B.
    void twoProcessesFollowOneProcessesLossCurve() {
        const ExperimentSpec spec = moonsExperiment();
        const RankResult alone = trainAlone(spec);
        QCOMPARE(statusText(alone.summary.status), QString("completed"));
        const auto together = trainTogether({spec, spec});
        for (const RankResult& rank : together) {
            QCOMPARE(statusText(rank.summary.status), QString("completed"));
            QVERIFY(rank.summary.message.find("trained by 2 processes") != std::string::npos);
        }
        const auto& steps = together[0].steps;
        QCOMPARE(steps.size(), alone.steps.size());
        QVERIFY(steps.size() >= 50);
        double worst = 0.0;
        for (size_t i = 0; i < 50; ++i) {
            QCOMPARE(steps[i].step, alone.steps[i].step);
            worst = std::max(worst, relativeDifference(steps[i].trainLoss, alone.steps[i].trainLoss));
        }
        qInfo("largest relative difference over the first 50 steps: %.3g", worst);
        QVERIFY2(worst <= 1e-5, qPrintable(QString::number(worst)));
        // Every process applies the same update: the other rank's curve is rank 0's exactly.
        QCOMPARE(together[1].steps.size(), steps.size());
        for (size_t i = 0; i < steps.size(); ++i)
            QCOMPARE(together[1].steps[i].trainLoss, steps[i].trainLoss);
        QVERIFY(relativeDifference(together[0].summary.valLoss, alone.summary.valLoss) <= 1e-4);
        QCOMPARE(together[0].summary.valLoss, together[1].summary.valLoss);
        QCOMPARE(together[0].summary.initialParametersHash, alone.summary.initialParametersHash);
    }

    // Three processes on a batch of 2 rows: one of them has no rows in some steps and still takes part.
    void aProcessWithoutRowsInAStepStillTakesPart() {
        ExperimentSpec spec = moonsExperiment();
        spec.data.samples = 100;
        spec.training.epochs = 1;
        spec.training.batchSize = 2;
        const RankResult alone = trainAlone(spec);
        const auto together = trainTogether({spec, spec, spec});
        QCOMPARE(statusText(together[2].summary.status), QString("completed"));
        QCOMPARE(together[0].steps.size(), alone.steps.size());
        for (size_t i = 0; i < alone.steps.size(); ++i)
            QVERIFY2(relativeDifference(together[0].steps[i].trainLoss, alone.steps[i].trainLoss) <= 1e-5,
                     qPrintable(QString("step %1").arg(i + 1)));
    }

    // A stop asked of any one process ends every process after the same step.
    void aStopReachesEveryProcess() {
        ExperimentSpec spec = moonsExperiment();
        spec.training.epochs = 200;
        std::atomic<RunControl*> rankOne{nullptr};
        std::thread stopper;
        const auto together =
            trainTogether({spec, spec}, 60.0, [&](int rank, RunOptions&, RunControl& control) {
                if (rank != 1)
                    return;
                rankOne = &control;
                stopper = std::thread([&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(300));
                    rankOne.load()->stopRequested = true;
                });
            });
        stopper.join();
        QCOMPARE(statusText(together[0].summary.status), QString("stopped"));
        QCOMPARE(statusText(together[1].summary.status), QString("stopped"));
        QVERIFY(together[0].summary.steps > 0);
        QCOMPARE(together[0].summary.steps, together[1].summary.steps);
        QVERIFY(together[0].summary.epochs < 200);
    }

    // Processes given different experiments refuse to train instead of averaging unrelated gradients.
    void processesWithDifferentExperimentsRefuse() {
        ExperimentSpec other = moonsExperiment();
        other.optimizer.lr = 0.02;
        const auto together = trainTogether({moonsExperiment(), other});
        for (const RankResult& rank : together) {
            QCOMPARE(statusText(rank.summary.status), QString("failed"));
            QVERIFY2(rank.summary.message.find("different experiment") != std::string::npos,
                     rank.summary.message.c_str());
            QVERIFY(rank.steps.empty());
        }
        QVERIFY(together[1].summary.message.find("this one, rank 1") != std::string::npos);
    }

    // A process whose partners never come fails after the timeout, naming the place it waited at.
    void aProcessAloneFailsAfterTheTimeout() {
        RunOptions options;
        options.threads = 1;
        options.dataParallel.worldSize = 2;
        options.dataParallel.port = freeLoopbackPort();
        options.dataParallel.timeoutSeconds = 1.5;
        RunControl control;
        CollectingSink sink;
        QElapsedTimer timer;
        timer.start();
        const RunSummary summary = trainExperiment(1, moonsExperiment(), options, control, sink);
        QCOMPARE(statusText(summary.status), QString("failed"));
        QVERIFY2(summary.message.find("could not connect to the other 1 at the meeting point 127.0.0.1:" +
                                      std::to_string(options.dataParallel.port) + " within 1.5 s") !=
                     std::string::npos,
                 summary.message.c_str());
        QVERIFY(timer.elapsed() < 30000);
    }
};

QTEST_GUILESS_MAIN(TestDataParallel)
#include "tst_data_parallel.moc"
