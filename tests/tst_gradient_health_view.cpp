#include "charts/loss_chart_view.h"
#include "health/gradient_health.h"
#include "health/gradient_health_view.h"
#include "runs/runs_table_model.h"
#include "store/run_store.h"
#include "window/main_window.h"
#include "window/metric_charts.h"
#include "window/run_session.h"

#include <QAbstractItemModelTester>
#include <QIcon>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>

#include <QImage>
#include <QtTest>

#include <cmath>

using namespace tunelab;

namespace {

// Layer 0 vanishes, layer 2 stays healthy; one histogram per layer for epochs 1..3.
std::vector<LayerHealthSample> samples() {
    std::vector<LayerHealthSample> all;
    for (int i = 0; i < 40; ++i) {
        const int64_t step = 1 + i * 64;
        all.push_back(LayerHealthSample{step, 0, 1e-9f, 1e-9f});
        all.push_back(LayerHealthSample{step, 2, 0.5f + 0.01f * i, 1e-3f});
    }
    return all;
}

std::vector<WeightHistogram> histograms() {
    std::vector<WeightHistogram> all;
    for (int epoch = 1; epoch <= 3; ++epoch) {
        for (int layer : {0, 2}) {
            WeightHistogram histogram;
            histogram.epoch = epoch;
            histogram.layer = layer;
            histogram.low = -0.5f * epoch;
            histogram.high = 0.5f * epoch;
            histogram.counts = {1, 4, 9, 16, 9, 4, 1};
            all.push_back(histogram);
        }
    }
    return all;
}

// Whether the image has at least `count` pixels of the colour.
bool hasPixels(const QImage& image, const QColor& color, int count) {
    int found = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x)
            found += image.pixelColor(x, y) == color ? 1 : 0;
    }
    return found >= count;
}

} // namespace

class TestGradientHealthView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void chartsStackWhenNarrow() {
        GradientHealthView view;
        view.resize(1400, 700);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QCOMPARE(view.chartsOrientation(), Qt::Horizontal);
        // A narrow view stacks the charts instead of demanding both charts' width of the window.
        view.resize(600, 700);
        QTRY_COMPARE(view.chartsOrientation(), Qt::Vertical);
        QVERIFY(view.minimumSizeHint().width() <= 600);
        view.resize(1400, 700);
        QTRY_COMPARE(view.chartsOrientation(), Qt::Horizontal);
    }

    void showsFlagsSeriesAndHistograms() {
        GradientHealthView view;
        view.resize(900, 700);
        const auto flags = detectHealthFlags(samples());
        QCOMPARE(flags.size(), size_t(1));
        view.setRun(QStringLiteral("deep sigmoid"), samples(), histograms(), flags);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));

        QCOMPARE(view.runName(), QStringLiteral("deep sigmoid"));
        QCOMPARE(view.flagCount(), 1);
        QVERIFY(view.flagText(0).contains(QStringLiteral("layer 0")));
        QVERIFY(view.flagText(0).contains(QStringLiteral("activation")));
        QCOMPARE(view.gradNormChart()->seriesCount(), 2);
        QCOMPARE(view.updateRatioChart()->seriesCount(), 2);
        QCOMPARE(view.gradNormChart()->pointCount(0), qsizetype(40));
        QVERIFY(view.gradNormChart()->isLogScale());
        QVERIFY(view.gradNormChart()->seriesLabel(0).contains(QStringLiteral("vanishing")));
        QVERIFY(!view.gradNormChart()->seriesLabel(2).contains(QStringLiteral("vanishing")));
        view.gradNormChart()->flush();
        QVERIFY(!view.gradNormChart()->displayedPoints(2).isEmpty());

        QCOMPARE(view.histogramEpochs(), (std::vector<int>{1, 2, 3}));
        QCOMPARE(view.shownEpoch(), 3);
        QCOMPARE(view.shownHistograms().size(), size_t(2));
        view.showEpoch(1);
        QCOMPARE(view.shownEpoch(), 1);
        QCOMPARE(view.shownHistograms().front().high, 0.5f);

        const QImage image = view.grab().toImage();
        QVERIFY(!image.isNull() && image.width() > 0);
        // The histogram bars are painted in their layers' colours.
        QVERIFY(hasPixels(image, LossChartView::colorForKey(2), 50));
    }

    void liveAdditionsAndClear() {
        GradientHealthView view;
        view.setRun(QStringLiteral("live"), {}, {}, {});
        QCOMPARE(view.flagCount(), 0);
        QVERIFY(view.flagText(0).isEmpty());
        view.appendSamples(samples());
        QCOMPARE(view.gradNormChart()->pointCount(2), qsizetype(40));
        auto first = histograms();
        first.resize(2); // epoch 1
        view.appendHistograms(first);
        QCOMPARE(view.shownEpoch(), 1);
        auto rest = histograms();
        rest.erase(rest.begin(), rest.begin() + 2);
        view.appendHistograms(rest);
        QCOMPARE(view.shownEpoch(), 3); // follows the latest epoch
        view.setFlags(detectHealthFlags(samples()));
        QCOMPARE(view.flagCount(), 1);
        view.clear();
        QCOMPARE(view.flagCount(), 0);
        QCOMPARE(view.gradNormChart()->seriesCount(), 0);
        QVERIFY(view.histogramEpochs().empty());
        QVERIFY(view.shownHistograms().empty());
    }

    void metricChartsHostsTheHealthTab() {
        MetricCharts charts;
        int tab = -1;
        for (int i = 0; i < charts.count(); ++i) {
            if (charts.tabText(i) == QStringLiteral("Gradient health"))
                tab = i;
        }
        QVERIFY(tab >= 0);
        QCOMPARE(charts.widget(tab), charts.healthView());
        charts.showRunHealth(7, QStringLiteral("run 7"), samples(), histograms(),
                             detectHealthFlags(samples()));
        QCOMPARE(charts.healthRunId(), RunId(7));
        QCOMPARE(charts.healthView()->flagCount(), 1);
        // Additions for another run are ignored.
        charts.appendRunHealth(8, {LayerHealthSample{9999, 4, 1.0f, 1.0f}}, {}, {});
        QVERIFY(!charts.healthView()->gradNormChart()->hasSeries(4));
        charts.appendRunHealth(7, {LayerHealthSample{9999, 4, 1.0f, 1.0f}}, {}, {});
        QVERIFY(charts.healthView()->gradNormChart()->hasSeries(4));
        charts.removeRun(7);
        QCOMPARE(charts.healthRunId(), RunId(0));
        QCOMPARE(charts.healthView()->gradNormChart()->seriesCount(), 0);
    }

    void runsTableShowsHealthFlags() {
        RunsTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.runQueued(1, "deep", "{}");
        model.runQueued(2, "fine", "{}");
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        const QString summary = QString::fromStdString(healthSummary(detectHealthFlags(samples())));
        QVERIFY(summary.startsWith(QStringLiteral("Vanishing gradients: layer 0")));
        model.setHealthFlags(1, summary);
        QCOMPARE(changed.count(), 1);
        model.setHealthFlags(1, summary);  // unchanged: no signal
        model.setHealthFlags(99, summary); // unknown run: ignored
        QCOMPARE(changed.count(), 1);
        const QModelIndex flagged = model.index(model.rowForRun(1), RunsTableModel::StatusColumn);
        const QModelIndex healthy = model.index(model.rowForRun(2), RunsTableModel::StatusColumn);
        QVERIFY(!model.data(flagged, Qt::DecorationRole).value<QIcon>().isNull());
        QVERIFY(!model.data(healthy, Qt::DecorationRole).isValid());
        QCOMPARE(model.data(flagged, Qt::ToolTipRole).toString(), summary);
        QCOMPARE(model.data(flagged, RunsTableModel::HealthRole).toString(), summary);
        QVERIFY(model.data(healthy, RunsTableModel::HealthRole).toString().isEmpty());
        // A replaced record keeps the flags; the failure message comes first in the tooltip.
        RunRecord record;
        record.id = 1;
        record.name = "deep";
        record.status = RunStatus::Diverged;
        record.error = "the loss became NaN";
        model.upsertRun(record);
        QCOMPARE(model.data(flagged, Qt::ToolTipRole).toString(),
                 QStringLiteral("the loss became NaN\n") + summary);
        model.setHealthFlags(1, QString());
        QVERIFY(!model.data(flagged, Qt::DecorationRole).isValid());
        QCOMPARE(model.data(flagged, Qt::ToolTipRole).toString(), QStringLiteral("the loss became NaN"));
    }

    // At 1280x800 the health tab scrolls rather than squeezing its charts into strips, and the
    // window stays the size of the screen.
    void healthTabKeepsReadableChartsAt1280x800() {
        MainWindow window;
        window.setInteractive(false);
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        GradientHealthView* health = window.metricCharts()->healthView();
        for (QTabWidget* tabs : window.findChildren<QTabWidget*>()) {
            const int index = tabs->indexOf(health);
            if (index >= 0)
                tabs->setCurrentIndex(index);
        }
        QTest::qWait(50);
        QCOMPARE(window.size(), QSize(1280, 800));
        QVERIFY2(window.minimumSizeHint().height() <= 800,
                 qPrintable(QString::number(window.minimumSizeHint().height())));
        for (LossChartView* chart : {health->gradNormChart(), health->updateRatioChart()})
            QVERIFY2(chart->height() >= GradientHealthView::kMinimumChartHeight,
                     qPrintable(QString::number(chart->height())));
    }

    // After a restart the ⚠ shows for every stored run that earned it, without selecting it.
    void runsTableShowsStoredFlagsAfterARestart() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
        RunId flagged = 0;
        RunId healthy = 0;
        {
            auto store = RunStore::open(path).take();
            flagged = store->createRun("deep", "{}").value();
            healthy = store->createRun("fine", "{}").value();
            RunEvent steps;
            steps.kind = RunEventKind::Steps;
            steps.runId = flagged;
            steps.steps = {StepRecord{1, 1, 1.0f, 0.1f, 1.0f}};
            steps.layerHealth = samples();
            store->onRunEvent(steps);
            store->flush();
        }
        MainWindow window;
        window.setInteractive(false);
        window.setRunStore(RunStore::open(path).take());
        RunsTableModel* model = window.runsModel();
        QTRY_VERIFY(!model->runAt(model->rowForRun(flagged)).healthSummary.isEmpty());
        QVERIFY(
            model->runAt(model->rowForRun(flagged)).healthSummary.startsWith(QStringLiteral("Vanishing")));
        QTRY_VERIFY(!window.runSession()->storedHealthFlagsPending());
        QVERIFY(model->runAt(model->rowForRun(healthy)).healthSummary.isEmpty());
    }
};

QTEST_MAIN(TestGradientHealthView)
#include "tst_gradient_health_view.moc"
