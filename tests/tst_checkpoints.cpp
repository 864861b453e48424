// Continuing training from a checkpoint: a run trained in two stretches equals one trained straight
// through, edited settings take effect from the checkpoint on, and what cannot continue says why.

#include "collecting_sink.h"
#include "common/zip_archive_check.h"
#include "training/model_export.h"
#include "training/trainer.h"

#include <QtTest>

#include <memory>
#include <string>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

// Blobs through a network with dropout and batch norm, shuffled, on a cosine schedule: every part
// of the training state (weights, batch norm statistics, dropout and shuffling generators, the
// optimizer's buffers and steps, the schedule's position) shows in the losses if it is lost.
ExperimentSpec fullStateExperiment(OptimizerType optimizer) {
    ExperimentSpec spec = tunelab::test::blobsExperiment(5);
    LayerSpec dropout = layer(LayerType::Dropout);
    dropout.p = 0.2;
    spec.model.layers = {layer(LayerType::Linear, 16), layer(LayerType::BatchNorm), layer(LayerType::ReLU),
                         dropout, layer(LayerType::Linear, 3)};
    spec.optimizer.type = optimizer;
    spec.optimizer.momentum =
        optimizer == OptimizerType::Sgd || optimizer == OptimizerType::RmsProp ? 0.9 : 0.0;
    spec.optimizer.centered = optimizer == OptimizerType::RmsProp;
    spec.optimizer.amsgrad = optimizer == OptimizerType::Adam;
    spec.optimizer.weightDecay = 1e-3;
    spec.schedule.type = ScheduleType::Cosine;
    spec.training.epochs = 4;
    return spec;
}

struct Trained {
    RunSummary summary;
    std::vector<EpochRecord> epochs;
    std::vector<StepRecord> steps;
    std::shared_ptr<const TrainingCheckpoint> checkpoint; // the Finished event's
};

Trained train(const ExperimentSpec& spec, int lastEpoch = 0,
              std::shared_ptr<const TrainingCheckpoint> from = {}) {
    RunOptions options;
    options.threads = 1;
    options.lastEpoch = lastEpoch;
    options.resumeFrom = std::move(from);
    RunControl control;
    CollectingSink sink;
    Trained trained;
    trained.summary = trainExperiment(1, spec, options, control, sink);
    trained.epochs = sink.epochs();
    trained.steps = sink.steps();
    for (const RunEvent& event : sink.events())
        if (event.kind == RunEventKind::Finished)
            trained.checkpoint = event.checkpoint;
    return trained;
}

} // namespace

class TestCheckpoints : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void twoStretchesEqualOneRun_data() {
        QTest::addColumn<int>("optimizer");
        QTest::addColumn<bool>("roundedActivations");
        QTest::newRow("sgd with momentum") << static_cast<int>(OptimizerType::Sgd) << false;
        QTest::newRow("adam with amsgrad") << static_cast<int>(OptimizerType::Adam) << false;
        QTest::newRow("adamw") << static_cast<int>(OptimizerType::AdamW) << false;
        QTest::newRow("rmsprop centered with momentum") << static_cast<int>(OptimizerType::RmsProp) << false;
        QTest::newRow("adagrad") << static_cast<int>(OptimizerType::Adagrad) << false;
        // Quantization-aware training with rounded activations: the ranges the layers' inputs were
        // followed over carry on from the checkpoint, rather than start again from its first batch.
        QTest::newRow("adamw, rounded weights and activations")
            << static_cast<int>(OptimizerType::AdamW) << true;
    }

    void twoStretchesEqualOneRun() {
        QFETCH(int, optimizer);
        QFETCH(bool, roundedActivations);
        ExperimentSpec spec = fullStateExperiment(static_cast<OptimizerType>(optimizer));
        spec.fakeQuantize.enabled = roundedActivations;
        spec.fakeQuantize.activations = roundedActivations;
        const Trained straight = train(spec);
        QCOMPARE(straight.summary.status, RunStatus::Completed);
        QCOMPARE(straight.epochs.size(), size_t{4});

        const Trained first = train(spec, 2);
        QCOMPARE(first.summary.status, RunStatus::Completed);
        QCOMPARE(first.summary.epochs, 2);
        QVERIFY(first.checkpoint);
        QCOMPARE(first.checkpoint->epoch, 2);
        QCOMPARE(first.checkpoint->step, first.steps.back().step);
        QCOMPARE(first.checkpoint->optimizer, std::string(toString(spec.optimizer.type)));

        const Trained second = train(spec, 0, first.checkpoint);
        QCOMPARE(second.summary.status, RunStatus::Completed);
        QVERIFY2(second.summary.message.empty(), second.summary.message.c_str());
        QCOMPARE(second.epochs.size(), size_t{2});
        QCOMPARE(second.epochs.front().epoch, 3);
        QCOMPARE(second.steps.front().step, first.steps.back().step + 1);
        for (size_t i = 0; i < 2; ++i) {
            const EpochRecord& expected = straight.epochs[i + 2];
            const EpochRecord& actual = second.epochs[i];
            QCOMPARE(actual.step, expected.step);
            QCOMPARE(actual.trainLoss, expected.trainLoss);
            QCOMPARE(actual.valLoss, expected.valLoss);
            QCOMPARE(actual.learningRate, expected.learningRate);
        }
        QCOMPARE(second.summary.epochs, 4);
        QCOMPARE(second.summary.steps, straight.summary.steps);
    }

    void anEpochCarriesACheckpointOnlyWhenAskedFor() {
        const ExperimentSpec spec = fullStateExperiment(OptimizerType::Adam);
        // The sink asks during epoch 1's event: epoch 2's event carries the checkpoint, no other does.
        class AskingSink : public CollectingSink {
        public:
            RunControl* control = nullptr;
            void onRunEvent(const RunEvent& event) override {
                CollectingSink::onRunEvent(event);
                if (event.kind == RunEventKind::Epoch && event.epoch.epoch == 1)
                    control->checkpointRequested.store(true);
            }
        } sink;
        RunControl control;
        sink.control = &control;
        RunOptions options;
        options.threads = 1;
        trainExperiment(1, spec, options, control, sink);
        std::vector<int> carrying;
        for (const RunEvent& event : sink.events())
            if (event.kind == RunEventKind::Epoch && event.checkpoint)
                carrying.push_back(event.epoch.epoch);
        QCOMPARE(carrying, std::vector<int>{2});
        QVERIFY(!control.checkpointRequested.load());
    }

    void anEditedLearningRateTakesEffectFromTheCheckpoint() {
        ExperimentSpec spec = fullStateExperiment(OptimizerType::Sgd);
        spec.schedule.type = ScheduleType::Constant;
        const Trained first = train(spec, 2);
        spec.optimizer.lr = 0.5;
        const Trained fork = train(spec, 0, first.checkpoint);
        QCOMPARE(fork.summary.status, RunStatus::Completed);
        QVERIFY(!fork.steps.empty());
        for (const StepRecord& step : fork.steps)
            QCOMPARE(step.learningRate, 0.5f);
    }

    void anotherOptimizerStartsItsStateFreshAndSaysSo() {
        ExperimentSpec spec = fullStateExperiment(OptimizerType::Adam);
        const Trained first = train(spec, 2);
        spec.optimizer.type = OptimizerType::Sgd;
        const Trained fork = train(spec, 0, first.checkpoint);
        QCOMPARE(fork.summary.status, RunStatus::Completed);
        QVERIFY2(fork.summary.message.find("optimizer changed from adam to sgd") != std::string::npos,
                 fork.summary.message.c_str());
        QCOMPARE(fork.checkpoint->optimizer, std::string("sgd"));
    }

    void anotherNetworkCannotContinue() {
        ExperimentSpec spec = fullStateExperiment(OptimizerType::Adam);
        const Trained first = train(spec, 2);
        spec.model.layers.front().outFeatures = 32;
        const Trained fork = train(spec, 0, first.checkpoint);
        QCOMPARE(fork.summary.status, RunStatus::Failed);
        QVERIFY2(fork.summary.message.find("parameters") != std::string::npos, fork.summary.message.c_str());
        QVERIFY(fork.epochs.empty());
    }

    void aContinuationMustTrainPastItsCheckpoint() {
        const ExperimentSpec spec = fullStateExperiment(OptimizerType::Adam);
        const Trained first = train(spec, 3);
        ExperimentSpec shorter = spec;
        shorter.training.epochs = 3;
        const Trained fork = train(shorter, 0, first.checkpoint);
        QCOMPARE(fork.summary.status, RunStatus::Failed);
        QVERIFY2(fork.summary.message.find("set training.epochs above 3") != std::string::npos,
                 fork.summary.message.c_str());
    }

    void aDamagedCheckpointIsRefusedWithAMessage() {
        const ExperimentSpec spec = fullStateExperiment(OptimizerType::Adam);
        const Trained first = train(spec, 2);
        auto damaged = std::make_shared<TrainingCheckpoint>(*first.checkpoint);
        damaged->state.resize(damaged->state.size() / 2);
        const Trained fork = train(spec, 0, damaged);
        QCOMPARE(fork.summary.status, RunStatus::Failed);
        QVERIFY2(fork.summary.message.find("checkpoint") != std::string::npos, fork.summary.message.c_str());
    }

    // LibTorch reads archives without their CRC-32s: a bit flipped in a weight would load as another
    // weight. The checkpoint and the saved model are checked first, and refused, naming the entry.
    void aFlippedBitInAWeightIsRefused() {
        const ExperimentSpec spec = fullStateExperiment(OptimizerType::Adam);
        CollectingSink sink;
        RunOptions options;
        options.threads = 1;
        options.lastEpoch = 2;
        RunControl control;
        trainExperiment(1, spec, options, control, sink);
        std::shared_ptr<const TrainingCheckpoint> checkpoint;
        std::shared_ptr<const std::vector<char>> model;
        for (const RunEvent& event : sink.events()) {
            if (event.kind == RunEventKind::Finished) {
                checkpoint = event.checkpoint;
                model = event.model;
            }
        }
        QVERIFY(checkpoint && model);
        // A bit in the middle of the archive's first entry that its CRC-32 covers.
        auto flipOneBit = [](std::vector<char> bytes) {
            for (size_t at = bytes.size() / 3; at < bytes.size(); ++at) {
                bytes[at] ^= 0x04;
                if (zipArchiveDamage(bytes.data(), bytes.size()).find("CRC-32") != std::string::npos)
                    return bytes;
                bytes[at] ^= 0x04;
            }
            return std::vector<char>();
        };
        auto damaged = std::make_shared<TrainingCheckpoint>(*checkpoint);
        damaged->state = flipOneBit(checkpoint->state);
        QVERIFY(!damaged->state.empty());
        const Trained fork = train(spec, 0, damaged);
        QCOMPARE(fork.summary.status, RunStatus::Failed);
        QVERIFY2(fork.summary.message.find("the checkpoint is damaged: 'archive/") != std::string::npos &&
                     fork.summary.message.find("does not match its CRC-32") != std::string::npos,
                 fork.summary.message.c_str());

        const std::vector<char> damagedModel = flipOneBit(*model);
        QVERIFY(!damagedModel.empty());
        QTemporaryDir dir;
        const auto exported = exportModel(spec, damagedModel, ExportFormat::TorchScript,
                                          dir.filePath("model.pt").toStdString());
        QVERIFY(!exported.ok());
        QVERIFY2(exported.error().find("the saved model is damaged: 'archive/") != std::string::npos,
                 exported.error().c_str());
        QVERIFY(exportModel(spec, *model, ExportFormat::TorchScript, dir.filePath("model.pt").toStdString())
                    .ok());
    }

    void aFailedRunKeepsNoCheckpoint() {
        ExperimentSpec spec = tunelab::test::sgdRegressionExperiment(1e6, 3);
        const Trained diverged = train(spec);
        QCOMPARE(diverged.summary.status, RunStatus::Diverged);
        QVERIFY(!diverged.checkpoint);
    }
};

QTEST_GUILESS_MAIN(TestCheckpoints)
#include "tst_checkpoints.moc"
