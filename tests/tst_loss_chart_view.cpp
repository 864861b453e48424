// The loss chart: points buffered until a throttled frame, decimation that keeps the extremes,
// smoothing, hidden curves, colours, many runs within the point budget, and the axes' ticks.
// tst_loss_chart_interaction covers zooming, panning, hover, export and the toolbar.

#include "loss_chart_test_support.h"

#include <QChartView>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using tunelab::LossChartView;
using Trace = LossChartView::Trace;
using namespace tunelab::test;

class TestLossChartView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void pointsAreBufferedUntilTheNextFrame();
    void decimationKeepsExtremes_data();
    void decimationKeepsExtremes();
    void framesAreThrottled();
    void largeSeriesReplacesQuickly();
    void logScaleLeavesOutNonPositive();
    void nonFinitePointsAreDropped();
    void unknownKeyGetsASeries();
    void clearAndRemove();

    void smoothingIsTheMovingAverage_data();
    void smoothingIsTheMovingAverage();
    void hiddenSeriesAreNotDrawnNorExported();
    void colourDependsOnTheKeyOnly();
    void runsShownTogetherNeverShareAColour();
    void accuracyAxisEndsAtOne();
    void framesAreThrottledWithManyRuns_data();
    void framesAreThrottledWithManyRuns();
    void manyLongCurvesStayWithinThePointBudget();
    void epochLossDrawsValidationDashedInTheRunColour();
    void hiddenChartDrawsWhenShown();
    void ticksAreRoundAndWholeOnCountingAxes_data();
    void ticksAreRoundAndWholeOnCountingAxes();

private:
    std::unique_ptr<LossChartView> m_view;
};

void TestLossChartView::init() {
    m_view = shownChartView();
    QVERIFY(QTest::qWaitForWindowExposed(m_view.get()));
}

void TestLossChartView::cleanup() {
    m_view.reset();
}

void TestLossChartView::pointsAreBufferedUntilTheNextFrame() {
    QSignalSpy frames(m_view.get(), &LossChartView::frameDrawn);
    m_view->addSeries(7, QStringLiteral("run 7"));
    m_view->appendPoints(7, lossCurve(10, 1, -1, -1));

    QCOMPARE(m_view->pointCount(7), qsizetype(10));
    QCOMPARE(m_view->displayedPoints(7).size(), qsizetype(0)); // nothing drawn before the frame
    QCOMPARE(frames.count(), 0);

    QVERIFY(frames.wait(30000));
    QCOMPARE(frames.count(), 1);                                // ten points, one frame
    QCOMPARE(m_view->displayedPoints(7).size(), qsizetype(10)); // few points are drawn as they are
    QCOMPARE(m_view->displayedPoints(7).first(), QPointF(1, lossCurve(10, 1, -1, -1).first().y()));
}

void TestLossChartView::decimationKeepsExtremes_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("spikeAt");
    QTest::addColumn<int>("dipAt");
    QTest::addColumn<int>("batches");

    QTest::newRow("2k, one batch") << 2000 << 700 << 1500 << 1;
    QTest::newRow("20k, streamed") << 20000 << 19999 << 3 << 40;
    QTest::newRow("100k, edges") << 100000 << 0 << 99999 << 4;
    QTest::newRow("100k, neighbours") << 100000 << 50000 << 50001 << 1;
}

void TestLossChartView::decimationKeepsExtremes() {
    QFETCH(int, count);
    QFETCH(int, spikeAt);
    QFETCH(int, dipAt);
    QFETCH(int, batches);

    const QVector<QPointF> curve = lossCurve(count, 42, spikeAt, dipAt);
    m_view->addSeries(1, QStringLiteral("run 1"));
    const int perBatch = count / batches;
    for (int b = 0; b < batches; ++b)
        m_view->appendPoints(1, curve.mid(b * perBatch, b + 1 == batches ? -1 : perBatch));
    QCOMPARE(m_view->pointCount(1), qsizetype(count));

    QSignalSpy frames(m_view.get(), &LossChartView::frameDrawn);
    QVERIFY(frames.wait(30000));
    const QList<QPointF> shown = m_view->displayedPoints(1);
    const int columns = m_view->plotColumns();
    QVERIFY2(columns > 100 && columns <= 800, qPrintable(QString::number(columns)));
    QVERIFY2(shown.size() <= 2 * columns,
             qPrintable(QStringLiteral("%1 points for %2 columns").arg(shown.size()).arg(columns)));
    QVERIFY(shown.size() >= columns / 2); // the data spans most of the (rounded) x axis
    QVERIFY(containsY(shown, 50.0));
    QVERIFY(containsY(shown, 0.001));
    // x keeps increasing, so the line never folds back.
    for (qsizetype i = 1; i < shown.size(); ++i)
        QVERIFY(shown[i].x() > shown[i - 1].x());
}

void TestLossChartView::framesAreThrottled() {
    QSignalSpy frames(m_view.get(), &LossChartView::frameDrawn);
    m_view->addSeries(3, QStringLiteral("run 3"));
    QElapsedTimer clock;
    clock.start();
    int step = 0;
    // At least 600 ms and three frames (a busy machine may draw fewer per second); 30 s at most.
    while ((clock.elapsed() < 600 || frames.count() < 3) && clock.elapsed() < 30000) {
        QVector<QPointF> batch;
        for (int i = 0; i < 5; ++i, ++step)
            batch.append(QPointF(step + 1, 1.0 / (step + 1)));
        m_view->appendPoints(3, batch);
        QTest::qWait(2);
    }
    const double seconds = clock.elapsed() / 1000.0;
    QVERIFY(frames.count() >= 3); // it does draw while points stream in
    QVERIFY2(frames.count() <= std::ceil(seconds * 25.0) + 1, qPrintable(QString::number(frames.count())));
}

void TestLossChartView::largeSeriesReplacesQuickly() {
    const QVector<QPointF> curve = lossCurve(100000, 9, 123, 45678);
    QElapsedTimer clock;
    clock.start();
    m_view->addSeries(5, QStringLiteral("run 5"));
    m_view->appendPoints(5, curve);
    m_view->flush();
    const QPixmap frame = m_view->grab(); // includes painting the chart
    const qint64 elapsed = clock.elapsed();
    qInfo("100k points appended, decimated and painted in %lld ms", elapsed);
    QVERIFY(!frame.isNull());
    QVERIFY(m_view->displayedPoints(5).size() <= 2 * m_view->plotColumns());
    // bench/bench_charts measures the speed; this bound only catches a gross regression on a busy machine.
    QVERIFY2(elapsed < 5000, qPrintable(QStringLiteral("%1 ms").arg(elapsed)));
}

void TestLossChartView::logScaleLeavesOutNonPositive() {
    m_view->appendPoints(2, {{1, 10.0}, {2, 0.0}, {3, 0.5}, {4, -1.0}, {5, 0.01}});
    m_view->flush();
    QCOMPARE(m_view->displayedPoints(2).size(), qsizetype(5));

    m_view->setLogScale(true);
    QVERIFY(m_view->isLogScale());
    const QList<QPointF> logPoints = m_view->displayedPoints(2);
    QCOMPARE(logPoints.size(), qsizetype(3));
    for (const QPointF& point : logPoints)
        QVERIFY(point.y() > 0.0);

    m_view->setLogScale(false);
    QCOMPARE(m_view->displayedPoints(2).size(), qsizetype(5));
    QVERIFY(!m_view->grab().isNull());
}

void TestLossChartView::nonFinitePointsAreDropped() {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    m_view->appendPoints(4, {{1, 1.0}, {2, nan}, {3, inf}, {4, 0.5}});
    QCOMPARE(m_view->pointCount(4), qsizetype(2));
    m_view->flush();
    QCOMPARE(m_view->displayedPoints(4), (QList<QPointF>{{1, 1.0}, {4, 0.5}}));
}

void TestLossChartView::unknownKeyGetsASeries() {
    QVERIFY(!m_view->hasSeries(11));
    m_view->appendPoints(11, {{1, 1.0}});
    QVERIFY(m_view->hasSeries(11));
    m_view->addSeries(11, QStringLiteral("renamed")); // same key: no second curve
    QCOMPARE(m_view->seriesCount(), 1);
    QCOMPARE(m_view->pointCount(11), qsizetype(1));
}

void TestLossChartView::clearAndRemove() {
    m_view->appendPoints(1, lossCurve(100, 1, -1, -1));
    m_view->appendPoints(2, lossCurve(100, 2, -1, -1));
    m_view->flush();
    QCOMPARE(m_view->seriesCount(), 2);

    m_view->removeSeries(1);
    QCOMPARE(m_view->seriesCount(), 1);
    QVERIFY(!m_view->hasSeries(1));
    QCOMPARE(m_view->displayedPoints(1).size(), qsizetype(0));

    m_view->clear();
    QCOMPARE(m_view->seriesCount(), 0);
    QCOMPARE(m_view->pointCount(2), qsizetype(0));
    m_view->appendPoints(2, {{1, 1.0}}); // usable again after clear
    m_view->flush();
    QCOMPARE(m_view->displayedPoints(2).size(), qsizetype(1));
}

void TestLossChartView::smoothingIsTheMovingAverage_data() {
    QTest::addColumn<double>("amount");
    QTest::addColumn<int>("batches");

    QTest::newRow("off") << 0.0 << 1;
    QTest::newRow("0.5") << 0.5 << 1;
    QTest::newRow("0.9, streamed") << 0.9 << 5;
    QTest::newRow("0.99, streamed") << 0.99 << 3;
}

void TestLossChartView::smoothingIsTheMovingAverage() {
    QFETCH(double, amount);
    QFETCH(int, batches);

    // Fewer points than pixel columns: every point is drawn, so the values compare one by one.
    const QVector<QPointF> curve = lossCurve(300, 5, 100, 200);
    m_view->setSmoothing(amount);
    QCOMPARE(m_view->smoothing(), amount);
    const int perBatch = curve.size() / batches;
    for (int b = 0; b < batches; ++b) {
        m_view->appendPoints(1, curve.mid(b * perBatch, b + 1 == batches ? -1 : perBatch));
        m_view->flush(); // the average continues across frames
    }
    const QList<QPointF> bold = m_view->displayedPoints(1);
    QCOMPARE(bold.size(), curve.size());
    const QList<double> expected = ema(curve, amount);
    for (qsizetype i = 0; i < bold.size(); ++i) {
        QCOMPARE(bold[i].x(), curve[i].x());
        QVERIFY2(bold[i].y() == expected[i], qPrintable(QStringLiteral("point %1: %2 != %3")
                                                            .arg(i)
                                                            .arg(bold[i].y(), 0, 'g', 17)
                                                            .arg(expected[i], 0, 'g', 17)));
    }
    // The raw curve stays behind a smoothed one, faint; without smoothing the bold line is the raw one.
    const QList<QPointF> faint = m_view->displayedRawPoints(1);
    if (amount > 0.0) {
        QCOMPARE(faint, QList<QPointF>(curve.begin(), curve.end()));
        QVERIFY(!containsY(bold, 50.0)); // the spike is smoothed away...
        QVERIFY(containsY(faint, 50.0)); // ...and still shown raw
    } else {
        QVERIFY(faint.isEmpty());
    }

    // The slider is the same setting, in hundredths.
    m_view->smoothingSlider()->setValue(25);
    QCOMPARE(m_view->smoothing(), 0.25);
    m_view->flush();
    QCOMPARE(m_view->displayedPoints(1).last().y(), ema(curve, 0.25).last());
}

void TestLossChartView::hiddenSeriesAreNotDrawnNorExported() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_view->addSeries(1, QStringLiteral("first"));
    m_view->addSeries(2, QStringLiteral("second"));
    m_view->appendPoints(1, {{1, 10.0}, {2, 20.0}});
    m_view->appendPoints(2, {{1, 1.0}, {2, 2.0}});
    m_view->flush();
    QVERIFY(m_view->visibleYMax() >= 20.0);

    QSignalSpy toggled(m_view.get(), &LossChartView::seriesVisibilityChanged);
    m_view->setSeriesVisible(1, false);
    QCOMPARE(toggled.count(), 1);
    QVERIFY(!m_view->isSeriesVisible(1));
    m_view->flush();
    QVERIFY(m_view->displayedPoints(1).isEmpty());
    QCOMPARE(m_view->displayedPoints(2).size(), qsizetype(2));
    QCOMPARE(m_view->pointCount(1), qsizetype(2)); // kept, only not drawn
    QVERIFY2(m_view->visibleYMax() < 10.0,
             qPrintable(QString::number(m_view->visibleYMax()))); // y fits what is shown

    const QString path = dir.filePath(QStringLiteral("hidden.csv"));
    QVERIFY(m_view->exportCsv(path));
    const QByteArray csv = readAll(path);
    QVERIFY(!csv.contains("first"));
    QVERIFY(csv.contains("second"));

    m_view->setSeriesVisible(1, true);
    m_view->flush();
    QCOMPARE(m_view->displayedPoints(1).size(), qsizetype(2));
    QCOMPARE(toggled.count(), 2);
}

void TestLossChartView::colourDependsOnTheKeyOnly() {
    QSet<QRgb> firstTen;
    for (qint64 key = 1; key <= 10; ++key)
        firstTen.insert(LossChartView::colorForKey(key).rgb());
    QCOMPARE(firstTen.size(), 10); // neighbouring runs are told apart

    m_view->addSeries(3, QStringLiteral("three"));
    m_view->addSeries(4, QStringLiteral("four"));
    const QColor three = m_view->seriesColor(3);
    QVERIFY(three != m_view->seriesColor(4));
    m_view->clear();
    m_view->addSeries(4, QStringLiteral("four"));
    m_view->addSeries(3, QStringLiteral("three")); // another order, same colour
    QCOMPARE(m_view->seriesColor(3), three);

    LossChartView otherTab(LossChartView::Metric::GradNorm);
    QCOMPARE(otherTab.seriesColor(3), three); // every chart colours a run alike
    QVERIFY(LossChartView::colorForKey(-7).isValid());
}

// Twelve runs in one chart get twelve colours; run 13 beside run 1 does not take run 1's.
// Accuracy near 1 gets an axis that stops at 1, not a round 1.2 above what accuracy can be.
void TestLossChartView::accuracyAxisEndsAtOne() {
    LossChartView accuracy(LossChartView::Metric::ValAccuracy);
    accuracy.appendPoints(1, {{1.0, 0.62}, {2.0, 0.91}, {3.0, 0.99}});
    accuracy.flush();
    auto* chartView = accuracy.findChild<QChartView*>();
    QVERIFY(chartView);
    auto* axis = qobject_cast<QValueAxis*>(chartView->chart()->axes(Qt::Vertical).first());
    QVERIFY(axis);
    QCOMPARE(axis->max(), 1.0);
    QVERIFY(axis->min() <= 0.62);
}

void TestLossChartView::runsShownTogetherNeverShareAColour() {
    QSet<QRgb> colours;
    for (qint64 key = 1; key <= 12; ++key) {
        m_view->addSeries(key, QString::number(key));
        colours.insert(m_view->seriesColor(key).rgb());
    }
    QCOMPARE(colours.size(), 12);
    m_view->clear();
    m_view->addSeries(1, QStringLiteral("one"));
    m_view->addSeries(13, QStringLiteral("thirteen"));
    QVERIFY(m_view->seriesColor(1) != m_view->seriesColor(13));
    QCOMPARE(m_view->seriesColor(1), LossChartView::colorForKey(1));
}

void TestLossChartView::framesAreThrottledWithManyRuns_data() {
    QTest::addColumn<int>("runs");
    QTest::addColumn<double>("smoothing");
    QTest::newRow("4 runs") << 4 << 0.0;
    QTest::newRow("30 runs, smoothed") << 30 << 0.6;
}

void TestLossChartView::framesAreThrottledWithManyRuns() {
    QFETCH(int, runs);
    QFETCH(double, smoothing);
    m_view->setSmoothing(smoothing);
    QSignalSpy frames(m_view.get(), &LossChartView::frameDrawn);
    QElapsedTimer clock;
    clock.start();
    int step = 0;
    while ((clock.elapsed() < 600 || frames.count() < 3) && clock.elapsed() < 30000) {
        for (int run = 1; run <= runs; ++run) {
            QVector<QPointF> batch;
            for (int i = 0; i < 20; ++i)
                batch.append(QPointF(step + i + 1, run + 1.0 / (step + i + 1)));
            m_view->appendPoints(run, batch);
        }
        step += 20;
        QTest::qWait(2);
    }
    const double seconds = clock.elapsed() / 1000.0;
    QVERIFY(frames.count() >= 3);
    QVERIFY2(frames.count() <= std::ceil(seconds * 25.0) + 1, qPrintable(QString::number(frames.count())));
    m_view->flush();
    for (int run = 1; run <= runs; ++run)
        QVERIFY(m_view->displayedPoints(run).size() > 0);
}

void TestLossChartView::manyLongCurvesStayWithinThePointBudget() {
    const int runs = 40;
    for (int run = 1; run <= runs; ++run)
        m_view->appendPoints(run, lossCurve(20000, run, 400 * run, 19999 - 100 * run));
    m_view->flush();
    const int columns = m_view->decimationColumns();
    QVERIFY2(columns < m_view->plotColumns(), qPrintable(QString::number(columns)));
    qsizetype total = 0;
    for (int run = 1; run <= runs; ++run) {
        const QList<QPointF> shown = m_view->displayedPoints(run);
        QVERIFY(shown.size() <= 2 * columns);
        QVERIFY(containsY(shown, 50.0)); // min/max decimation still keeps every spike and dip
        QVERIFY(containsY(shown, 0.001));
        total += shown.size();
    }
    QVERIFY2(total <= m_view->pointBudget(), qPrintable(QString::number(total)));
}

void TestLossChartView::epochLossDrawsValidationDashedInTheRunColour() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    LossChartView view(LossChartView::Metric::EpochLoss);
    view.resize(600, 400);
    QCOMPARE(view.metric(), LossChartView::Metric::EpochLoss);
    QCOMPARE(view.xAxisMode(), LossChartView::XAxisMode::Epoch);
    view.addSeries(3, QStringLiteral("mlp"));
    view.appendPoints(3, {{1, 1.0}, {2, 0.6}});
    view.appendPoints(3, {{1, 1.2}, {2, 0.9}}, Trace::Validation);
    view.flush();
    QCOMPARE(view.seriesCount(), 1); // one run, two lines
    QCOMPARE(view.pointCount(3, Trace::Validation), qsizetype(2));
    QCOMPARE(view.displayedPoints(3, Trace::Validation), (QList<QPointF>{{1, 1.2}, {2, 0.9}}));
    QCOMPARE(view.hoverText(3, 2, Trace::Validation), QStringLiteral("mlp (validation) — epoch 2: 0.9"));

    const QString path = dir.filePath(QStringLiteral("epochs.csv"));
    QVERIFY(view.exportCsv(path));
    QCOMPARE(readAll(path), QByteArray("series,x,y\n"
                                       "mlp (train),1,1\n"
                                       "mlp (train),2,0.6\n"
                                       "mlp (validation),1,1.2\n"
                                       "mlp (validation),2,0.9\n"));
    view.setSeriesVisible(3, false);
    view.flush();
    QVERIFY(view.displayedPoints(3, Trace::Validation).isEmpty()); // hiding a run hides both lines
}

// Charts in hidden tabs keep their points but spend no frames until they are shown.
void TestLossChartView::hiddenChartDrawsWhenShown() {
    tunelab::LossChartView chart;
    chart.resize(800, 500);
    chart.addSeries(1, QStringLiteral("hidden"));
    QVector<QPointF> points;
    for (int i = 1; i <= 100; ++i)
        points.append(QPointF(i, 1.0 / i));
    chart.appendPoints(1, points);
    QTest::qWait(3 * tunelab::LossChartView::kFrameIntervalMs);
    QCOMPARE(chart.pointCount(1), qsizetype(100));
    QVERIFY(chart.displayedPoints(1).isEmpty());
    chart.show();
    QTRY_VERIFY(!chart.displayedPoints(1).isEmpty());
}

// Steps and epochs count whole things: their axis has whole-number ticks even over a short run; the
// wall-time axis may step by fractions. Every step is 1, 2 or 5 times a power of ten, and an
// automatic range ends on ticks.
void TestLossChartView::ticksAreRoundAndWholeOnCountingAxes_data() {
    QTest::addColumn<LossChartView::XAxisMode>("mode");
    QTest::addColumn<QVector<QPointF>>("points");
    QTest::addColumn<bool>("whole");
    QTest::newRow("three steps") << LossChartView::XAxisMode::Step
                                 << QVector<QPointF>{{1, 0.9}, {2, 0.7}, {3, 0.6}} << true;
    QTest::newRow("two epochs") << LossChartView::XAxisMode::Epoch << QVector<QPointF>{{1, 0.9}, {2, 0.7}}
                                << true;
    QTest::newRow("fractional epochs")
        << LossChartView::XAxisMode::Epoch << QVector<QPointF>{{0.25, 0.9}, {0.5, 0.8}, {1.75, 0.6}} << true;
    QTest::newRow("many steps") << LossChartView::XAxisMode::Step << lossCurve(5001, 4, -1, -1) << true;
    QTest::newRow("seconds") << LossChartView::XAxisMode::WallTime
                             << QVector<QPointF>{{0.1, 0.9}, {0.2, 0.7}, {0.3, 0.6}} << false;
}

void TestLossChartView::ticksAreRoundAndWholeOnCountingAxes() {
    QFETCH(LossChartView::XAxisMode, mode);
    QFETCH(QVector<QPointF>, points);
    QFETCH(bool, whole);
    m_view->setXAxisMode(mode);
    m_view->appendPoints(1, points);
    m_view->flush();
    auto* chartView = m_view->findChild<QChartView*>();
    QVERIFY(chartView);
    const auto horizontal = chartView->chart()->axes(Qt::Horizontal);
    const auto vertical = chartView->chart()->axes(Qt::Vertical);
    QCOMPARE(horizontal.size(), 1);
    QCOMPARE(vertical.size(), 1);
    auto isRound = [](double step) {
        const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
        return std::fabs(mantissa - 1.0) < 1e-9 || std::fabs(mantissa - 2.0) < 1e-9 ||
               std::fabs(mantissa - 5.0) < 1e-9;
    };
    for (auto* axis :
         {qobject_cast<QValueAxis*>(horizontal.first()), qobject_cast<QValueAxis*>(vertical.first())}) {
        QVERIFY(axis);
        QCOMPARE(axis->tickType(), QValueAxis::TicksDynamic);
        QCOMPARE(axis->tickAnchor(), 0.0);
        const double step = axis->tickInterval();
        QVERIFY2(step > 0.0 && isRound(step), qPrintable(QString::number(step)));
        const double intervals = (axis->max() - axis->min()) / step;
        QVERIFY2(std::fabs(intervals - std::round(intervals)) < 1e-6 && intervals <= 6.0 + 1e-6,
                 qPrintable(QStringLiteral("%1 .. %2 by %3").arg(axis->min()).arg(axis->max()).arg(step)));
        QVERIFY2(std::fabs(axis->min() / step - std::round(axis->min() / step)) < 1e-6,
                 qPrintable(QStringLiteral("%1 .. %2 by %3").arg(axis->min()).arg(axis->max()).arg(step)));
    }
    const double xStep = qobject_cast<QValueAxis*>(horizontal.first())->tickInterval();
    if (whole)
        QVERIFY2(xStep >= 1.0 && xStep == std::round(xStep), qPrintable(QString::number(xStep)));
    else
        QVERIFY2(xStep < 1.0, qPrintable(QString::number(xStep)));
}

QTEST_MAIN(TestLossChartView)
#include "tst_loss_chart_view.moc"
