// The study view of a study with several objectives: one table column per objective and the
// Pareto column, the Pareto front tab (a scatter plot of two objectives, parallel coordinates of
// three), the hypervolume in the history tab's place, and "Export" / "Open" on a chosen front trial.
// A study with one objective shows none of it.

#include "study_view_test_support.h"

#include "study/pareto_results.h"

#include <QStackedWidget>
#include <QTabBar>

using namespace tunelab;
using namespace tunelab::test;

namespace {

ObjectiveSpec objectiveOf(const std::string& metric, ObjectiveDirection direction,
                          const std::string& name = {}) {
    ObjectiveSpec objective;
    objective.metric = metric;
    objective.direction = direction;
    objective.name = name;
    return objective;
}

// Loss (minimized), accuracy (maximized, named) and, for three, seconds (minimized).
std::vector<ObjectiveSpec> objectivesOf(int count) {
    std::vector<ObjectiveSpec> objectives{
        objectiveOf("val_loss", ObjectiveDirection::Minimize),
        objectiveOf("val_accuracy", ObjectiveDirection::Maximize, "accuracy")};
    if (count >= 3)
        objectives.push_back(objectiveOf("train_seconds", ObjectiveDirection::Minimize));
    return objectives;
}

// Trials that trade loss against accuracy (and time): a larger network (`size`) has a higher loss
// but a better accuracy and trains faster. Every objective has its own noise, so a few trials are
// on the front and most are not. About 85% complete, the rest failed or running (no values).
std::vector<TrialRecord> tradeOffTrials(int count, int objectives, uint64_t seed) {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<TrialRecord> trials;
    for (int i = 0; i < count; ++i) {
        const double size = unit(random);
        TrialRecord record = trial(i, TrialState::Complete, kNoValue,
                                   {{"model.width", number(std::round(16 + 240 * size))},
                                    {"optimizer.lr", number(std::pow(10.0, -4.0 + 3.0 * unit(random)))}});
        const double roll = unit(random);
        record.state = roll < 0.85   ? TrialState::Complete
                       : roll < 0.95 ? TrialState::Failed
                                     : TrialState::Running;
        if (record.state == TrialState::Complete) {
            record.value = 0.1 + size + 0.4 * unit(random);
            record.moreValues.push_back(0.5 + 0.4 * size - 0.3 * unit(random));
            if (objectives >= 3)
                record.moreValues.push_back(10.0 + 30.0 * (1.0 - size) + 20.0 * unit(random));
        }
        record.intermediate = {{1, 2.0}, {2, 1.0 + size}};
        trials.push_back(std::move(record));
    }
    return trials;
}

QSet<qint64> frontOf(const std::vector<ObjectiveSpec>& objectives, const std::vector<TrialRecord>& trials) {
    QSet<qint64> numbers;
    for (const TrialRecord& record : paretoTrials(objectives, trials))
        numbers.insert(record.number);
    return numbers;
}

QStringList tabTitles(const QTabWidget* tabs) {
    QStringList titles;
    for (int i = 0; i < tabs->count(); ++i)
        titles << tabs->tabText(i);
    return titles;
}

} // namespace

class TestStudyParetoView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tableHasAColumnPerObjective();
    void sortsByEachObjective_data();
    void sortsByEachObjective();
    void frontMarkerMatchesParetoTrials();
    void clickingAFrontDotSelectsItsTrial();
    void buttonsActOnTheChosenFrontTrial();
    void threeObjectivesShowParallelCoordinates();
    void hypervolumeCurveNeverFalls();
    void singleObjectiveHasNoParetoTab();
    void twoThousandTrialsStayFast_data();
    void twoThousandTrialsStayFast();
    void paretoTabScreenshotIsDrawn();
};

void TestStudyParetoView::tableHasAColumnPerObjective() {
    StudyTrialsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({"model.width", "optimizer.lr"}, objectivesOf(2), {"optimizer.lr"});
    TrialRecord first = trial(0, TrialState::Complete, 0.25, {{"model.width", number(64)}});
    first.moreValues = {0.875};
    first.startedAt = 10.0;
    first.finishedAt = 14.0;
    first.intermediate = {{1, 0.5}, {3, 0.25}};
    const TrialRecord failed = trial(1, TrialState::Failed, kNoValue, {{"model.width", number(32)}});
    model.setTrials({first, failed});

    QCOMPARE(model.objectiveCount(), 2);
    // Number, state, two objectives, Pareto, epoch, duration and two parameters.
    QCOMPARE(model.columnCount(), 9);
    QStringList headers;
    for (int column = 0; column < model.columnCount(); ++column)
        headers << model.headerData(column, Qt::Horizontal).toString();
    QCOMPARE(headers, (QStringList{"#", "State", "val_loss", "accuracy", "Pareto", "Epoch", "Duration",
                                   "model.width", "optimizer.lr"}));
    QCOMPARE(model.objectiveColumn(1), 3);
    QCOMPARE(model.paretoColumn(), 4);
    QCOMPARE(model.firstParameterColumn(), 7);
    QCOMPARE(model.index(0, 2).data().toString(), QStringLiteral("0.25"));
    QCOMPARE(model.index(0, 3).data().toString(), QStringLiteral("0.875"));
    QCOMPARE(model.index(0, model.paretoColumn()).data().toString(), QStringLiteral("★"));
    QCOMPARE(model.index(0, model.epochColumn()).data().toString(), QStringLiteral("3"));
    QCOMPARE(model.index(0, model.durationColumn()).data().toString(), QStringLiteral("4.0 s"));
    QCOMPARE(model.index(1, 3).data().toString(), QString());
    QCOMPARE(model.index(1, model.paretoColumn()).data().toString(), QString());
    QVERIFY(model.headerData(3, Qt::Horizontal, Qt::ToolTipRole).toString().contains("maximize"));

    // The CSV has every objective, by label, and whether the trial is on the front.
    const QStringList lines = model.toCsv({0, 1}).trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0], QStringLiteral("number,state,val_loss,accuracy,pareto_front,epoch,duration_seconds,"
                                      "model.width,optimizer.lr,message"));
    QCOMPARE(lines[1], QStringLiteral("0,complete,0.25,0.875,true,3,4,64,,"));
    QCOMPARE(lines[2], QStringLiteral("1,failed,,,false,,,32,,"));

    // Back to one objective: the columns of before.
    model.setStudy({"model.width"}, minimizeLoss());
    QCOMPARE(model.columnCount(), StudyTrialsModel::FirstParameterColumn + 1);
    QCOMPARE(model.paretoColumn(), -1);
    QCOMPARE(model.epochColumn(), int(StudyTrialsModel::EpochColumn));
}

void TestStudyParetoView::sortsByEachObjective_data() {
    QTest::addColumn<int>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QList<qint64>>("expected");
    // Trials (number: loss, accuracy): 0: 0.3, 0.6; 1: 0.1, 0.5; 2: failed; 3: 0.2, 0.9; 4: 0.4, 0.7.
    // The front: 1 (least loss), 3 (most accuracy); 0 and 4 are dominated by 3.
    QTest::newRow("loss ascending") << 2 << int(Qt::AscendingOrder) << QList<qint64>{1, 3, 0, 4, 2};
    QTest::newRow("accuracy descending") << 3 << int(Qt::DescendingOrder) << QList<qint64>{3, 4, 0, 1, 2};
    // Sorting by the Pareto column puts the front first in either order (the rest are empty cells),
    // ties in row order reversed when descending, like any column.
    QTest::newRow("front first") << 4 << int(Qt::AscendingOrder) << QList<qint64>{1, 3};
    QTest::newRow("front first, descending") << 4 << int(Qt::DescendingOrder) << QList<qint64>{3, 1};
}

void TestStudyParetoView::sortsByEachObjective() {
    QFETCH(int, column);
    QFETCH(int, order);
    QFETCH(QList<qint64>, expected);
    StudyTrialsModel model;
    StudyTrialsProxyModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({}, objectivesOf(2));
    std::vector<TrialRecord> trials;
    const std::vector<std::pair<double, double>> values = {
        {0.3, 0.6}, {0.1, 0.5}, {kNoValue, kNoValue}, {0.2, 0.9}, {0.4, 0.7}};
    for (size_t i = 0; i < values.size(); ++i) {
        TrialRecord record = trial(static_cast<int64_t>(i),
                                   std::isfinite(values[i].first) ? TrialState::Complete : TrialState::Failed,
                                   values[i].first, {});
        if (std::isfinite(values[i].second))
            record.moreValues = {values[i].second};
        trials.push_back(record);
    }
    model.setTrials(trials);
    QCOMPARE(model.paretoFront(), (QSet<qint64>{1, 3}));
    proxy.sort(column, static_cast<Qt::SortOrder>(order));
    QCOMPARE(trialNumbersInOrder(proxy).mid(0, expected.size()), expected);
}

void TestStudyParetoView::frontMarkerMatchesParetoTrials() {
    StudyView view;
    const std::vector<ObjectiveSpec> objectives = objectivesOf(2);
    view.setStudy({"model.width", "optimizer.lr"}, objectives, {"optimizer.lr"});
    std::vector<TrialRecord> trials = tradeOffTrials(120, 2, 11);
    view.setTrials(trials);
    StudyTrialsModel* model = view.trialsModel();
    QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSet<qint64> expected = frontOf(objectives, trials);
    QVERIFY2(expected.size() >= 3 && expected.size() < 40, qPrintable(QString::number(expected.size())));
    QCOMPARE(model->paretoFront(), expected);
    for (int row = 0; row < model->rowCount(); ++row) {
        const qint64 number = model->trialAt(row).number;
        const bool onFront = expected.contains(number);
        QCOMPARE(model->index(row, model->paretoColumn()).data().toString(),
                 onFront ? QStringLiteral("★") : QString());
        QCOMPARE(model->index(row, 0).data(Qt::FontRole).value<QFont>().bold(), onFront);
    }

    // A live trial better in both objectives than the whole front takes its place alone.
    QSignalSpy frontChanges(model, &StudyTrialsModel::paretoFrontChanged);
    QSignalSpy resets(model, &QAbstractItemModel::modelReset);
    TrialRecord dominant = trial(120, TrialState::Complete, 0.0, {{"model.width", number(16)}});
    dominant.moreValues = {1.0};
    view.upsertTrial(dominant);
    trials.push_back(dominant);
    QCOMPARE(model->paretoFront(), frontOf(objectives, trials));
    QCOMPARE(model->paretoFront(), (QSet<qint64>{120}));
    QCOMPARE(frontChanges.count(), 1);
    QCOMPARE(resets.count(), 0);
    const int formerRow = model->rowOfTrial(*expected.begin());
    QCOMPARE(model->index(formerRow, model->paretoColumn()).data().toString(), QString());
    view.flush();
    QCOMPARE(view.summaryLabel()->text().section(QStringLiteral(" · "), -1),
             QStringLiteral("Pareto front: 1 trial of %1")
                 .arg(std::count_if(trials.begin(), trials.end(),
                                    [](const TrialRecord& t) { return t.state == TrialState::Complete; })));
    // A running trial cannot change the front.
    view.upsertTrial(trial(121, TrialState::Running, kNoValue, {}));
    QCOMPARE(frontChanges.count(), 1);
}

void TestStudyParetoView::clickingAFrontDotSelectsItsTrial() {
    StudyView view;
    view.resize(900, 700);
    const std::vector<ObjectiveSpec> objectives = objectivesOf(2);
    view.setStudy({"model.width", "optimizer.lr"}, objectives, {"optimizer.lr"});
    const std::vector<TrialRecord> trials = tradeOffTrials(150, 2, 12);
    view.setTrials(trials);
    QTabWidget* tabs = view.plotTabs();
    QCOMPARE(tabs->tabText(0), QStringLiteral("Pareto front"));
    QCOMPARE(tabs->currentWidget(), view.paretoTab());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    ParetoFrontPlot* plot = view.paretoPlot();
    QVERIFY(plot->isVisible());
    plot->grab();
    QCOMPARE(plot->xAxis().title, QStringLiteral("val_loss (minimize)"));
    QCOMPARE(plot->yAxis().title, QStringLiteral("accuracy (maximize)"));
    const int complete = int(std::count_if(
        trials.begin(), trials.end(), [](const TrialRecord& t) { return t.state == TrialState::Complete; }));
    QCOMPARE(plot->drawnTrialCount(), complete);

    // Every front trial's dot is where the click finds it.
    const QSet<qint64> front = frontOf(objectives, trials);
    for (const qint64 number : front) {
        QPointF dot;
        QVERIFY(plot->dotOf(number, &dot));
        QCOMPARE(plot->trialAt(dot), number);
    }
    const qint64 chosen = *std::min_element(front.begin(), front.end());
    QPointF dot;
    QVERIFY(plot->dotOf(chosen, &dot));
    QTest::mouseClick(plot, Qt::LeftButton, {}, dot.toPoint());
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{chosen}));
    const QModelIndexList rows = view.tableView()->selectionModel()->selectedRows();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.front().data(StudyTrialsModel::TrialNumberRole).toLongLong(), chosen);
    QVERIFY(plot->isSelected(chosen));
    QVERIFY(view.parallelPlot()->isSelected(chosen));

    // Hovering names the trial and its value of each objective.
    const QString hover = plot->trialToolTip(chosen);
    QVERIFY2(hover.contains(QStringLiteral("Trial %1").arg(chosen)) && hover.contains("val_loss") &&
                 hover.contains("accuracy") && hover.contains("Pareto front"),
             qPrintable(hover));

    // Rows selected in the table are highlighted in the plot; a rubber band selects every dot in it.
    view.setSelectedTrials({});
    QVERIFY(!plot->isSelected(chosen));
    view.tableView()->selectRow(
        view.proxyModel()
            ->mapFromSource(view.trialsModel()->index(view.trialsModel()->rowOfTrial(chosen), 0))
            .row());
    QVERIFY(plot->isSelected(chosen));
    const QRect area = plot->plotArea().adjusted(-6, -6, 6, 6).toRect();
    QTest::mousePress(plot, Qt::LeftButton, {}, area.topLeft());
    QTest::mouseMove(plot, area.center());
    QTest::mouseMove(plot, area.bottomRight());
    QTest::mouseRelease(plot, Qt::LeftButton, {}, area.bottomRight());
    QCOMPARE(int(view.selectedTrials().size()), complete);
}

void TestStudyParetoView::buttonsActOnTheChosenFrontTrial() {
    StudyView view;
    const std::vector<ObjectiveSpec> objectives = objectivesOf(2);
    view.setStudy({"model.width"}, objectives);
    const std::vector<TrialRecord> trials = tradeOffTrials(60, 2, 13);
    view.setTrials(trials);
    view.flush();
    // Nothing chosen: both disabled, saying what to do.
    QVERIFY(!view.exportBestButton()->isEnabled());
    QVERIFY(!view.openBestButton()->isEnabled());
    QVERIFY2(view.exportBestButton()->toolTip().contains(QStringLiteral("Pareto front")),
             qPrintable(view.exportBestButton()->toolTip()));

    const QSet<qint64> front = frontOf(objectives, trials);
    qint64 dominated = -1;
    for (const TrialRecord& t : trials) {
        if (t.state == TrialState::Complete && !front.contains(t.number)) {
            dominated = t.number;
            break;
        }
    }
    QVERIFY(dominated >= 0);
    view.setSelectedTrials({dominated});
    QVERIFY(!view.exportBestButton()->isEnabled());
    QCOMPARE(view.chosenFrontTrial(), int64_t(-1));

    const qint64 chosen = *front.begin();
    view.setSelectedTrials({chosen, dominated}); // one front trial among the selected: that one
    QCOMPARE(view.chosenFrontTrial(), int64_t(chosen));
    QVERIFY(view.exportBestButton()->isEnabled());
    QVERIFY(view.openBestButton()->isEnabled());
    QSignalSpy exports(&view, &StudyView::exportTrialRequested);
    QSignalSpy bestExports(&view, &StudyView::exportBestRequested);
    QSignalSpy opens(&view, &StudyView::openBestRequested);
    QTest::mouseClick(view.exportBestButton(), Qt::LeftButton);
    QTest::mouseClick(view.openBestButton(), Qt::LeftButton);
    QCOMPARE(exports.count(), 1);
    QCOMPARE(exports.front().front().toLongLong(), chosen);
    QCOMPARE(bestExports.count(), 0);
    QCOMPARE(opens.count(), 1);
    QCOMPARE(opens.front().front().toLongLong(), chosen);

    // Two trials of the front: which one is meant is unclear, so neither.
    if (front.size() >= 2) {
        std::vector<int64_t> two(front.begin(), front.end());
        two.resize(2);
        view.setSelectedTrials(two);
        QVERIFY(!view.exportBestButton()->isEnabled());
    }
}

void TestStudyParetoView::threeObjectivesShowParallelCoordinates() {
    StudyView view;
    view.resize(900, 700);
    const std::vector<ObjectiveSpec> objectives = objectivesOf(3);
    view.setStudy({"model.width", "optimizer.lr"}, objectives, {"optimizer.lr"});
    const std::vector<TrialRecord> trials = tradeOffTrials(100, 3, 14);
    view.setTrials(trials);
    QCOMPARE(view.plotTabs()->tabText(0), QStringLiteral("Pareto front"));
    auto* stack = qobject_cast<QStackedWidget*>(view.paretoTab());
    QVERIFY(stack);
    QCOMPARE(stack->currentWidget(), view.paretoParallelPlot());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    ParallelCoordinatesPlot* plot = view.paretoParallelPlot();
    QVERIFY(plot->isVisible());
    QVERIFY(!view.paretoPlot()->isVisible());
    plot->grab();
    QCOMPARE(plot->axisCount(), 3);
    QCOMPARE(plot->axis(0).title, QStringLiteral("val_loss (minimize)"));
    QCOMPARE(plot->axis(1).title, QStringLiteral("accuracy (maximize)"));
    QCOMPARE(plot->axis(2).title, QStringLiteral("train_seconds (minimize)"));
    QCOMPARE(view.trialsModel()->paretoFront(), frontOf(objectives, trials));
    // Number, state, three objectives, Pareto, epoch, duration and two parameters.
    QCOMPARE(view.trialsModel()->columnCount(), 10);

    // Brushing the first objective's axis selects the trials in that range, everywhere.
    const QPoint top = plot->pointOnAxis(0, plot->axis(0).fromUnit(0.999)).toPoint();
    const QPoint middle = plot->pointOnAxis(0, plot->axis(0).fromUnit(0.5)).toPoint();
    QTest::mousePress(plot, Qt::LeftButton, {}, middle);
    QTest::mouseMove(plot, QPoint(middle.x(), (middle.y() + top.y()) / 2));
    QTest::mouseMove(plot, top);
    QTest::mouseRelease(plot, Qt::LeftButton, {}, top);
    const auto brush = plot->brushes().at(0);
    std::vector<int64_t> expected;
    for (const TrialRecord& t : trials) {
        if (t.state == TrialState::Complete && t.value >= brush.first && t.value <= brush.second)
            expected.push_back(t.number);
    }
    QVERIFY(!expected.empty());
    QCOMPARE(view.selectedTrials(), expected);
    QVERIFY(view.parallelPlot()->brushes().empty()); // the other parallel plot keeps no brush
}

void TestStudyParetoView::hypervolumeCurveNeverFalls() {
    StudyView view;
    view.resize(900, 700);
    const std::vector<ObjectiveSpec> objectives = objectivesOf(2);
    view.setStudy({"model.width"}, objectives);
    const std::vector<TrialRecord> trials = tradeOffTrials(120, 2, 15);
    view.setTrials(trials);
    QCOMPARE(tabTitles(view.plotTabs()).mid(0, 3),
             (QStringList{"Pareto front", "Hypervolume", "Trial curves"}));
    QCOMPARE(view.plotTabs()->indexOf(view.bestSoFarPlot()), -1);
    view.plotTabs()->setCurrentWidget(view.hypervolumePlot());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    HypervolumePlot* plot = view.hypervolumePlot();
    plot->grab();
    const auto& history = plot->history();
    const int finished = int(
        std::count_if(trials.begin(), trials.end(), [](const TrialRecord& t) { return isFinal(t.state); }));
    QCOMPARE(int(history.size()), finished);
    QCOMPARE(history.back().finished, int64_t(finished));
    QVERIFY(history.back().hypervolume > 0.0);
    for (size_t i = 1; i < history.size(); ++i)
        QVERIFY2(history[i].hypervolume >= history[i - 1].hypervolume, qPrintable(QString::number(i)));
    QCOMPARE(plot->reference(), hypervolumeReference(objectives, trials));
    QVERIFY2(plot->referenceText().startsWith(QStringLiteral("val_loss ")) &&
                 plot->referenceText().contains(QStringLiteral(", accuracy ")),
             qPrintable(plot->referenceText()));

    // A dot of the curve selects the trial that finished there.
    const QRect area = plot->plotArea().adjusted(-4, -4, 4, 4).toRect();
    qint64 found = -1;
    QPoint at;
    for (int x = area.right(); x > area.left() && found < 0; --x) {
        for (int y = area.top(); y < area.bottom(); ++y) {
            if ((found = plot->trialAt(QPointF(x, y))) >= 0) {
                at = QPoint(x, y);
                break;
            }
        }
    }
    QVERIFY(found >= 0);
    QTest::mouseClick(plot, Qt::LeftButton, {}, at);
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{found}));
}

void TestStudyParetoView::singleObjectiveHasNoParetoTab() {
    StudyView view;
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(syntheticTrials(40, 6, 16));
    const QStringList single = {"History", "Trial curves", "Parallel coordinates", "Contour / slice",
                                "Importance"};
    QCOMPARE(tabTitles(view.plotTabs()), single);
    QCOMPARE(view.plotTabs()->indexOf(view.paretoTab()), -1);
    QVERIFY(view.trialsModel()->paretoFront().isEmpty());
    QCOMPARE(view.trialsModel()->paretoColumn(), -1);
    view.flush();
    QVERIFY(view.summaryLabel()->text().contains(QStringLiteral("best #")));
    QVERIFY(!view.summaryLabel()->text().contains(QStringLiteral("Pareto")));

    // Several objectives bring the tab; one objective again takes it away, leaving the tabs of before.
    view.setStudy({"model.width"}, objectivesOf(2));
    QCOMPARE(view.plotTabs()->indexOf(view.paretoTab()), 0);
    view.plotTabs()->setCurrentIndex(1);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    QCOMPARE(tabTitles(view.plotTabs()), single);
    QCOMPARE(view.plotTabs()->currentWidget(), view.bestSoFarPlot());
}

void TestStudyParetoView::twoThousandTrialsStayFast_data() {
    QTest::addColumn<int>("objectives");
    QTest::newRow("two objectives") << 2;
    QTest::newRow("three objectives") << 3;
}

// Every tab drawn once, then trials completing live: the front is recomputed per completed trial,
// the pictures once per frame.
void TestStudyParetoView::twoThousandTrialsStayFast() {
    QFETCH(int, objectives);
    StudyView view;
    view.resize(1200, 800);
    view.setStudy({"model.width", "optimizer.lr"}, objectivesOf(objectives), {"optimizer.lr"});
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    std::vector<TrialRecord> trials = tradeOffTrials(2000, objectives, 18);
    QElapsedTimer timer;
    timer.start();
    view.setTrials(trials);
    view.flush();
    for (int tab = 0; tab < view.plotTabs()->count(); ++tab) {
        view.plotTabs()->setCurrentIndex(tab);
        view.plotTabs()->currentWidget()->grab();
    }
    const qint64 buildMs = timer.elapsed();
    QVERIFY2(buildMs < 20000, qPrintable(QStringLiteral("building took %1 ms").arg(buildMs)));

    timer.restart();
    std::mt19937_64 random(19);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int i = 0; i < 50; ++i) {
        TrialRecord next = trial(2000 + i, TrialState::Complete, 0.1 + unit(random), {});
        next.moreValues.assign(static_cast<size_t>(objectives - 1), 0.5 + 0.4 * unit(random));
        view.upsertTrial(next);
    }
    view.plotTabs()->setCurrentWidget(view.paretoTab());
    view.flush();
    view.paretoTab()->grab();
    const qint64 liveMs = timer.elapsed();
    QVERIFY2(liveMs < 10000, qPrintable(QStringLiteral("50 live trials took %1 ms").arg(liveMs)));
}

// The Pareto tab drawn into a picture: dots of two colours and the front's line. With
// TUNELAB_SCREENSHOT_DIR set, the pictures (the tab, the hypervolume tab and the whole view with a
// front trial chosen) are saved there to look at.
void TestStudyParetoView::paretoTabScreenshotIsDrawn() {
    const QString folder = qEnvironmentVariable("TUNELAB_SCREENSHOT_DIR");
    auto colourCount = [](const QImage& image) {
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 3) {
            for (int x = 0; x < image.width(); x += 3)
                colours.insert(image.pixel(x, y));
        }
        return colours.size();
    };
    for (const int count : {2, 3}) {
        StudyView view;
        view.resize(960, 720);
        view.setStudy({"model.width", "optimizer.lr"}, objectivesOf(count), {"optimizer.lr"});
        view.setTrials(tradeOffTrials(200, count, 17));
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.flush();
        const QImage tab = view.paretoTab()->grab().toImage();
        QVERIFY2(colourCount(tab) > 20, qPrintable(QString::number(colourCount(tab))));
        const QString suffix = QStringLiteral("_%1_objectives.png").arg(count);
        if (!folder.isEmpty())
            QVERIFY(tab.save(folder + QStringLiteral("/study_pareto_tab") + suffix));
        view.plotTabs()->setCurrentWidget(view.hypervolumePlot());
        const QImage hypervolume = view.hypervolumePlot()->grab().toImage();
        QVERIFY(colourCount(hypervolume) > 5);
        view.plotTabs()->setCurrentWidget(view.paretoTab());
        view.setSelectedTrials({*view.trialsModel()->paretoFront().begin()});
        QTest::qWait(20); // the buttons' new texts are laid out
        if (!folder.isEmpty()) {
            QVERIFY(hypervolume.save(folder + QStringLiteral("/study_hypervolume") + suffix));
            QVERIFY(view.grab().save(folder + QStringLiteral("/study_pareto_view") + suffix));
        }
    }
}

QTEST_MAIN(TestStudyParetoView)
#include "tst_study_pareto_view.moc"
