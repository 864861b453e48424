// The study view: what the trials table shows and sorts by, live updates in place, filtering, the
// linked selection between the table and the plots (brushing, rubber band), parameter importance,
// the best-so-far curve, the contour view's categorical axes, and that 2,000 trials stay fast.

#include "study/study_analysis.h"
#include "study/study_plots.h"
#include "study/study_trials_model.h"
#include "study/study_view.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFont>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>
#include <sstream>

using namespace tunelab;

namespace {

const std::vector<std::string> kParameters = {"optimizer.lr", "optimizer.type", "optimizer.momentum",
                                              "training.batch_size", "model.dropout"};

ParamValue number(double value) {
    std::ostringstream text;
    text.precision(17);
    text << value;
    return ParamValue{text.str()};
}

ParamValue text(const std::string& value) {
    return ParamValue{"\"" + value + "\""};
}

// A study where the learning rate drives the value (best near 1e-3), the optimizer type matters a
// little, momentum applies to sgd only and dropout is noise. About 70% complete, 20% pruned, the
// rest failed or running.
std::vector<TrialRecord> syntheticTrials(int count, int epochs, uint64_t seed) {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const char* types[] = {"adam", "sgd", "rmsprop"};
    std::vector<TrialRecord> trials;
    for (int i = 0; i < count; ++i) {
        TrialRecord trial;
        trial.id = i + 1;
        trial.number = i;
        const double lr = std::pow(10.0, -5.0 + 4.0 * unit(random));
        const std::string type = types[random() % 3];
        trial.params["optimizer.lr"] = number(lr);
        trial.params["optimizer.type"] = text(type);
        if (type == "sgd")
            trial.params["optimizer.momentum"] = number(std::round(unit(random) * 99.0) / 100.0);
        trial.params["training.batch_size"] = number(std::pow(2.0, 4 + static_cast<int>(random() % 5)));
        trial.params["model.dropout"] = number(unit(random) * 0.5);
        const double distance = std::log10(lr) + 3.0;
        const double final =
            0.05 + 0.08 * distance * distance + (type == "adam" ? 0.0 : 0.03) + 0.01 * unit(random);
        const double roll = unit(random);
        trial.state = roll < 0.7    ? TrialState::Complete
                      : roll < 0.9  ? TrialState::Pruned
                      : roll < 0.96 ? TrialState::Failed
                                    : TrialState::Running;
        const int lastEpoch = trial.state == TrialState::Pruned
                                  ? 2 + static_cast<int>(random() % (epochs / 2))
                              : trial.state == TrialState::Failed  ? 0
                              : trial.state == TrialState::Running ? epochs / 2
                                                                   : epochs;
        for (int epoch = 1; epoch <= lastEpoch; ++epoch)
            trial.intermediate[epoch] = final + 1.2 * std::exp(-epoch / 4.0) + 0.005 * unit(random);
        if (trial.state == TrialState::Complete)
            trial.value = trial.intermediate.empty() ? final : trial.intermediate.rbegin()->second;
        if (trial.state == TrialState::Pruned) {
            trial.prunedEpoch = lastEpoch;
            trial.value = trial.intermediate.rbegin()->second;
        }
        if (trial.state == TrialState::Failed)
            trial.message = "loss diverged";
        trial.startedAt = 1000.0 + i * 10.0;
        if (isFinal(trial.state))
            trial.finishedAt = trial.startedAt + 5.0 + lastEpoch * 2.0;
        trials.push_back(std::move(trial));
    }
    return trials;
}

TrialRecord trial(int64_t number, TrialState state, double value, Assignment params) {
    TrialRecord record;
    record.number = number;
    record.state = state;
    record.value = value;
    record.params = std::move(params);
    return record;
}

ObjectiveSpec minimizeLoss() {
    return ObjectiveSpec{};
}

QList<qint64> trialNumbersInOrder(const QAbstractItemModel& model) {
    QList<qint64> numbers;
    for (int row = 0; row < model.rowCount(); ++row)
        numbers << model.index(row, 0).data(StudyTrialsModel::TrialNumberRole).toLongLong();
    return numbers;
}

} // namespace

class TestStudyView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void formatsNumbers_data();
    void formatsNumbers();
    void modelShowsColumns_data();
    void modelShowsColumns();
    void modelSortsByNumericValue_data();
    void modelSortsByNumericValue();
    void upsertUpdatesInPlaceAndInserts();
    void filtersByTextAndHidesPrunedAndFailed_data();
    void filtersByTextAndHidesPrunedAndFailed();
    void tableSelectionReachesPlotsAndBack();
    void brushingAnAxisSelectsTrialsInRange();
    void rubberBandSelectsDotsInBestSoFar();
    void clickingACurveSelectsItsTrial();
    void importanceRanksDrivingParameterAboveNoise_data();
    void importanceRanksDrivingParameterAboveNoise();
    void bestSoFarFollowsTheObjective_data();
    void bestSoFarFollowsTheObjective();
    void contourHandlesCategoricalAxis();
    void bestButtonsFollowCompleteTrials();
    void liveUpdatesCoalesceIntoFrames();
    void exportsTheVisibleTrialsAsCsv();
    void twoThousandTrialsStayFast();
};

void TestStudyView::formatsNumbers_data() {
    QTest::addColumn<double>("value");
    QTest::addColumn<bool>("log");
    QTest::addColumn<QString>("expected");
    QTest::newRow("integer") << 64.0 << false << "64";
    QTest::newRow("three digits") << 0.123456 << false << "0.123";
    QTest::newRow("large") << 12345.678 << false << "1.23e+04";
    QTest::newRow("log small") << 0.0012 << true << "1.2e-3";
    QTest::newRow("log rounds up") << 0.000999 << true << "1e-3";
    QTest::newRow("log mantissa") << 3.04e-4 << true << "3e-4";
    QTest::newRow("log near one") << 0.25 << true << "0.25";
    QTest::newRow("nan") << std::nan("") << false << "";
}

void TestStudyView::formatsNumbers() {
    QFETCH(double, value);
    QFETCH(bool, log);
    QFETCH(QString, expected);
    QCOMPARE(StudyTrialsModel::formatNumber(value, log), expected);
}

void TestStudyView::modelShowsColumns_data() {
    QTest::addColumn<int>("row");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("expected");
    const int first = StudyTrialsModel::FirstParameterColumn;
    QTest::newRow("number") << 1 << int(StudyTrialsModel::NumberColumn) << "1";
    QTest::newRow("state") << 1 << int(StudyTrialsModel::StateColumn) << "pruned";
    QTest::newRow("value") << 0 << int(StudyTrialsModel::ValueColumn) << "0.1235";
    QTest::newRow("pruned epoch") << 1 << int(StudyTrialsModel::EpochColumn) << "3";
    QTest::newRow("last epoch") << 0 << int(StudyTrialsModel::EpochColumn) << "2";
    QTest::newRow("duration") << 0 << int(StudyTrialsModel::DurationColumn) << "12.5 s";
    QTest::newRow("log parameter") << 0 << first + 0 << "3e-4";
    QTest::newRow("categorical") << 0 << first + 1 << "sgd";
    QTest::newRow("conditional applies") << 0 << first + 2 << "0.9";
    QTest::newRow("conditional does not apply") << 1 << first + 2 << "";
    QTest::newRow("failed has no value") << 2 << int(StudyTrialsModel::ValueColumn) << "";
}

void TestStudyView::modelShowsColumns() {
    QFETCH(int, row);
    QFETCH(int, column);
    QFETCH(QString, expected);
    StudyTrialsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({"optimizer.lr", "optimizer.type", "optimizer.momentum"}, minimizeLoss(),
                   {"optimizer.lr"});
    TrialRecord first = trial(0, TrialState::Complete, 0.123456,
                              {{"optimizer.lr", number(3e-4)},
                               {"optimizer.type", text("sgd")},
                               {"optimizer.momentum", number(0.9)}});
    first.intermediate = {{1, 0.5}, {2, 0.123456}};
    first.startedAt = 100.0;
    first.finishedAt = 112.5;
    TrialRecord second =
        trial(1, TrialState::Pruned, 0.8, {{"optimizer.lr", number(0.01)}, {"optimizer.type", text("adam")}});
    second.prunedEpoch = 3;
    TrialRecord third = trial(2, TrialState::Failed, kNoValue,
                              {{"optimizer.lr", number(0.1)}, {"optimizer.type", text("adam")}});
    model.setTrials({first, second, third});
    QCOMPARE(model.columnCount(), StudyTrialsModel::FirstParameterColumn + 3);
    QCOMPARE(model.headerData(StudyTrialsModel::FirstParameterColumn + 2, Qt::Horizontal).toString(),
             QStringLiteral("optimizer.momentum"));
    QCOMPARE(model.headerData(StudyTrialsModel::ValueColumn, Qt::Horizontal).toString(),
             QStringLiteral("val_loss"));
    QCOMPARE(model.index(row, column).data().toString(), expected);
    // The best (only complete) trial is bold, pruned is grey, failed red.
    QVERIFY(model.index(0, 0).data(Qt::FontRole).value<QFont>().bold());
    QVERIFY(!model.index(1, 0).data(Qt::FontRole).isValid());
    QCOMPARE(model.index(1, 0).data(Qt::ForegroundRole).value<QBrush>().color(),
             StudyTrialsModel::prunedColor());
    QCOMPARE(model.index(2, 0).data(Qt::ForegroundRole).value<QBrush>().color(),
             StudyTrialsModel::failedColor());
}

void TestStudyView::modelSortsByNumericValue_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QList<qint64>>("expected");
    const int first = StudyTrialsModel::FirstParameterColumn;
    // Values 10, 9, NaN, 100: text order would put "100" before "9".
    QTest::newRow("value ascending") << int(StudyTrialsModel::ValueColumn) << int(Qt::AscendingOrder)
                                     << QList<qint64>{1, 0, 3, 2};
    QTest::newRow("value descending, empty last")
        << int(StudyTrialsModel::ValueColumn) << int(Qt::DescendingOrder) << QList<qint64>{3, 0, 1, 2};
    QTest::newRow("log parameter") << first << int(Qt::AscendingOrder) << QList<qint64>{2, 3, 0, 1};
    QTest::newRow("conditional empty last")
        << first + 1 << int(Qt::AscendingOrder) << QList<qint64>{3, 1, 0, 2};
    QTest::newRow("number descending")
        << int(StudyTrialsModel::NumberColumn) << int(Qt::DescendingOrder) << QList<qint64>{3, 2, 1, 0};
}

void TestStudyView::modelSortsByNumericValue() {
    QFETCH(int, column);
    QFETCH(int, order);
    QFETCH(QList<qint64>, expected);
    StudyTrialsModel model;
    StudyTrialsProxyModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({"optimizer.lr", "optimizer.momentum"}, minimizeLoss(), {"optimizer.lr"});
    model.setTrials({trial(0, TrialState::Complete, 10.0,
                           {{"optimizer.lr", number(1e-2)}, {"optimizer.momentum", number(0.5)}}),
                     trial(1, TrialState::Complete, 9.0,
                           {{"optimizer.lr", number(2e-1)}, {"optimizer.momentum", number(0.25)}}),
                     trial(2, TrialState::Failed, kNoValue, {{"optimizer.lr", number(3e-5)}}),
                     trial(3, TrialState::Complete, 100.0,
                           {{"optimizer.lr", number(4e-3)}, {"optimizer.momentum", number(0.125)}})});
    proxy.sort(column, static_cast<Qt::SortOrder>(order));
    QCOMPARE(trialNumbersInOrder(proxy), expected);
}

void TestStudyView::upsertUpdatesInPlaceAndInserts() {
    StudyTrialsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({"optimizer.lr"}, minimizeLoss());
    model.setTrials(syntheticTrials(20, 6, 1));
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserts(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy bestChanges(&model, &StudyTrialsModel::bestTrialChanged);

    TrialRecord running = model.trialAt(5);
    running.state = TrialState::Running;
    running.value = kNoValue;
    model.upsertTrial(running);
    QCOMPARE(model.rowCount(), 20);
    QCOMPARE(model.rowOfTrial(5), 5);
    QCOMPARE(model.index(5, StudyTrialsModel::StateColumn).data().toString(), QStringLiteral("running"));
    // The record had no intermediate values of its own: the row keeps the ones it had.
    QVERIFY(!model.trialAt(5).intermediate.empty());

    TrialRecord fresh = trial(20, TrialState::Complete, 1e-6, {{"optimizer.lr", number(1e-3)}});
    model.upsertTrial(fresh);
    QCOMPARE(model.rowCount(), 21);
    QCOMPARE(model.rowOfTrial(20), 20);
    QCOMPARE(model.bestTrialNumber(), qint64(20));
    QVERIFY(model.index(20, 0).data(Qt::FontRole).value<QFont>().bold());
    QCOMPARE(bestChanges.count(), 1);

    QVERIFY(model.addIntermediate(20, 1, 0.5));
    QVERIFY(!model.addIntermediate(99, 1, 0.5));
    QCOMPARE(model.index(20, StudyTrialsModel::EpochColumn).data().toString(), QStringLiteral("1"));

    QCOMPARE(resets.count(), 0);
    QCOMPARE(inserts.count(), 1);
    QVERIFY(changes.count() >= 3);
}

void TestStudyView::filtersByTextAndHidesPrunedAndFailed_data() {
    QTest::addColumn<QString>("filter");
    QTest::addColumn<bool>("hide");
    QTest::addColumn<QList<qint64>>("expected");
    QTest::newRow("none") << "" << false << QList<qint64>{0, 1, 2, 3};
    QTest::newRow("state") << "pruned" << false << QList<qint64>{1};
    QTest::newRow("parameter text") << "SGD" << false << QList<qint64>{0, 2};
    QTest::newRow("two words") << "sgd failed" << false << QList<qint64>{2};
    QTest::newRow("hide pruned and failed") << "" << true << QList<qint64>{0, 3};
    QTest::newRow("hide and text") << "sgd" << true << QList<qint64>{0};
}

void TestStudyView::filtersByTextAndHidesPrunedAndFailed() {
    QFETCH(QString, filter);
    QFETCH(bool, hide);
    QFETCH(QList<qint64>, expected);
    StudyView view;
    view.setStudy({"optimizer.type"}, minimizeLoss());
    view.setTrials({trial(0, TrialState::Complete, 1.0, {{"optimizer.type", text("sgd")}}),
                    trial(1, TrialState::Pruned, 2.0, {{"optimizer.type", text("adam")}}),
                    trial(2, TrialState::Failed, kNoValue, {{"optimizer.type", text("sgd")}}),
                    trial(3, TrialState::Complete, 3.0, {{"optimizer.type", text("adam")}})});
    QAbstractItemModelTester tester(view.proxyModel(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.filterEdit()->setText(filter);
    view.hidePrunedCheck()->setChecked(hide);
    QCOMPARE(trialNumbersInOrder(*view.proxyModel()), expected);
}

void TestStudyView::tableSelectionReachesPlotsAndBack() {
    StudyView view;
    view.resize(900, 700);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(syntheticTrials(50, 8, 2));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy changed(&view, &StudyView::selectionChanged);

    // Rows 3 and 7 of the table, sorted by trial number.
    QTableView* table = view.tableView();
    table->selectionModel()->select(table->model()->index(3, 0),
                                    QItemSelectionModel::Select | QItemSelectionModel::Rows);
    table->selectionModel()->select(table->model()->index(7, 0),
                                    QItemSelectionModel::Select | QItemSelectionModel::Rows);
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{3, 7}));
    QVERIFY(changed.count() >= 2);
    for (StudyPlot* plot :
         {static_cast<StudyPlot*>(view.bestSoFarPlot()), static_cast<StudyPlot*>(view.parallelPlot()),
          static_cast<StudyPlot*>(view.contourPlot())}) {
        QVERIFY(plot->isSelected(3));
        QVERIFY(plot->isSelected(7));
        QVERIFY(!plot->isSelected(4));
    }

    // And back: a selection made elsewhere selects the table's rows, also after re-sorting.
    view.setSelectedTrials({10, 11, 12, 40});
    table->sortByColumn(StudyTrialsModel::NumberColumn, Qt::DescendingOrder);
    QList<qint64> rows;
    for (const QModelIndex& index : table->selectionModel()->selectedRows())
        rows << index.data(StudyTrialsModel::TrialNumberRole).toLongLong();
    std::sort(rows.begin(), rows.end());
    QCOMPARE(rows, (QList<qint64>{10, 11, 12, 40}));
    QVERIFY(view.curvesPlot()->isSelected(40));
    QVERIFY(!view.curvesPlot()->isSelected(3));
    // A filter hides rows but keeps their trials selected; clearing it selects the rows again.
    view.filterEdit()->setText(QStringLiteral("no trial has this text"));
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{10, 11, 12, 40}));
    view.filterEdit()->clear();
    QCOMPARE(table->selectionModel()->selectedRows().size(), 4);
    // Unknown trials are ignored.
    view.setSelectedTrials({5, 999});
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{5}));

    // Live rows: a new trial joins unselected; a selected trial the filter hid comes back selected.
    auto selectedRows = [table] {
        QList<qint64> numbers;
        for (const QModelIndex& index : table->selectionModel()->selectedRows())
            numbers << index.data(StudyTrialsModel::TrialNumberRole).toLongLong();
        std::sort(numbers.begin(), numbers.end());
        return numbers;
    };
    view.upsertTrial(trial(5, TrialState::Complete, 0.5, {}));
    view.setSelectedTrials({5, 6});
    view.hidePrunedCheck()->setChecked(true);
    TrialRecord hidden = trial(6, TrialState::Pruned, 0.9, {});
    view.upsertTrial(hidden);
    QCOMPARE(selectedRows(), (QList<qint64>{5}));
    view.upsertTrial(trial(50, TrialState::Running, kNoValue, {}));
    hidden.state = TrialState::Complete;
    view.upsertTrial(hidden);
    QCOMPARE(selectedRows(), (QList<qint64>{5, 6}));
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{5, 6}));
}

void TestStudyView::brushingAnAxisSelectsTrialsInRange() {
    StudyView view;
    view.resize(1000, 800);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    const std::vector<TrialRecord> trials = syntheticTrials(60, 6, 3);
    view.setTrials(trials);
    view.plotTabs()->setCurrentWidget(view.parallelPlot());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    ParallelCoordinatesPlot* plot = view.parallelPlot();
    plot->grab();
    QCOMPARE(plot->axisCount(), int(kParameters.size()) + 1);
    QCOMPARE(plot->axis(1).categories, (QStringList{"adam", "rmsprop", "sgd"}));

    // Brush the learning rate axis between two gaps wide enough that pixel rounding cannot move a
    // trial across the brush's edge.
    std::vector<double> rates;
    for (const TrialRecord& t : trials) {
        if (t.state == TrialState::Complete)
            rates.push_back(t.params.at("optimizer.lr").toDouble());
    }
    std::sort(rates.begin(), rates.end());
    std::vector<double> cuts;
    for (size_t i = 1; i < rates.size(); ++i) {
        const double gap = plot->pointOnAxis(0, rates[i - 1]).y() - plot->pointOnAxis(0, rates[i]).y();
        if (gap > 8.0)
            cuts.push_back(std::sqrt(rates[i - 1] * rates[i]));
    }
    QVERIFY2(cuts.size() >= 2, "the synthetic study needs two wide gaps");
    const double low = cuts[cuts.size() / 4];
    const double high = cuts[cuts.size() * 3 / 4];
    QVERIFY(low < high);
    const QPoint from = plot->pointOnAxis(0, high).toPoint();
    const QPoint to = plot->pointOnAxis(0, low).toPoint();
    QTest::mousePress(plot, Qt::LeftButton, {}, from);
    QTest::mouseMove(plot, QPoint(from.x(), (from.y() + to.y()) / 2));
    QTest::mouseMove(plot, to);
    QTest::mouseRelease(plot, Qt::LeftButton, {}, to);

    std::vector<int64_t> expected;
    for (const TrialRecord& t : trials) {
        const double lr = t.params.at("optimizer.lr").toDouble();
        if (t.state == TrialState::Complete && lr >= low && lr <= high)
            expected.push_back(t.number);
    }
    QVERIFY(!expected.empty());
    QCOMPARE(view.selectedTrials(), expected);
    QCOMPARE(plot->brushes().size(), size_t(1));
    QVERIFY(view.tableView()->selectionModel()->selectedRows().size() == int(expected.size()));

    // A second brush on the optimizer type narrows the selection to adam.
    const QPoint adamTop = plot->pointOnAxis(1, 0.3).toPoint();
    const QPoint adamBottom = plot->pointOnAxis(1, -0.3).toPoint();
    QTest::mousePress(plot, Qt::LeftButton, {}, adamTop);
    QTest::mouseMove(plot, adamBottom);
    QTest::mouseRelease(plot, Qt::LeftButton, {}, adamBottom);
    std::vector<int64_t> adam;
    for (int64_t n : expected) {
        if (trials[static_cast<size_t>(n)].params.at("optimizer.type").json == "\"adam\"")
            adam.push_back(n);
    }
    QCOMPARE(view.selectedTrials(), adam);

    // Selecting in the table drops the brushes; clicking an axis without dragging removes its brush.
    view.setSelectedTrials({expected.front()});
    QVERIFY(plot->brushes().empty());
}

void TestStudyView::rubberBandSelectsDotsInBestSoFar() {
    StudyView view;
    view.resize(900, 700);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    const std::vector<TrialRecord> trials = syntheticTrials(80, 6, 4);
    view.setTrials(trials);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    BestSoFarPlot* plot = view.bestSoFarPlot();
    plot->grab();
    const QRect area = plot->plotArea().adjusted(-3, -3, 3, 3).toRect();
    QTest::mousePress(plot, Qt::LeftButton, {}, area.topLeft());
    QTest::mouseMove(plot, area.center());
    QTest::mouseMove(plot, area.bottomRight());
    QTest::mouseRelease(plot, Qt::LeftButton, {}, area.bottomRight());
    std::vector<int64_t> finished;
    for (const TrialRecord& t : trials) {
        if (t.state == TrialState::Complete || t.state == TrialState::Pruned)
            finished.push_back(t.number);
    }
    QCOMPARE(view.selectedTrials(), finished);

    // Clicking a dot selects that trial alone; clicking empty space clears.
    const qint64 best = view.trialsModel()->bestTrialNumber();
    QPoint bestPoint;
    for (int x = area.left(); x < area.right() && bestPoint.isNull(); ++x) {
        for (int y = area.top(); y < area.bottom(); ++y) {
            if (plot->trialAt(QPointF(x, y)) == best) {
                bestPoint = QPoint(x, y);
                break;
            }
        }
    }
    QVERIFY(!bestPoint.isNull());
    QTest::mouseClick(plot, Qt::LeftButton, {}, bestPoint);
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{best}));
    QTest::mouseClick(plot, Qt::LeftButton, {}, QPoint(2, 2));
    QVERIFY(view.selectedTrials().empty());
}

void TestStudyView::clickingACurveSelectsItsTrial() {
    StudyView view;
    view.resize(900, 700);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(syntheticTrials(40, 6, 9));
    view.plotTabs()->setCurrentWidget(view.curvesPlot());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    TrialCurvesPlot* plot = view.curvesPlot();
    plot->grab();
    // The best curve is drawn last, on top: find it in the column of its last epoch and click it.
    const qint64 best = view.trialsModel()->bestTrialNumber();
    const QRectF area = plot->plotArea();
    const int x = static_cast<int>(std::lround(area.left() + 6.0 / 6.5 * area.width()));
    QPoint onBest;
    for (int y = static_cast<int>(area.top()); y < area.bottom() && onBest.isNull(); ++y) {
        if (plot->trialAt(QPointF(x, y)) == best)
            onBest = QPoint(x, y);
    }
    QVERIFY(!onBest.isNull());
    QTest::mouseClick(plot, Qt::LeftButton, {}, onBest);
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{best}));
    QVERIFY(view.bestSoFarPlot()->isSelected(best));
    QCOMPARE(view.tableView()->selectionModel()->selectedRows().size(), 1);
    QVERIFY(plot->trialToolTip(best).contains(QStringLiteral("Trial %1").arg(best)));
}

void TestStudyView::importanceRanksDrivingParameterAboveNoise_data() {
    QTest::addColumn<QString>("driver");
    QTest::addColumn<bool>("maximize");
    QTest::newRow("log float drives") << "optimizer.lr" << false;
    QTest::newRow("categorical drives") << "optimizer.type" << false;
    QTest::newRow("integer drives, maximized") << "training.batch_size" << true;
}

void TestStudyView::importanceRanksDrivingParameterAboveNoise() {
    QFETCH(QString, driver);
    QFETCH(bool, maximize);
    std::mt19937_64 random(7);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const char* types[] = {"adam", "sgd", "rmsprop"};
    std::vector<TrialRecord> trials;
    for (int i = 0; i < 200; ++i) {
        const double lr = std::pow(10.0, -5.0 + 4.0 * unit(random));
        const int typeIndex = static_cast<int>(random() % 3);
        const double batch = std::pow(2.0, 4 + static_cast<int>(random() % 5));
        double signal = 0.0;
        if (driver == "optimizer.lr")
            signal = std::fabs(std::log10(lr) + 3.0);
        else if (driver == "optimizer.type")
            signal = typeIndex;
        else
            signal = std::log2(batch) - 4.0;
        const double value = signal + 0.2 * unit(random);
        Assignment params{{"optimizer.lr", number(lr)},
                          {"optimizer.type", text(types[typeIndex])},
                          {"training.batch_size", number(batch)},
                          {"model.dropout", number(unit(random))}};
        if (typeIndex == 1)
            params["optimizer.momentum"] = number(unit(random));
        trials.push_back(trial(i, i % 10 == 9 ? TrialState::Pruned : TrialState::Complete, value, params));
    }
    ObjectiveSpec objective;
    objective.direction = maximize ? ObjectiveDirection::Maximize : ObjectiveDirection::Minimize;
    const auto importance = parameterImportance(trials, kParameters, objective);
    QCOMPARE(importance.size(), kParameters.size());
    QCOMPARE(QString::fromStdString(importance.front().parameter), driver);
    double sum = 0.0;
    double noise = -1.0;
    for (const auto& entry : importance) {
        sum += entry.importance;
        QVERIFY(entry.importance >= 0.0);
        if (entry.parameter == "model.dropout")
            noise = entry.importance;
    }
    QVERIFY(std::fabs(sum - 1.0) < 1e-9);
    QVERIFY2(importance.front().importance > 0.6, qPrintable(QString::number(importance.front().importance)));
    QVERIFY(noise >= 0.0 && noise < 0.1);

    // A parameter that never varies explains nothing.
    for (auto& t : trials)
        t.params["model.dropout"] = number(0.5);
    for (const auto& entry : parameterImportance(trials, kParameters, objective)) {
        if (entry.parameter == "model.dropout")
            QCOMPARE(entry.importance, 0.0);
    }
    QVERIFY(parameterImportance({}, kParameters, objective).front().importance == 0.0);
}

void TestStudyView::bestSoFarFollowsTheObjective_data() {
    QTest::addColumn<bool>("maximize");
    QTest::addColumn<QList<double>>("expected");
    // Trials (number: state, value): 0: 5, 1: 7, 2: pruned 1, 3: 3, 4: failed, 5: 9, given out of order.
    QTest::newRow("minimize") << false << QList<double>{5, 5, 3, 3};
    QTest::newRow("maximize") << true << QList<double>{5, 7, 7, 9};
}

void TestStudyView::bestSoFarFollowsTheObjective() {
    QFETCH(bool, maximize);
    QFETCH(QList<double>, expected);
    ObjectiveSpec objective;
    objective.direction = maximize ? ObjectiveDirection::Maximize : ObjectiveDirection::Minimize;
    const std::vector<TrialRecord> trials = {
        trial(3, TrialState::Complete, 3.0, {}),    trial(0, TrialState::Complete, 5.0, {}),
        trial(2, TrialState::Pruned, 1.0, {}),      trial(1, TrialState::Complete, 7.0, {}),
        trial(4, TrialState::Failed, kNoValue, {}), trial(5, TrialState::Complete, 9.0, {})};
    const auto best = bestSoFar(trials, objective);
    QCOMPARE(best.size(), size_t(expected.size()));
    const std::vector<int64_t> numbers = {0, 1, 3, 5};
    for (size_t i = 0; i < best.size(); ++i) {
        QCOMPARE(best[i].first, numbers[i]);
        QCOMPARE(best[i].second, expected[static_cast<qsizetype>(i)]);
    }
}

void TestStudyView::contourHandlesCategoricalAxis() {
    StudyView view;
    view.resize(900, 700);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    const std::vector<TrialRecord> trials = syntheticTrials(120, 6, 5);
    view.setTrials(trials);
    view.plotTabs()->setCurrentIndex(3);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    // The default is the contour of the first two parameters.
    QCOMPARE(view.contourPlot()->xParameter(), std::string("optimizer.lr"));
    QCOMPARE(view.contourPlot()->yParameter(), std::string("optimizer.type"));
    view.contourXCombo()->setCurrentText("optimizer.type");
    view.contourYCombo()->setCurrentText("optimizer.lr");
    ContourPlot* plot = view.contourPlot();
    const QImage image = plot->grab().toImage();
    QVERIFY(!image.isNull());
    QVERIFY(plot->xAxis().isCategorical());
    QCOMPARE(plot->xAxis().categories, (QStringList{"adam", "rmsprop", "sgd"}));
    QVERIFY(plot->yAxis().log);
    int complete = 0;
    for (const TrialRecord& t : trials)
        complete += t.state == TrialState::Complete;
    QCOMPARE(plot->drawnTrialCount(), complete);
    // Every dot of a choice sits in that choice's column.
    for (const TrialRecord& t : trials) {
        if (t.state != TrialState::Complete)
            continue;
        const QPointF centre =
            QPointF(plot->plotArea().left() +
                        plot->xAxis().toUnit(plot->xAxis().coordinateOf(t.params, "optimizer.type")) *
                            plot->plotArea().width(),
                    0);
        const QList<qint64> column = plot->trialsIn(
            QRectF(centre.x() - plot->plotArea().width() / 6, 0, plot->plotArea().width() / 3, 10000));
        QVERIFY(column.contains(t.number));
    }
    // The slice: the objective on Y, the momentum (sgd only) on X draws only trials that set it.
    view.contourYCombo()->setCurrentIndex(0);
    view.contourXCombo()->setCurrentText("optimizer.momentum");
    plot->grab();
    QVERIFY(plot->yParameter().empty());
    int withMomentum = 0;
    for (const TrialRecord& t : trials)
        withMomentum += t.state == TrialState::Complete && t.params.count("optimizer.momentum");
    QCOMPARE(plot->drawnTrialCount(), withMomentum);
}

void TestStudyView::exportsTheVisibleTrialsAsCsv() {
    StudyView view;
    view.setStudy({"optimizer.lr", "optimizer.type", "note"}, minimizeLoss(), {"optimizer.lr"});
    TrialRecord first = trial(0, TrialState::Complete, 0.123456789012345,
                              {{"optimizer.lr", ParamValue{"0.00012345678901234"}},
                               {"optimizer.type", ParamValue{"\"sgd\""}},
                               {"note", ParamValue{"\"a, \\\"quoted\\\" note\""}}});
    first.startedAt = 100.0;
    first.finishedAt = 102.5;
    first.intermediate = {{1, 0.5}, {2, 0.123456789012345}};
    TrialRecord pruned = trial(1, TrialState::Pruned, 0.9, {{"optimizer.type", ParamValue{"\"adam\""}}});
    pruned.prunedEpoch = 1;
    pruned.message = "pruned at epoch 1";
    view.setTrials({first, pruned});

    const QStringList lines = view.visibleTrialsCsv().trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0],
             QStringLiteral(
                 "number,state,val_loss,epoch,duration_seconds,optimizer.lr,optimizer.type,note,message"));
    // Every digit, strings unquoted, CSV quoting where a field needs it.
    QCOMPARE(lines[1],
             QStringLiteral(
                 "0,complete,0.123456789012345,2,2.5,0.00012345678901234,sgd,\"a, \"\"quoted\"\" note\","));
    // A parameter that did not apply leaves its cell empty.
    QVERIFY2(lines[2].startsWith(QStringLiteral("1,pruned,0.9,1,,,adam,,pruned at epoch 1")),
             qPrintable(lines[2]));

    // Only what the table shows, in its order.
    view.hidePrunedCheck()->setChecked(true);
    QCOMPARE(view.visibleTrialsCsv().trimmed().split(QLatin1Char('\n')).size(), 2);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("trials.csv"));
    QString error;
    QVERIFY2(view.exportTrialsCsv(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(file.readAll()), view.visibleTrialsCsv());
    QVERIFY(!view.exportTrialsCsv(dir.filePath(QStringLiteral("missing/trials.csv")), &error));
    QVERIFY(error.contains(QStringLiteral("missing/trials.csv")));
}

void TestStudyView::bestButtonsFollowCompleteTrials() {
    StudyView view;
    view.setStudy({"optimizer.lr"}, minimizeLoss());
    view.setTrials({trial(0, TrialState::Running, kNoValue, {{"optimizer.lr", number(0.1)}})});
    view.flush();
    QVERIFY(!view.exportBestButton()->isEnabled());
    QVERIFY(!view.openBestButton()->isEnabled());
    view.upsertTrial(trial(0, TrialState::Complete, 0.5, {{"optimizer.lr", number(0.1)}}));
    view.upsertTrial(trial(1, TrialState::Complete, 0.25, {{"optimizer.lr", number(0.01)}}));
    view.flush();
    QVERIFY(view.exportBestButton()->isEnabled());
    QSignalSpy exports(&view, &StudyView::exportBestRequested);
    QSignalSpy opens(&view, &StudyView::openBestRequested);
    QTest::mouseClick(view.exportBestButton(), Qt::LeftButton);
    QTest::mouseClick(view.openBestButton(), Qt::LeftButton);
    QCOMPARE(exports.count(), 1);
    QCOMPARE(opens.count(), 1);
    QCOMPARE(opens.front().front().toLongLong(), qint64(1));
    QVERIFY(view.summaryLabel()->text().contains(QStringLiteral("best #1")));
}

void TestStudyView::liveUpdatesCoalesceIntoFrames() {
    StudyView view;
    view.resize(800, 600);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    std::vector<TrialRecord> trials = syntheticTrials(100, 10, 6);
    view.setTrials(trials);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    const int framesBefore = view.frameCount();
    const int rendersBefore = view.bestSoFarPlot()->renderCount();
    for (int i = 0; i < 25; ++i) {
        TrialRecord next = trials[static_cast<size_t>(i)];
        next.state = TrialState::Complete;
        next.value = 0.01 * (i + 1);
        view.upsertTrial(next);
        view.addIntermediate(next.number, 11, next.value);
    }
    QCOMPARE(view.frameCount(), framesBefore);
    QTRY_COMPARE(view.frameCount(), framesBefore + 1);
    QTRY_VERIFY(view.bestSoFarPlot()->renderCount() > rendersBefore);
    QTest::qWait(3 * StudyView::kFrameIntervalMs);
    QCOMPARE(view.frameCount(), framesBefore + 1);
    QCOMPARE(view.trialsModel()->bestTrialNumber(), qint64(0));
}

void TestStudyView::twoThousandTrialsStayFast() {
    StudyView view;
    view.resize(1200, 800);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    std::vector<TrialRecord> trials = syntheticTrials(2000, 20, 8);
    QElapsedTimer timer;
    timer.start();
    view.setTrials(trials);
    view.flush();
    for (int tab = 0; tab < view.plotTabs()->count(); ++tab) {
        view.plotTabs()->setCurrentIndex(tab);
        view.plotTabs()->currentWidget()->grab();
    }
    const qint64 buildMs = timer.elapsed();
    QVERIFY2(buildMs < 4000, qPrintable(QStringLiteral("building took %1 ms").arg(buildMs)));

    timer.restart();
    std::vector<int64_t> selection;
    for (int64_t n = 0; n < 2000; n += 3)
        selection.push_back(n);
    view.setSelectedTrials(selection);
    for (int tab = 0; tab < view.plotTabs()->count(); ++tab) {
        view.plotTabs()->setCurrentIndex(tab);
        view.plotTabs()->currentWidget()->grab();
    }
    const qint64 selectMs = timer.elapsed();
    QVERIFY2(selectMs < 2000, qPrintable(QStringLiteral("selecting took %1 ms").arg(selectMs)));
    QCOMPARE(view.tableView()->selectionModel()->selectedRows().size(), int(selection.size()));
}

QTEST_MAIN(TestStudyView)
#include "tst_study_view.moc"
