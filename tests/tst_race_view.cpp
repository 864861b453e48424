#include "charts/loss_chart_view.h"
#include "file_size_limit_test_support.h"
#include "race/race.h"
#include "race/race_view.h"
#include "race/race_window.h"
#include "spec/spec.h"
#include "store/run_store.h"

#include "number_field_test_support.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <set>

using namespace tunelab;
using tunelab::test::typeInto;

namespace {

ExperimentSpec tinyExperiment() {
    ExperimentSpec spec = defaultExperiment();
    spec.name = "tiny-blobs";
    spec.seed = 7;
    spec.device = "cpu";
    spec.data.kind = DataKind::Blobs;
    spec.data.samples = 200;
    spec.data.classes = 2;
    spec.data.features = 2;
    spec.training.epochs = 2;
    spec.training.batchSize = 16;
    return spec;
}

// The base experiment with `optimizerJson` as its optimizer, parsed by the real spec parser.
Result<ExperimentSpec> withOptimizer(const std::string& optimizerJson) {
    QJsonObject experiment =
        QJsonDocument::fromJson(QByteArray::fromStdString(experimentSpecToJson(tinyExperiment()))).object();
    experiment.insert(QStringLiteral("optimizer"),
                      QJsonDocument::fromJson(QByteArray::fromStdString(optimizerJson)).object());
    return parseExperimentSpec(QJsonDocument(experiment).toJson().toStdString());
}

RaceEntryResult entry(const char* setup, double bestValLoss, RunStatus status) {
    RaceEntryResult result;
    result.setup = setup;
    result.bestValLoss = bestValLoss;
    result.finalValLoss = bestValLoss;
    result.status = status;
    result.diverged = status == RunStatus::Diverged;
    result.learningRate = 0.01;
    result.wallSeconds = 1.5;
    return result;
}

} // namespace

class TestRaceView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void setupModelStartsWithTheDefaultSetups();
    void setupModelWritesOptimizersTheSpecParserAccepts();
    void setupModelKeepsEveryCatalogKey_data();
    void setupModelKeepsEveryCatalogKey();
    void setupModelEdits_data();
    void setupModelEdits();
    void setupModelAddsRemovesAndDisables();
    void resultsModelHighlightsTheBestStableRow();
    void raceWindowRunsATinyRace();
    void raceWindowOpensASavedRace();
    void raceWindowStopsARace();
    void rangeTestDialogSuggestsAndApplies();
    void typedNumbersInTheRaceAndTheRangeTest();
};

void TestRaceView::setupModelStartsWithTheDefaultSetups() {
    RaceSetupModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const std::vector<RaceSetup> defaults = defaultRaceSetups();
    QVERIFY(defaults.size() >= 8);
    QCOMPARE(model.rowCount(), int(defaults.size()));
    QCOMPARE(model.enabledCount(), int(defaults.size()));
    bool sawFullBatch = false;
    for (int row = 0; row < model.rowCount(); ++row) {
        QCOMPARE(model.index(row, RaceSetupModel::NameColumn).data().toString().toStdString(),
                 defaults[row].name);
        QCOMPARE(model.row(row).fullBatch, defaults[row].fullBatch);
        sawFullBatch = sawFullBatch || model.row(row).fullBatch;
    }
    QVERIFY(sawFullBatch);
}

void TestRaceView::setupModelWritesOptimizersTheSpecParserAccepts() {
    RaceSetupModel model;
    const std::vector<RaceSetup> setups = model.enabledSetups();
    QCOMPARE(int(setups.size()), model.rowCount());
    std::set<OptimizerType> types;
    for (size_t row = 0; row < setups.size(); ++row) {
        const auto parsed = withOptimizer(setups[row].optimizerJson);
        QVERIFY2(parsed.ok(), (setups[row].name + ": " + parsed.error()).c_str());
        const OptimizerSpec& expected = model.row(int(row)).optimizer;
        QCOMPARE(parsed.value().optimizer.type, expected.type);
        QCOMPARE(parsed.value().optimizer.lr, expected.lr);
        QCOMPARE(parsed.value().optimizer.momentum,
                 RaceSetupModel::applies(RaceSetupModel::MomentumColumn, expected.type) ? expected.momentum
                                                                                        : 0.0);
        QCOMPARE(parsed.value().optimizer.nesterov, expected.nesterov);
        QCOMPARE(parsed.value().optimizer.weightDecay, expected.weightDecay);
        types.insert(expected.type);
    }
    QCOMPARE(int(types.size()), 5); // SGD, Adagrad, RMSprop, Adam, AdamW
}

void TestRaceView::setupModelKeepsEveryCatalogKey_data() {
    QTest::addColumn<QString>("json");     // a set-up's optimizer as a race file has it
    QTest::addColumn<QString>("switchTo"); // then the optimizer column is set to this type
    QTest::addColumn<QString>("expected"); // in the set-up's JSON after the switch
    QTest::newRow("amsgrad") << R"({"type":"adam","lr":0.02,"amsgrad":true})"
                             << ""
                             << R"("amsgrad":true)";
    QTest::newRow("centered") << R"({"type":"rmsprop","lr":0.02,"centered":true,"momentum":0.5})"
                              << ""
                              << R"("momentum":0.5,"centered":true)";
    QTest::newRow("lr_decay") << R"({"type":"adagrad","lr":0.02,"lr_decay":0.25})"
                              << ""
                              << R"("eps":1e-10,"initial_accumulator":0.0,"lr_decay":0.25)";
    QTest::newRow("dampening") << R"({"type":"sgd","lr":0.02,"momentum":0.5,"dampening":0.5})"
                               << ""
                               << R"("dampening":0.5)";
    QTest::newRow("to adamw") << R"({"type":"sgd","lr":0.02,"momentum":0.5})"
                              << "adamw"
                              << R"({"type":"adamw","lr":0.02,"weight_decay":0.01,)";
    QTest::newRow("to adagrad") << R"({"type":"adam","lr":0.02,"eps":1e-6})"
                                << "adagrad"
                                << R"("eps":1e-10,)";
}

// The set-up model reads and writes optimizers through the optimizer catalog: keys without a column
// survive, and a new type starts from its own defaults.
void TestRaceView::setupModelKeepsEveryCatalogKey() {
    QFETCH(QString, json);
    QFETCH(QString, switchTo);
    QFETCH(QString, expected);
    RaceSetupModel model;
    RaceSetup setup;
    setup.name = "under test";
    setup.optimizerJson = json.toStdString();
    model.setSetups({setup});
    if (!switchTo.isEmpty())
        QVERIFY(model.setData(model.index(0, RaceSetupModel::OptimizerColumn), switchTo));
    const std::string written = model.enabledSetups().front().optimizerJson;
    QVERIFY2(QString::fromStdString(written).contains(expected), written.c_str());
    const auto parsed = withOptimizer(written);
    QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().c_str());
    QCOMPARE(parsed.value().optimizer.lr, 0.02);
}

void TestRaceView::setupModelEdits_data() {
    QTest::addColumn<QString>("optimizer"); // the row's optimizer before the edit
    QTest::addColumn<int>("column");
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<int>("role");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<QString>("json"); // expected in the optimizer JSON afterwards, or "" to skip

    const int edit = Qt::EditRole;
    const int check = Qt::CheckStateRole;
    QTest::newRow("lr") << "sgd" << int(RaceSetupModel::LearningRateColumn) << QVariant(0.25) << edit << true
                        << "\"lr\":0.25";
    QTest::newRow("lr must be positive")
        << "sgd" << int(RaceSetupModel::LearningRateColumn) << QVariant(-1.0) << edit << false << "";
    QTest::newRow("lr not a number") << "adam" << int(RaceSetupModel::LearningRateColumn) << QVariant("fast")
                                     << edit << false << "";
    QTest::newRow("momentum") << "sgd" << int(RaceSetupModel::MomentumColumn) << QVariant(0.8) << edit << true
                              << "\"momentum\":0.8";
    QTest::newRow("momentum below one")
        << "sgd" << int(RaceSetupModel::MomentumColumn) << QVariant(1.0) << edit << false << "";
    QTest::newRow("nesterov brings momentum")
        << "sgd" << int(RaceSetupModel::NesterovColumn) << QVariant(int(Qt::Checked)) << check << true
        << "\"momentum\":0.9,\"nesterov\":true";
    QTest::newRow("no betas for sgd")
        << "sgd" << int(RaceSetupModel::Beta1Column) << QVariant(0.5) << edit << false << "";
    QTest::newRow("beta2") << "adam" << int(RaceSetupModel::Beta2Column) << QVariant(0.95) << edit << true
                           << "\"betas\":[0.9,0.95]";
    QTest::newRow("no momentum for adam")
        << "adam" << int(RaceSetupModel::MomentumColumn) << QVariant(0.9) << edit << false << "";
    QTest::newRow("weight decay") << "adamw" << int(RaceSetupModel::WeightDecayColumn) << QVariant(0.05)
                                  << edit << true << "\"weight_decay\":0.05";
    QTest::newRow("switch to rmsprop keeps lr")
        << "adam" << int(RaceSetupModel::OptimizerColumn) << QVariant("rmsprop") << edit << true
        << "\"type\":\"rmsprop\"";
    QTest::newRow("unknown optimizer")
        << "adam" << int(RaceSetupModel::OptimizerColumn) << QVariant("lbfgs") << edit << false << "";
}

void TestRaceView::setupModelEdits() {
    QFETCH(QString, optimizer);
    QFETCH(int, column);
    QFETCH(QVariant, value);
    QFETCH(int, role);
    QFETCH(bool, accepted);
    QFETCH(QString, json);

    RaceSetupModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RaceSetup setup;
    setup.name = "under test";
    setup.optimizerJson = "{\"type\":\"" + optimizer.toStdString() + "\",\"lr\":0.01}";
    model.setSetups({setup});
    const std::string before = model.enabledSetups().front().optimizerJson;

    QSignalSpy changed(&model, &RaceSetupModel::setupsChanged);
    QCOMPARE(model.setData(model.index(0, column), value, role), accepted);
    const std::string after = model.enabledSetups().front().optimizerJson;
    if (!accepted) {
        QCOMPARE(after, before);
        QCOMPARE(changed.count(), 0);
        return;
    }
    QCOMPARE(changed.count(), 1);
    QVERIFY2(QString::fromStdString(after).contains(json), after.c_str());
    if (column == RaceSetupModel::OptimizerColumn)
        QCOMPARE(model.row(0).optimizer.lr, 0.01);
    const auto parsed = withOptimizer(after);
    QVERIFY2(parsed.ok(), parsed.error().c_str());
}

void TestRaceView::setupModelAddsRemovesAndDisables() {
    RaceSetupModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const int initial = model.rowCount();

    // A copy of a row gets a unique name; renaming to a taken name is refused.
    const int copy = model.addSetup(0);
    QCOMPARE(model.rowCount(), initial + 1);
    QCOMPARE(copy, initial);
    QVERIFY(model.row(copy).name != model.row(0).name);
    QCOMPARE(model.row(copy).optimizer.type, model.row(0).optimizer.type);
    QVERIFY(!model.setData(model.index(copy, RaceSetupModel::NameColumn), model.row(1).name));
    QVERIFY(!model.setData(model.index(copy, RaceSetupModel::NameColumn), QStringLiteral("  ")));
    QVERIFY(model.setData(model.index(copy, RaceSetupModel::NameColumn), QStringLiteral("Slow SGD")));

    // Unchecked rows stay in the table and out of the race.
    model.setEnabled(0, false);
    model.setEnabled(1, false);
    QCOMPARE(model.enabledCount(), initial - 1);
    const auto setups = model.enabledSetups();
    QCOMPARE(int(setups.size()), initial - 1);
    QCOMPARE(setups.back().name, std::string("Slow SGD"));
    QCOMPARE(model.index(0, RaceSetupModel::NameColumn).data(Qt::CheckStateRole).toInt(), int(Qt::Unchecked));

    QVERIFY(model.removeSetup(copy));
    QVERIFY(!model.removeSetup(model.rowCount()));
    QCOMPARE(model.rowCount(), initial);
    model.resetToDefaults();
    QCOMPARE(model.enabledCount(), initial);
}

void TestRaceView::resultsModelHighlightsTheBestStableRow() {
    RaceResultsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.bestRow(), -1);
    // The diverged set-up's loss is the lowest, but it does not count.
    model.setResults({entry("SGD", 0.40, RunStatus::Completed), entry("Adam", 0.21, RunStatus::Completed),
                      entry("Huge lr", 0.05, RunStatus::Diverged),
                      entry("RMSprop", 0.30, RunStatus::Completed)});
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.bestRow(), 1);
    QVERIFY(model.index(1, 0).data(Qt::BackgroundRole).value<QColor>().isValid());
    QVERIFY(!model.index(0, 0).data(Qt::BackgroundRole).isValid());
    QCOMPARE(model.index(2, RaceResultsModel::StabilityColumn).data().toString(), QStringLiteral("diverged"));
    QCOMPARE(model.index(2, RaceResultsModel::SetupColumn).data(Qt::ForegroundRole).value<QColor>(),
             QColor(0xc0, 0x1c, 0x1c));
    QVERIFY(!model.index(1, RaceResultsModel::SetupColumn).data(Qt::ForegroundRole).isValid());
    QCOMPARE(model.index(0, RaceResultsModel::StepsToTargetColumn).data().toString(),
             QStringLiteral("not reached"));
    QVERIFY(
        !model.index(0, RaceResultsModel::SecondsToTargetColumn).data(RaceResultsModel::SortRole).isValid());

    // A live update that beats the best moves the highlight.
    RaceEntryResult better = entry("RMSprop", 0.10, RunStatus::Running);
    better.stepsToTarget = 120;
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.updateResult(3, better);
    QCOMPARE(model.bestRow(), 3);
    QVERIFY(changed.count() >= 2); // the new best row and the old one
    QCOMPARE(model.index(3, RaceResultsModel::StepsToTargetColumn).data().toString(), QStringLiteral("120"));

    // A race without a target loss has nothing to reach: a dash that says why, not "not reached".
    model.setHasTarget(false);
    QCOMPARE(model.index(1, RaceResultsModel::StepsToTargetColumn).data().toString(), QStringLiteral("–"));
    QVERIFY(model.index(1, RaceResultsModel::StepsToTargetColumn)
                .data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("No target")));
}

void TestRaceView::raceWindowRunsATinyRace() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    auto store = RunStore::open(dir.filePath(QStringLiteral("runs.sqlite")).toStdString());
    QVERIFY2(store.ok(), store.error().c_str());
    std::unique_ptr<RunStore> runStore = store.take();

    RaceWindow window(runStore.get(), tinyExperiment());
    window.setInteractive(false);
    window.setDevice("cpu");
    const std::vector<RaceSetup> defaults = defaultRaceSetups();
    std::vector<RaceSetup> setups;
    for (const RaceSetup& setup : defaults)
        if (setups.size() < 3 && !setup.fullBatch)
            setups.push_back(setup);
    QCOMPARE(int(setups.size()), 3);
    window.setupModel()->setSetups(setups);
    window.setTargetLoss(5.0); // every sane set-up gets there in the first epoch
    window.show();

    QSignalSpy finished(&window, &RaceWindow::raceFinished);
    QTest::mouseClick(window.findChild<QPushButton*>(QStringLiteral("startRace")), Qt::LeftButton);
    QVERIFY2(window.isRunning(), qPrintable(window.stateText()));
    QVERIFY(finished.wait(60000));
    QVERIFY2(finished.first().first().toBool(), qPrintable(window.stateText()));
    QVERIFY(!window.isRunning());

    const std::vector<RaceEntryResult>& results = window.results();
    QCOMPARE(int(results.size()), 3);
    QCOMPARE(window.resultsModel()->rowCount(), 3);
    for (size_t index = 0; index < results.size(); ++index) {
        const RaceEntryResult& result = results[index];
        QCOMPARE(result.setup, setups[index].name);
        QVERIFY2(result.status == RunStatus::Completed, result.message.c_str());
        QVERIFY(std::isfinite(result.bestValLoss));
        QVERIFY(result.stepsToTarget > 0);
        QVERIFY(result.runId > 0);
        QVERIFY(runStore->run(result.runId).has_value());
        // Same start for everyone: that is what makes the race fair.
        QVERIFY(result.initialParametersHash != 0);
        QCOMPARE(result.initialParametersHash, results.front().initialParametersHash);
        QCOMPARE(result.batchOrderHash, results.front().batchOrderHash);
        // The curves were drawn live, one per set-up.
        QCOMPARE(window.validationChart()->pointCount(qint64(index)), qsizetype(2));
        QVERIFY(window.trainingChart()->pointCount(qint64(index)) > 0);
    }
    QCOMPARE(window.validationChart()->seriesLabel(0), QString::fromStdString(setups[0].name));
    QVERIFY(window.resultsModel()->bestRow() >= 0);

    // Save race: a file the race parser reads back to the same race.
    const QString racePath = dir.filePath(QStringLiteral("race.json"));
    QString error;
    QVERIFY2(window.saveRace(racePath, &error), qPrintable(error));
    QFile raceFile(racePath);
    QVERIFY(raceFile.open(QIODevice::ReadOnly));
    const auto parsed = parseRaceSpec(raceFile.readAll().toStdString(), dir.path().toStdString());
    QVERIFY2(parsed.ok(), parsed.error().c_str());
    QCOMPARE(int(parsed.value().setups.size()), 3);
    for (size_t index = 0; index < setups.size(); ++index)
        QCOMPARE(parsed.value().setups[index].name, setups[index].name);
    QCOMPARE(parsed.value().targetLoss, 5.0);
    QVERIFY(!parsed.value().fairLearningRates);
    const auto experiment = parseExperimentSpec(parsed.value().experimentJson);
    QVERIFY2(experiment.ok(), experiment.error().c_str());
    QCOMPARE(experiment.value().data.samples, int64_t(200));

    // Export: one CSV row per set-up after the header, and a picture of the results.
    const QString csvPath = dir.filePath(QStringLiteral("race.csv"));
    QVERIFY2(window.exportCsv(csvPath, &error), qPrintable(error));
    QFile csv(csvPath);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QVERIFY(lines[1].contains(QByteArray::fromStdString(setups[0].name)));
    const QString pngPath = dir.filePath(QStringLiteral("race.png"));
    QVERIFY2(window.exportPng(pngPath, &error), qPrintable(error));
    QImage image(pngPath);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 200 && image.height() > 200);

    // On a full disk (here: a file-size limit) both exports fail and say why, and the files exported
    // before stay whole: nothing is truncated, no temporary file is left.
    runStore->flush();
    QFile png(pngPath);
    QVERIFY(png.open(QIODevice::ReadOnly));
    const QByteArray pngBefore = png.readAll();
    png.close();
    QVERIFY(csv.seek(0));
    const QByteArray csvBefore = csv.readAll();
    const QStringList filesBefore = QDir(dir.path()).entryList(QDir::Files | QDir::Hidden);
    {
        test::FileSizeLimit full(64);
        QVERIFY(full.isSet());
        QVERIFY(!window.exportPng(pngPath, &error));
        QVERIFY2(error.startsWith(pngPath + ": could not write: File too large"), qPrintable(error));
        QVERIFY(!window.exportCsv(csvPath, &error));
        QVERIFY2(error.startsWith(csvPath + ": could not write: File too large"), qPrintable(error));
    }
    QVERIFY(png.open(QIODevice::ReadOnly));
    QCOMPARE(png.readAll(), pngBefore);
    QVERIFY(csv.seek(0));
    QCOMPARE(csv.readAll(), csvBefore);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), filesBefore);
}

void TestRaceView::raceWindowOpensASavedRace() {
    QTemporaryDir dir;
    RaceWindow source(nullptr, tinyExperiment());
    source.setInteractive(false);
    source.setFairLearningRates(true);
    source.setTargetLoss(0.3);
    source.setupModel()->setEnabled(0, false);
    const QString path = dir.filePath(QStringLiteral("race.json"));
    QString error;
    QVERIFY2(source.saveRace(path, &error), qPrintable(error));

    ExperimentSpec other = defaultExperiment();
    other.name = "something else";
    RaceWindow target(nullptr, other);
    target.setInteractive(false);
    QVERIFY2(target.openRace(path, &error), qPrintable(error));
    QCOMPARE(target.baseExperiment().name, std::string("tiny-blobs"));
    QVERIFY(target.fairLearningRates());
    QCOMPARE(target.targetLoss(), 0.3);
    QCOMPARE(target.setupModel()->rowCount(), source.setupModel()->enabledCount());

    QVERIFY(!target.openRace(dir.filePath(QStringLiteral("missing.json")), &error));
    QVERIFY(!error.isEmpty());
}

void TestRaceView::raceWindowStopsARace() {
    ExperimentSpec spec = tinyExperiment();
    spec.training.epochs = 100000; // would take far longer than the test
    RaceWindow window(nullptr, spec);
    window.setInteractive(false);
    window.setDevice("cpu");
    std::vector<RaceSetup> setups = defaultRaceSetups();
    setups.resize(2);
    window.setupModel()->setSetups(setups);
    QVERIFY(window.stateText().contains(QStringLiteral("2")));

    QSignalSpy finished(&window, &RaceWindow::raceFinished);
    QVERIFY(window.startRace());
    QVERIFY(!window.startRace()); // one race at a time
    // Stop once both set-ups have drawn some of their curve.
    QTRY_VERIFY_WITH_TIMEOUT(
        window.trainingChart()->pointCount(0) > 0 && window.trainingChart()->pointCount(1) > 0, 20000);
    window.stopRace();
    QVERIFY(finished.wait(20000));
    QVERIFY(!window.isRunning());
    QVERIFY2(finished.first().first().toBool(), qPrintable(window.stateText()));
    QCOMPARE(int(window.results().size()), 2);
    for (const RaceEntryResult& result : window.results())
        QVERIFY2(result.status == RunStatus::Stopped, toString(result.status));
}

void TestRaceView::rangeTestDialogSuggestsAndApplies() {
    ExperimentSpec spec = tinyExperiment();
    spec.optimizer.type = OptimizerType::Adam;
    spec.optimizer.lr = 1e-4;
    LrRangeTestDialog dialog(spec);
    LrRangeSettings settings;
    settings.minLr = 1e-5;
    settings.maxLr = 10.0;
    settings.steps = 120;
    dialog.setSettings(settings);
    QCOMPARE(dialog.settings().minLr, 1e-5);
    QCOMPARE(dialog.settings().maxLr, 10.0);
    QCOMPARE(dialog.settings().steps, 120);
    dialog.show();

    QSignalSpy finished(&dialog, &LrRangeTestDialog::testFinished);
    QSignalSpy applied(&dialog, &LrRangeTestDialog::applyLearningRate);
    QVERIFY(!dialog.apply()); // nothing to apply before a test
    QCOMPARE(applied.count(), 0);
    QVERIFY(dialog.runTest());
    QVERIFY(!dialog.runTest()); // one at a time
    QVERIFY(finished.wait(30000));
    QVERIFY(finished.first().first().toBool());
    QVERIFY(dialog.rangeResult().has_value());
    QVERIFY(dialog.rangeResult()->points.size() >= 10);
    QCOMPARE(dialog.curveView()->curveCount(), 1);
    const double suggested = dialog.suggestedLearningRate();
    QVERIFY(std::isfinite(suggested));
    QVERIFY(suggested >= 1e-5 && suggested <= 10.0);

    QVERIFY(dialog.apply());
    QCOMPARE(applied.count(), 1);
    const double rate = applied.first().first().toDouble();
    QVERIFY(std::isfinite(rate) && rate > 0.0);
    QCOMPARE(rate, suggested);
    QCOMPARE(dialog.QDialog::result(), int(QDialog::Accepted));
}

// The race's target and the range test's rates are taken as typed ("2.5e-1", "3e-7": rates the old
// power-of-ten boxes could not hold) or refused with the reason; nothing starts on a refused value.
void TestRaceView::typedNumbersInTheRaceAndTheRangeTest() {
    RaceWindow window(nullptr, tinyExperiment());
    window.setInteractive(false);
    auto* target = window.findChild<NumberField*>(QStringLiteral("targetLoss"));
    QVERIFY(target);
    QVERIFY(std::isnan(window.targetLoss())); // empty: no target
    QCOMPARE(target->placeholderText(), QStringLiteral("none"));
    typeInto(target, QStringLiteral("2.5e-1"));
    QCOMPARE(window.targetLoss(), 0.25);
    typeInto(target, QStringLiteral("0.2.5"));
    QVERIFY(!target->isValid());
    QVERIFY(!window.startRace());
    QVERIFY2(window.stateText().contains(QStringLiteral("Target val loss")), qPrintable(window.stateText()));
    typeInto(target, QString());
    QVERIFY(std::isnan(window.targetLoss()));

    LrRangeTestDialog dialog(tinyExperiment());
    dialog.show(); // fields take focus as the user moves between them
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    typeInto(dialog.findChild<NumberField*>(QStringLiteral("rangeMinLr")), QStringLiteral("3e-7"));
    typeInto(dialog.findChild<NumberField*>(QStringLiteral("rangeMaxLr")), QStringLiteral("0.5"));
    typeInto(dialog.findChild<NumberField*>(QStringLiteral("rangeSteps")), QStringLiteral("1_000"));
    QCOMPARE(dialog.settings().minLr, 3e-7);
    QCOMPARE(dialog.settings().maxLr, 0.5);
    QCOMPARE(dialog.settings().steps, 1000);
    typeInto(dialog.findChild<NumberField*>(QStringLiteral("rangeMaxLr")), QStringLiteral("1e-7"));
    QVERIFY(!dialog.runTest()); // the last rate below the first: refused, not swapped
    QVERIFY(!dialog.isRunning());
    typeInto(dialog.findChild<NumberField*>(QStringLiteral("rangeSteps")), QStringLiteral("5"));
    QVERIFY(!dialog.findChild<NumberField*>(QStringLiteral("rangeSteps"))->isValid());
    QCOMPARE(dialog.settings().steps, 1000); // the refused value is not taken
}

QTEST_MAIN(TestRaceView)
#include "tst_race_view.moc"
