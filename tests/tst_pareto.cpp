#include "search/pareto.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

using namespace tunelab;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Non-domination ranks the slow way: peel off the points no remaining point dominates.
std::vector<int> peeledRanks(const std::vector<ObjectivePoint>& points,
                             const std::vector<double>& violations) {
    const size_t n = points.size();
    std::vector<int> ranks(n, -1);
    for (int rank = 0;; ++rank) {
        std::vector<size_t> front;
        for (size_t i = 0; i < n; ++i) {
            if (ranks[i] >= 0)
                continue;
            bool dominated = false;
            for (size_t j = 0; j < n && !dominated; ++j)
                dominated = ranks[j] < 0 && j != i &&
                            constrainedDominates(points[j], violations[j], points[i], violations[i]);
            if (!dominated)
                front.push_back(i);
        }
        if (front.empty())
            return ranks;
        for (size_t i : front)
            ranks[i] = rank;
    }
}

// The hypervolume of points with whole coordinates in [0, side) against (side, ..., side), by
// counting the unit cells whose lower corner some point weakly dominates.
double cellCount(const std::vector<ObjectivePoint>& points, size_t dimension, int side) {
    double cells = 0.0;
    std::vector<int> corner(dimension, 0);
    for (;;) {
        for (const auto& p : points) {
            bool covers = true;
            for (size_t d = 0; d < dimension && covers; ++d)
                covers = p[d] <= corner[d];
            if (covers) {
                cells += 1.0;
                break;
            }
        }
        size_t d = 0;
        while (d < dimension && ++corner[d] == side)
            corner[d++] = 0;
        if (d == dimension)
            return cells;
    }
}

std::vector<ObjectivePoint> randomGridPoints(std::mt19937& generator, size_t count, size_t dimension,
                                             int side) {
    std::uniform_int_distribution<int> coordinate(0, side - 1);
    std::vector<ObjectivePoint> points(count, ObjectivePoint(dimension));
    for (auto& point : points) {
        for (double& x : point)
            x = coordinate(generator);
    }
    return points;
}

std::vector<ObjectivePoint> without(std::vector<ObjectivePoint> points, size_t index) {
    points.erase(points.begin() + static_cast<std::ptrdiff_t>(index));
    return points;
}

} // namespace

class TestPareto : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void dominance_data() {
        QTest::addColumn<ObjectivePoint>("a");
        QTest::addColumn<ObjectivePoint>("b");
        QTest::addColumn<bool>("aDominatesB");
        QTest::newRow("better in both") << ObjectivePoint{1, 2} << ObjectivePoint{2, 3} << true;
        QTest::newRow("better in one, equal in the other")
            << ObjectivePoint{1, 3} << ObjectivePoint{2, 3} << true;
        QTest::newRow("worse in both") << ObjectivePoint{2, 3} << ObjectivePoint{1, 2} << false;
        QTest::newRow("trade-off") << ObjectivePoint{1, 3} << ObjectivePoint{2, 2} << false;
        QTest::newRow("equal") << ObjectivePoint{1, 2} << ObjectivePoint{1, 2} << false;
        QTest::newRow("NaN dominates nothing") << ObjectivePoint{kNaN, 0} << ObjectivePoint{5, 5} << false;
        QTest::newRow("NaN is dominated") << ObjectivePoint{5, 5} << ObjectivePoint{0, kNaN} << true;
        QTest::newRow("both NaN") << ObjectivePoint{kNaN, 0} << ObjectivePoint{0, kNaN} << false;
        QTest::newRow("three objectives") << ObjectivePoint{1, 1, 1} << ObjectivePoint{1, 1, 2} << true;
        QTest::newRow("one objective") << ObjectivePoint{1} << ObjectivePoint{2} << true;
    }
    void dominance() {
        QFETCH(ObjectivePoint, a);
        QFETCH(ObjectivePoint, b);
        QFETCH(bool, aDominatesB);
        QCOMPARE(dominates(a, b), aDominatesB);
        QCOMPARE(constrainedDominates(a, 0.0, b, 0.0), aDominatesB);
    }

    void constraintsComeFirst_data() {
        QTest::addColumn<double>("violationA");
        QTest::addColumn<double>("violationB");
        QTest::addColumn<bool>("aDominatesB");
        // a = (5, 5) is worse than b = (1, 1) in every objective.
        QTest::newRow("both feasible") << 0.0 << 0.0 << false;
        QTest::newRow("only a feasible") << 0.0 << 0.5 << true;
        QTest::newRow("only b feasible") << 0.5 << 0.0 << false;
        QTest::newRow("a violates less") << 0.1 << 0.5 << true;
        QTest::newRow("equal violations") << 0.5 << 0.5 << false;
        QTest::newRow("an unknown violation is the worst") << 1e9 << kNaN << true;
    }
    void constraintsComeFirst() {
        QFETCH(double, violationA);
        QFETCH(double, violationB);
        QFETCH(bool, aDominatesB);
        QCOMPARE(constrainedDominates({5, 5}, violationA, {1, 1}, violationB), aDominatesB);
    }

    void ranksOfHandMadeFronts() {
        const std::vector<ObjectivePoint> points = {{1, 5}, {2, 4}, {3, 3},    {2, 5}, {4, 4},
                                                    {5, 5}, {5, 5}, {0, kNaN}, {3, 3}};
        QCOMPARE(nondominatedRanks(points), (std::vector<int>{0, 0, 0, 1, 1, 2, 2, 3, 0}));
        QCOMPARE(paretoFront(points), (std::vector<size_t>{0, 1, 2, 8}));
        // Infeasible points follow every feasible one, the smaller violation first.
        const std::vector<double> violations = {0, 0, 2, 0, 1, 0, 0, 0, 0};
        QCOMPARE(nondominatedRanks(points, violations), (std::vector<int>{0, 0, 5, 1, 4, 2, 2, 3, 0}));
        QCOMPARE(nondominatedRanks({}), std::vector<int>{});
    }

    void ranksMatchPeeling_data() {
        QTest::addColumn<int>("dimension");
        QTest::addColumn<bool>("constrained");
        QTest::newRow("2-D") << 2 << false;
        QTest::newRow("3-D") << 3 << false;
        QTest::newRow("3-D constrained") << 3 << true;
        QTest::newRow("4-D constrained") << 4 << true;
    }
    void ranksMatchPeeling() {
        QFETCH(int, dimension);
        QFETCH(bool, constrained);
        std::mt19937 generator(static_cast<unsigned>(dimension * 7 + constrained));
        // A coarse grid, so that ties and repeated points are common.
        std::vector<ObjectivePoint> points =
            randomGridPoints(generator, 150, static_cast<size_t>(dimension), 6);
        points[17][1] = kNaN;
        points[40][0] = kNaN;
        std::vector<double> violations(points.size(), 0.0);
        if (constrained) {
            std::uniform_int_distribution<int> violation(-3, 2);
            for (double& v : violations)
                v = std::max(0, violation(generator)) * 0.5;
        }
        QCOMPARE(nondominatedRanks(points, violations), peeledRanks(points, violations));
    }

    void crowdingDistanceOfAFront() {
        const std::vector<ObjectivePoint> points = {{9, 9}, {0, 4}, {1, 2}, {2, 1}, {4, 0}};
        const std::vector<double> distances = crowdingDistances(points, {4, 2, 3, 1});
        QCOMPARE(distances.size(), size_t{4});
        QVERIFY(std::isinf(distances[0]) && std::isinf(distances[3]));
        // (1, 2): (2 - 0) / 4 along the first objective and (4 - 1) / 4 along the second.
        QCOMPARE(distances[1], 1.25);
        QCOMPARE(distances[2], 1.25);
        const std::vector<double> pair = crowdingDistances(points, {1, 2});
        QVERIFY(std::isinf(pair[0]) && std::isinf(pair[1]));
        QVERIFY(crowdingDistances(points, {}).empty());
        // An objective without spread adds nothing.
        const std::vector<double> flat = crowdingDistances({{0, 1}, {1, 1}, {3, 1}}, {0, 1, 2});
        QCOMPARE(flat[1], 1.0);
    }

    void hypervolumeOfKnownSets_data() {
        QTest::addColumn<std::vector<ObjectivePoint>>("points");
        QTest::addColumn<ObjectivePoint>("reference");
        QTest::addColumn<double>("volume");
        QTest::newRow("empty") << std::vector<ObjectivePoint>{} << ObjectivePoint{1, 1} << 0.0;
        QTest::newRow("one objective") << std::vector<ObjectivePoint>{{3}, {1}} << ObjectivePoint{4} << 3.0;
        QTest::newRow("2-D staircase")
            << std::vector<ObjectivePoint>{{1, 2}, {2, 1}} << ObjectivePoint{3, 3} << 3.0;
        QTest::newRow("2-D dominated and repeated")
            << std::vector<ObjectivePoint>{{1, 2}, {2, 1}, {2, 2}, {1, 2}} << ObjectivePoint{3, 3} << 3.0;
        QTest::newRow("2-D NaN and outside the reference")
            << std::vector<ObjectivePoint>{{1, 2}, {kNaN, 0}, {0, 3}, {-1, 5}, {0, kInfinity}}
            << ObjectivePoint{3, 3} << 2.0;
        QTest::newRow("3-D box") << std::vector<ObjectivePoint>{{0, 0, 0}} << ObjectivePoint{1, 2, 3} << 6.0;
        QTest::newRow("3-D two boxes")
            << std::vector<ObjectivePoint>{{0, 0, 1}, {1, 1, 0}} << ObjectivePoint{2, 2, 2} << 5.0;
        QTest::newRow("3-D corners of a cube")
            << std::vector<ObjectivePoint>{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} << ObjectivePoint{2, 2, 2} << 4.0;
        QTest::newRow("4-D box") << std::vector<ObjectivePoint>{{0, 0, 0, 0}, {1, 1, 1, 1}}
                                 << ObjectivePoint{1, 2, 3, 4} << 24.0;
    }
    void hypervolumeOfKnownSets() {
        QFETCH(std::vector<ObjectivePoint>, points);
        QFETCH(ObjectivePoint, reference);
        QFETCH(double, volume);
        QCOMPARE(hypervolume(points, reference), volume);
    }

    void hypervolumeMatchesCellCounts_data() {
        QTest::addColumn<int>("dimension");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("side");
        QTest::newRow("2-D") << 2 << 60 << 40;
        QTest::newRow("3-D") << 3 << 80 << 16;
        QTest::newRow("4-D") << 4 << 60 << 8;
        QTest::newRow("5-D") << 5 << 30 << 5;
    }
    void hypervolumeMatchesCellCounts() {
        QFETCH(int, dimension);
        QFETCH(int, count);
        QFETCH(int, side);
        const size_t d = static_cast<size_t>(dimension);
        std::mt19937 generator(static_cast<unsigned>(dimension));
        for (int repeat = 0; repeat < 3; ++repeat) {
            const std::vector<ObjectivePoint> points =
                randomGridPoints(generator, static_cast<size_t>(count), d, side);
            const ObjectivePoint reference(d, static_cast<double>(side));
            // Whole coordinates: every volume is a sum of whole cells, exactly.
            QCOMPARE(hypervolume(points, reference), cellCount(points, d, side));
            const std::vector<double> contributions = hypervolumeContributions(points, reference);
            for (size_t i = 0; i < points.size(); ++i)
                QCOMPARE(contributions[i],
                         cellCount(points, d, side) - cellCount(without(points, i), d, side));
        }
    }

    void hypervolumeOfAFrontInFourObjectivesIsQuick() {
        // 300 points on a sphere of four objectives, none dominating another.
        std::mt19937 generator(5);
        std::normal_distribution<double> normal;
        std::vector<ObjectivePoint> points(300, ObjectivePoint(4));
        for (auto& point : points) {
            double norm = 0.0;
            for (double& x : point) {
                x = std::fabs(normal(generator));
                norm += x * x;
            }
            for (double& x : point)
                x /= std::sqrt(norm);
        }
        QElapsedTimer timer;
        timer.start();
        const double volume = hypervolume(points, {1.1, 1.1, 1.1, 1.1});
        // The region outside the unit ball and under the reference bounds it from above.
        QVERIFY(volume > 0.0 && volume < std::pow(1.1, 4) - std::pow(0.1, 4));
        QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
    }

    void contributionsOfKnownSets() {
        // Each corner of the staircase alone holds one unit square; a dominated point and a
        // repeated one hold nothing; a NaN point counts for nothing.
        const std::vector<ObjectivePoint> staircase = {{1, 2}, {2, 1}, {2, 2}, {0, 3}, {kNaN, 0}};
        QCOMPARE(hypervolumeContributions(staircase, {3, 3}), (std::vector<double>{1, 1, 0, 0, 0}));
        const std::vector<ObjectivePoint> twice = {{1, 2}, {1, 2}, {2, 1}};
        QCOMPARE(hypervolumeContributions(twice, {3, 3}), (std::vector<double>{0, 0, 1}));
        // A point it dominates covers part of what a point adds: removing (1, 1) leaves (2, 2).
        QCOMPARE(hypervolumeContributions({{1, 1}, {2, 2}}, {3, 3}), (std::vector<double>{3, 0}));
        const std::vector<ObjectivePoint> cube = {{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1}};
        QCOMPARE(hypervolumeContributions(cube, {2, 2, 2}), (std::vector<double>{1, 1, 1, 0}));
    }
};

QTEST_GUILESS_MAIN(TestPareto)
#include "tst_pareto.moc"
