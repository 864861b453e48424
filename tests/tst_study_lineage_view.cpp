// The study view of a population-based training study: the Lineage tab (only while a trial has a
// population member), its plot's segments, connectors and exploits, clicking a segment to select its
// trial, and the table's Member and From columns.

#include "study_view_test_support.h"

#include "study/study_lineage_plot.h"

#include <QImage>

#include <numeric>

using namespace tunelab;
using namespace tunelab::test;

namespace {

constexpr int kSegmentEpochs = 4;

// A trial of member `member` in generation `generation` (number generation * 4 + member) that
// continues from `parent` (-1: from scratch), its curve decaying towards `floor`, its learning rate
// the member's own. Epochs are absolute: generation g trains epochs 4g + 1 .. 4g + 4, or up to `lastEpoch`
// when given.
TrialRecord segment(int generation, int member, int64_t parent, double floor,
                    TrialState state = TrialState::Complete, int lastEpoch = 0) {
    const double rates[] = {0.01, 0.02, 0.05, 0.1};
    TrialRecord record =
        trial(generation * 4 + member, state, kNoValue, {{"optimizer.lr", number(rates[member])}});
    record.member = member;
    record.parentNumber = parent;
    record.startEpoch = generation * kSegmentEpochs;
    const int last = lastEpoch > 0 ? lastEpoch : record.startEpoch + kSegmentEpochs;
    for (int epoch = record.startEpoch + 1; epoch <= last; ++epoch)
        record.intermediate[epoch] = floor + 0.8 * std::exp(-epoch / 5.0);
    record.value = record.intermediate.rbegin()->second;
    if (state == TrialState::Pruned)
        record.prunedEpoch = last;
    return record;
}

// Four members, three generations of one segment each. Trial 5 (member 1) exploits trial 0 (member
// 0) and trial 11 (member 3) exploits trial 6 (member 2); each then trains a little worse than the
// member it copied. Trial 10 was pruned after two epochs.
std::vector<TrialRecord> populationTrials() {
    const double floors[] = {0.10, 0.25, 0.40, 0.55};
    std::vector<TrialRecord> trials;
    for (int member = 0; member < 4; ++member)
        trials.push_back(segment(0, member, -1, floors[member]));
    trials.push_back(segment(1, 0, 0, floors[0]));
    trials.push_back(segment(1, 1, 0, floors[0] + 0.06)); // exploit
    trials.push_back(segment(1, 2, 2, floors[2]));
    trials.push_back(segment(1, 3, 3, floors[3]));
    trials.push_back(segment(2, 0, 4, floors[0]));
    trials.push_back(segment(2, 1, 5, floors[0] + 0.06));
    trials.push_back(segment(2, 2, 6, floors[2], TrialState::Pruned, 10));
    trials.push_back(segment(2, 3, 6, floors[2] + 0.06)); // exploit
    return trials;
}

// A larger population for the picture: eight members, eight generations of five epochs. A member's
// loss falls towards a floor set by its learning rate (best near 3e-3); after each generation the
// two worst members copy the two best (exploit) and perturb the copied learning rate by 0.8 or 1.2.
// One trial of the last generation fails.
std::vector<TrialRecord> largerPopulation(uint64_t seed) {
    constexpr int kMembers = 8;
    constexpr int kGenerations = 8;
    constexpr int kEpochs = 5;
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<double> lr(kMembers);
    std::vector<double> level(kMembers);
    std::vector<int64_t> lastTrial(kMembers, -1);
    for (int member = 0; member < kMembers; ++member) {
        lr[member] = std::pow(10.0, -4.5 + 3.0 * unit(random));
        level[member] = 0.8 + 0.1 * unit(random);
    }
    auto floorOf = [](double rate) {
        const double distance = std::log10(rate / 3e-3);
        return 0.1 + 0.2 * distance * distance;
    };
    std::vector<TrialRecord> trials;
    for (int generation = 0; generation < kGenerations; ++generation) {
        std::vector<int64_t> parent = lastTrial;
        if (generation > 0) {
            std::vector<int> order(kMembers);
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](int a, int b) { return level[a] < level[b]; });
            for (int k = 0; k < 2; ++k) {
                const int worse = order[kMembers - 1 - k];
                const int better = order[k];
                parent[worse] = lastTrial[better];
                level[worse] = level[better];
                lr[worse] = lr[better] * (unit(random) < 0.5 ? 0.8 : 1.2);
            }
        }
        for (int member = 0; member < kMembers; ++member) {
            TrialRecord record = trial(static_cast<int64_t>(trials.size()), TrialState::Complete, kNoValue,
                                       {{"optimizer.lr", number(lr[member])}});
            record.member = member;
            record.parentNumber = parent[member];
            record.startEpoch = generation * kEpochs;
            for (int epoch = record.startEpoch + 1; epoch <= record.startEpoch + kEpochs; ++epoch) {
                level[member] += (floorOf(lr[member]) - level[member]) * 0.15 + 0.01 * (unit(random) - 0.5);
                record.intermediate[epoch] = level[member];
            }
            record.value = level[member];
            if (generation == kGenerations - 1 && member == 5) {
                record.state = TrialState::Failed;
                record.intermediate.erase(record.startEpoch + 4);
                record.intermediate.erase(record.startEpoch + 5);
            }
            lastTrial[member] = record.number;
            trials.push_back(std::move(record));
        }
    }
    return trials;
}

QStringList tabTitles(const QTabWidget* tabs) {
    QStringList titles;
    for (int i = 0; i < tabs->count(); ++i)
        titles << tabs->tabText(i);
    return titles;
}

QString cellOf(const StudyTrialsModel& model, int64_t number, int column) {
    return model.index(model.rowOfTrial(number), column).data().toString();
}

QPointF middleOfFirstStep(const QPolygonF& line) {
    return line.size() >= 2 ? (line[0] + line[1]) / 2.0 : line.value(0);
}

// Pixels of the picture close to `color` (its antialiased, slightly translucent lines included).
int pixelsNear(const QImage& image, const QColor& color) {
    int count = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor pixel = image.pixelColor(x, y);
            if (std::abs(pixel.red() - color.red()) + std::abs(pixel.green() - color.green()) +
                    std::abs(pixel.blue() - color.blue()) <
                60)
                ++count;
        }
    }
    return count;
}

// Shows the view with these trials on its lineage tab, drawn: false when the window never appeared.
bool showLineage(StudyView& view, const std::vector<TrialRecord>& trials, QSize size) {
    view.resize(size);
    view.setStudy({"optimizer.lr"}, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(trials);
    view.plotTabs()->setCurrentWidget(view.lineagePlot());
    view.show();
    if (!QTest::qWaitForWindowExposed(&view))
        return false;
    view.flush();
    return true;
}

} // namespace

class TestStudyLineageView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void lineageTabOnlyForPopulations();
    void tableShowsMemberAndParent();
    void sortsAndFiltersByLineage_data();
    void sortsAndFiltersByLineage();
    void liveTrialOfAPopulationAddsColumnsAndTab();
    void segmentsAndConnectorsFollowTheLineage();
    void clickingASegmentSelectsItsTrial();
    void lineageScreenshotIsDrawn();
};

void TestStudyLineageView::lineageTabOnlyForPopulations() {
    StudyView view;
    view.setStudy(kParameters, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(syntheticTrials(30, 6, 31));
    const QStringList single = {"History", "Trial curves", "Parallel coordinates", "Contour / slice",
                                "Importance"};
    QCOMPARE(tabTitles(view.plotTabs()), single);
    QCOMPARE(view.plotTabs()->indexOf(view.lineagePlot()), -1);
    QVERIFY(!view.trialsModel()->hasPopulation());
    QCOMPARE(view.trialsModel()->memberColumn(), -1);
    QCOMPARE(view.trialsModel()->parentColumn(), -1);
    QCOMPARE(view.trialsModel()->columnCount(),
             int(StudyTrialsModel::FirstParameterColumn + kParameters.size()));

    view.setStudy({"optimizer.lr"}, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(populationTrials());
    QCOMPARE(tabTitles(view.plotTabs()),
             (QStringList{"History", "Trial curves", "Lineage", "Parallel coordinates", "Contour / slice",
                          "Importance"}));
    QCOMPARE(view.plotTabs()->widget(2), static_cast<QWidget*>(view.lineagePlot()));
    // Changing the study's columns keeps the tab while the trials have a population.
    view.setStudy({"optimizer.lr"}, minimizeLoss());
    QCOMPARE(view.plotTabs()->indexOf(view.lineagePlot()), 2);

    // Trials without a member again, or none: the tabs of before.
    view.plotTabs()->setCurrentWidget(view.lineagePlot());
    view.setTrials(syntheticTrials(10, 6, 32));
    QCOMPARE(tabTitles(view.plotTabs()), single);
    view.setTrials(populationTrials());
    QCOMPARE(view.plotTabs()->indexOf(view.lineagePlot()), 2);
    view.clear();
    QCOMPARE(tabTitles(view.plotTabs()), single);
}

void TestStudyLineageView::tableShowsMemberAndParent() {
    StudyTrialsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({"optimizer.lr"}, minimizeLoss(), {"optimizer.lr"});
    model.setTrials(populationTrials());
    QVERIFY(model.hasPopulation());
    QCOMPARE(model.memberColumn(), int(StudyTrialsModel::DurationColumn) + 1);
    QCOMPARE(model.parentColumn(), int(StudyTrialsModel::DurationColumn) + 2);
    QCOMPARE(model.firstParameterColumn(), int(StudyTrialsModel::DurationColumn) + 3);
    QCOMPARE(model.columnCount(), model.firstParameterColumn() + 1);
    QStringList headers;
    for (int column = 0; column < model.columnCount(); ++column)
        headers << model.headerData(column, Qt::Horizontal).toString();
    QCOMPARE(headers,
             (QStringList{"#", "State", "val_loss", "Epoch", "Duration", "Member", "From", "optimizer.lr"}));

    QCOMPARE(cellOf(model, 0, model.memberColumn()), QStringLiteral("0"));
    QCOMPARE(cellOf(model, 0, model.parentColumn()), QString());
    QCOMPARE(cellOf(model, 4, model.parentColumn()), QStringLiteral("0"));
    QCOMPARE(cellOf(model, 5, model.memberColumn()), QStringLiteral("1"));
    QCOMPARE(cellOf(model, 5, model.parentColumn()), QStringLiteral("0 (exploit)"));
    QCOMPARE(cellOf(model, 9, model.parentColumn()), QStringLiteral("5"));
    QCOMPARE(cellOf(model, 10, model.parentColumn()), QStringLiteral("6"));
    QCOMPARE(cellOf(model, 11, model.memberColumn()), QStringLiteral("3"));
    QCOMPARE(cellOf(model, 11, model.parentColumn()), QStringLiteral("6 (exploit)"));
    QCOMPARE(cellOf(model, 11, model.epochColumn()), QStringLiteral("12"));
    QCOMPARE(cellOf(model, 11, model.firstParameterColumn()), QStringLiteral("0.1"));
    const QString exploitTip =
        model.index(model.rowOfTrial(11), model.parentColumn()).data(Qt::ToolTipRole).toString();
    QVERIFY2(exploitTip.contains(QStringLiteral("trial 6 (member 2) after epoch 8")), qPrintable(exploitTip));
    QVERIFY(model.isExploit(model.trialAt(model.rowOfTrial(5))));
    QVERIFY(!model.isExploit(model.trialAt(model.rowOfTrial(9))));
    QVERIFY(!model.isExploit(model.trialAt(model.rowOfTrial(0))));

    // The CSV has them too, as numbers.
    const QStringList lines = model.toCsv({0, 5}).trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0], QStringLiteral("number,state,val_loss,epoch,duration_seconds,member,parent_trial,"
                                      "optimizer.lr,message"));
    QVERIFY2(lines[1].startsWith(QStringLiteral("0,complete,")) &&
                 lines[1].endsWith(QStringLiteral(",,0,,0.01,")),
             qPrintable(lines[1]));
    QVERIFY2(lines[2].startsWith(QStringLiteral("5,complete,")) &&
                 lines[2].endsWith(QStringLiteral(",,1,0,0.02,")),
             qPrintable(lines[2]));
}

void TestStudyLineageView::sortsAndFiltersByLineage_data() {
    QTest::addColumn<QString>("column");
    QTest::addColumn<int>("order");
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QList<qint64>>("expected");
    // Members in order, each member's trials in row order.
    QTest::newRow("member ascending") << "member" << int(Qt::AscendingOrder) << QString()
                                      << QList<qint64>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
    // Parents numerically, ties in row order reversed; the trials from scratch last.
    QTest::newRow("from descending") << "from" << int(Qt::DescendingOrder) << QString()
                                     << QList<qint64>{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
    QTest::newRow("exploits by text")
        << "number" << int(Qt::AscendingOrder) << QStringLiteral("exploit") << QList<qint64>{5, 11};
}

void TestStudyLineageView::sortsAndFiltersByLineage() {
    QFETCH(QString, column);
    QFETCH(int, order);
    QFETCH(QString, filter);
    QFETCH(QList<qint64>, expected);
    StudyTrialsModel model;
    StudyTrialsProxyModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setStudy({"optimizer.lr"}, minimizeLoss());
    model.setTrials(populationTrials());
    const int index = column == QLatin1String("member") ? model.memberColumn()
                      : column == QLatin1String("from") ? model.parentColumn()
                                                        : int(StudyTrialsModel::NumberColumn);
    proxy.setFilterText(filter);
    proxy.sort(index, static_cast<Qt::SortOrder>(order));
    QCOMPARE(trialNumbersInOrder(proxy), expected);
}

void TestStudyLineageView::liveTrialOfAPopulationAddsColumnsAndTab() {
    StudyView view;
    view.resize(900, 700);
    view.setStudy({"optimizer.lr"}, minimizeLoss());
    StudyTrialsModel* model = view.trialsModel();
    QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(view.proxyModel(),
                                         QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy populations(model, &StudyTrialsModel::populationChanged);
    QSignalSpy resets(model, &QAbstractItemModel::modelReset);
    const std::vector<TrialRecord> trials = populationTrials();
    TrialRecord first = trials[0];
    first.state = TrialState::Running;
    first.intermediate.clear();
    view.upsertTrial(first);
    QCOMPARE(populations.count(), 1);
    QCOMPARE(resets.count(), 0);
    QCOMPARE(model->columnCount(), int(StudyTrialsModel::DurationColumn) + 4);
    QCOMPARE(view.plotTabs()->indexOf(view.lineagePlot()), 2);
    QVERIFY(view.tableView()->columnWidth(model->parentColumn()) >= 56);

    // Live epochs reach the plot at the next frame.
    view.plotTabs()->setCurrentWidget(view.lineagePlot());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    view.lineagePlot()->grab();
    QCOMPARE(view.lineagePlot()->drawnSegmentCount(), 0);
    const int renders = view.lineagePlot()->renderCount();
    for (const auto& [epoch, value] : trials[0].intermediate)
        view.addIntermediate(0, epoch, value);
    view.upsertTrial(trials[4]); // its child, from the next generation
    QVERIFY(QTest::qWaitFor([&] { return view.lineagePlot()->renderCount() > renders; }, 2000));
    QCOMPARE(view.lineagePlot()->drawnSegmentCount(), 2);
    QCOMPARE(int(view.lineagePlot()->connectors().size()), 1);
    QCOMPARE(populations.count(), 1);
}

void TestStudyLineageView::segmentsAndConnectorsFollowTheLineage() {
    StudyView view;
    const std::vector<TrialRecord> trials = populationTrials();
    QVERIFY(showLineage(view, trials, QSize(1000, 760)));
    LineagePlot* plot = view.lineagePlot();
    plot->grab();
    QCOMPARE(plot->members(), (QList<int>{0, 1, 2, 3}));
    QCOMPARE(plot->drawnSegmentCount(), 12);
    QCOMPARE(plot->xAxis().title, QStringLiteral("Epoch"));
    QCOMPARE(plot->yAxis().title, QStringLiteral("val_loss (minimize)"));

    const QRectF area = plot->plotArea();
    for (const TrialRecord& record : trials) {
        const QPolygonF line = plot->segmentOf(record.number);
        QCOMPARE(line.size(), int(record.intermediate.size()));
        // The first point at the epoch after the one it starts from.
        QCOMPARE(line.front().x(), area.left() + plot->xAxis().toUnit(record.startEpoch + 1) * area.width());
    }

    // Every trial with a parent is joined to it, from the parent's last point to its own first.
    std::map<qint64, LineagePlot::Connector> connectorOf;
    for (const LineagePlot::Connector& connector : plot->connectors())
        connectorOf[connector.child] = connector;
    QCOMPARE(int(connectorOf.size()), 8);
    QList<qint64> exploits;
    for (const TrialRecord& record : trials) {
        if (record.parentNumber < 0) {
            QVERIFY(!connectorOf.count(record.number));
            continue;
        }
        const LineagePlot::Connector& connector = connectorOf.at(record.number);
        QCOMPARE(connector.parent, qint64(record.parentNumber));
        QCOMPARE(connector.line.p1(), plot->segmentOf(record.parentNumber).back());
        QCOMPARE(connector.line.p2(), plot->segmentOf(record.number).front());
        if (connector.exploit)
            exploits << record.number;
    }
    QCOMPARE(exploits, (QList<qint64>{5, 11}));

    // Hovering names the member and where the trial came from.
    const QString exploitTip = plot->trialToolTip(11);
    QVERIFY2(exploitTip.contains(QStringLiteral("member 3, from trial 6 at epoch 8 (exploit of member 2)")),
             qPrintable(exploitTip));
    QVERIFY2(plot->trialToolTip(9).contains(QStringLiteral("member 1, from trial 5 at epoch 8")) &&
                 !plot->trialToolTip(9).contains(QStringLiteral("exploit")),
             qPrintable(plot->trialToolTip(9)));
    QVERIFY(plot->trialToolTip(2).contains(QStringLiteral("member 2, from scratch")));
}

void TestStudyLineageView::clickingASegmentSelectsItsTrial() {
    StudyView view;
    view.resize(1000, 760);
    view.setStudy({"optimizer.lr"}, minimizeLoss(), {"optimizer.lr"});
    view.setTrials(populationTrials());
    view.plotTabs()->setCurrentWidget(view.lineagePlot());
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.flush();
    LineagePlot* plot = view.lineagePlot();
    plot->grab();

    // Each segment's first step finds its own trial, the exploit connector its child.
    for (qint64 number = 0; number < 12; ++number) {
        const QPointF at = middleOfFirstStep(plot->segmentOf(number));
        QCOMPARE(plot->trialAt(at), number);
    }
    for (const LineagePlot::Connector& connector : plot->connectors()) {
        if (connector.exploit)
            QCOMPARE(plot->trialAt(connector.line.pointAt(0.8)), connector.child);
    }
    QCOMPARE(plot->trialAt(QPointF(plot->plotArea().right() - 2, plot->plotArea().top() + 2)), qint64(-1));

    const QPointF at = middleOfFirstStep(plot->segmentOf(5));
    QTest::mouseClick(plot, Qt::LeftButton, {}, at.toPoint());
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{5}));
    const QModelIndexList rows = view.tableView()->selectionModel()->selectedRows();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.front().data(StudyTrialsModel::TrialNumberRole).toLongLong(), qint64(5));
    QVERIFY(plot->isSelected(5));
    QVERIFY(view.curvesPlot()->isSelected(5));

    // The selection is drawn bold over the faded picture: the segment's pixels change.
    const QImage selected = plot->grab().toImage();
    view.setSelectedTrials({});
    const QImage unselected = plot->grab().toImage();
    QVERIFY(selected != unselected);

    // Selecting rows in the table highlights their segments; Ctrl-click adds one.
    view.tableView()->selectRow(
        view.proxyModel()
            ->mapFromSource(view.trialsModel()->index(view.trialsModel()->rowOfTrial(11), 0))
            .row());
    QVERIFY(plot->isSelected(11));
    QTest::mouseClick(plot, Qt::LeftButton, Qt::ControlModifier,
                      middleOfFirstStep(plot->segmentOf(0)).toPoint());
    QCOMPARE(view.selectedTrials(), (std::vector<int64_t>{0, 11}));
}

// The whole view with the lineage tab showing, drawn offscreen into a PNG in the test's temporary
// folder (and, to look at, to $TUNELAB_LINEAGE_PNG when set; with TUNELAB_SCREENSHOT_DIR set, the view
// and the plot before anything was selected are saved there). Every member's colour must appear in
// the plot.
void TestStudyLineageView::lineageScreenshotIsDrawn() {
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    StudyView view;
    const std::vector<TrialRecord> trials = largerPopulation(33);
    QVERIFY(showLineage(view, trials, QSize(1100, 780)));
    LineagePlot* plot = view.lineagePlot();
    const QImage picture = plot->grab().toImage();
    QCOMPARE(plot->members().size(), 8);
    QCOMPARE(plot->drawnSegmentCount(), int(trials.size()));
    int exploits = 0;
    for (const LineagePlot::Connector& connector : plot->connectors())
        exploits += connector.exploit ? 1 : 0;
    QCOMPARE(exploits, 14); // two a generation after the first
    for (const int member : plot->members()) {
        const int pixels = pixelsNear(picture, LineagePlot::memberColor(member));
        QVERIFY2(pixels > 40, qPrintable(QStringLiteral("member %1: %2 pixels").arg(member).arg(pixels)));
    }

    // One exploit selected, as a user would look at it.
    for (const LineagePlot::Connector& connector : plot->connectors()) {
        if (connector.exploit && connector.child >= 48 &&
            view.trialsModel()->trialAt(view.trialsModel()->rowOfTrial(connector.child)).state ==
                TrialState::Complete) {
            view.setSelectedTrials({connector.child});
            break;
        }
    }
    QCOMPARE(int(view.selectedTrials().size()), 1);
    QTest::qWait(20);
    const QImage shot = view.grab().toImage();
    const QString path = folder.filePath(QStringLiteral("study_lineage_view.png"));
    QVERIFY(shot.save(path));
    const QImage reread(path);
    QCOMPARE(reread.size(), shot.size());
    QVERIFY(!reread.isNull());
    if (const QString extra = qEnvironmentVariable("TUNELAB_LINEAGE_PNG"); !extra.isEmpty())
        QVERIFY(shot.save(extra));
    if (const QString dir = qEnvironmentVariable("TUNELAB_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QVERIFY(shot.save(dir + QStringLiteral("/study_lineage_view.png")));
        QVERIFY(picture.save(dir + QStringLiteral("/study_lineage_plot.png")));
    }

    // Without any trial of a population the plot draws nothing but its message.
    StudyView plain;
    plain.resize(800, 600);
    plain.setStudy(kParameters, minimizeLoss());
    plain.setTrials(syntheticTrials(20, 5, 34));
    plain.lineagePlot()->resize(600, 400);
    plain.lineagePlot()->grab();
    QCOMPARE(plain.lineagePlot()->drawnSegmentCount(), 0);
    QVERIFY(plain.lineagePlot()->members().isEmpty());
}

QTEST_MAIN(TestStudyLineageView)
#include "tst_study_lineage_view.moc"
