#include "window/metric_charts.h"

#include <QtTest>

#include <algorithm>

using namespace tunelab;

namespace {

std::vector<StepRecord> steps(int count, int stepsPerEpoch) {
    std::vector<StepRecord> records;
    for (int i = 1; i <= count; ++i)
        records.push_back(StepRecord{i, (i - 1) / stepsPerEpoch + 1, 1.0f / i, 0.01f, 2.0f});
    return records;
}

std::vector<EpochRecord> epochs(int count, int stepsPerEpoch) {
    std::vector<EpochRecord> records;
    for (int i = 1; i <= count; ++i) {
        EpochRecord epoch;
        epoch.epoch = i;
        epoch.step = i * stepsPerEpoch;
        epoch.trainLoss = 1.0 / i;
        epoch.valLoss = 1.5 / i;
        epoch.valAccuracy = 0.5 + 0.1 * i;
        epoch.seconds = 0.5;
        records.push_back(epoch);
    }
    return records;
}

double maxX(const QList<QPointF>& points) {
    double x = 0.0;
    for (const QPointF& point : points)
        x = std::max(x, point.x());
    return x;
}

} // namespace

class TestMetricCharts : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyMetricGetsItsPoints() {
        MetricCharts charts;
        charts.resize(900, 600);
        charts.addRun(1, QStringLiteral("run"));
        charts.appendSteps(1, steps(40, 10));
        charts.appendEpochs(1, epochs(4, 10));
        charts.flush();
        const auto& all = charts.charts();
        QCOMPARE(all.at(0)->pointCount(1), qsizetype(40)); // train loss per step
        QCOMPARE(all.at(1)->pointCount(1), qsizetype(4));  // train loss per epoch
        QCOMPARE(all.at(1)->pointCount(1, LossChartView::Trace::Validation), qsizetype(4));
        QCOMPARE(all.at(2)->pointCount(1), qsizetype(4));  // accuracy
        QCOMPARE(all.at(3)->pointCount(1), qsizetype(40)); // learning rate
        QCOMPARE(all.at(4)->pointCount(1), qsizetype(40)); // gradient norm
    }

    void changingTheXUnitRefeedsThatChart() {
        MetricCharts charts;
        charts.resize(900, 600);
        charts.show();
        charts.addRun(1, QStringLiteral("run"));
        charts.appendSteps(1, steps(40, 10));
        charts.appendEpochs(1, epochs(4, 10));
        LossChartView* stepLoss = charts.stepLossChart();
        stepLoss->flush();
        QCOMPARE(maxX(stepLoss->displayedPoints(1)), 40.0);
        stepLoss->setXAxisMode(LossChartView::XAxisMode::Epoch);
        stepLoss->flush();
        QCOMPARE(stepLoss->pointCount(1), qsizetype(40));
        QCOMPARE(maxX(stepLoss->displayedPoints(1)), 4.0); // 40 steps of 10 per epoch
        stepLoss->setXAxisMode(LossChartView::XAxisMode::WallTime);
        stepLoss->flush();
        QCOMPARE(maxX(stepLoss->displayedPoints(1)), 2.0); // 4 epochs of 0.5 s
        // New points follow the chart's unit.
        charts.appendSteps(1, {StepRecord{50, 5, 0.1f, 0.01f, 1.0f}});
        stepLoss->flush();
        QCOMPARE(maxX(stepLoss->displayedPoints(1)), 2.5);
    }
};

QTEST_MAIN(TestMetricCharts)
#include "tst_metric_charts.moc"
