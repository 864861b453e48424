#include "charts/loss_chart_view.h"

#include <QElapsedTimer>
#include <QFile>
#include <QGraphicsView>
#include <QImage>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using tunelab::LossChartView;
using Trace = LossChartView::Trace;

namespace {

// A noisy decaying loss curve with one spike and one dip that are a single step wide.
QVector<QPointF> lossCurve(int count, quint32 seed, int spikeAt, int dipAt) {
    QRandomGenerator random(seed);
    QVector<QPointF> points;
    points.reserve(count);
    for (int i = 0; i < count; ++i) {
        double loss = 2.0 * std::exp(-3.0 * i / count) + 0.2 + 0.1 * random.generateDouble();
        if (i == spikeAt)
            loss = 50.0;
        if (i == dipAt)
            loss = 0.001;
        points.append(QPointF(i + 1, loss));
    }
    return points;
}

bool containsY(const QList<QPointF>& points, double y) {
    return std::any_of(points.begin(), points.end(), [y](const QPointF& p) { return p.y() == y; });
}

// The moving average the chart promises, computed the same way: s[0] = y[0], s[i] = a s[i-1] + (1-a) y[i].
QList<double> ema(const QVector<QPointF>& points, double a) {
    QList<double> out;
    double s = 0.0;
    for (qsizetype i = 0; i < points.size(); ++i) {
        s = i == 0 ? points[i].y() : a * s + (1.0 - a) * points[i].y();
        out.append(s);
    }
    return out;
}

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

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
    void zoomDecimatesFromTheFullData();
    void wheelZoomsAroundTheCursor();
    void ctrlZeroResetsTheZoom();
    void rubberBandZoomsAndRightDragPans();
    void exportCsvWritesTheRawPointsOfShownCurves();
    void exportPngWritesAnImage();
    void framesAreThrottledWithManyRuns_data();
    void framesAreThrottledWithManyRuns();
    void manyLongCurvesStayWithinThePointBudget();
    void hoverTextNamesRunStepAndValue_data();
    void hoverTextNamesRunStepAndValue();
    void xAxisModeDropsPointsAndAsksForThemAgain();
    void epochLossDrawsValidationDashedInTheRunColour();
    void logToggleIsReported();
    void hiddenChartDrawsWhenShown();

private:
    std::unique_ptr<LossChartView> m_view;
};

void TestLossChartView::init() {
    m_view = std::make_unique<LossChartView>();
    m_view->resize(800, 500);
    m_view->show();
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

    QVERIFY(frames.wait(1000));
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
    QVERIFY(frames.wait(1000));
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
    while (clock.elapsed() < 600) {
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
    QVERIFY2(elapsed < 500, qPrintable(QStringLiteral("%1 ms").arg(elapsed)));
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

void TestLossChartView::zoomDecimatesFromTheFullData() {
    const QVector<QPointF> curve = lossCurve(100000, 3, 50100, 90000);
    m_view->appendPoints(1, curve);
    m_view->flush();
    const int columns = m_view->decimationColumns();
    QVERIFY(m_view->displayedPoints(1).size() <= 2 * columns);
    QVERIFY(!m_view->isZoomed());

    QSignalSpy zoomed(m_view.get(), &LossChartView::zoomChanged);
    m_view->setXRange(50000.5, 50200.5); // x 50001 .. 50200: fewer points than columns
    QVERIFY(m_view->isZoomed());
    QCOMPARE(zoomed.count(), 1);
    m_view->flush();
    const QList<QPointF> shown = m_view->displayedPoints(1);
    // Every point in range, at full resolution, plus one neighbour each side so the line reaches the edges.
    QCOMPARE(shown.size(), qsizetype(202));
    for (qsizetype i = 0; i < shown.size(); ++i)
        QCOMPARE(shown[i], curve[49999 + i]);
    QVERIFY(containsY(shown, 50.0)); // the spike at step 50101
    // The y axis fits the points in range.
    QVERIFY(m_view->visibleYMax() >= 50.0 && m_view->visibleYMax() < 100.0);

    m_view->resetZoom();
    QVERIFY(!m_view->isZoomed());
    m_view->flush();
    QVERIFY(m_view->visibleXMin() <= 1.0);
    QVERIFY(m_view->visibleXMax() >= 100000.0);
    const QList<QPointF> reset = m_view->displayedPoints(1);
    QVERIFY(reset.size() <= 2 * m_view->decimationColumns());
    QVERIFY(containsY(reset, 50.0));
    QVERIFY(containsY(reset, 0.001));
    QVERIFY(reset.first().x() <= 1.0 + 2 * 100000.0 / m_view->decimationColumns()); // from the start again
}

void TestLossChartView::wheelZoomsAroundTheCursor() {
    m_view->appendPoints(1, lossCurve(1000, 4, -1, -1));
    m_view->flush();
    const double low = m_view->visibleXMin();
    const double high = m_view->visibleXMax();

    m_view->zoomX(0.5, 500.0);
    m_view->flush();
    QCOMPARE(m_view->visibleXMin(), 500.0 - (500.0 - low) * 0.5);
    QCOMPARE(m_view->visibleXMax(), 500.0 + (high - 500.0) * 0.5);

    // A wheel notch up over the plot zooms in; the value under the cursor stays where it is.
    auto* canvas = m_view->findChild<QGraphicsView*>();
    QVERIFY(canvas);
    const QPoint pos = canvas->viewport()->rect().center();
    const double before = m_view->visibleXMax() - m_view->visibleXMin();
    QWheelEvent wheel(QPointF(pos), QPointF(canvas->viewport()->mapToGlobal(pos)), QPoint(), QPoint(0, 120),
                      Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(canvas->viewport(), &wheel);
    m_view->flush();
    const double after = m_view->visibleXMax() - m_view->visibleXMin();
    QVERIFY2(after < 0.9 * before && after > 0.8 * before,
             qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(after)));
}

void TestLossChartView::ctrlZeroResetsTheZoom() {
    m_view->appendPoints(1, lossCurve(1000, 4, -1, -1));
    m_view->setXRange(100, 200);
    m_view->flush();
    QVERIFY(m_view->isZoomed());
    m_view->activateWindow();
    m_view->setFocus();
    QTest::keyClick(m_view.get(), Qt::Key_0, Qt::ControlModifier);
    QVERIFY(!m_view->isZoomed());
    m_view->flush();
    QVERIFY(m_view->visibleXMax() >= 1000.0);
}

void TestLossChartView::rubberBandZoomsAndRightDragPans() {
    const QVector<QPointF> curve = lossCurve(10000, 6, -1, -1);
    m_view->appendPoints(1, curve);
    m_view->flush();
    auto* canvas = m_view->findChild<QGraphicsView*>();
    QVERIFY(canvas);
    QWidget* viewport = canvas->viewport();
    const QRect area = viewport->rect();
    const double width = m_view->visibleXMax() - m_view->visibleXMin();

    // Drag a rectangle over the middle of the plot.
    const QPoint from(area.left() + area.width() * 4 / 10, area.top() + area.height() * 3 / 10);
    const QPoint to(area.left() + area.width() * 6 / 10, area.top() + area.height() * 6 / 10);
    QTest::mousePress(viewport, Qt::LeftButton, {}, from);
    QTest::mouseMove(viewport, (from + to) / 2);
    QTest::mouseMove(viewport, to);
    QTest::mouseRelease(viewport, Qt::LeftButton, {}, to);
    QVERIFY(m_view->isZoomed());
    m_view->flush();
    const double zoomedLow = m_view->visibleXMin();
    const double zoomedWidth = m_view->visibleXMax() - zoomedLow;
    QVERIFY2(zoomedWidth < 0.3 * width, qPrintable(QString::number(zoomedWidth)));
    // The new range is decimated from the full data: every point inside it is drawn.
    const QList<QPointF> shown = m_view->displayedPoints(1);
    const auto inRange = std::count_if(curve.begin(), curve.end(), [&](const QPointF& p) {
        return p.x() >= zoomedLow && p.x() <= zoomedLow + zoomedWidth;
    });
    QVERIFY2(shown.size() >= std::min<qsizetype>(inRange, m_view->decimationColumns()),
             qPrintable(QStringLiteral("%1 of %2").arg(shown.size()).arg(inRange)));

    // Dragging with the right button moves the view the other way; the width stays.
    const QPoint start = area.center();
    QTest::mousePress(viewport, Qt::RightButton, {}, start);
    QTest::mouseMove(viewport, start + QPoint(100, 0));
    QTest::mouseRelease(viewport, Qt::RightButton, {}, start + QPoint(100, 0));
    m_view->flush();
    QVERIFY2(m_view->visibleXMin() < zoomedLow,
             qPrintable(QStringLiteral("%1 -> %2").arg(zoomedLow).arg(m_view->visibleXMin())));
    QVERIFY(std::abs((m_view->visibleXMax() - m_view->visibleXMin()) - zoomedWidth) < 1e-6 * width);

    m_view->resetZoom();
    m_view->flush();
    QVERIFY(!m_view->isZoomed());
    QCOMPARE(m_view->visibleXMax() - m_view->visibleXMin(), width);
}

void TestLossChartView::exportCsvWritesTheRawPointsOfShownCurves() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_view->addSeries(2, QStringLiteral("lr 0.1, \"wide\""));
    m_view->addSeries(1, QStringLiteral("baseline"));
    m_view->appendPoints(2, {{1, 0.5}, {2, 0.25}});
    m_view->appendPoints(1, {{1, 2.0}, {3, 0.1}});
    m_view->setSmoothing(0.9);   // smoothing is a drawing matter: the file holds the raw data
    m_view->setXRange(2.5, 3.0); // so is the zoom
    m_view->flush();

    const QString path = dir.filePath(QStringLiteral("loss.csv"));
    QVERIFY(m_view->exportCsv(path));
    QCOMPARE(readAll(path), QByteArray("series,x,y\n"
                                       "baseline,1,2\n"
                                       "baseline,3,0.1\n"
                                       "\"lr 0.1, \"\"wide\"\"\",1,0.5\n"
                                       "\"lr 0.1, \"\"wide\"\"\",2,0.25\n"));
    QVERIFY(!m_view->exportCsv(dir.filePath(QStringLiteral("missing/dir/loss.csv"))));
}

void TestLossChartView::exportPngWritesAnImage() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_view->appendPoints(1, lossCurve(5000, 8, 10, 20));
    const QString path = dir.filePath(QStringLiteral("chart.png"));
    QVERIFY(m_view->exportPng(path));
    const QByteArray bytes = readAll(path);
    QVERIFY(bytes.startsWith("\x89PNG"));
    const QImage image(path);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 400 && image.height() >= 200);
    QVERIFY(m_view->displayedPoints(1).size() > 0); // drawn before the grab, not a frame later
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
    while (clock.elapsed() < 600) {
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

void TestLossChartView::hoverTextNamesRunStepAndValue_data() {
    QTest::addColumn<double>("x");
    QTest::addColumn<QString>("text");
    QTest::newRow("exact") << 20.0 << QStringLiteral("run 7 — step 20: 0.5");
    QTest::newRow("nearest below") << 24.0 << QStringLiteral("run 7 — step 20: 0.5");
    QTest::newRow("nearest above") << 26.0 << QStringLiteral("run 7 — step 30: 0.25");
    QTest::newRow("before the first") << -5.0 << QStringLiteral("run 7 — step 10: 1");
    QTest::newRow("after the last") << 1e9 << QStringLiteral("run 7 — step 30: 0.25");
}

void TestLossChartView::hoverTextNamesRunStepAndValue() {
    QFETCH(double, x);
    QFETCH(QString, text);
    m_view->addSeries(7, QStringLiteral("run 7"));
    m_view->appendPoints(7, {{10, 1.0}, {20, 0.5}, {30, 0.25}});
    QCOMPARE(m_view->hoverText(7, x), text);
    QVERIFY(m_view->hoverText(8, x).isEmpty());
}

void TestLossChartView::xAxisModeDropsPointsAndAsksForThemAgain() {
    m_view->addSeries(1, QStringLiteral("one"));
    m_view->appendPoints(1, {{1, 1.0}, {2, 0.5}});
    m_view->setSeriesVisible(1, false);
    QCOMPARE(m_view->xAxisMode(), LossChartView::XAxisMode::Step);
    QCOMPARE(m_view->xAxisTitle(), QStringLiteral("step"));

    QSignalSpy changed(m_view.get(), &LossChartView::xAxisModeChanged);
    m_view->setXAxisMode(LossChartView::XAxisMode::WallTime);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().first().value<LossChartView::XAxisMode>(), LossChartView::XAxisMode::WallTime);
    QCOMPARE(m_view->xAxisTitle(), QStringLiteral("time (s)"));
    QCOMPARE(m_view->pointCount(1), qsizetype(0)); // no mixing of units
    QVERIFY(m_view->hasSeries(1));                 // the run, its label and visibility stay
    QVERIFY(!m_view->isSeriesVisible(1));
    m_view->appendPoints(1, {{0.5, 1.0}, {1.5, 0.5}});
    QCOMPARE(m_view->hoverText(1, 1.4), QStringLiteral("one — 1.5 s: 0.5"));
    m_view->setXAxisMode(LossChartView::XAxisMode::WallTime);
    QCOMPARE(changed.count(), 1); // no change, no signal
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

void TestLossChartView::logToggleIsReported() {
    QSignalSpy toggled(m_view.get(), &LossChartView::logScaleChanged);
    m_view->setLogScale(true);
    m_view->setLogScale(true);
    QCOMPARE(toggled.count(), 1);
    QCOMPARE(toggled.first().first().toBool(), true);
    m_view->setLogScale(false);
    QCOMPARE(toggled.count(), 2);
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

QTEST_MAIN(TestLossChartView)
#include "tst_loss_chart_view.moc"
