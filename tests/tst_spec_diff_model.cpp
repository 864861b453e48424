#include "runs/spec_diff_model.h"

#include "spec/spec.h"

#include <QAbstractItemModelTester>
#include <QtTest>

using namespace tunelab;

namespace {

SpecDiffModel::RunSpec runOf(qint64 id, const ExperimentSpec& spec) {
    return {id, QStringLiteral("#%1").arg(id), QString::fromStdString(experimentSpecToJson(spec))};
}

} // namespace

class TestSpecDiffModel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void showsOnlyWhatDiffers() {
        SpecDiffModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        ExperimentSpec a = defaultExperiment();
        ExperimentSpec b = a;
        b.optimizer.lr = 0.1;
        b.model.layers[0].outFeatures = 128;
        model.setRuns({runOf(1, a), runOf(2, b)});
        QCOMPARE(model.differenceCount(), 2);
        QCOMPARE(model.pathAt(0), QStringLiteral("model.layers[0].out_features"));
        QCOMPARE(model.pathAt(1), QStringLiteral("optimizer.lr"));
        QCOMPARE(model.columnCount(), 3);
        QCOMPARE(model.index(1, 1).data().toString(), QStringLiteral("0.01"));
        QCOMPARE(model.index(1, 2).data().toString(), QStringLiteral("0.1"));
        QCOMPARE(model.headerData(2, Qt::Horizontal).toString(), QStringLiteral("#2"));
    }

    void optimizerSwitchShowsTheirOwnFields() {
        SpecDiffModel model;
        ExperimentSpec a = defaultExperiment();
        ExperimentSpec b = a;
        b.optimizer.type = OptimizerType::Sgd;
        b.optimizer.momentum = 0.9;
        b.model.layers.push_back(b.model.layers.back()); // an extra layer exists in one run only
        model.setRuns({runOf(1, a), runOf(2, b)});
        QStringList paths;
        for (int row = 0; row < model.differenceCount(); ++row)
            paths << model.pathAt(row);
        QVERIFY(paths.contains("optimizer.type"));
        QVERIFY(paths.contains("optimizer.momentum"));
        QVERIFY(paths.contains("optimizer.betas")); // adam's, missing for sgd
        QVERIFY(paths.contains("model.layers[5].type"));
        const int row = static_cast<int>(paths.indexOf("optimizer.momentum"));
        QCOMPARE(model.index(row, 1).data().toString(), QStringLiteral("—"));
    }

    // Results come first, then the settings; a layer's field names its position and, per run, its
    // type, so a layer that changed type or exists in one run only reads as such.
    void resultsAndLayersReadAsAUserSaysThem() {
        SpecDiffModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        ExperimentSpec a = defaultExperiment();
        ExperimentSpec b = a;
        b.model.layers[0].outFeatures = 128;
        b.model.layers[1].type = LayerType::ReLU;
        SpecDiffModel::RunSpec first = runOf(1, a);
        first.metrics = {{"best val loss", "0.2500"}, {"val accuracy", "91.0%"}};
        SpecDiffModel::RunSpec second = runOf(2, b);
        second.metrics = {{"best val loss", "0.1800"}, {"val MAE", "0.3"}};
        model.setRuns({first, second});
        QCOMPARE(model.metricCount(), 3);
        QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("best val loss"));
        QCOMPARE(model.index(0, 2).data().toString(), QStringLiteral("0.1800"));
        QVERIFY(model.index(0, 0).data(SpecDiffModel::IsMetricRole).toBool());
        QCOMPARE(model.index(1, 2).data().toString(), QStringLiteral("—")); // run 2 has no accuracy
        QCOMPARE(model.pathAt(0), QStringLiteral("model.layers[0].out_features"));
        const int widthRow = model.metricCount();
        QCOMPARE(model.index(widthRow, 0).data().toString(), QStringLiteral("layer 1 · out_features"));
        QCOMPARE(model.index(widthRow, 0).data(Qt::ToolTipRole).toString(), model.pathAt(0));
        QCOMPARE(model.index(widthRow, 1).data().toString(),
                 QStringLiteral("%1 (linear)").arg(a.model.layers[0].outFeatures));
        QCOMPARE(model.index(widthRow, 2).data().toString(), QStringLiteral("128 (linear)"));
        QCOMPARE(model.index(widthRow + 1, 0).data().toString(), QStringLiteral("layer 2 · type"));
        QCOMPARE(model.index(widthRow + 1, 2).data().toString(), QStringLiteral("relu"));
        QVERIFY(!model.index(widthRow, 0).data(SpecDiffModel::IsMetricRole).toBool());
    }

    void oneRunOrEqualRunsShowNothing() {
        SpecDiffModel model;
        model.setRuns({runOf(1, defaultExperiment())});
        QCOMPARE(model.rowCount(), 0);
        model.setRuns({runOf(1, defaultExperiment()), runOf(2, defaultExperiment())});
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestSpecDiffModel)
#include "tst_spec_diff_model.moc"
