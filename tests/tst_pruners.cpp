// Pruner decisions on synthetic learning curves: median stopping, ASHA and Hyperband.

#include "search/pruners.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <map>
#include <set>

using namespace tunelab;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A curve whose value at epoch e is `start` * decay^(e-1), for epochs 1..epochs.
TrialCurve decayingCurve(int64_t number, double start, int epochs, bool finished, double decay = 0.8) {
    TrialCurve curve;
    curve.number = number;
    curve.finished = finished;
    double value = start;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        curve.values[epoch] = value;
        value *= decay;
    }
    return curve;
}

TrialCurve pointCurve(int64_t number, std::map<int, double> values) {
    TrialCurve curve;
    curve.number = number;
    curve.values = std::move(values);
    return curve;
}

} // namespace

class TestPruners : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void median_data();
    void median();
    void ashaRungs_data();
    void ashaRungs();
    void ashaPrunesBottomAtRung();
    void ashaNeverBetweenRungs();
    void ashaEdgeCases_data();
    void ashaEdgeCases();
    void hyperbandBrackets_data();
    void hyperbandBrackets();
    void hyperbandAssignmentIsDeterministic();
    void hyperbandComparesWithinBracket();
    void makePrunerChecksSettings_data();
    void makePrunerChecksSettings();
    void ashaWaitsForWarmupAndStartup();
    void scaledDefaults_data();
    void scaledDefaults();
    void pruningEpochsOfSettings();
    void smallStudyKeepsTrialsToLearnFrom();
};

void TestPruners::median_data() {
    QTest::addColumn<int>("finishedOthers"); // finished trials besides the one decided
    QTest::addColumn<int>("othersEpochs");   // epochs the others reported
    QTest::addColumn<QString>("candidate");  // worse, better, nan, lateWorse
    QTest::addColumn<int>("epoch");          // the epoch decided
    QTest::addColumn<bool>("prune");
    QTest::newRow("worse after warmup and startup") << 5 << 5 << "worse" << 2 << true;
    QTest::newRow("worse at the last epoch") << 5 << 5 << "worse" << 5 << true;
    QTest::newRow("worse during warmup") << 5 << 5 << "worse" << 1 << false;
    QTest::newRow("worse before startup trials finished") << 4 << 5 << "worse" << 3 << false;
    QTest::newRow("better") << 5 << 5 << "better" << 3 << false;
    QTest::newRow("equal to the median") << 5 << 5 << "median" << 3 << false;
    QTest::newRow("diverged (NaN) counts as worst") << 5 << 5 << "nan" << 2 << true;
    QTest::newRow("too few trials reached the epoch") << 5 << 2 << "worse" << 3 << false;
    QTest::newRow("best so far, not the latest value") << 5 << 5 << "lateWorse" << 4 << false;
}

void TestPruners::median() {
    QFETCH(int, finishedOthers);
    QFETCH(int, othersEpochs);
    QFETCH(QString, candidate);
    QFETCH(int, epoch);
    QFETCH(bool, prune);
    std::vector<TrialCurve> curves;
    for (int i = 0; i < finishedOthers; ++i)
        curves.push_back(decayingCurve(i, 1.0 + 0.05 * i, othersEpochs, true));
    // A running trial that has reached the epoch but is not finished does not count for startup.
    curves.push_back(decayingCurve(50, 1.1, othersEpochs, false));
    const int64_t number = 99;
    if (candidate == "worse")
        curves.push_back(decayingCurve(number, 4.0, epoch, false));
    else if (candidate == "better")
        curves.push_back(decayingCurve(number, 0.2, epoch, false));
    else if (candidate == "median") // the others start at 1.0, 1.05, 1.1, 1.1 (running), 1.15, 1.2
        curves.push_back(decayingCurve(number, 1.0 + 0.05 * 2, epoch, false));
    else if (candidate == "nan")
        curves.push_back(pointCurve(number, {{1, kNaN}, {2, kNaN}}));
    else // far below the others early on, then diverging: its best so far still wins
        curves.push_back(pointCurve(number, {{1, 0.1}, {2, 0.1}, {3, 9.0}, {4, 9.0}}));
    MedianPruner pruner({5, 1, 3});
    QCOMPARE(pruner.shouldPrune(number, epoch, curves), prune);
}

void TestPruners::ashaRungs_data() {
    QTest::addColumn<int>("minEpochs");
    QTest::addColumn<int>("eta");
    QTest::addColumn<int>("bracket");
    QTest::addColumn<int>("maxEpochs");
    QTest::addColumn<QList<int>>("expected");
    QTest::newRow("eta 3 up to 27") << 1 << 3 << 0 << 27 << QList<int>{1, 3, 9, 27};
    QTest::newRow("eta 3 up to 30") << 1 << 3 << 0 << 30 << QList<int>{1, 3, 9, 27};
    QTest::newRow("eta 2 from 2") << 2 << 2 << 0 << 16 << QList<int>{2, 4, 8, 16};
    QTest::newRow("bracket 1") << 1 << 3 << 1 << 27 << QList<int>{3, 9, 27};
    QTest::newRow("bracket 3") << 1 << 3 << 3 << 27 << QList<int>{27};
    QTest::newRow("bracket past the budget") << 1 << 3 << 4 << 27 << QList<int>{};
    QTest::newRow("budget below the first rung") << 4 << 3 << 0 << 3 << QList<int>{};
}

void TestPruners::ashaRungs() {
    QFETCH(int, minEpochs);
    QFETCH(int, eta);
    QFETCH(int, bracket);
    QFETCH(int, maxEpochs);
    QFETCH(QList<int>, expected);
    const AshaPruner pruner({minEpochs, eta, bracket});
    const auto rungs = pruner.rungs(maxEpochs);
    QCOMPARE(QList<int>(rungs.begin(), rungs.end()), expected);
}

void TestPruners::ashaPrunesBottomAtRung() {
    // Nine trials at rung 1, numbered out of order of their values: the best three continue.
    const std::vector<double> values = {0.7, 0.2, 0.9, 0.1, 0.5, 0.3, 0.8, 0.4, 0.6};
    std::vector<TrialCurve> curves;
    for (size_t i = 0; i < values.size(); ++i)
        curves.push_back(pointCurve(int64_t(i), {{1, values[i]}}));
    AshaPruner pruner({1, 3, 0});
    int pruned = 0;
    for (size_t i = 0; i < values.size(); ++i) {
        const bool expected = values[i] > 0.3; // 0.1, 0.2, 0.3 are the best third
        QVERIFY2(pruner.shouldPrune(int64_t(i), 1, curves) == expected, qPrintable(QString::number(i)));
        pruned += expected ? 1 : 0;
    }
    QCOMPARE(pruned, 6);
    // At rung 3 the three survivors compete again: one continues.
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] <= 0.3)
            curves[i].values[3] = values[i] / 2.0;
    }
    QVERIFY(!pruner.shouldPrune(3, 3, curves));
    QVERIFY(pruner.shouldPrune(1, 3, curves));
    QVERIFY(pruner.shouldPrune(5, 3, curves));
}

void TestPruners::ashaNeverBetweenRungs() {
    std::vector<TrialCurve> curves;
    for (int i = 0; i < 9; ++i)
        curves.push_back(decayingCurve(i, 1.0 + i, 12, false));
    AshaPruner pruner({1, 3, 0});
    const std::set<int> rungEpochs = {1, 3, 9};
    for (int epoch = 1; epoch <= 12; ++epoch) {
        const bool worstPruned = pruner.shouldPrune(8, epoch, curves);
        QCOMPARE(worstPruned, rungEpochs.count(epoch) == 1);
        QVERIFY(!pruner.shouldPrune(0, epoch, curves)); // the best trial always continues
    }
}

void TestPruners::ashaEdgeCases_data() {
    QTest::addColumn<QList<double>>("others"); // values of the other trials at rung 1 (NaN allowed)
    QTest::addColumn<double>("value");         // the decided trial's value at rung 1
    QTest::addColumn<bool>("prune");
    QTest::newRow("alone at the rung") << QList<double>{} << 100.0 << false;
    QTest::newRow("two, the worse") << QList<double>{1.0} << 2.0 << true;
    QTest::newRow("two, the better") << QList<double>{2.0} << 1.0 << false;
    QTest::newRow("ties favour the trial") << QList<double>{1.0, 1.0, 1.0, 1.0, 1.0} << 1.0 << false;
    QTest::newRow("NaN is worst") << QList<double>{5.0, 6.0} << kNaN << true;
    QTest::newRow("beats a NaN") << QList<double>{kNaN, kNaN} << 5.0 << false;
    QTest::newRow("second of six continues") << QList<double>{1.0, 3.0, 4.0, 5.0, 6.0} << 2.0 << false;
    QTest::newRow("third of six is pruned") << QList<double>{1.0, 2.0, 4.0, 5.0, 6.0} << 3.0 << true;
}

void TestPruners::ashaEdgeCases() {
    QFETCH(QList<double>, others);
    QFETCH(double, value);
    QFETCH(bool, prune);
    std::vector<TrialCurve> curves;
    for (int i = 0; i < others.size(); ++i)
        curves.push_back(pointCurve(i, {{1, others[i]}}));
    curves.push_back(pointCurve(42, {{1, value}}));
    // A trial that never reached the rung does not count.
    curves.push_back(TrialCurve{43, {}, false});
    AshaPruner pruner({1, 3, 0});
    QCOMPARE(pruner.shouldPrune(42, 1, curves), prune);
}

void TestPruners::hyperbandBrackets_data() {
    QTest::addColumn<int>("minEpochs");
    QTest::addColumn<int>("maxEpochs");
    QTest::addColumn<int>("eta");
    QTest::addColumn<int>("brackets");
    QTest::newRow("1..27, eta 3") << 1 << 27 << 3 << 4;
    QTest::newRow("1..26, eta 3") << 1 << 26 << 3 << 3;
    QTest::newRow("1..9, eta 3") << 1 << 9 << 3 << 3;
    QTest::newRow("2..16, eta 2") << 2 << 16 << 2 << 4;
    QTest::newRow("one epoch") << 1 << 1 << 3 << 1;
}

void TestPruners::hyperbandBrackets() {
    QFETCH(int, minEpochs);
    QFETCH(int, maxEpochs);
    QFETCH(int, eta);
    QFETCH(int, brackets);
    HyperbandPruner pruner({minEpochs, maxEpochs, eta});
    QCOMPARE(pruner.bracketCount(), brackets);
    std::map<int, int> counts;
    for (int64_t number = 0; number < 2000; ++number) {
        const int bracket = pruner.bracketOf(number);
        QVERIFY(bracket >= 0 && bracket < brackets);
        ++counts[bracket];
    }
    QCOMPARE(int(counts.size()), brackets); // every bracket gets trials
    // Hyperband's budgets: the most aggressive bracket runs the most trials, the last the fewest.
    if (brackets > 1)
        QVERIFY(counts[0] > counts[brackets - 1]);
}

void TestPruners::hyperbandAssignmentIsDeterministic() {
    HyperbandPruner first({1, 27, 3});
    HyperbandPruner second({1, 27, 3});
    std::vector<int> firstOrder;
    for (int64_t number = 500; number >= 0; --number) // order of the questions does not matter
        firstOrder.push_back(first.bracketOf(number));
    for (int64_t number = 0; number <= 500; ++number)
        QCOMPARE(second.bracketOf(number), firstOrder[size_t(500 - number)]);
    // Shares close to 27 : 12 : 6 : 4 out of 49.
    std::map<int, int> counts;
    for (int64_t number = 0; number < 4900; ++number)
        ++counts[first.bracketOf(number)];
    QVERIFY2(std::abs(counts[0] - 2700) < 200, qPrintable(QString::number(counts[0])));
    QVERIFY2(std::abs(counts[3] - 400) < 100, qPrintable(QString::number(counts[3])));
}

void TestPruners::hyperbandComparesWithinBracket() {
    HyperbandPruner pruner({1, 27, 3});
    // Trial numbers by bracket.
    std::map<int, std::vector<int64_t>> byBracket;
    for (int64_t number = 0; number < 200; ++number)
        byBracket[pruner.bracketOf(number)].push_back(number);
    QVERIFY(byBracket[0].size() >= 4);
    QVERIFY(byBracket[1].size() >= 4);
    const int64_t decided = byBracket[0][0];

    // Much better trials at epoch 1, all from bracket 1: the decided trial is alone in its bracket.
    std::vector<TrialCurve> curves;
    for (size_t i = 0; i < 3; ++i)
        curves.push_back(pointCurve(byBracket[1][i], {{1, 0.1}}));
    curves.push_back(pointCurve(decided, {{1, 5.0}}));
    QVERIFY(!pruner.shouldPrune(decided, 1, curves));
    // Plain ASHA over everyone would have pruned it: the bracket is what protects it.
    QVERIFY(AshaPruner({1, 3, 0}).shouldPrune(decided, 1, curves));
    // Bracket 1's first rung is epoch 3: its trials are never compared at epoch 1.
    QVERIFY(!pruner.shouldPrune(byBracket[1][0], 1, curves));

    // Better trials of its own bracket prune it.
    for (size_t i = 1; i < 4; ++i)
        curves.push_back(pointCurve(byBracket[0][i], {{1, 0.5}}));
    QVERIFY(pruner.shouldPrune(decided, 1, curves));
    QVERIFY(!pruner.shouldPrune(byBracket[0][1], 1, curves));
}

void TestPruners::makePrunerChecksSettings_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("minEpochs");
    QTest::addColumn<int>("reductionFactor");
    QTest::addColumn<QString>("error"); // empty: made
    QTest::newRow("none") << "none" << 1 << 3 << "";
    QTest::newRow("median") << "median" << 1 << 3 << "";
    QTest::newRow("asha") << "asha" << 1 << 3 << "";
    QTest::newRow("hyperband") << "hyperband" << 2 << 2 << "";
    QTest::newRow("unknown")
        << "optimal" << 1 << 3
        << "pruner.type: unknown pruner \"optimal\" (known: none, median, asha, hyperband)";
    QTest::newRow("reduction factor 1")
        << "asha" << 1 << 1 << "pruner.reduction_factor: must be at least 2, not 1";
    QTest::newRow("min epochs 0") << "hyperband" << 0 << 3 << "pruner.min_epochs: must be at least 1, not 0";
}

void TestPruners::makePrunerChecksSettings() {
    QFETCH(QString, type);
    QFETCH(int, minEpochs);
    QFETCH(int, reductionFactor);
    QFETCH(QString, error);
    PrunerSettings settings;
    settings.type = type.toStdString();
    settings.minEpochs = minEpochs;
    settings.reductionFactor = reductionFactor;
    auto made = makePruner(settings, 27);
    QCOMPARE(QString::fromStdString(made.error()), error);
    QCOMPARE(made.ok(), error.isEmpty());
    if (made.ok())
        QVERIFY(made.value() != nullptr);
    QCOMPARE(prunerNames(), (std::vector<std::string>{"none", "median", "asha", "hyperband"}));
}

void TestPruners::ashaWaitsForWarmupAndStartup() {
    // Nine trials at rung 1 (the worst, 8, would be pruned there without a warm-up) and at rung 3.
    std::vector<TrialCurve> curves;
    for (int i = 0; i < 9; ++i)
        curves.push_back(decayingCurve(i, 1.0 + i, 3, i < 4));
    QVERIFY(AshaPruner({1, 3, 0, 0, 0}).shouldPrune(8, 1, curves));
    // A warm-up of 1 epoch: no rung at epoch 1, the rung at epoch 3 still prunes.
    AshaPruner warm({1, 3, 0, 1, 0});
    QVERIFY(!warm.shouldPrune(8, 1, curves));
    QVERIFY(warm.shouldPrune(8, 3, curves));
    // Four other trials finished: a start of 5 prunes nothing yet, a start of 4 does.
    QVERIFY(!AshaPruner({1, 3, 0, 0, 5}).shouldPrune(8, 3, curves));
    QVERIFY(AshaPruner({1, 3, 0, 0, 4}).shouldPrune(8, 3, curves));
    // The same through the settings a study file holds, for Hyperband too.
    PrunerSettings settings;
    settings.type = "hyperband";
    settings.warmupEpochs = 27;
    settings.startupTrials = 0;
    auto hyperband = makePruner(settings, 27);
    QVERIFY(hyperband.ok());
    for (int epoch = 1; epoch <= 3; ++epoch)
        QVERIFY(!hyperband.value()->shouldPrune(8, epoch, curves));
}

void TestPruners::scaledDefaults_data() {
    QTest::addColumn<int>("epochs");
    QTest::addColumn<qint64>("budget");
    QTest::addColumn<int>("warmup");
    QTest::addColumn<int>("firstRung");
    QTest::addColumn<int>("startup");
    QTest::newRow("the issue's small study") << 5 << qint64(10) << 1 << 2 << 3;
    QTest::newRow("ten epochs, 20 trials") << 10 << qint64(20) << 1 << 2 << 4;
    QTest::newRow("thirty epochs, 50 trials") << 30 << qint64(50) << 3 << 4 << 10;
    QTest::newRow("no trial limit") << 100 << qint64(0) << 10 << 11 << 5;
    QTest::newRow("big budget caps the start") << 20 << qint64(1000) << 2 << 3 << 10;
    QTest::newRow("epochs unknown (ask/tell)") << 0 << qint64(5) << 1 << 2 << 3;
}

void TestPruners::scaledDefaults() {
    QFETCH(int, epochs);
    QFETCH(qint64, budget);
    QFETCH(int, warmup);
    QFETCH(int, firstRung);
    QFETCH(int, startup);
    const PrunerSettings settings = scaledPrunerDefaults("asha", epochs, budget);
    QCOMPARE(settings.type, std::string("asha"));
    QCOMPARE(settings.warmupEpochs, warmup);
    QCOMPARE(settings.minEpochs, firstRung);
    QCOMPARE(settings.startupTrials, startup);
    QCOMPARE(settings.reductionFactor, 3);
    QVERIFY(settings.minEpochs > settings.warmupEpochs); // no rung inside the warm-up
}

void TestPruners::pruningEpochsOfSettings() {
    PrunerSettings asha = scaledPrunerDefaults("asha", 20, 20); // warm-up 2, rungs 3, 9
    QCOMPARE(pruningEpochs(asha, 20), (std::vector<int>{3, 9}));
    QCOMPARE(pruningEpochs(asha, 3), (std::vector<int>{})); // epoch 3 is the last: nothing to save
    PrunerSettings median = scaledPrunerDefaults("median", 5, 20);
    QCOMPARE(pruningEpochs(median, 5), (std::vector<int>{2, 3, 4}));
    median.warmupEpochs = 4;
    QVERIFY(pruningEpochs(median, 5).empty());
    QVERIFY(pruningEpochs(scaledPrunerDefaults("none", 20, 20), 20).empty());
}

void TestPruners::smallStudyKeepsTrialsToLearnFrom() {
    // The case: 10 trials of 5 epochs, ASHA with its defaults, each trial arriving one
    // after the other and worse than the first. The old defaults pruned 9 of 10 at epoch 1.
    const PrunerSettings settings = scaledPrunerDefaults("asha", 5, 10);
    auto pruner = makePruner(settings, 5);
    QVERIFY(pruner.ok());
    std::vector<TrialCurve> curves;
    int complete = 0;
    for (int trial = 0; trial < 10; ++trial) {
        TrialCurve curve;
        curve.number = trial;
        curves.push_back(curve);
        bool pruned = false;
        for (int epoch = 1; epoch <= 5 && !pruned; ++epoch) {
            curves.back().values[epoch] = (1.0 + 0.1 * trial) / epoch;
            pruned = epoch < 5 && pruner.value()->shouldPrune(trial, epoch, curves);
        }
        curves.back().finished = true;
        complete += pruned ? 0 : 1;
    }
    QVERIFY2(complete >= 3, qPrintable(QString::number(complete))); // enough for importance
    QVERIFY(complete < 10);                                         // and it still prunes
}

QTEST_GUILESS_MAIN(TestPruners)
#include "tst_pruners.moc"
