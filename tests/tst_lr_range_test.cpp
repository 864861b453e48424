#include "race/lr_range_test.h"
#include "spec/spec.h"

#include <QElapsedTimer>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cmath>

using namespace tunelab;

namespace {

ExperimentSpec parsed(const char* json) {
    auto spec = parseExperimentSpec(json);
    if (!spec.ok())
        qFatal("the test experiment does not parse: %s", spec.error().c_str());
    return spec.take();
}

ExperimentSpec blobsWithSgd() {
    return parsed(R"({"seed": 11, "device": "cpu",
        "data": {"kind": "blobs", "samples": 400, "classes": 3, "features": 2},
        "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"},
                             {"type": "linear", "out_features": 3}]},
        "optimizer": {"type": "sgd", "lr": 0.1},
        "training": {"batch_size": 32}})");
}

ExperimentSpec linearRegressionWithSgd() {
    return parsed(R"({"seed": 4, "device": "cpu",
        "data": {"kind": "regression", "samples": 400, "features": 3, "noise": 0.1, "standardize": true},
        "model": {"layers": [{"type": "linear", "out_features": 1}]},
        "loss": {"type": "mse"},
        "optimizer": {"type": "sgd", "lr": 0.01},
        "training": {"batch_size": 32}})");
}

// A loss that falls like a logistic step in log learning rate around `centre`, then blows up past
// `blowUp`; sampled the way the range test samples rates.
std::vector<LrRangePoint> syntheticCurve(double centre, double blowUp, int steps = 200) {
    std::vector<LrRangePoint> points;
    for (int i = 0; i < steps; ++i) {
        const double lr = 1e-6 * std::pow(1e6, i / double(steps - 1));
        const double x = std::log10(lr) - std::log10(centre);
        double loss = 0.2 + 1.0 / (1.0 + std::exp(4.0 * x));
        if (lr > blowUp)
            loss += 10.0 * (std::log10(lr) - std::log10(blowUp));
        points.push_back(LrRangePoint{lr, loss, loss});
    }
    return points;
}

} // namespace

class TestLrRangeTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void suggestionOnSyntheticCurves_data() {
        QTest::addColumn<double>("centre");
        QTest::addColumn<double>("blowUp");
        QTest::newRow("fall at 1e-2") << 1e-2 << 0.3;
        QTest::newRow("fall at 1e-4") << 1e-4 << 1e-2;
        QTest::newRow("fall at 3e-3, no blow-up") << 3e-3 << 10.0;
    }

    void suggestionOnSyntheticCurves() {
        QFETCH(double, centre);
        QFETCH(double, blowUp);
        const double suggested = suggestLearningRate(syntheticCurve(centre, blowUp));
        QVERIFY(std::isfinite(suggested));
        // The steepest fall of the logistic is at its centre; the sampling grid is 0.03 decades.
        QVERIFY2(std::abs(std::log10(suggested) - std::log10(centre)) < 0.15,
                 qPrintable(QString::number(suggested)));
    }

    void noSuggestionWithoutAFall_data() {
        QTest::addColumn<int>("shape");
        QTest::newRow("flat") << 0;
        QTest::newRow("rising") << 1;
        QTest::newRow("two points") << 2;
        QTest::newRow("empty") << 3;
    }

    void noSuggestionWithoutAFall() {
        QFETCH(int, shape);
        std::vector<LrRangePoint> points;
        const int count = shape == 2 ? 2 : shape == 3 ? 0 : 50;
        for (int i = 0; i < count; ++i) {
            const double loss = shape == 1 ? 1.0 + i : 1.0;
            points.push_back(LrRangePoint{1e-5 * std::pow(10.0, i / 10.0), loss, loss});
        }
        QVERIFY(std::isnan(suggestLearningRate(points)));
    }

    void onlyTheFallBeforeTheMinimumCounts() {
        // Falls gently to a minimum, then a cliff upwards: the cliff must not be chosen, and the
        // suggestion must lie before the minimum.
        std::vector<LrRangePoint> points;
        for (int i = 0; i < 100; ++i) {
            const double lr = 1e-4 * std::pow(10.0, i / 25.0);
            const double loss = i < 70 ? 2.0 - 0.01 * i : 1.3 + 0.5 * (i - 70);
            points.push_back(LrRangePoint{lr, loss, loss});
        }
        const double suggested = suggestLearningRate(points);
        QVERIFY(std::isfinite(suggested));
        QVERIFY(suggested < points[70].learningRate);
    }

    void suggestsASensibleRate_data() {
        QTest::addColumn<int>("problem");
        QTest::newRow("blobs classifier, SGD") << 0;
        QTest::newRow("linear regression, SGD") << 1;
    }

    void suggestsASensibleRate() {
        QFETCH(int, problem);
        const ExperimentSpec spec = problem == 0 ? blobsWithSgd() : linearRegressionWithSgd();
        const LrRangeSettings settings{1e-6, 10.0, 200};
        const auto tested = runLrRangeTest(spec, settings);
        QVERIFY2(tested.ok(), tested.error().c_str());
        const LrRangeResult& result = tested.value();
        QVERIFY(result.points.size() >= 20);
        QCOMPARE(result.points.front().learningRate, 1e-6);
        for (size_t i = 1; i < result.points.size(); ++i)
            QVERIFY(result.points[i].learningRate > result.points[i - 1].learningRate);
        // Bias correction: the first smoothed value is the first loss itself.
        QCOMPARE(result.points.front().smoothedLoss, result.points.front().loss);
        const double suggested = result.suggestedLearningRate;
        QVERIFY2(suggested >= 1e-3 && suggested <= 1.0, qPrintable(QString::number(suggested)));
    }

    void blowUpStopsEarly() {
        ExperimentSpec spec = linearRegressionWithSgd();
        const LrRangeSettings settings{1e-4, 1e4, 200};
        const auto tested = runLrRangeTest(spec, settings);
        QVERIFY2(tested.ok(), tested.error().c_str());
        QVERIFY(tested.value().blewUp);
        QVERIFY(tested.value().points.size() < 200);
        QVERIFY(!tested.value().message.empty());
        QVERIFY(std::isfinite(tested.value().suggestedLearningRate));
    }

    void fullRangeWithoutBlowUp() {
        const ExperimentSpec spec = blobsWithSgd();
        const LrRangeSettings settings{1e-6, 1e-3, 30};
        const auto tested = runLrRangeTest(spec, settings);
        QVERIFY2(tested.ok(), tested.error().c_str());
        QVERIFY(!tested.value().blewUp);
        QCOMPARE(tested.value().points.size(), size_t(30));
        QVERIFY(std::abs(tested.value().points.back().learningRate - 1e-3) < 1e-12);
    }

    void sameSeedSameCurve() {
        const ExperimentSpec spec = blobsWithSgd();
        const LrRangeSettings settings{1e-5, 1.0, 80};
        const auto a = runLrRangeTest(spec, settings);
        const auto b = runLrRangeTest(spec, settings);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a.value().points.size(), b.value().points.size());
        for (size_t i = 0; i < a.value().points.size(); ++i)
            QCOMPARE(a.value().points[i].loss, b.value().points[i].loss);
        QCOMPARE(a.value().suggestedLearningRate, b.value().suggestedLearningRate);
    }

    void stopRequestEndsAtOnce() {
        std::atomic<bool> stop{true};
        const auto tested = runLrRangeTest(blobsWithSgd(), LrRangeSettings{}, &stop);
        QVERIFY(tested.ok());
        QVERIFY(tested.value().points.empty());
        QVERIFY(QString::fromStdString(tested.value().message).contains("stopped"));
    }

    void errorsComeBackAsValues() {
        ExperimentSpec spec = blobsWithSgd();
        spec.data.kind = DataKind::Csv;
        spec.data.path = "/nonexistent/race.csv";
        QVERIFY(!runLrRangeTest(spec, LrRangeSettings{}).ok());
        QVERIFY(!runLrRangeTest(blobsWithSgd(), LrRangeSettings{1.0, 0.1, 100}).ok());
    }

    // start() returns at once; the test's one event carries the same curve as a blocking run.
    void startReportsOneEventWithTheCurve() {
        const ExperimentSpec spec = blobsWithSgd();
        const LrRangeSettings settings{1e-5, 1.0, 80};
        LrRangeTest test;
        QVERIFY(test.start(spec, settings));
        QVERIFY(!test.start(spec, settings)); // one at a time
        QVERIFY(test.events().waitForEvents(std::chrono::seconds(20)));
        test.wait();
        QVERIFY(test.finished());
        QVERIFY(!test.running());
        const std::vector<LrRangeEvent> events = test.events().drain();
        QCOMPARE(events.size(), size_t(1));
        QVERIFY2(events[0].ok, events[0].error.c_str());
        const auto blocking = runLrRangeTest(spec, settings);
        QCOMPARE(events[0].result.points.size(), blocking.value().points.size());
        QCOMPARE(events[0].result.suggestedLearningRate, blocking.value().suggestedLearningRate);
        // A finished test starts again.
        QVERIFY(test.start(spec, LrRangeSettings{1.0, 0.1, 100}));
        QVERIFY(test.events().waitForEvents(std::chrono::seconds(20)));
        const std::vector<LrRangeEvent> failed = test.events().drain();
        QCOMPARE(failed.size(), size_t(1));
        QVERIFY(!failed[0].ok);
        QVERIFY(QString::fromStdString(failed[0].error).contains("min_lr"));
    }

    void stopTakesEffectWithinABoundedTime() {
        LrRangeTest test;
        // Many tiny steps: far longer than the stop may take.
        QVERIFY(test.start(linearRegressionWithSgd(), LrRangeSettings{1e-9, 1e-8, 100000000}));
        QElapsedTimer clock;
        clock.start();
        test.requestStop();
        QVERIFY(test.events().waitForEvents(std::chrono::seconds(60)));
        // Without the stop it would take hours; the bound only has to tell the two apart on a busy machine.
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed())));
        const std::vector<LrRangeEvent> events = test.events().drain();
        QCOMPARE(events.size(), size_t(1));
        QVERIFY(QString::fromStdString(events[0].result.message).contains("stopped"));
    }

    void destructorStopsAndJoins() {
        QElapsedTimer clock;
        {
            LrRangeTest test;
            QVERIFY(test.start(linearRegressionWithSgd(), LrRangeSettings{1e-9, 1e-8, 100000000}));
            clock.start();
        }
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed())));
    }
};

QTEST_GUILESS_MAIN(TestLrRangeTest)
#include "tst_lr_range_test.moc"
