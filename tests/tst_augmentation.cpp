// Training-time augmentation: flips and crops copy pixels exactly, every change is drawn from the
// run's seed (the same seed trains bit for bit the same run, another seed another), a run continued
// from a checkpoint augments as the uninterrupted one, two data-parallel processes augment their
// shares as one process does, and augmentation the data cannot take fails the run naming the key.

#include "collecting_sink.h"
#include "common/loopback_port.h"
#include "image_folder_test_support.h"
#include "training/augmentation.h"
#include "training/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <thread>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

// Digits as 8x8 images from an image folder, a small CNN, every augmentation on.
ExperimentSpec digitsImages(const QString& folder) {
    ExperimentSpec spec;
    spec.seed = 7;
    spec.device = "cpu";
    spec.data.kind = DataKind::ImageFolder;
    spec.data.path = folder.toStdString();
    LayerSpec conv = layer(LayerType::Conv2d);
    conv.outChannels = 4;
    conv.kernelSize = 3;
    conv.padding = 1;
    spec.model.layers = {conv, layer(LayerType::ReLU), layer(LayerType::Flatten),
                         layer(LayerType::Linear, 10)};
    spec.optimizer.lr = 0.01;
    spec.training.epochs = 3;
    spec.training.batchSize = 32;
    AugmentSpec& augment = spec.augment;
    augment.flipHorizontal = true;
    augment.cropPadding = 1;
    augment.rotation = 10;
    augment.scaleMin = 0.9;
    augment.scaleMax = 1.1;
    augment.brightness = 0.1;
    augment.contrast = 0.2;
    augment.noise = 0.05;
    augment.cutout = 3;
    augment.mixup = 0.4;
    return spec;
}

std::vector<float> losses(const std::vector<StepRecord>& steps) {
    std::vector<float> values;
    for (const StepRecord& step : steps)
        values.push_back(step.trainLoss);
    return values;
}

struct Trained {
    RunSummary summary;
    std::vector<StepRecord> steps;
    std::shared_ptr<const TrainingCheckpoint> checkpoint;
};

Trained train(const ExperimentSpec& spec, RunOptions options = {}) {
    options.threads = 1;
    RunControl control;
    CollectingSink sink;
    Trained trained;
    trained.summary = trainExperiment(1, spec, options, control, sink);
    trained.steps = sink.steps();
    for (const RunEvent& event : sink.events())
        if (event.kind == RunEventKind::Finished)
            trained.checkpoint = event.checkpoint;
    return trained;
}

tunelab::detail::TrainingBatch imagesOnly(const torch::Tensor& x) {
    tunelab::detail::TrainingBatch batch;
    batch.x = x;
    batch.y = torch::zeros({x.size(0)});
    return batch;
}

QString statusText(RunStatus status) {
    return QString::fromUtf8(toString(status));
}

} // namespace

class TestAugmentation : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_digits;

private Q_SLOTS:
    void initTestCase() {
        m_digits = m_dir.filePath("digits");
        QCOMPARE(tunelab::test::writeDigitsImageFolder(m_digits, 30), 300);
    }

    // A horizontal flip and a crop of the padded image copy pixels: each output is the input,
    // mirrored or shifted by whole pixels with zeros coming in, never blurred.
    void flipsAndCropsCopyPixelsExactly() {
        AugmentSpec flips;
        flips.flipHorizontal = true;
        tunelab::detail::Augmenter flipper(flips, 3);
        const auto x = torch::rand({16, 2, 5, 7});
        const auto flipped = flipper.apply(imagesOnly(x), 0, 16).x;
        int mirrored = 0;
        for (int64_t i = 0; i < 16; ++i) {
            const bool same = torch::equal(flipped[i], x[i]);
            const bool mirror = torch::equal(flipped[i], x[i].flip({2}));
            QVERIFY(same || mirror);
            mirrored += mirror ? 1 : 0;
        }
        QVERIFY(mirrored > 0 && mirrored < 16);

        AugmentSpec crops;
        crops.cropPadding = 2;
        tunelab::detail::Augmenter cropper(crops, 3);
        const auto cropped = cropper.apply(imagesOnly(x), 0, 16).x;
        for (int64_t i = 0; i < 16; ++i) {
            bool found = false;
            const auto padded = torch::constant_pad_nd(x[i], {2, 2, 2, 2});
            for (int64_t dy = 0; dy <= 4 && !found; ++dy)
                for (int64_t dx = 0; dx <= 4 && !found; ++dx)
                    found = torch::equal(cropped[i], padded.narrow(1, dy, 5).narrow(2, dx, 7));
            QVERIFY2(found, qPrintable(QString("sample %1 is no crop of its padded image").arg(i)));
        }
    }

    void theSameSeedTrainsTheSameRun() {
        const ExperimentSpec spec = digitsImages(m_digits);
        const Trained first = train(spec);
        QCOMPARE(statusText(first.summary.status), QString("completed"));
        const Trained second = train(spec);
        QCOMPARE(losses(second.steps), losses(first.steps)); // bit for bit
        ExperimentSpec unaugmented = spec;
        unaugmented.augment = AugmentSpec{};
        QVERIFY(losses(train(unaugmented).steps) != losses(first.steps));
        ExperimentSpec otherSeed = spec;
        otherSeed.seed = 8;
        QVERIFY(losses(train(otherSeed).steps) != losses(first.steps));
    }

    // Epoch by epoch draws: stopping after epoch 1 and continuing from the checkpoint gives the
    // uninterrupted run's curve.
    void aContinuedRunAugmentsAsTheUninterruptedOne() {
        ExperimentSpec spec = digitsImages(m_digits);
        spec.augment.mixup = 0.0; // checkpoints carry no mixup state; everything else is per epoch
        const Trained whole = train(spec);
        RunOptions firstPart;
        firstPart.lastEpoch = 1;
        const Trained part = train(spec, firstPart);
        QVERIFY(part.checkpoint);
        RunOptions rest;
        rest.resumeFrom = part.checkpoint;
        const Trained continued = train(spec, rest);
        std::vector<float> joined = losses(part.steps);
        for (float loss : losses(continued.steps))
            joined.push_back(loss);
        QCOMPARE(joined, losses(whole.steps));
    }

    // Draws are made for the whole global batch; each process takes its share.
    void twoProcessesAugmentAsOne() {
        ExperimentSpec spec = digitsImages(m_digits);
        spec.augment.mixup = 0.0; // mixup pairs samples within a process's share
        const Trained alone = train(spec);
        const int port = freeLoopbackPort();
        std::vector<Trained> ranks(2);
        std::vector<std::thread> threads;
        for (int rank = 0; rank < 2; ++rank)
            threads.emplace_back([&, rank] {
                RunOptions options;
                options.dataParallel.rank = rank;
                options.dataParallel.worldSize = 2;
                options.dataParallel.port = port;
                options.dataParallel.timeoutSeconds = 60;
                ranks[size_t(rank)] = train(spec, options);
            });
        for (auto& thread : threads)
            thread.join();
        QCOMPARE(statusText(ranks[0].summary.status), QString("completed"));
        QCOMPARE(ranks[0].steps.size(), alone.steps.size());
        for (size_t i = 0; i < alone.steps.size(); ++i) {
            const double difference = std::abs(ranks[0].steps[i].trainLoss - alone.steps[i].trainLoss) /
                                      std::max(1e-12, double(std::abs(alone.steps[i].trainLoss)));
            QVERIFY2(difference <= 1e-5, qPrintable(QString("step %1: %2").arg(i + 1).arg(difference)));
        }
    }

    void augmentationTheDataCannotTakeFailsTheRun() {
        ExperimentSpec spec = tunelab::test::blobsExperiment(1);
        spec.augment.rotation = 20;
        const Trained trained = train(spec);
        QCOMPARE(statusText(trained.summary.status), QString("failed"));
        QVERIFY2(trained.summary.message.find("augment.rotation: rotation needs image samples") == 0,
                 trained.summary.message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestAugmentation)
#include "tst_augmentation.moc"
