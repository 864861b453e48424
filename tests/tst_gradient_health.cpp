#include "collecting_sink.h"
#include "health/gradient_health.h"
#include "store/run_store.h"
#include "training/layer_health.h"
#include "training/network.h"
#include "training/run_manager.h"
#include "training/trainer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>
#include <map>
#include <set>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

// Forwards every event to two sinks.
class TeeSink : public RunEventSink {
public:
    TeeSink(RunEventSink& first, RunEventSink& second)
        : m_first(first)
        , m_second(second) {}
    void onRunEvent(const RunEvent& event) override {
        m_first.onRunEvent(event);
        m_second.onRunEvent(event);
    }

private:
    RunEventSink& m_first;
    RunEventSink& m_second;
};

ExperimentSpec blobsExperiment() {
    return tunelab::test::blobsExperiment(5);
}

// Flushes every `steps` steps and never on time, so the sampling is deterministic.
RunOptions flushEvery(int steps) {
    RunOptions options;
    options.threads = 1;
    options.stepFlushSteps = steps;
    options.stepFlushSeconds = 1e9;
    return options;
}

RunSummary train(const ExperimentSpec& spec, RunEventSink& sink, const RunOptions& options = flushEvery(4)) {
    RunControl control;
    return trainExperiment(1, spec, options, control, sink);
}

std::vector<LayerHealthSample> series(int32_t layer, const std::vector<float>& norms) {
    std::vector<LayerHealthSample> samples;
    for (size_t i = 0; i < norms.size(); ++i)
        samples.push_back(LayerHealthSample{static_cast<int64_t>(i * 64 + 1), layer, norms[i], 1e-3f});
    return samples;
}

QString describe(const std::vector<HealthFlag>& flags) {
    QStringList parts;
    for (const HealthFlag& flag : flags)
        parts << QStringLiteral("%1 layer %2 step %3")
                     .arg(toString(flag.kind))
                     .arg(flag.layer)
                     .arg(flag.firstStep);
    return parts.join(QStringLiteral("; "));
}

} // namespace

class TestGradientHealth : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // Weights that are all equal (as a run that blew up can leave them, at any size) fill one bin;
    // the histogram's range must not vanish to rounding, which once made the bin index undefined.
    void equalWeightsFillOneBin() {
        ModelSpec model;
        model.layers = {tunelab::test::layer(LayerType::Linear, 5),
                        tunelab::test::layer(LayerType::Linear, 2)};
        tunelab::detail::Network network(model, Shape{3}, at::make_generator<at::CPUGeneratorImpl>(1));
        tunelab::detail::FlatParameters flat = tunelab::detail::flattenParameters(*network);
        tunelab::detail::LayerHealthRecorder recorder;
        recorder.attach(network, flat);
        for (const float value : {0.0f, 1.0f, -20.0f, 1000.0f, 3e30f, -3.4e38f}) {
            torch::NoGradGuard noGrad;
            flat.values.fill_(value);
            const auto histograms = recorder.weightHistograms(1);
            QCOMPARE(int(histograms.size()), 2);
            for (const auto& histogram : histograms) {
                QCOMPARE(histogram.low, value);
                QVERIFY2(histogram.high > histogram.low, qPrintable(QString::number(value)));
                int32_t total = 0;
                for (const int32_t count : histogram.counts)
                    total += count;
                QCOMPARE(total, histogram.layer == 0 ? 15 : 10);
                QCOMPARE(histogram.counts.front(), total);
            }
        }
    }

    void detectsFlags_data() {
        QTest::addColumn<std::vector<float>>("norms");
        QTest::addColumn<QString>("expected"); // "kind@firstStep" or empty
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const float inf = std::numeric_limits<float>::infinity();
        QTest::newRow("healthy") << std::vector<float>(30, 0.5f) << QString();
        QTest::newRow("noisy but healthy")
            << std::vector<float>{0.5f, 2.0f, 0.1f, 30.0f, 0.2f, 1.0f, 90.0f, 0.05f} << QString();
        std::vector<float> small(25, 1e-9f);
        QTest::newRow("vanishing from the start") << small << QStringLiteral("vanishing@1");
        std::vector<float> late(10, 0.3f);
        late.insert(late.end(), 20, 1e-8f);
        QTest::newRow("vanishing later") << late << QStringLiteral("vanishing@641");
        std::vector<float> interrupted(19, 1e-9f);
        interrupted.push_back(0.1f);
        interrupted.insert(interrupted.end(), 19, 1e-9f);
        QTest::newRow("never 20 in a row") << interrupted << QString();
        QTest::newRow("jump") << std::vector<float>{1.0f, 1.2f, 0.8f, 1.1f, 5000.0f}
                              << QStringLiteral("exploding@257");
        QTest::newRow("jump below the factor")
            << std::vector<float>{1.0f, 1.2f, 0.8f, 1.1f, 900.0f} << QString();
        QTest::newRow("too early to tell") << std::vector<float>{1.0f, 1e5f} << QString();
        QTest::newRow("nan") << std::vector<float>{1.0f, nan} << QStringLiteral("exploding@65");
        QTest::newRow("infinite") << std::vector<float>{inf} << QStringLiteral("exploding@1");
    }
    void detectsFlags() {
        QFETCH(std::vector<float>, norms);
        QFETCH(QString, expected);
        const auto flags = detectHealthFlags(series(2, norms));
        if (expected.isEmpty()) {
            QVERIFY2(flags.empty(), qPrintable(describe(flags)));
            return;
        }
        QCOMPARE(flags.size(), size_t(1));
        QCOMPARE(QStringLiteral("%1@%2").arg(toString(flags[0].kind)).arg(flags[0].firstStep), expected);
        QCOMPARE(flags[0].layer, 2);
        QVERIFY(!flags[0].message.empty());
        QCOMPARE(flags[0].advice, std::string(healthAdvice(flags[0].kind)));
    }

    void flagsAreSortedAndOncePerLayerAndKind() {
        auto samples = series(3, std::vector<float>(30, 1e-9f));
        auto exploding =
            series(0, {1.0f, 1.0f, 1.0f, 1.0f, 1e6f, 1e7f, std::numeric_limits<float>::quiet_NaN()});
        samples.insert(samples.end(), exploding.rbegin(), exploding.rend()); // any order
        const auto flags = detectHealthFlags(samples);
        QCOMPARE(flags.size(), size_t(2));
        QCOMPARE(flags[0].kind, HealthFlagKind::Vanishing);
        QCOMPARE(flags[0].layer, 3);
        QCOMPARE(flags[1].kind, HealthFlagKind::Exploding);
        QCOMPARE(flags[1].firstStep, int64_t(4 * 64 + 1));
        const QString summary = QString::fromStdString(healthSummary(flags));
        QCOMPARE(summary, QStringLiteral("Exploding gradients: layer 0 from step 257; vanishing gradients: "
                                         "layer 3 from step 1"));
        QVERIFY(healthSummary({}).empty());
    }

    // A run whose weights blew up (learning rate 5: weights at ±9e6) and whose layers then stopped
    // passing gradients is diagnosed as exploding first, and the vanishing layers get the exploding
    // advice: never "a higher learning rate".
    void explodingWeightsTakePrecedenceOverVanishing() {
        const auto samples = series(1, std::vector<float>(30, 1e-9f));
        WeightHistogram calm{1, 0, -2.0f, 2.0f, {1, 2, 1}};
        WeightHistogram huge{3, 0, -9e6f, 9e6f, {1, 0, 1}};
        const auto alone = detectHealthFlags(samples, {}, {calm});
        QCOMPARE(alone.size(), size_t(1));
        QCOMPARE(alone[0].advice, std::string(healthAdvice(HealthFlagKind::Vanishing)));

        const auto flags = detectHealthFlags(samples, {}, {calm, huge});
        QCOMPARE(flags.size(), size_t(2));
        QCOMPARE(flags[0].kind, HealthFlagKind::Exploding);
        QCOMPARE(flags[0].layer, 0);
        QCOMPARE(flags[0].epoch, 3);
        QVERIFY2(QString::fromStdString(flags[0].message).contains("9e+06"), flags[0].message.c_str());
        QCOMPARE(flags[1].kind, HealthFlagKind::Vanishing);
        QCOMPARE(flags[1].advice, std::string(healthAdvice(HealthFlagKind::Exploding)));
        QVERIFY(flags[1].advice.find("higher learning rate") == std::string::npos);
        QCOMPARE(QString::fromStdString(healthSummary(flags)),
                 QStringLiteral(
                     "Exploding gradients: layer 0 by epoch 3; vanishing gradients: layer 1 from step 1"));
    }

    void fnvMatchesReferenceValues() {
        QCOMPARE(fnv1a64("", 0), uint64_t(0xcbf29ce484222325ULL));
        QCOMPARE(fnv1a64("a", 1), uint64_t(0xaf63dc4c8601ec8cULL));
        QCOMPARE(fnv1a64("foobar", 6), uint64_t(0x85944171f73967e8ULL));
        // Continuing equals hashing the concatenation.
        QCOMPARE(fnv1a64("bar", 3, fnv1a64("foo", 3)), fnv1a64("foobar", 6));
    }

    void samplesOncePerFlush() {
        CollectingSink sink;
        const RunSummary summary = train(blobsExperiment(), sink);
        QCOMPARE(summary.status, RunStatus::Completed);
        const auto samples = sink.samples();
        std::map<int32_t, int> perLayer;
        for (const auto& sample : samples) {
            ++perLayer[sample.layer];
            QVERIFY(std::isfinite(sample.gradNorm) && sample.gradNorm > 0.0f);
            QVERIFY(std::isfinite(sample.updateRatio) && sample.updateRatio > 0.0f);
            QVERIFY(sample.updateRatio < 1.0f);
        }
        // The layers with parameters are model.layers[0] and [2].
        QCOMPARE(perLayer.size(), size_t(2));
        QVERIFY(perLayer.count(0) && perLayer.count(2));
        // The first step and the first step after each flush but the last one.
        QCOMPARE(perLayer[0], sink.stepsEvents());
        QCOMPARE(perLayer[2], sink.stepsEvents());
        QVERIFY(sink.stepsEvents() < summary.steps / 2);
        // Each sample travels with the Steps event of its step.
        for (const auto& event : sink.events()) {
            for (const auto& sample : event.layerHealth)
                QVERIFY(sample.step >= event.steps.front().step && sample.step <= event.steps.back().step);
        }
        QCOMPARE(samples.front().step, int64_t(1));
    }

    void histogramsPerEpochAndLayer() {
        CollectingSink sink;
        ExperimentSpec spec = blobsExperiment();
        train(spec, sink);
        const auto histograms = sink.histograms();
        QCOMPARE(histograms.size(), size_t(spec.training.epochs * 2));
        for (const auto& histogram : histograms) {
            int64_t total = 0;
            for (int32_t count : histogram.counts)
                total += count;
            QCOMPARE(total, histogram.layer == 0 ? int64_t(16 * 4) : int64_t(3 * 16));
            QVERIFY(histogram.low < histogram.high);
            QVERIFY(histogram.counts.front() > 0 && histogram.counts.back() > 0);
        }
    }

    void deepSigmoidNetworkVanishes() {
        ExperimentSpec spec = blobsExperiment();
        spec.model.layers.clear();
        for (int i = 0; i < 14; ++i) {
            spec.model.layers.push_back(layer(LayerType::Linear, 8));
            spec.model.layers.push_back(layer(LayerType::Sigmoid));
        }
        spec.model.layers.push_back(layer(LayerType::Linear, 3));
        spec.optimizer.type = OptimizerType::Sgd;
        spec.optimizer.lr = 1e-4;
        spec.training.epochs = 10;
        CollectingSink sink;
        QCOMPARE(train(spec, sink).status, RunStatus::Completed);
        HealthThresholds thresholds;
        thresholds.vanishingNorm = 1e-6;
        thresholds.vanishingSamples = 10;
        const auto flags = detectHealthFlags(sink.samples(), thresholds);
        std::set<int32_t> vanishing;
        for (const auto& flag : flags) {
            QCOMPARE(flag.kind, HealthFlagKind::Vanishing);
            vanishing.insert(flag.layer);
        }
        QVERIFY2(vanishing.count(0) && vanishing.count(2), qPrintable(describe(flags)));
        // The output layer still learns.
        QVERIFY2(!vanishing.count(28), qPrintable(describe(flags)));
    }

    void hugeLearningRateExplodes() {
        ExperimentSpec spec = tunelab::test::sgdRegressionExperiment(5.0, 30);
        spec.seed = 2;
        CollectingSink sink;
        train(spec, sink, flushEvery(1));
        const auto flags = detectHealthFlags(sink.samples());
        QVERIFY2(!flags.empty(), "no flag");
        for (const auto& flag : flags)
            QCOMPARE(flag.kind, HealthFlagKind::Exploding);
    }

    void healthyRunHasNoFlags() {
        CollectingSink sink;
        QCOMPARE(train(blobsExperiment(), sink).status, RunStatus::Completed);
        QVERIFY(sink.samples().size() > 20);
        const auto flags = detectHealthFlags(sink.samples());
        QVERIFY2(flags.empty(), qPrintable(describe(flags)));
    }

    void hashesDependOnSeedNotOptimizer() {
        std::map<std::pair<int, int>, RunSummary> summaries; // (seed, optimizer)
        for (int seed : {5, 6}) {
            for (OptimizerType type : {OptimizerType::Sgd, OptimizerType::Adam, OptimizerType::RmsProp}) {
                ExperimentSpec spec = blobsExperiment();
                spec.seed = seed;
                spec.optimizer.type = type;
                spec.training.epochs = 2;
                CollectingSink sink;
                summaries[{seed, int(type)}] = train(spec, sink);
            }
        }
        const RunSummary& reference = summaries[{5, int(OptimizerType::Sgd)}];
        QVERIFY(reference.initialParametersHash != 0 && reference.batchOrderHash != 0);
        for (const auto& [key, summary] : summaries) {
            const bool sameSeed = key.first == 5;
            QCOMPARE(summary.initialParametersHash == reference.initialParametersHash, sameSeed);
            QCOMPARE(summary.batchOrderHash == reference.batchOrderHash, sameSeed);
        }
        // Without shuffling the order still covers every epoch: more epochs, another hash.
        ExperimentSpec ordered = blobsExperiment();
        ordered.training.shuffle = false;
        ordered.training.epochs = 1;
        CollectingSink one, two;
        const uint64_t afterOne = train(ordered, one).batchOrderHash;
        ordered.training.epochs = 2;
        QVERIFY(train(ordered, two).batchOrderHash != afterOne);
    }

    void storeKeepsSamplesAndHistograms() {
        QTemporaryDir dir;
        auto opened = RunStore::open(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
        QVERIFY(opened.ok());
        auto store = opened.take();
        QCOMPARE(store->schemaVersion(), RunStore::kSchemaVersion);
        const RunId id = store->createRun("health", "{}").value();
        CollectingSink sink;
        TeeSink both(*store, sink);
        RunControl control;
        const RunSummary summary = trainExperiment(id, blobsExperiment(), flushEvery(4), control, both);
        store->flush();
        // The fairness hashes are kept with the run.
        QVERIFY(summary.initialParametersHash != 0 && summary.batchOrderHash != 0);
        QCOMPARE(store->run(id)->summary.initialParametersHash, summary.initialParametersHash);
        QCOMPARE(store->run(id)->summary.batchOrderHash, summary.batchOrderHash);
        const auto expected = sink.samples();
        const auto stored = store->layerHealth(id);
        QCOMPARE(stored.size(), expected.size());
        for (size_t i = 0; i < stored.size(); ++i) {
            QCOMPARE(stored[i].step, expected[i].step);
            QCOMPARE(stored[i].layer, expected[i].layer);
            QCOMPARE(stored[i].gradNorm, expected[i].gradNorm);
            QCOMPARE(stored[i].updateRatio, expected[i].updateRatio);
        }
        const auto histograms = store->weightHistograms(id);
        const auto expectedHistograms = sink.histograms();
        QCOMPARE(histograms.size(), expectedHistograms.size());
        for (size_t i = 0; i < histograms.size(); ++i) {
            QCOMPARE(histograms[i].epoch, expectedHistograms[i].epoch);
            QCOMPARE(histograms[i].layer, expectedHistograms[i].layer);
            QCOMPARE(histograms[i].low, expectedHistograms[i].low);
            QCOMPARE(histograms[i].high, expectedHistograms[i].high);
            QCOMPARE(histograms[i].counts, expectedHistograms[i].counts);
        }
        // A non-finite norm survives the round trip; deleting the run takes its rows along.
        RunEvent steps;
        steps.kind = RunEventKind::Steps;
        steps.runId = id;
        steps.steps = {StepRecord{100000, 9, 1.0f, 0.1f, 1.0f}};
        steps.layerHealth = {LayerHealthSample{100000, 0, std::numeric_limits<float>::quiet_NaN(),
                                               std::numeric_limits<float>::infinity()}};
        store->onRunEvent(steps);
        store->flush();
        const auto withNan = store->layerHealth(id);
        QVERIFY(std::isnan(withNan.back().gradNorm));
        QVERIFY(std::isinf(withNan.back().updateRatio));
        store->deleteRun(id);
        QVERIFY(store->layerHealth(id).empty());
        QVERIFY(store->weightHistograms(id).empty());
    }
};

QTEST_GUILESS_MAIN(TestGradientHealth)
#include "tst_gradient_health.moc"
