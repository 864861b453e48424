#include "search/gaussian_process.h"
#include "search/gp_acquisition.h"
#include "search/sampler_support.h"
#include "search/samplers.h"
#include "search/search_space.h"

#include <QtTest>

#include <cmath>
#include <memory>
#include <vector>

using namespace tunelab;
using tunelab::detail::GaussianProcess;
using tunelab::detail::KernelColumns;
using tunelab::detail::PendingImprovement;
using tunelab::detail::trustRegionSide;

namespace {

// A one-dimensional GP fitted to cos(4 pi x), two equal basins at 0.25 and 0.75 that no trial has
// reached: the points lie symmetrically around them, and the best value seen is cos(0.4 pi).
GaussianProcess fittedTwoBasins() {
    KernelColumns columns;
    columns.scaleOf = {0};
    columns.weight = {1.0};
    columns.scales = 1;
    std::vector<std::vector<double>> points;
    std::vector<double> targets;
    for (double x : {0.0, 0.1, 0.4, 0.5, 0.6, 0.9, 1.0}) {
        points.push_back({x});
        targets.push_back(std::cos(4.0 * M_PI * x));
    }
    GaussianProcess process(columns, points, targets);
    process.fit(true);
    return process;
}

const double kBest = std::cos(0.4 * M_PI);

double logValueAt(const GaussianProcess& process, const GaussianProcess::Pending& pending,
                  const PendingImprovement& improvement, double x) {
    double mean = 0.0, variance = 0.0;
    std::vector<double> covariance;
    process.predict({x}, pending, mean, variance, covariance);
    return improvement.logValue(mean, variance, covariance);
}

// A GP sampler over a space, both kept together; the sampler is null when either cannot be made.
struct GpOverSpace {
    SearchSpace space;
    std::unique_ptr<Sampler> sampler;
};
GpOverSpace gpOverSpace(const char* spaceJson) {
    GpOverSpace made;
    auto space = parseSearchSpace(spaceJson);
    if (!space.ok())
        return made;
    made.space = space.take();
    SamplerSettings settings;
    settings.type = "gp";
    if (auto sampler = makeSampler(settings, made.space); sampler.ok())
        made.sampler = sampler.take();
    return made;
}

std::vector<double> valuesOf(const std::vector<FinishedTrial>& history) {
    std::vector<double> values;
    for (const auto& trial : history)
        values.push_back(trial.value);
    return values;
}

} // namespace

class TestGpAcquisition : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // With nothing running, the acquisition is the analytic log expected improvement, to the bit, so
    // a study run by one worker suggests what it always did.
    void withoutPendingPointsItIsTheAnalyticLogEi() {
        const GaussianProcess process = fittedTwoBasins();
        const GaussianProcess::Pending none = process.pending({});
        const double best = kBest;
        const PendingImprovement improvement(best, none.mean, none.covariance, 7);
        QCOMPARE(improvement.pendingCount(), size_t(0));
        for (double x = 0.0; x <= 1.0; x += 0.0625) {
            double mean = 0.0, variance = 0.0, mean2 = 0.0, variance2 = 0.0;
            std::vector<double> covariance;
            process.predict({x}, mean, variance);
            process.predict({x}, none, mean2, variance2, covariance);
            QCOMPARE(mean2, mean);
            QCOMPARE(variance2, variance);
            QVERIFY(covariance.empty());
            const double sigma = std::sqrt(variance);
            const double analytic =
                std::log(sigma) + sampler_support::logExpectedImprovementFactor((best - mean) / sigma);
            QCOMPARE(improvement.logValue(mean, variance, covariance), analytic);
        }
    }

    // The estimate agrees with drawing the pending value and the candidate's together, many times.
    void itIsTheExpectedImprovementOverTheJointPosterior_data() {
        QTest::addColumn<double>("correlation");
        QTest::newRow("independent") << 0.0;
        QTest::newRow("correlated") << 0.7;
        QTest::newRow("anti-correlated") << -0.5;
    }
    void itIsTheExpectedImprovementOverTheJointPosterior() {
        QFETCH(double, correlation);
        const double best = 0.0, pendingMean = 0.1, pendingSd = 0.5, mean = 0.2, sd = 0.4;
        const double covariance = correlation * pendingSd * sd;
        const PendingImprovement improvement(best, {pendingMean}, {pendingSd * pendingSd}, 3);
        const double estimate = std::exp(improvement.logValue(mean, sd * sd, {covariance}));
        sampler_support::Rng rng(11);
        double sum = 0.0;
        const int draws = 400000;
        for (int i = 0; i < draws; ++i) {
            const double a = rng.normal(), b = rng.normal();
            const double pending = pendingMean + pendingSd * a;
            const double value =
                mean + sd * (correlation * a + std::sqrt(1.0 - correlation * correlation) * b);
            sum += std::max(0.0, std::min(best, pending) - value);
        }
        const double reference = sum / draws;
        QVERIFY2(std::fabs(estimate - reference) < 0.04 * reference,
                 qPrintable(QString("%1 against %2").arg(estimate).arg(reference)));
    }

    // A running trial makes the points around it worth less, and the next suggestion goes to the
    // other basin: a batch spreads out.
    void aPendingPointLowersTheAcquisitionNearIt() {
        const GaussianProcess process = fittedTwoBasins();
        const GaussianProcess::Pending none = process.pending({});
        const GaussianProcess::Pending one = process.pending({{0.25}});
        QCOMPARE(one.mean.size(), size_t(1));
        const PendingImprovement alone(kBest, none.mean, none.covariance, 5);
        const PendingImprovement withPending(kBest, one.mean, one.covariance, 5);
        auto change = [&](double x) {
            return logValueAt(process, one, withPending, x) - logValueAt(process, none, alone, x);
        };
        const double atPoint = change(0.25), near = change(0.28), far = change(0.75);
        QVERIFY2(atPoint < std::log(1e-3), qPrintable(QString::number(atPoint)));
        QVERIFY2(atPoint < near && near < far,
                 qPrintable(QString("%1 %2 %3").arg(atPoint).arg(near).arg(far)));
        auto argmax = [&](const GaussianProcess::Pending& pending, const PendingImprovement& improvement) {
            double bestX = 0.0, bestValue = -INFINITY;
            for (double x = 0.0; x <= 1.0; x += 1.0 / 256.0) {
                const double value = logValueAt(process, pending, improvement, x);
                if (value > bestValue)
                    bestValue = value, bestX = x;
            }
            return bestX;
        };
        const double first = argmax(none, alone);
        QVERIFY2(std::fabs(first - 0.25) < 0.05 || std::fabs(first - 0.75) < 0.05,
                 qPrintable(QString::number(first)));
        const double second = argmax(one, withPending);
        QVERIFY2(std::fabs(second - 0.75) < 0.05, qPrintable(QString::number(second)));
    }

    // The same pending point twice, or one on an observed point, leaves a covariance that is only
    // semi-definite; the values stay finite.
    void repeatedPendingPointsStayFinite() {
        const GaussianProcess process = fittedTwoBasins();
        const GaussianProcess::Pending pending = process.pending({{0.3}, {0.3}, {0.5}, {0.25}});
        const PendingImprovement improvement(kBest, pending.mean, pending.covariance, 9);
        for (double x : {0.0, 0.25, 0.3, 0.5, 0.7})
            QVERIFY(std::isfinite(logValueAt(process, pending, improvement, x)));
    }

    // The draws come from the seed alone: the same seed gives the same values, another seed others.
    void theDrawsFollowTheSeed() {
        const GaussianProcess process = fittedTwoBasins();
        const GaussianProcess::Pending pending = process.pending({{0.3}, {0.6}});
        const PendingImprovement first(kBest, pending.mean, pending.covariance, 21);
        const PendingImprovement again(kBest, pending.mean, pending.covariance, 21);
        const PendingImprovement other(kBest, pending.mean, pending.covariance, 22);
        int differ = 0;
        for (double x = 0.0; x <= 1.0; x += 0.125) {
            QCOMPARE(logValueAt(process, pending, again, x), logValueAt(process, pending, first, x));
            differ +=
                logValueAt(process, pending, other, x) != logValueAt(process, pending, first, x) ? 1 : 0;
        }
        QVERIFY(differ > 0);
    }

    // TuRBO's rule, replayed from the results in trial order.
    void theTrustRegionFollowsTurbosRule_data() {
        QTest::addColumn<QVector<double>>("values");
        QTest::addColumn<int>("startup");
        QTest::addColumn<int>("dimensions");
        QTest::addColumn<double>("side");
        QTest::newRow("nothing after the start") << QVector<double>{5, 4, 3, 2, 1} << 5 << 2 << 0.8;
        QTest::newRow("three successes double it") << QVector<double>{10, 9, 8, 7} << 1 << 2 << 1.6;
        QTest::newRow("never past 1.6") << QVector<double>{10, 9, 8, 7, 6, 5, 4} << 1 << 2 << 1.6;
        QTest::newRow("two successes do not") << QVector<double>{10, 9, 8} << 1 << 2 << 0.8;
        QTest::newRow("4 failures halve it in 2-D") << QVector<double>{1, 2, 2, 2, 2} << 1 << 2 << 0.4;
        QTest::newRow("a success between failures") << QVector<double>{1, 2, 2, 0.5, 2, 2} << 1 << 2 << 0.8;
        QTest::newRow("7 failures in 8-D do not") << QVector<double>{1, 2, 2, 2, 2, 2, 2, 2} << 1 << 8 << 0.8;
        QTest::newRow("8 failures in 8-D do") << QVector<double>{1, 2, 2, 2, 2, 2, 2, 2, 2} << 1 << 8 << 0.4;
        QTest::newRow("a gain under 1e-3 of the best is a failure")
            << QVector<double>{1, 0.9999, 0.9998, 0.9997, 0.9996} << 1 << 2 << 0.4;
        QVector<double> stuck(1 + 24, 2.0);
        stuck[0] = 1.0;
        QTest::newRow("six halvings") << stuck << 1 << 2 << 0.0125;
        stuck.append(QVector<double>(4, 2.0));
        QTest::newRow("below 0.5^7 it starts again") << stuck << 1 << 2 << 0.8;
    }
    void theTrustRegionFollowsTurbosRule() {
        QFETCH(QVector<double>, values);
        QFETCH(int, startup);
        QFETCH(int, dimensions);
        QFETCH(double, side);
        const std::vector<double> inOrder(values.begin(), values.end());
        QCOMPARE(trustRegionSide(inOrder, size_t(startup), size_t(dimensions)), side);
    }

    // After failures the GP's suggestions stay in the box around the best trial.
    void theGpSuggestsInsideTheTrustRegion() {
        const GpOverSpace gp = gpOverSpace(R"({"parameters": [
            {"path": "x", "kind": "float", "low": 0, "high": 1}, {"path": "y", "kind": "float", "low": 0, "high": 1}]})");
        QVERIFY(gp.sampler);
        // A bowl at (0.9, 0.9): the start's best is trial 3 at (0.7, 0.6); eight trials far from it
        // fail, so in 2-D the side was halved twice: 0.2.
        const std::vector<std::pair<double, double>> start = {{0.1, 0.1}, {0.3, 0.8}, {0.5, 0.2}, {0.7, 0.6},
                                                              {0.2, 0.4}, {0.9, 0.1}, {0.4, 0.5}, {0.1, 0.9},
                                                              {0.6, 0.3}, {0.3, 0.1}};
        std::vector<FinishedTrial> history;
        auto add = [&](double x, double y) {
            Assignment a{{"x", ParamValue{QByteArray::number(x, 'g', 17).toStdString()}},
                         {"y", ParamValue{QByteArray::number(y, 'g', 17).toStdString()}}};
            const double value = (x - 0.9) * (x - 0.9) + (y - 0.9) * (y - 0.9);
            history.push_back({int64_t(history.size()), a, value, TrialState::Complete});
        };
        for (const auto& [x, y] : start)
            add(x, y);
        for (int k = 0; k < 8; ++k)
            add(0.05 * k, 0.0);
        QCOMPARE(trustRegionSide(valuesOf(history), 10, 2), 0.2);
        for (int64_t trial = 18; trial < 22; ++trial) {
            const auto suggestion = gp.sampler->suggest(gp.space, trial, history);
            QVERIFY(suggestion);
            const double x = suggestion->at("x").toDouble(), y = suggestion->at("y").toDouble();
            QVERIFY2(std::fabs(x - 0.7) <= 0.1 + 1e-12 && std::fabs(y - 0.6) <= 0.1 + 1e-12,
                     qPrintable(QString("(%1, %2) is outside [0.6, 0.8] x [0.5, 0.7]").arg(x).arg(y)));
        }
    }

    // An int's box reaches its neighbouring values however small the trust region, so the GP does
    // not suggest the best trial's point again.
    void aSmallTrustRegionStillReachesNeighbouringInts() {
        const GpOverSpace gp = gpOverSpace(R"({"parameters": [
            {"path": "a", "kind": "int", "low": 0, "high": 20}, {"path": "b", "kind": "int", "low": 0, "high": 20}]})");
        QVERIFY(gp.sampler);
        std::vector<FinishedTrial> history;
        auto add = [&](int a, int b) {
            Assignment point{{"a", ParamValue{std::to_string(a)}}, {"b", ParamValue{std::to_string(b)}}};
            const double value = (a - 10) * (a - 10) + (b - 10) * (b - 10);
            history.push_back({int64_t(history.size()), point, double(value), TrialState::Complete});
        };
        // The best value first, then 29 trials that never beat it (20 after the start): five halvings
        // in 2-D, a side of 0.025, narrower than one of the 21 values.
        for (const auto& [a, b] : std::vector<std::pair<int, int>>{
                 {10, 10}, {2, 3}, {18, 4}, {5, 17}, {15, 15}, {0, 10}, {20, 20}, {7, 1}, {12, 19}, {3, 8}})
            add(a, b);
        for (int k = 0; k < 20; ++k)
            add(k, 0);
        QCOMPARE(trustRegionSide(valuesOf(history), 10, 2), 0.025);
        const auto suggestion = gp.sampler->suggest(gp.space, 30, history);
        QVERIFY(suggestion);
        const int64_t a = suggestion->at("a").toInt(), b = suggestion->at("b").toInt();
        QVERIFY2(std::abs(a - 10) <= 1 && std::abs(b - 10) <= 1 && (a != 10 || b != 10),
                 qPrintable(QString("(%1, %2)").arg(a).arg(b)));
    }

    // A parameter that does not apply to the best trial is not held in a box around its fixed point:
    // a branch the study has not tried is searched whole.
    void aBranchTheBestTrialLacksIsSearchedWhole() {
        const GpOverSpace gp = gpOverSpace(R"({"parameters": [
            {"path": "kind", "kind": "categorical", "choices": ["a", "b"]},
            {"path": "xa", "kind": "float", "low": 0, "high": 1, "when": {"kind": ["a"]}},
            {"path": "xb", "kind": "float", "low": 0, "high": 1, "when": {"kind": ["b"]}}]})");
        QVERIFY(gp.sampler);
        std::vector<FinishedTrial> history;
        auto add = [&](double xa) {
            Assignment point{{"kind", ParamValue{"\"a\""}},
                             {"xa", ParamValue{QByteArray::number(xa, 'g', 17).toStdString()}}};
            history.push_back(
                {int64_t(history.size()), point, (xa - 0.5) * (xa - 0.5), TrialState::Complete});
        };
        // Branch a only, its best first at 0.5, then failures: a side of 0.025.
        add(0.5);
        for (int k = 1; k < 30; ++k)
            add(k < 10 ? 0.1 * k : 0.9 + 0.001 * k);
        QCOMPARE(trustRegionSide(valuesOf(history), 10, 2), 0.025);
        int inBranchB = 0, awayFromTheMiddle = 0;
        for (int64_t trial = 30; trial < 36; ++trial) {
            const auto suggestion = gp.sampler->suggest(gp.space, trial, history);
            QVERIFY(suggestion);
            if (suggestion->at("kind").json != "\"b\"")
                continue;
            ++inBranchB;
            awayFromTheMiddle += std::fabs(suggestion->at("xb").toDouble() - 0.5) > 0.0125 ? 1 : 0;
        }
        QVERIFY2(inBranchB > 0, "the untried branch was never suggested");
        QCOMPARE(awayFromTheMiddle, inBranchB);
    }
};

QTEST_GUILESS_MAIN(TestGpAcquisition)
#include "tst_gp_acquisition.moc"
