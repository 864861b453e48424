// The runs table model: what each cell shows and sorts by, how live engine events change a row,
// that a drained batch of events repaints each row once, and that thousands of runs stay fast.

#include "runs/runs_table_model.h"
#include "spec/spec.h"

#include <QAbstractItemModelTester>
#include <QBrush>
#include <QElapsedTimer>
#include <QSet>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using namespace tunelab;

namespace {

// Spirals, 1000 samples with 20% held out: 800 training samples, so 25 steps per epoch at batch 32.
std::string specJson(OptimizerType optimizer, double lr, int64_t batch, int epochs, bool fullBatch = false) {
    ExperimentSpec spec = defaultExperiment();
    spec.data.kind = DataKind::Spirals;
    spec.data.samples = 1000;
    spec.data.validationFraction = 0.2;
    spec.optimizer.type = optimizer;
    spec.optimizer.lr = lr;
    spec.training.batchSize = batch;
    spec.training.fullBatch = fullBatch;
    spec.training.epochs = epochs;
    return experimentSpecToJson(spec);
}

RunRecord record(RunId id, const std::string& name, RunStatus status, const std::string& spec) {
    RunRecord run;
    run.id = id;
    run.name = name;
    run.status = status;
    run.specJson = spec;
    run.summary.status = status;
    return run;
}

RunEvent started(RunId id, const std::string& device) {
    RunEvent event;
    event.kind = RunEventKind::Started;
    event.runId = id;
    event.device = device;
    return event;
}

RunEvent steps(RunId id, int64_t first, int64_t last, int32_t epoch) {
    RunEvent event;
    event.kind = RunEventKind::Steps;
    event.runId = id;
    for (int64_t step = first; step <= last; ++step)
        event.steps.push_back(StepRecord{step, epoch, 0.5f, 0.01f, 1.0f});
    return event;
}

RunEvent epochEnded(RunId id, int32_t epoch, int64_t step, double valLoss, double accuracy, double seconds) {
    RunEvent event;
    event.kind = RunEventKind::Epoch;
    event.runId = id;
    event.epoch.epoch = epoch;
    event.epoch.step = step;
    event.epoch.trainLoss = valLoss;
    event.epoch.valLoss = valLoss;
    event.epoch.valAccuracy = accuracy;
    event.epoch.seconds = seconds;
    return event;
}

QString cell(const QAbstractItemModel& model, int row, int column, int role = Qt::DisplayRole) {
    return model.index(row, column).data(role).toString();
}

QStringList namesInOrder(const QAbstractItemModel& model) {
    QStringList names;
    for (int row = 0; row < model.rowCount(); ++row)
        names << model.index(row, RunsTableModel::NameColumn).data().toString();
    return names;
}

} // namespace

class TestRunsTableModel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void modelTesterThroughEveryMutation() {
        RunsTableModel model;
        RunsSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(RunsTableModel::FinalValLossColumn, Qt::DescendingOrder);
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);

        const std::string spec = specJson(OptimizerType::Adam, 1e-3, 32, 4);
        std::vector<RunRecord> runs;
        for (RunId id = 1; id <= 5; ++id)
            runs.push_back(record(id, "run " + std::to_string(id), RunStatus::Completed, spec));
        model.setRuns(runs);
        QCOMPARE(model.rowCount(), 5);
        model.upsertRun(record(6, "six", RunStatus::Queued, spec));
        model.upsertRun(record(3, "three again", RunStatus::Completed, spec));
        QCOMPARE(model.rowCount(), 6);
        QCOMPARE(cell(model, model.rowForRun(3), RunsTableModel::NameColumn), QStringLiteral("three again"));
        model.runQueued(7, "seven", spec);
        model.applyEvents({started(7, "cpu"), steps(7, 1, 25, 1), epochEnded(7, 1, 25, 0.7, 0.5, 1.0),
                           started(42, "cuda:0")}); // 42 was never announced: it gets a row
        QCOMPARE(model.rowCount(), 8);
        QVERIFY(model.removeRun(2));
        QVERIFY(!model.removeRun(2));
        QCOMPARE(model.rowCount(), 7);
        QCOMPARE(model.rowForRun(2), -1);
        for (int row = 0; row < model.rowCount(); ++row)
            QCOMPARE(model.rowForRun(model.runAt(row).id), row);
        model.setBestValLoss(7, 0.5);
        model.setRuns({});
        QCOMPARE(proxy.rowCount(), 0);
    }

    void formatting_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("expected");
        const double nan = kNoValue;
        const double inf = std::numeric_limits<double>::infinity();
        QTest::newRow("lr 1e-3") << "lr" << 1e-3 << "0.001";
        QTest::newRow("lr 3e-5") << "lr" << 3e-5 << "3e-05";
        QTest::newRow("lr 0.12345") << "lr" << 0.12345 << "0.123";
        QTest::newRow("lr unknown") << "lr" << nan << "";
        QTest::newRow("loss") << "loss" << 0.123456 << "0.1235";
        QTest::newRow("loss large") << "loss" << 12.5 << "12.5000";
        QTest::newRow("loss diverged") << "loss" << inf << "inf";
        QTest::newRow("loss unknown") << "loss" << nan << "";
        QTest::newRow("accuracy") << "accuracy" << 0.9345 << "93.5%";
        QTest::newRow("accuracy full") << "accuracy" << 1.0 << "100.0%";
        QTest::newRow("accuracy unknown") << "accuracy" << nan << "";
        QTest::newRow("duration under a second") << "duration" << 0.0244 << "24 ms";
        QTest::newRow("duration nearly a second") << "duration" << 0.9996 << "1.0 s";
        QTest::newRow("duration short") << "duration" << 12.34 << "12.3 s";
        QTest::newRow("duration minute") << "duration" << 65.0 << "1 min 05 s";
        QTest::newRow("duration hours") << "duration" << 3723.4 << "1 h 02 min";
        QTest::newRow("duration unknown") << "duration" << nan << "";
    }
    void formatting() {
        QFETCH(QString, kind);
        QFETCH(double, value);
        QFETCH(QString, expected);
        QString text;
        if (kind == "lr")
            text = RunsTableModel::formatLearningRate(value);
        else if (kind == "loss")
            text = RunsTableModel::formatLoss(value);
        else if (kind == "accuracy")
            text = RunsTableModel::formatAccuracy(value);
        else
            text = RunsTableModel::formatDuration(value);
        QCOMPARE(text, expected);
    }

    void cellsOfAStoredRun() {
        RunRecord run = record(9, "stored", RunStatus::Completed, specJson(OptimizerType::Sgd, 0.05, 64, 10));
        run.device = "cuda:0";
        run.summary.epochs = 10;
        run.summary.steps = 130;
        run.summary.valLoss = 0.25;
        run.summary.valAccuracy = 0.9;
        run.summary.bestEpoch = 10;
        run.summary.trainSeconds = 75.0;
        run.hasModel = true;
        run.tags = {"baseline", "sgd"};
        run.note = "first line\nsecond";
        RunsTableModel model;
        model.setRuns({run});
        const QStringList expected = {"stored",     "completed", "spirals",       "sgd",       "0.05",
                                      "64",         "10/10",     "0.2500",        "0.2500",    "90.0%",
                                      "1 min 15 s", "cuda:0",    "baseline, sgd", "first line"};
        for (int column = 0; column < RunsTableModel::ColumnCount; ++column)
            QCOMPARE(cell(model, 0, column), expected[column]);
        QCOMPARE(model.index(0, 0).data(RunsTableModel::HasModelRole).toBool(), true);
        QCOMPARE(model.index(0, 0).data(RunsTableModel::RunIdRole).toLongLong(), qint64(9));
        QVERIFY(!model.index(0, RunsTableModel::StatusColumn).data(RunsTableModel::ProgressRole).isValid());
        QVERIFY(!model.index(0, 0).data(Qt::ForegroundRole).isValid());

        // The best epoch was not the last: the store cannot tell its loss until the app says.
        run.summary.bestEpoch = 7;
        model.upsertRun(run);
        QCOMPARE(cell(model, 0, RunsTableModel::BestValLossColumn), QString());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        std::vector<EpochRecord> epochs(3);
        epochs[0].valLoss = 0.4;
        epochs[1].valLoss = 0.2;
        epochs[2].valLoss = 0.25;
        model.setBestValLoss(9, RunsTableModel::bestValLoss(epochs));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(cell(model, 0, RunsTableModel::BestValLossColumn), QStringLiteral("0.2000"));
        // Reloading the record keeps the best loss the app computed.
        model.upsertRun(run);
        QCOMPARE(cell(model, 0, RunsTableModel::BestValLossColumn), QStringLiteral("0.2000"));

        // A full-batch regression run shows "full" and its MAE where accuracy would be.
        RunRecord regression =
            record(10, "regression", RunStatus::Completed, specJson(OptimizerType::AdamW, 1e-2, 1, 3, true));
        regression.summary.valMae = 0.123;
        model.upsertRun(regression);
        const int row = model.rowForRun(10);
        QCOMPARE(cell(model, row, RunsTableModel::BatchSizeColumn), QStringLiteral("full"));
        QCOMPARE(cell(model, row, RunsTableModel::AccuracyColumn), QStringLiteral("MAE 0.123"));
        QCOMPARE(cell(model, row, RunsTableModel::OptimizerColumn), QStringLiteral("adamw"));
    }

    void sortsByRawValues_data() {
        QTest::addColumn<int>("column");
        QTest::addColumn<QStringList>("ascending");
        QTest::addColumn<QStringList>("descending");
        // a: lr 0.1, batch 16, final 0.3, acc 0.8, 2 epochs, 5 s;  b: lr 0.001, batch 128, final 0.05, acc
        // 0.95, 10 epochs, 100 s;  c: unparsable spec, nothing known;  d: lr 0.01, full batch, final 2, acc
        // 0.1, 1 epoch.
        QTest::newRow("name") << int(RunsTableModel::NameColumn) << QStringList{"a", "b", "C", "d"}
                              << QStringList{"d", "C", "b", "a"};
        QTest::newRow("lr") << int(RunsTableModel::LearningRateColumn) << QStringList{"b", "d", "a", "C"}
                            << QStringList{"a", "d", "b", "C"};
        QTest::newRow("batch") << int(RunsTableModel::BatchSizeColumn) << QStringList{"a", "b", "d", "C"}
                               << QStringList{"d", "b", "a", "C"};
        QTest::newRow("final loss") << int(RunsTableModel::FinalValLossColumn)
                                    << QStringList{"b", "a", "d", "C"} << QStringList{"d", "a", "b", "C"};
        QTest::newRow("accuracy") << int(RunsTableModel::AccuracyColumn) << QStringList{"d", "a", "b", "C"}
                                  << QStringList{"b", "a", "d", "C"};
        QTest::newRow("epochs") << int(RunsTableModel::EpochsColumn) << QStringList{"C", "d", "a", "b"}
                                << QStringList{"b", "a", "d", "C"};
        QTest::newRow("duration") << int(RunsTableModel::DurationColumn) << QStringList{"a", "b", "d", "C"}
                                  << QStringList{"d", "b", "a", "C"};
    }
    void sortsByRawValues() {
        QFETCH(int, column);
        QFETCH(QStringList, ascending);
        QFETCH(QStringList, descending);
        auto make = [](RunId id, const std::string& name, const std::string& spec, double loss,
                       double accuracy, int epochs, double seconds) {
            RunRecord run = record(id, name, RunStatus::Completed, spec);
            run.summary.valLoss = loss;
            run.summary.valAccuracy = accuracy;
            run.summary.epochs = epochs;
            run.summary.trainSeconds = seconds;
            return run;
        };
        RunsTableModel model;
        model.setRuns({make(1, "a", specJson(OptimizerType::Sgd, 0.1, 16, 2), 0.3, 0.8, 2, 5.0),
                       make(2, "b", specJson(OptimizerType::Adam, 0.001, 128, 10), 0.05, 0.95, 10, 100.0),
                       make(3, "C", "{not json", kNoValue, kNoValue, 0, kNoValue),
                       make(4, "d", specJson(OptimizerType::Adam, 0.01, 1, 1, true), 2.0, 0.1, 1, 3600.0)});
        RunsSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(column, Qt::AscendingOrder);
        QCOMPARE(namesInOrder(proxy), ascending);
        proxy.sort(column, Qt::DescendingOrder);
        QCOMPARE(namesInOrder(proxy), descending);
    }

    void filtersOnNameStatusAndOptimizer_data() {
        QTest::addColumn<QString>("filter");
        QTest::addColumn<QStringList>("names");
        QTest::newRow("none") << QString() << QStringList{"alpha", "beta", "gamma"};
        QTest::newRow("name") << "ALP" << QStringList{"alpha"};
        QTest::newRow("optimizer") << "sgd" << QStringList{"beta"};
        QTest::newRow("status") << "diverged" << QStringList{"gamma"};
        QTest::newRow("device is not searched") << "cuda" << QStringList{};
    }
    void filtersOnNameStatusAndOptimizer() {
        QFETCH(QString, filter);
        QFETCH(QStringList, names);
        RunRecord gamma = record(3, "gamma", RunStatus::Diverged, specJson(OptimizerType::Adam, 1, 32, 3));
        gamma.device = "cuda:0";
        RunsTableModel model;
        model.setRuns({record(1, "alpha", RunStatus::Completed, specJson(OptimizerType::Adam, 1e-3, 32, 3)),
                       record(2, "beta", RunStatus::Stopped, specJson(OptimizerType::Sgd, 1e-2, 32, 3)),
                       gamma});
        RunsSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setFilterFixedString(filter);
        QCOMPARE(namesInOrder(proxy), names);
    }

    void liveEventsUpdateTheRow() {
        RunsTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.runQueued(5, "live", specJson(OptimizerType::Adam, 1e-3, 32, 4)); // 25 steps/epoch, 100 planned
        const QModelIndex status = model.index(0, RunsTableModel::StatusColumn);
        QCOMPARE(status.data().toString(), QStringLiteral("queued"));
        QVERIFY(!status.data(RunsTableModel::ProgressRole).isValid());
        QCOMPARE(cell(model, 0, RunsTableModel::EpochsColumn), QStringLiteral("0/4"));

        model.applyEvent(started(5, "cpu"));
        QCOMPARE(status.data().toString(), QStringLiteral("running"));
        QCOMPARE(status.data(RunsTableModel::StatusRole).toInt(), int(RunStatus::Running));
        QCOMPARE(status.data(RunsTableModel::ProgressRole).toDouble(), 0.0);
        QCOMPARE(cell(model, 0, RunsTableModel::DeviceColumn), QStringLiteral("cpu"));

        model.applyEvent(steps(5, 1, 10, 1));
        QCOMPARE(status.data(RunsTableModel::ProgressRole).toDouble(), 0.1);

        model.applyEvents({steps(5, 11, 25, 1), epochEnded(5, 1, 25, 0.8, 0.6, 1.5)});
        QCOMPARE(status.data(RunsTableModel::ProgressRole).toDouble(), 0.25);
        QCOMPARE(cell(model, 0, RunsTableModel::EpochsColumn), QStringLiteral("1/4"));
        QCOMPARE(cell(model, 0, RunsTableModel::BestValLossColumn), QStringLiteral("0.8000"));
        QCOMPARE(cell(model, 0, RunsTableModel::FinalValLossColumn), QStringLiteral("0.8000"));
        QCOMPARE(cell(model, 0, RunsTableModel::AccuracyColumn), QStringLiteral("60.0%"));
        QCOMPARE(cell(model, 0, RunsTableModel::DurationColumn), QStringLiteral("1.5 s"));

        // A worse second epoch moves the final loss only.
        model.applyEvents({steps(5, 26, 50, 2), epochEnded(5, 2, 50, 0.9, 0.55, 1.5)});
        QCOMPARE(status.data(RunsTableModel::ProgressRole).toDouble(), 0.5);
        QCOMPARE(cell(model, 0, RunsTableModel::EpochsColumn), QStringLiteral("2/4"));
        QCOMPARE(cell(model, 0, RunsTableModel::BestValLossColumn), QStringLiteral("0.8000"));
        QCOMPARE(cell(model, 0, RunsTableModel::FinalValLossColumn), QStringLiteral("0.9000"));
        QCOMPARE(cell(model, 0, RunsTableModel::AccuracyColumn), QStringLiteral("55.0%"));
        QCOMPARE(cell(model, 0, RunsTableModel::DurationColumn), QStringLiteral("3.0 s"));
        QVERIFY(!status.data(Qt::ForegroundRole).isValid());

        RunEvent finished;
        finished.kind = RunEventKind::Finished;
        finished.runId = 5;
        finished.summary.status = RunStatus::Diverged;
        finished.summary.epochs = 2;
        finished.summary.steps = 57;
        finished.summary.valLoss = std::numeric_limits<double>::infinity();
        finished.summary.trainSeconds = 3.5;
        finished.summary.message = "the training loss became nan at step 57";
        model.applyEvent(finished);
        QCOMPARE(status.data().toString(), QStringLiteral("diverged"));
        QVERIFY(!status.data(RunsTableModel::ProgressRole).isValid());
        QCOMPARE(qvariant_cast<QBrush>(status.data(Qt::ForegroundRole)).color(),
                 RunsTableModel::errorColor());
        QCOMPARE(qvariant_cast<QBrush>(model.index(0, 0).data(Qt::ForegroundRole)).color(),
                 RunsTableModel::errorColor());
        QCOMPARE(status.data(Qt::ToolTipRole).toString(),
                 QStringLiteral("the training loss became nan at step 57"));
        QCOMPARE(cell(model, 0, RunsTableModel::FinalValLossColumn), QStringLiteral("inf"));
        QCOMPARE(cell(model, 0, RunsTableModel::BestValLossColumn), QStringLiteral("0.8000"));
        QCOMPARE(cell(model, 0, RunsTableModel::DurationColumn), QStringLiteral("3.5 s"));
        QCOMPARE(model.index(0, 0).data(RunsTableModel::HasModelRole).toBool(), false);

        // A failed run is red too; a completed one with a saved model is not.
        finished.summary.status = RunStatus::Failed;
        finished.summary.message = "layer 2: expected 64 input features, got 32";
        model.applyEvent(finished);
        QCOMPARE(status.data().toString(), QStringLiteral("failed"));
        QCOMPARE(qvariant_cast<QBrush>(status.data(Qt::ForegroundRole)).color(),
                 RunsTableModel::errorColor());
        QCOMPARE(status.data(Qt::ToolTipRole).toString(),
                 QStringLiteral("layer 2: expected 64 input features, got 32"));
        finished.summary.status = RunStatus::Completed;
        finished.summary.message.clear();
        finished.model = std::make_shared<const std::vector<char>>(16, 'x');
        model.applyEvent(finished);
        QVERIFY(!status.data(Qt::ForegroundRole).isValid());
        QVERIFY(!status.data(Qt::ToolTipRole).isValid());
        QCOMPARE(model.index(0, 0).data(RunsTableModel::HasModelRole).toBool(), true);
    }

    void aBatchRepaintsEachRowOnce() {
        RunsTableModel model;
        const std::string spec = specJson(OptimizerType::Adam, 1e-3, 32, 1000);
        std::vector<RunRecord> runs;
        for (RunId id = 1; id <= 12; ++id)
            runs.push_back(record(id, "run " + std::to_string(id), RunStatus::Queued, spec));
        model.setRuns(runs);

        // 10,000 single-step events for runs 1..8, interleaved as a drained queue delivers them.
        std::vector<RunEvent> events;
        events.reserve(10000);
        for (int i = 0; i < 10000; ++i) {
            const RunId id = 1 + i % 8;
            const int64_t step = 1 + i / 8;
            events.push_back(steps(id, step, step, 1));
        }
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.applyEvents(events);
        QCOMPARE(inserted.count(), 0);
        QVERIFY2(changed.count() <= 8, qPrintable(QString::number(changed.count())));
        QSet<int> rows;
        for (const auto& arguments : changed) {
            const auto topLeft = arguments.at(0).value<QModelIndex>();
            const auto bottomRight = arguments.at(1).value<QModelIndex>();
            QCOMPARE(topLeft.row(), bottomRight.row());
            rows.insert(topLeft.row());
        }
        QCOMPARE(rows.size(), 8);
        for (RunId id = 1; id <= 8; ++id) {
            const RunRow& row = model.runAt(model.rowForRun(id));
            QCOMPARE(int(row.status), int(RunStatus::Running));
            QCOMPARE(row.stepsDone, int64_t(1250));
        }
        QCOMPARE(int(model.runAt(model.rowForRun(9)).status), int(RunStatus::Queued));
    }

    void thousandsOfRunsStayFast() {
        std::vector<RunRecord> runs;
        runs.reserve(5000);
        const OptimizerType optimizers[] = {OptimizerType::Sgd, OptimizerType::Adam, OptimizerType::AdamW,
                                            OptimizerType::RmsProp};
        for (RunId id = 1; id <= 5000; ++id) {
            RunRecord run =
                record(id, "run " + std::to_string(id), RunStatus::Completed,
                       specJson(optimizers[id % 4], 1e-4 * (1 + id % 97), 16 << (id % 4), 5 + id % 20));
            run.summary.epochs = run.summary.bestEpoch = 5;
            run.summary.valLoss = id % 13 == 0 ? kNoValue : std::fmod(id * 0.618, 1.0);
            run.summary.valAccuracy = std::fmod(id * 0.377, 1.0);
            run.summary.trainSeconds = id * 0.37;
            runs.push_back(std::move(run));
        }
        RunsTableModel model;
        RunsSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        QElapsedTimer timer;
        timer.start();
        model.setRuns(std::move(runs));
        const qint64 loadMs = timer.elapsed();
        proxy.sort(RunsTableModel::FinalValLossColumn, Qt::AscendingOrder);
        proxy.sort(RunsTableModel::NameColumn, Qt::DescendingOrder);
        proxy.sort(RunsTableModel::LearningRateColumn, Qt::AscendingOrder);
        const qint64 totalMs = timer.elapsed();
        qInfo("5000 runs: setRuns %lld ms, setRuns + 3 sorts %lld ms", loadMs, totalMs);
        QCOMPARE(proxy.rowCount(), 5000);
        // A gross-regression bound only: a busy machine must not fail it.
        QVERIFY2(totalMs < 7000, qPrintable(QString::number(totalMs)));
        double previous = 0.0;
        for (int row = 0; row < proxy.rowCount(); ++row) {
            const double lr = proxy.index(row, RunsTableModel::LearningRateColumn)
                                  .data(RunsTableModel::RawValueRole)
                                  .toDouble();
            QVERIFY(lr >= previous);
            previous = lr;
        }
    }
};

QTEST_MAIN(TestRunsTableModel)
#include "tst_runs_table_model.moc"
