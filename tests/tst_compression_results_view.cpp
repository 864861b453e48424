// The compression results view on a hand-built result: one row per model with the source first, a
// failed variant's row with its message and no point on the charts, the Pareto fronts marked as the
// engine marked them, and the layers of the selected model: sparsity bars, and for int8 the error
// histograms and why a layer stayed float.

#include "compress/compression_results_view.h"

#include "charts/scatter_chart_view.h"
#include "compress/compression_results.h"
#include "compress/compression_results_model.h"

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QtTest>

#include <algorithm>

using namespace tunelab;

namespace {

VariantResult measured(const std::string& name, const std::string& kind, RunId run, double accuracy,
                       int64_t bytes, double latency) {
    VariantResult model;
    model.name = name;
    model.kind = kind;
    model.runId = run;
    model.valAccuracy = accuracy;
    model.parameters = 2000;
    model.nonzeroParameters = 2000;
    model.sizeBytes = bytes;
    model.latencyMs = latency;
    model.batch64Ms = latency * 10.0;
    model.file = "/tmp/compressed/" + name + ".pt";
    model.verified = true;
    return model;
}

CompressedLayer layer(int index, double sparsity) {
    CompressedLayer compressed;
    compressed.layer = index;
    compressed.kind = "linear";
    compressed.weights = 1000;
    compressed.sparsity = sparsity;
    return compressed;
}

// The source, two pruned variants (one no better than the source), a structured one, int8 with one
// layer kept float, and a student that failed.
CompressionResult handBuilt() {
    CompressionResult result;
    result.plan = "compression";
    result.threads = 1;
    result.outputDirectory = "/tmp/compressed";
    result.source = measured("source", "source", 12, 0.95, 40000, 0.1);
    result.source.layers = {layer(0, 0.0), layer(2, 0.0)};
    VariantResult prune50 = measured("prune-50", "prune", 13, 0.95, 40000, 0.1);
    prune50.nonzeroParameters = 1000;
    prune50.layers = {layer(0, 0.5), layer(2, 0.5)};
    VariantResult prune90 = measured("prune-90", "prune", 14, 0.93, 40000, 0.1);
    prune90.layers = {layer(0, 0.92), layer(2, 0.85)};
    VariantResult structured = measured("structured-50", "structured", 15, 0.94, 12000, 0.05);
    VariantResult int8 = measured("int8", "int8", 12, 0.945, 11000, 0.08);
    CompressedLayer quantized = layer(0, 0.0);
    quantized.int8 = true;
    quantized.maxAbsError = 0.018;
    quantized.errorMax = 0.02;
    quantized.errorBins = {50, 20, 5, 0, 1};
    CompressedLayer kept = layer(2, 0.0);
    kept.note = "int8 measured slower (0.011 ms, float 0.008 ms)";
    int8.layers = {quantized, kept};
    VariantResult student;
    student.name = "student";
    student.kind = "distill";
    student.status = RunStatus::Failed;
    student.message = "student: the output size 4 differs from the data's 3 classes";
    result.variants = {prune50, prune90, structured, int8, student};
    markParetoFronts(result);
    return result;
}

QString cell(const CompressionResultsView& view, int row, int column) {
    return view.resultsModel()->index(row, column).data().toString();
}

} // namespace

class TestCompressionResultsView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theModelsAreWellBehaved();
    void everyModelHasARowAndAFailedOneItsMessage();
    void theChartsMarkTheParetoFronts();
    void theLayersOfTheSelectedModel();
    void exportAsksForTheSelectedFile();
    void aRegressionShowsItsMae();
};

void TestCompressionResultsView::theModelsAreWellBehaved() {
    CompressionResultsModel results;
    QAbstractItemModelTester resultsTester(&results, QAbstractItemModelTester::FailureReportingMode::QtTest);
    results.setResult(handBuilt());
    QCOMPARE(results.rowCount(), 6);
    CompressionLayersModel layers;
    QAbstractItemModelTester layersTester(&layers, QAbstractItemModelTester::FailureReportingMode::QtTest);
    layers.setModel(handBuilt().variants[3]);
    QCOMPARE(layers.rowCount(), 2);
    results.setResult(CompressionResult{});
    QCOMPARE(results.rowCount(), 0);
}

void TestCompressionResultsView::everyModelHasARowAndAFailedOneItsMessage() {
    CompressionResultsView view;
    view.resize(1100, 700);
    view.show();
    view.setResult(handBuilt());
    QCOMPARE(view.table()->model()->rowCount(), 6);
    QCOMPARE(cell(view, 0, CompressionResultsModel::VariantColumn), QStringLiteral("source"));
    QCOMPARE(cell(view, 0, CompressionResultsModel::RunColumn), QStringLiteral("#12"));
    QCOMPARE(cell(view, 1, CompressionResultsModel::QualityColumn), QStringLiteral("95.0 %"));
    QCOMPARE(cell(view, 1, CompressionResultsModel::NonzeroColumn), QStringLiteral("1,000"));
    QCOMPARE(cell(view, 1, CompressionResultsModel::SizeColumn), QStringLiteral("39.1"));
    QCOMPARE(cell(view, 4, CompressionResultsModel::SpeedupColumn), QString()); // not worked out here
    QCOMPARE(cell(view, 4, CompressionResultsModel::ParetoColumn), QStringLiteral("size, latency"));
    QCOMPARE(cell(view, 2, CompressionResultsModel::ParetoColumn), QString()); // no better than the source
    QCOMPARE(cell(view, 3, CompressionResultsModel::ParetoColumn), QStringLiteral("latency"));
    QCOMPARE(cell(view, 4, CompressionResultsModel::VerifiedColumn), QStringLiteral("yes"));

    // The failed student: its status and message, no numbers, red, the message in every tooltip.
    QCOMPARE(cell(view, 5, CompressionResultsModel::VariantColumn), QStringLiteral("student"));
    QCOMPARE(cell(view, 5, CompressionResultsModel::NoteColumn),
             QStringLiteral("failed: student: the output size 4 differs from the data's 3 classes"));
    QCOMPARE(cell(view, 5, CompressionResultsModel::QualityColumn), QString());
    QCOMPARE(cell(view, 5, CompressionResultsModel::SizeColumn), QString());
    QVERIFY(view.resultsModel()
                ->index(5, CompressionResultsModel::SizeColumn)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("output size 4")));
    QVERIFY(view.resultsModel()->index(5, 0).data(Qt::ForegroundRole).isValid());
    QVERIFY2(view.summaryLabel()->text().contains(QStringLiteral("4 of 5 variants measured")),
             qPrintable(view.summaryLabel()->text()));
    QCOMPARE(
        view.resultsModel()->headerData(CompressionResultsModel::QualityColumn, Qt::Horizontal).toString(),
        QStringLiteral("Val accuracy"));
}

void TestCompressionResultsView::theChartsMarkTheParetoFronts() {
    CompressionResultsView view;
    view.resize(1100, 700);
    view.show();
    view.setResult(handBuilt());
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    const ScatterChartView* size = view.sizeChart();
    const ScatterChartView* latency = view.latencyChart();
    // The failed student is in neither chart; the source is, highlighted.
    QCOMPARE(size->points().size(), 5);
    QCOMPARE(latency->points().size(), 5);
    QVERIFY(!size->labelTexts().contains(QStringLiteral("student")));
    QVERIFY(size->labelTexts().contains(QStringLiteral("structured-50")));
    QCOMPARE(std::count_if(size->points().begin(), size->points().end(),
                           [](const ScatterPoint& point) { return point.highlighted; }),
             1);
    // Size: the source, prune-50 (as accurate, as large) and int8 (smaller than structured-50 and
    // more accurate); the source keeps its star, the others get the front's squares.
    QCOMPARE(size->frontLinePointCount(), 3);
    QCOMPARE(size->frontMarkerCount(), 2);
    // Latency: structured-50 is the fastest, int8 next; the source and prune-50 the most accurate.
    QCOMPARE(latency->frontLinePointCount(), 4);
    QCOMPARE(latency->frontMarkerCount(), 3);
    const auto int8 =
        std::find_if(size->points().begin(), size->points().end(),
                     [](const ScatterPoint& point) { return point.name == QLatin1String("int8"); });
    QVERIFY(int8 != size->points().end());
    QCOMPARE(int8->x, 11000.0 / 1024.0);
    QCOMPARE(int8->y, 94.5);
    const QString tip = size->toolTipNear(QPointF(int8->x, int8->y));
    QVERIFY2(tip.contains(QStringLiteral("int8")) && tip.contains(QStringLiteral("94.5 %")), qPrintable(tip));
}

void TestCompressionResultsView::theLayersOfTheSelectedModel() {
    CompressionResultsView view;
    view.resize(1100, 700);
    view.show();
    view.setResult(handBuilt());
    QCOMPARE(view.selectedModel(), QStringLiteral("prune-50")); // the first variant measured
    const CompressionLayersModel* layers = view.layersModel();
    QCOMPARE(layers->rowCount(), 2);
    QCOMPARE(layers->index(0, CompressionLayersModel::SparsityColumn)
                 .data(CompressionLayersModel::ShareRole)
                 .toDouble(),
             0.5);
    QCOMPARE(layers->index(0, CompressionLayersModel::SparsityColumn).data().toString(),
             QStringLiteral("50.0 %"));
    QVERIFY(!view.layersTable()->isColumnHidden(CompressionLayersModel::SparsityColumn));
    QVERIFY(view.layersTable()->isColumnHidden(CompressionLayersModel::HistogramColumn));
    QCOMPARE(view.histogramRowCount(), 0);
    QCOMPARE(view.tabs()->tabText(1), QStringLiteral("Layers: prune-50"));

    QVERIFY(view.selectModel(QStringLiteral("int8")));
    QCOMPARE(view.tabs()->tabText(1), QStringLiteral("Layers: int8"));
    QVERIFY(view.layersTable()->isColumnHidden(CompressionLayersModel::SparsityColumn));
    QVERIFY(!view.layersTable()->isColumnHidden(CompressionLayersModel::HistogramColumn));
    QCOMPARE(view.histogramRowCount(), 1); // the layer kept float has no int8 outputs to compare
    const QVariantList bins = layers->index(0, CompressionLayersModel::HistogramColumn)
                                  .data(CompressionLayersModel::HistogramRole)
                                  .toList();
    QCOMPARE(bins.size(), 5);
    QCOMPARE(bins[0].toLongLong(), 50LL);
    QCOMPARE(layers->index(0, CompressionLayersModel::RunsAsColumn).data().toString(),
             QStringLiteral("int8"));
    QCOMPARE(layers->index(0, CompressionLayersModel::ErrorColumn).data().toString(),
             QStringLiteral("0.018"));
    QCOMPARE(layers->index(1, CompressionLayersModel::RunsAsColumn).data().toString(),
             QStringLiteral("float"));
    QVERIFY(layers->index(1, CompressionLayersModel::NoteColumn)
                .data()
                .toString()
                .contains(QStringLiteral("slower")));
    QVERIFY(layers->index(1, CompressionLayersModel::RunsAsColumn)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("slower")));
    QVERIFY(view.layersTable()->grab().width() > 0); // the bars and histograms paint

    QVERIFY(view.selectModel(QStringLiteral("student")));
    QCOMPARE(layers->rowCount(), 0);
    QVERIFY(!view.exportButton()->isEnabled()); // no file
    QVERIFY(!view.selectModel(QStringLiteral("nothing")));
}

void TestCompressionResultsView::exportAsksForTheSelectedFile() {
    CompressionResultsView view;
    view.setResult(handBuilt());
    QSignalSpy requested(&view, &CompressionResultsView::exportRequested);
    QVERIFY(view.selectModel(QStringLiteral("structured-50")));
    QVERIFY(view.exportButton()->isEnabled());
    QVERIFY2(view.exportButton()->toolTip().contains(QStringLiteral("structured-50.pt")),
             qPrintable(view.exportButton()->toolTip()));
    view.exportButton()->click();
    QCOMPARE(requested.size(), 1);
    QCOMPARE(requested.at(0).at(0).toString(), QStringLiteral("structured-50"));
}

void TestCompressionResultsView::aRegressionShowsItsMae() {
    CompressionResult result = handBuilt();
    for (VariantResult* model : {&result.source, &result.variants[0]}) {
        model->valMae = 0.25;
        model->valAccuracy = kNoValue;
    }
    result.variants.resize(1);
    markParetoFronts(result);
    CompressionResultsView view;
    view.setResult(result);
    QCOMPARE(
        view.resultsModel()->headerData(CompressionResultsModel::QualityColumn, Qt::Horizontal).toString(),
        QStringLiteral("Val MAE"));
    QCOMPARE(cell(view, 1, CompressionResultsModel::QualityColumn), QStringLiteral("0.25"));
    QCOMPARE(view.sizeChart()->points().size(), 2);
    QCOMPARE(view.sizeChart()->points().front().y, 0.25);
}

QTEST_MAIN(TestCompressionResultsView)
#include "tst_compression_results_view.moc"
