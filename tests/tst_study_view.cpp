// The study view: the linked selection between the table and the plots (brushing, rubber band,
// clicking a curve), parameter importance, the best-so-far curve, the contour view's categorical
// axes, the best-trial buttons, live updates and that 2,000 trials stay fast. The trials table model
// has its own suite, tst_study_trials_model.

#include "study_view_test_support.h"

#include <QLabel>

using namespace tunelab;
using namespace tunelab::test;

class TestStudyView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void tableSelectionReachesPlotsAndBack();
    void brushingAnAxisSelectsTrialsInRange();
    void rubberBandSelectsDotsInBestSoFar();
    void clickingACurveSelectsItsTrial();
    void importanceRanksDrivingParameterAboveNoise_data();
    void importanceRanksDrivingParameterAboveNoise();
    void importanceUsesPrunedTrialsWhenTooFewCompleted();
    void bestSoFarFollowsTheObjective_data();
    void bestSoFarFollowsTheObjective();
    void contourHandlesCategoricalAxis();
    void bestButtonsFollowCompleteTrials();
    void liveUpdatesCoalesceIntoFrames();
    void twoThousandTrialsStayFast();
};

void TestStudyView::tableSelectionReachesPlotsAndBack() {
    StudyView view;
    view.resize(900, 700);
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(syntheticTrials(50, 8, 2));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy changed(&view, &StudyView::selectionChanged);
    // The counts read in full above the plots, even in a narrow panel.
    auto* summary = view.findChild<QLabel*>(QStringLiteral("studySummary"));
    QVERIFY(summary && !summary->text().isEmpty());
    view.resize(420, 700);
    QTest::qWait(20);
    const QRect needed =
        summary->fontMetrics().boundingRect(summary->contentsRect(), Qt::TextWordWrap, summary->text());
    QVERIFY2(summary->contentsRect().height() >= needed.height() && summary->width() <= view.width(),
             qPrintable(summary->text()));
    view.resize(900, 700);

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

// The small study: 1 trial of 10 complete, the rest pruned at epoch 2 or 3. Importance comes
// from the values at the deepest epoch three trials reached, scored by the objective's rule there.
void TestStudyView::importanceUsesPrunedTrialsWhenTooFewCompleted() {
    std::vector<TrialRecord> trials;
    for (int i = 0; i < 10; ++i) {
        const double lr = std::pow(10.0, -4.0 + 0.3 * i);
        TrialRecord record = trial(i, i == 0 ? TrialState::Complete : TrialState::Pruned, 0.0,
                                   {{"optimizer.lr", number(lr)}, {"model.dropout", number(0.1 * (i % 3))}});
        const int epochs = i == 0 ? 5 : 2 + i % 2;
        for (int epoch = 1; epoch <= epochs; ++epoch)
            record.intermediate[epoch] = (1.0 + 0.2 * i) / epoch; // lr drives the value
        record.value = record.intermediate.rbegin()->second;
        trials.push_back(record);
    }
    ImportanceBasis basis;
    const auto scored = importanceTrials(trials, minimizeLoss(), basis);
    QVERIFY(basis.missing.empty());
    QCOMPARE(basis.epoch, 3); // trials 0, 1, 3, 5, 7, 9 reached epoch 3
    QCOMPARE(basis.trials, 5 + 1);
    QCOMPARE(basis.complete, 1);
    QCOMPARE(basis.pruned, 9);
    for (const TrialRecord& record : scored)
        QCOMPARE(record.value, record.intermediate.at(3)); // its best epoch up to 3
    const auto importance = parameterImportance(scored, {"optimizer.lr", "model.dropout"}, minimizeLoss());
    QCOMPARE(importance.front().parameter, std::string("optimizer.lr"));

    // Three complete trials: their own values, nothing else.
    trials[1].state = trials[2].state = TrialState::Complete;
    QCOMPARE(int(importanceTrials(trials, minimizeLoss(), basis).size()), 3);
    QCOMPARE(basis.epoch, 0);
    // Two trials in all: it says what is missing.
    trials.resize(2);
    QVERIFY(importanceTrials(trials, minimizeLoss(), basis).empty());
    QVERIFY2(basis.missing.find("2 complete and 0 pruned") != std::string::npos, basis.missing.c_str());
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
    QVERIFY2(buildMs < 20000, // bench/bench_study_view measures; this catches a gross regression
             qPrintable(QStringLiteral("building took %1 ms").arg(buildMs)));

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
    QVERIFY2(selectMs < 20000, qPrintable(QStringLiteral("selecting took %1 ms").arg(selectMs)));
    QCOMPARE(view.tableView()->selectionModel()->selectedRows().size(), int(selection.size()));
}

QTEST_MAIN(TestStudyView)
#include "tst_study_view.moc"
