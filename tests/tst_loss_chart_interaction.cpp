// The loss chart under the user's hands: zoom by wheel, rubber band and Ctrl+0, panning, the hover
// text, CSV and PNG export, the x-axis mode and the log toggle.

#include "loss_chart_test_support.h"

#include <QChart>
#include <QGraphicsLayout>
#include <QGraphicsView>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QWheelEvent>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using tunelab::LossChartView;
using Trace = LossChartView::Trace;
using namespace tunelab::test;

class TestLossChartInteraction : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void zoomDecimatesFromTheFullData();
    void wheelZoomsAroundTheCursor();
    void ctrlZeroResetsTheZoom();
    void rubberBandZoomsAndRightDragPans();
    void exportCsvWritesTheRawPointsOfShownCurves();
    void exportPngWritesAnImage();
    void hoverTextNamesRunStepAndValue_data();
    void hoverTextNamesRunStepAndValue();
    void xAxisModeDropsPointsAndAsksForThemAgain();
    void logToggleIsReported();
    void curvesAreDrawnWhereTheAxesPutThemAndHoverFindsThem();

private:
    std::unique_ptr<LossChartView> m_view;
};

void TestLossChartInteraction::init() {
    m_view = shownChartView();
    QVERIFY(QTest::qWaitForWindowExposed(m_view.get()));
}

void TestLossChartInteraction::cleanup() {
    m_view.reset();
}

void TestLossChartInteraction::zoomDecimatesFromTheFullData() {
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

void TestLossChartInteraction::wheelZoomsAroundTheCursor() {
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

void TestLossChartInteraction::ctrlZeroResetsTheZoom() {
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

void TestLossChartInteraction::rubberBandZoomsAndRightDragPans() {
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

void TestLossChartInteraction::exportCsvWritesTheRawPointsOfShownCurves() {
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

void TestLossChartInteraction::exportPngWritesAnImage() {
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

void TestLossChartInteraction::hoverTextNamesRunStepAndValue_data() {
    QTest::addColumn<double>("x");
    QTest::addColumn<QString>("text");
    QTest::newRow("exact") << 20.0 << QStringLiteral("run 7 — step 20: 0.5");
    QTest::newRow("nearest below") << 24.0 << QStringLiteral("run 7 — step 20: 0.5");
    QTest::newRow("nearest above") << 26.0 << QStringLiteral("run 7 — step 30: 0.25");
    QTest::newRow("before the first") << -5.0 << QStringLiteral("run 7 — step 10: 1");
    QTest::newRow("after the last") << 1e9 << QStringLiteral("run 7 — step 30: 0.25");
}

void TestLossChartInteraction::hoverTextNamesRunStepAndValue() {
    QFETCH(double, x);
    QFETCH(QString, text);
    m_view->addSeries(7, QStringLiteral("run 7"));
    m_view->appendPoints(7, {{10, 1.0}, {20, 0.5}, {30, 0.25}});
    QCOMPARE(m_view->hoverText(7, x), text);
    QVERIFY(m_view->hoverText(8, x).isEmpty());
}

void TestLossChartInteraction::xAxisModeDropsPointsAndAsksForThemAgain() {
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

// The curve layer draws each curve through the axes' ranges: a point shows at the pixel the chart
// maps it to, with the curve's colour; moving the pointer there shows its tooltip.
void TestLossChartInteraction::curvesAreDrawnWhereTheAxesPutThemAndHoverFindsThem() {
    m_view->addSeries(7, QStringLiteral("run 7"));
    m_view->appendPoints(7, {{10, 1.0}, {20, 0.5}, {30, 0.25}, {40, 0.2}});
    m_view->flush();
    auto* canvas = m_view->findChild<QGraphicsView*>();
    QVERIFY(canvas);
    // Laid out for the new axis labels and painted, as the user sees it.
    QChart* chart = m_view->chart();
    QTest::qWait(100);
    if (chart->layout())
        chart->layout()->activate();
    const QImage image = canvas->grab().toImage();
    // Where the axes' ticks put (20, 0.5): linear over the plot area, as Qt Charts places them.
    const QRectF plot = chart->plotArea();
    const auto* axisX = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).front());
    const auto* axisY = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).front());
    QVERIFY(axisX && axisY);
    const QPointF inChart(plot.left() + (20 - axisX->min()) / (axisX->max() - axisX->min()) * plot.width(),
                          plot.bottom() -
                              (0.5 - axisY->min()) / (axisY->max() - axisY->min()) * plot.height());
    const QPoint inView = canvas->mapFromScene(chart->mapToScene(inChart));
    const QColor drawn = image.pixelColor(inView * image.devicePixelRatio());
    const QColor curve = m_view->seriesColor(7);
    QVERIFY2(std::abs(drawn.hue() - curve.hue()) < 20 && drawn.saturation() > 60,
             qPrintable(QStringLiteral("%1 at the point, the curve is %2").arg(drawn.name(), curve.name())));
    // Well away from the curve: the plot's background.
    const QColor empty = image.pixelColor((inView + QPoint(0, -60)) * image.devicePixelRatio());
    QVERIFY2(empty.saturation() < 30, qPrintable(empty.name()));

    QTest::mouseMove(canvas->viewport(), inView + QPoint(2, 1)); // within a few pixels of the point
    QCOMPARE(m_view->shownHoverText(), QStringLiteral("run 7 — step 20: 0.5"));
    QTest::mouseMove(canvas->viewport(), inView + QPoint(0, -60));
    QVERIFY(m_view->shownHoverText().isEmpty());
}

void TestLossChartInteraction::logToggleIsReported() {
    QSignalSpy toggled(m_view.get(), &LossChartView::logScaleChanged);
    m_view->setLogScale(true);
    m_view->setLogScale(true);
    QCOMPARE(toggled.count(), 1);
    QCOMPARE(toggled.first().first().toBool(), true);
    m_view->setLogScale(false);
    QCOMPARE(toggled.count(), 2);
}

QTEST_MAIN(TestLossChartInteraction)
#include "tst_loss_chart_interaction.moc"
