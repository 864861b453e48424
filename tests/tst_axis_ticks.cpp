// Round axis ticks: one rule (the smallest step of 1, 2 or 5 times a power of ten that splits the
// span into at most the asked number of intervals), whole-number ticks on integer axes, ranges
// widened to ticks, and the study plots' trial and epoch axes that use them.

#include "common/axis_ticks.h"
#include "study/study_plots.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace tunelab;

namespace {

QList<double> toList(const std::vector<double>& values) {
    return QList<double>(values.begin(), values.end());
}

} // namespace

class TestAxisTicks : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void step_data() {
        QTest::addColumn<double>("span");
        QTest::addColumn<int>("intervals");
        QTest::addColumn<bool>("integer");
        QTest::addColumn<double>("step");
        QTest::newRow("exact 1") << 5.0 << 5 << false << 1.0;
        QTest::newRow("exact 2") << 10.0 << 5 << false << 2.0;
        QTest::newRow("exact 0.2") << 1.0 << 5 << false << 0.2;
        QTest::newRow("just over 1 -> 2") << 5.5 << 5 << false << 2.0;
        QTest::newRow("just over 2 -> 5") << 10.5 << 5 << false << 5.0;
        QTest::newRow("just over 5 -> 10") << 26.0 << 5 << false << 10.0;
        QTest::newRow("thousands") << 1234.0 << 5 << false << 500.0;
        QTest::newRow("small") << 0.0037 << 4 << false << 0.001;
        QTest::newRow("one interval") << 7.0 << 1 << false << 10.0;
        QTest::newRow("no interval asked") << 7.0 << 0 << false << 10.0;
        QTest::newRow("fractional raw, real") << 3.0 << 8 << false << 0.5;
        QTest::newRow("fractional raw, integer") << 3.0 << 8 << true << 1.0;
        QTest::newRow("integer, large") << 1234.0 << 5 << true << 500.0;
        QTest::newRow("integer, exactly 1") << 5.0 << 5 << true << 1.0;
        QTest::newRow("empty") << 0.0 << 5 << false << 0.0;
        QTest::newRow("reversed") << -3.0 << 5 << false << 0.0;
        QTest::newRow("infinite") << std::numeric_limits<double>::infinity() << 5 << false << 0.0;
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN() << 5 << true << 0.0;
    }

    void step() {
        QFETCH(double, span);
        QFETCH(int, intervals);
        QFETCH(bool, integer);
        QFETCH(double, step);
        QCOMPARE(niceTickStep(span, intervals, integer), step);
    }

    void ticks_data() {
        QTest::addColumn<double>("min");
        QTest::addColumn<double>("max");
        QTest::addColumn<int>("intervals");
        QTest::addColumn<bool>("integer");
        QTest::addColumn<QList<double>>("expected");
        QTest::newRow("unit range") << 0.0 << 1.0 << 5 << false
                                    << QList<double>{0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
        QTest::newRow("across zero") << -0.3 << 0.3 << 3 << false << QList<double>{-0.2, 0.0, 0.2};
        QTest::newRow("ends between ticks")
            << 0.15 << 0.95 << 4 << false << QList<double>{0.2, 0.4, 0.6, 0.8};
        QTest::newRow("negative") << -7.0 << -1.0 << 3 << false << QList<double>{-6.0, -4.0, -2.0};
        QTest::newRow("no drift over many steps")
            << 0.0 << 0.9 << 9 << false << QList<double>{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
        QTest::newRow("trial numbers") << -0.5 << 3.5 << 8 << true << QList<double>{0.0, 1.0, 2.0, 3.0};
        QTest::newRow("trial numbers, real axis")
            << -0.5 << 1.5 << 8 << false << QList<double>{-0.5, 0.0, 0.5, 1.0, 1.5};
        QTest::newRow("epochs") << 0.0 << 40.5 << 4 << true << QList<double>{0.0, 20.0, 40.0};
        QTest::newRow("integer, under one") << 0.2 << 0.8 << 5 << true << QList<double>{};
        QTest::newRow("empty") << 2.0 << 2.0 << 5 << false << QList<double>{};
        QTest::newRow("reversed") << 3.0 << 1.0 << 5 << false << QList<double>{};
    }

    void ticks() {
        QFETCH(double, min);
        QFETCH(double, max);
        QFETCH(int, intervals);
        QFETCH(bool, integer);
        QFETCH(QList<double>, expected);
        const QList<double> got = toList(niceTicks(min, max, intervals, integer));
        QCOMPARE(got.size(), expected.size());
        for (qsizetype i = 0; i < got.size(); ++i) {
            QVERIFY2(
                std::fabs(got[i] - expected[i]) < 1e-12,
                qPrintable(QStringLiteral("tick %1: %2, expected %3").arg(i).arg(got[i]).arg(expected[i])));
            if (integer)
                QCOMPARE(got[i], std::round(got[i]));
        }
        // Zero is exactly zero, never -0 or 1e-17, so that its label reads "0".
        for (const double tick : got) {
            if (std::fabs(tick) < 1e-9)
                QVERIFY(tick == 0.0 && !std::signbit(tick));
        }
    }

    void range_data() {
        QTest::addColumn<double>("min");
        QTest::addColumn<double>("max");
        QTest::addColumn<int>("intervals");
        QTest::addColumn<bool>("integer");
        QTest::addColumn<double>("niceMin");
        QTest::addColumn<double>("niceMax");
        QTest::addColumn<int>("ticks");
        QTest::newRow("steps") << 0.0 << 5001.0 << 5 << true << 0.0 << 6000.0 << 4;
        QTest::newRow("loss") << 0.05 << 2.31 << 5 << false << 0.0 << 2.5 << 6;
        QTest::newRow("already round") << 0.0 << 1.0 << 5 << false << 0.0 << 1.0 << 6;
        QTest::newRow("negative") << -3.7 << -0.2 << 5 << false << -4.0 << 0.0 << 5;
        QTest::newRow("few epochs") << 0.0 << 2.0 << 5 << true << 0.0 << 2.0 << 3;
        QTest::newRow("reversed") << 1.0 << 0.0 << 5 << false << 0.0 << 1.0 << 6;
        QTest::newRow("empty grows to 1") << 3.0 << 3.0 << 5 << true << 2.0 << 4.0 << 3;
    }

    void range() {
        QFETCH(double, min);
        QFETCH(double, max);
        QFETCH(int, intervals);
        QFETCH(bool, integer);
        QFETCH(double, niceMin);
        QFETCH(double, niceMax);
        QFETCH(int, ticks);
        const NiceRange range = niceRange(min, max, intervals, integer);
        QCOMPARE(range.min, niceMin);
        QCOMPARE(range.max, niceMax);
        QCOMPARE(range.ticks, ticks);
        QVERIFY(range.min <= std::min(min, max) && range.max >= std::max(min, max));
        QCOMPARE(range.ticks - 1, static_cast<int>(std::lround((range.max - range.min) / range.step)));
    }

    void nonFiniteRange() {
        const NiceRange range = niceRange(0.0, std::numeric_limits<double>::infinity(), 5);
        QVERIFY(std::isfinite(range.min) && std::isfinite(range.max));
        QVERIFY(niceTicks(std::numeric_limits<double>::quiet_NaN(), 1.0, 5).empty());
    }

    // The study plots' trial and epoch axes label whole numbers only, however few trials there are.
    void integerPlotAxis_data() {
        QTest::addColumn<double>("max");
        QTest::addColumn<int>("maxTicks");
        QTest::newRow("two trials") << 1.5 << 8;
        QTest::newRow("four trials") << 3.5 << 12;
        QTest::newRow("many trials") << 250.5 << 6;
    }

    void integerPlotAxis() {
        QFETCH(double, max);
        QFETCH(int, maxTicks);
        PlotAxis axis;
        axis.min = -0.5;
        axis.max = max;
        axis.integer = true;
        const auto ticks = axis.ticks(maxTicks);
        QVERIFY(!ticks.empty());
        for (const auto& [unit, label] : ticks) {
            bool ok = false;
            const double value = label.toDouble(&ok);
            QVERIFY2(ok && value == std::round(value), qPrintable(label));
            QVERIFY(std::fabs(axis.fromUnit(unit) - value) < 1e-9);
        }
        axis.integer = false; // the same range on a real axis has half steps when few trials are shown
        if (max < 2.0) {
            bool fractional = false;
            for (const auto& tick : axis.ticks(maxTicks))
                fractional = fractional || tick.second.contains(QLatin1Char('.'));
            QVERIFY(fractional);
        }
    }
};

QTEST_MAIN(TestAxisTicks)
#include "tst_axis_ticks.moc"
