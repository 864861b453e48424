#include "playground/trajectories.h"

#include <QtTest>

#include <cmath>

using namespace tunelab;

Q_DECLARE_METATYPE(tunelab::SurfaceKind)

namespace {

Surface quadratic(double conditionNumber) {
    Surface surface;
    surface.kind = SurfaceKind::IllConditionedQuadratic;
    surface.conditionNumber = conditionNumber;
    return surface;
}

OptimizerSpec sgd(double lr, double momentum = 0.0) {
    OptimizerSpec spec;
    spec.type = OptimizerType::Sgd;
    spec.lr = lr;
    spec.momentum = momentum;
    return spec;
}

Trajectory trajectoryOrFail(const Surface& surface, const OptimizerSpec& optimizer, double x0, double y0,
                            int steps) {
    auto result = optimizerTrajectory(surface, optimizer, x0, y0, steps);
    if (!result.ok())
        qFatal("optimizerTrajectory failed: %s", result.error().c_str());
    return result.take();
}

} // namespace

class TrajectoriesTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void sgdMatchesHandComputedSteps_data() {
        QTest::addColumn<double>("lr");
        QTest::addColumn<double>("conditionNumber");
        QTest::newRow("lr 0.05, c 10") << 0.05 << 10.0;
        QTest::newRow("lr 0.01, c 100") << 0.01 << 100.0;
        QTest::newRow("lr 0.3, c 1") << 0.3 << 1.0;
    }
    void sgdMatchesHandComputedSteps() {
        QFETCH(double, lr);
        QFETCH(double, conditionNumber);
        const Surface surface = quadratic(conditionNumber);
        const Trajectory trajectory = trajectoryOrFail(surface, sgd(lr), -2.2, 1.5, 6);
        QCOMPARE(trajectory.points.size(), size_t(7));
        QVERIFY(!trajectory.diverged);
        double x = -2.2, y = 1.5;
        for (const TrajectoryPoint& point : trajectory.points) {
            QVERIFY2(std::abs(point.x - x) < 1e-12, qPrintable(QString("x %1 vs %2").arg(point.x).arg(x)));
            QVERIFY2(std::abs(point.y - y) < 1e-12, qPrintable(QString("y %1 vs %2").arg(point.y).arg(y)));
            QVERIFY(std::abs(point.loss - surfaceValue(surface, x, y)) < 1e-12);
            // grad f = (x, c y)
            x -= lr * x;
            y -= lr * conditionNumber * y;
        }
    }

    void adamMatchesHandComputedStepsWithBiasCorrection() {
        const Surface surface = quadratic(25.0);
        OptimizerSpec adam;
        adam.type = OptimizerType::Adam;
        adam.lr = 0.1;
        adam.beta1 = 0.9;
        adam.beta2 = 0.999;
        adam.eps = 1e-8;
        const Trajectory trajectory = trajectoryOrFail(surface, adam, 1.0, -0.5, 8);
        QCOMPARE(trajectory.points.size(), size_t(9));

        double position[2] = {1.0, -0.5};
        double firstMoment[2] = {0.0, 0.0};
        double secondMoment[2] = {0.0, 0.0};
        for (size_t step = 0; step < trajectory.points.size(); ++step) {
            QVERIFY(std::abs(trajectory.points[step].x - position[0]) < 1e-12);
            QVERIFY(std::abs(trajectory.points[step].y - position[1]) < 1e-12);
            const double gradient[2] = {position[0], 25.0 * position[1]};
            const double t = static_cast<double>(step + 1);
            for (int i = 0; i < 2; ++i) {
                firstMoment[i] = 0.9 * firstMoment[i] + 0.1 * gradient[i];
                secondMoment[i] = 0.999 * secondMoment[i] + 0.001 * gradient[i] * gradient[i];
                const double mHat = firstMoment[i] / (1.0 - std::pow(0.9, t));
                const double vHat = secondMoment[i] / (1.0 - std::pow(0.999, t));
                position[i] -= 0.1 * mHat / (std::sqrt(vHat) + 1e-8);
            }
        }
    }

    // Adam's first step is lr * sign(gradient) per coordinate, whatever the gradient's size.
    void adamScalesEachCoordinate() {
        OptimizerSpec adam;
        adam.type = OptimizerType::Adam;
        adam.lr = 0.05;
        const Trajectory trajectory = trajectoryOrFail(quadratic(1000.0), adam, -2.0, 1.0, 1);
        QCOMPARE(trajectory.points.size(), size_t(2));
        QVERIFY(std::abs((trajectory.points[1].x - trajectory.points[0].x) - 0.05) < 1e-6);
        QVERIFY(std::abs((trajectory.points[1].y - trajectory.points[0].y) + 0.05) < 1e-6);
    }

    void adagradStepsShrink() {
        OptimizerSpec adagrad;
        adagrad.type = OptimizerType::Adagrad;
        adagrad.lr = 0.5;
        const Trajectory trajectory = trajectoryOrFail(quadratic(10.0), adagrad, -2.2, 1.5, 50);
        QCOMPARE(trajectory.points.size(), size_t(51));
        double previous = std::numeric_limits<double>::infinity();
        for (size_t i = 1; i < trajectory.points.size(); ++i) {
            const double length = std::hypot(trajectory.points[i].x - trajectory.points[i - 1].x,
                                             trajectory.points[i].y - trajectory.points[i - 1].y);
            QVERIFY2(length < previous, qPrintable(QString("step %1 grew to %2").arg(i).arg(length)));
            previous = length;
        }
    }

    // Along the shallow x axis plain SGD creeps towards 0 from one side; with heavy momentum the
    // same learning rate carries x past the minimum.
    void momentumOvershootsOnIllConditionedQuadratic() {
        const Surface surface = quadratic(50.0);
        const Trajectory plain = trajectoryOrFail(surface, sgd(0.02), -2.2, 1.5, 300);
        const Trajectory heavy = trajectoryOrFail(surface, sgd(0.02, 0.9), -2.2, 1.5, 300);
        QVERIFY(!plain.diverged);
        QVERIFY(!heavy.diverged);
        double plainMaxX = -1e9, heavyMaxX = -1e9;
        for (const auto& point : plain.points)
            plainMaxX = std::max(plainMaxX, point.x);
        for (const auto& point : heavy.points)
            heavyMaxX = std::max(heavyMaxX, point.x);
        QVERIFY2(plainMaxX < 0.0, qPrintable(QString::number(plainMaxX)));
        QVERIFY2(heavyMaxX > 0.1, qPrintable(QString::number(heavyMaxX)));
        // Momentum still gets closer in the end.
        QVERIFY(heavy.points.back().loss < plain.points.back().loss);
    }

    void hugeLearningRateDiverges_data() {
        QTest::addColumn<SurfaceKind>("kind");
        QTest::addColumn<double>("lr");
        QTest::addColumn<bool>("diverges");
        QTest::newRow("rosenbrock lr 1") << SurfaceKind::Rosenbrock << 1.0 << true;
        QTest::newRow("rosenbrock lr 1e-4") << SurfaceKind::Rosenbrock << 1e-4 << false;
        QTest::newRow("quadratic lr 10") << SurfaceKind::IllConditionedQuadratic << 10.0 << true;
        QTest::newRow("quadratic lr 0.05") << SurfaceKind::IllConditionedQuadratic << 0.05 << false;
    }
    void hugeLearningRateDiverges() {
        QFETCH(SurfaceKind, kind);
        QFETCH(double, lr);
        QFETCH(bool, diverges);
        Surface surface;
        surface.kind = kind;
        const auto start = defaultStart(surface);
        const Trajectory trajectory = trajectoryOrFail(surface, sgd(lr), start.first, start.second, 500);
        QCOMPARE(trajectory.diverged, diverges);
        if (diverges) {
            QVERIFY(trajectory.points.size() < 501);
            QVERIFY(!trajectory.points.empty());
            for (const auto& point : trajectory.points)
                QVERIFY(std::isfinite(point.x) && std::isfinite(point.y) && std::isfinite(point.loss));
        } else {
            QCOMPARE(trajectory.points.size(), size_t(501));
        }
    }

    void invalidArgumentsAreErrors() {
        QVERIFY(!optimizerTrajectory(quadratic(10.0), sgd(0.0), 0.0, 0.0, 5).ok());
        QVERIFY(!optimizerTrajectory(quadratic(10.0), sgd(0.1), 0.0, 0.0, -1).ok());
        QVERIFY(!optimizerTrajectory(quadratic(10.0), sgd(0.1), std::nan(""), 0.0, 5).ok());
        const auto empty = optimizerTrajectory(quadratic(10.0), sgd(0.1), 1.0, 2.0, 0);
        QVERIFY(empty.ok());
        QCOMPARE(empty.value().points.size(), size_t(1));
    }

    void surfaces_data() {
        QTest::addColumn<SurfaceKind>("kind");
        for (SurfaceKind kind : allSurfaceKinds())
            QTest::newRow(toString(kind)) << kind;
    }

    void minimaHaveTheLowestValueNearby_data() { surfaces_data(); }
    void minimaHaveTheLowestValueNearby() {
        QFETCH(SurfaceKind, kind);
        Surface surface;
        surface.kind = kind;
        const auto minima = surfaceMinima(surface);
        QVERIFY(!minima.empty());
        const SurfaceBounds bounds = surfaceBounds(surface);
        for (const auto& [mx, my] : minima) {
            QVERIFY(mx > bounds.xMin && mx < bounds.xMax && my > bounds.yMin && my < bounds.yMax);
            const double atMinimum = surfaceValue(surface, mx, my);
            for (double radius : {1e-3, 1e-2, 0.1}) {
                for (int k = 0; k < 16; ++k) {
                    const double angle = 2.0 * M_PI * k / 16.0;
                    const double nearby =
                        surfaceValue(surface, mx + radius * std::cos(angle), my + radius * std::sin(angle));
                    QVERIFY2(atMinimum < nearby,
                             qPrintable(QString("(%1, %2): %3 is not below %4 at radius %5")
                                            .arg(mx)
                                            .arg(my)
                                            .arg(atMinimum)
                                            .arg(nearby)
                                            .arg(radius)));
                }
            }
            const auto start = defaultStart(surface);
            QVERIFY(atMinimum < surfaceValue(surface, start.first, start.second));
        }
    }

    // The torch formulas that autograd differentiates are the same functions the views draw.
    void torchSurfaceMatchesCoreSurface_data() { surfaces_data(); }
    void torchSurfaceMatchesCoreSurface() {
        QFETCH(SurfaceKind, kind);
        Surface surface;
        surface.kind = kind;
        surface.conditionNumber = 7.0;
        const SurfaceBounds bounds = surfaceBounds(surface);
        QVERIFY(bounds.xMin < bounds.xMax && bounds.yMin < bounds.yMax);
        OptimizerSpec adam;
        adam.lr = 0.05;
        const auto start = defaultStart(surface);
        QVERIFY(start.first > bounds.xMin && start.first < bounds.xMax);
        QVERIFY(start.second > bounds.yMin && start.second < bounds.yMax);
        const Trajectory trajectory = trajectoryOrFail(surface, adam, start.first, start.second, 40);
        QCOMPARE(trajectory.points.size(), size_t(41));
        for (const auto& point : trajectory.points) {
            const double expected = surfaceValue(surface, point.x, point.y);
            QVERIFY2(std::abs(point.loss - expected) <= 1e-9 * std::max(1.0, std::abs(expected)),
                     qPrintable(QString("%1 vs %2").arg(point.loss).arg(expected)));
        }
        // Adam at this rate makes progress on every surface.
        QVERIFY(trajectory.points.back().loss < trajectory.points.front().loss);
    }

    void everyOptimizerTypeRuns_data() {
        QTest::addColumn<int>("type");
        for (auto type : {OptimizerType::Sgd, OptimizerType::Adagrad, OptimizerType::RmsProp,
                          OptimizerType::Adam, OptimizerType::AdamW})
            QTest::newRow(toString(type)) << static_cast<int>(type);
    }
    void everyOptimizerTypeRuns() {
        QFETCH(int, type);
        OptimizerSpec spec;
        spec.type = static_cast<OptimizerType>(type);
        // Adagrad's steps shrink from the first one on; it needs a larger rate to get as far.
        spec.lr = spec.type == OptimizerType::Adagrad ? 0.5 : 0.01;
        spec.momentum = spec.type == OptimizerType::Sgd ? 0.9 : 0.0;
        const Trajectory trajectory = trajectoryOrFail(quadratic(10.0), spec, -2.2, 1.5, 200);
        QCOMPARE(trajectory.points.size(), size_t(201));
        QVERIFY(trajectory.points.back().loss < 0.5 * trajectory.points.front().loss);
    }
};

QTEST_GUILESS_MAIN(TrajectoriesTest)
#include "tst_trajectories.moc"
