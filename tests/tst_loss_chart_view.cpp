#include "widgets/loss_chart_view.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>

using tunelab::LossChartView;

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

QTEST_MAIN(TestLossChartView)
#include "tst_loss_chart_view.moc"
