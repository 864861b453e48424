// The runs table view: selection and double-click report run ids, the context menu offers only
// what the selected runs allow, and its actions emit the runs they act on.

#include "runs/run_notes_dialog.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "spec/spec.h"

#include <QAction>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include <memory>

using namespace tunelab;

namespace {

RunRecord record(RunId id, const std::string& name, RunStatus status, OptimizerType optimizer,
                 bool hasModel) {
    ExperimentSpec spec = defaultExperiment();
    spec.optimizer.type = optimizer;
    RunRecord run;
    run.id = id;
    run.name = name;
    run.status = status;
    run.summary.status = status;
    run.specJson = experimentSpecToJson(spec);
    run.hasModel = hasModel;
    if (status == RunStatus::Diverged)
        run.error = "the training loss became nan";
    return run;
}

// 1 completed with a model, 2 running, 3 diverged, 4 queued, 5 stopped with a model.
std::vector<RunRecord> sampleRuns() {
    return {record(1, "alpha", RunStatus::Completed, OptimizerType::Adam, true),
            record(2, "beta", RunStatus::Running, OptimizerType::Sgd, false),
            record(3, "gamma", RunStatus::Diverged, OptimizerType::Sgd, false),
            record(4, "delta", RunStatus::Queued, OptimizerType::AdamW, false),
            record(5, "epsilon", RunStatus::Stopped, OptimizerType::RmsProp, true)};
}

QAction* action(QMenu& menu, const char* name) {
    for (QAction* candidate : menu.actions()) {
        if (candidate->objectName() == QLatin1String(name))
            return candidate;
    }
    return nullptr;
}

QRect rowRect(const RunsTableView& view, qint64 id) {
    const QModelIndex source = view.runsModel()->index(view.runsModel()->rowForRun(id), 0);
    return view.tableView()->visualRect(view.proxyModel()->mapFromSource(source));
}

} // namespace

class TestRunsTableView : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void selectionReportsRunIds() {
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunsTableView view;
        view.setRunsModel(&model);
        view.resize(900, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QSignalSpy selected(&view, &RunsTableView::selectionChangedRuns);

        QTest::mouseClick(view.tableView()->viewport(), Qt::LeftButton, {}, rowRect(view, 3).center());
        QCOMPARE(selected.count(), 1);
        QCOMPARE(selected.last().at(0).value<QList<qint64>>(), (QList<qint64>{3}));
        QTest::mouseClick(view.tableView()->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          rowRect(view, 1).center());
        QCOMPARE(selected.count(), 2);
        QCOMPARE(selected.last().at(0).value<QList<qint64>>(), (QList<qint64>{1, 3}));

        // Sorting moves rows but selects nothing new: no signal.
        view.tableView()->sortByColumn(RunsTableModel::NameColumn, Qt::DescendingOrder);
        QCOMPARE(selected.count(), 2);
        QCOMPARE(view.selectedRunIds(), (QList<qint64>{1, 3}));

        // A deleted run leaves the selection.
        model.removeRun(3);
        QCOMPARE(selected.last().at(0).value<QList<qint64>>(), (QList<qint64>{1}));
        view.selectRuns({2, 4, 99});
        QCOMPARE(selected.last().at(0).value<QList<qint64>>(), (QList<qint64>{2, 4}));
    }

    void doubleClickActivatesTheRun() {
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunsTableView view;
        view.setRunsModel(&model);
        view.resize(900, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QSignalSpy activated(&view, &RunsTableView::runActivated);
        // The view only treats a double click on the row it saw pressed as one.
        const QPoint point = rowRect(view, 4).center();
        QTest::mouseClick(view.tableView()->viewport(), Qt::LeftButton, {}, point);
        QTest::mouseDClick(view.tableView()->viewport(), Qt::LeftButton, {}, point);
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.last().at(0).toLongLong(), qint64(4));
    }

    void filterLineFiltersRows() {
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunsTableView view;
        view.setRunsModel(&model);
        view.filterEdit()->setText(QStringLiteral("SGD"));
        QCOMPARE(view.tableView()->model()->rowCount(), 2);
        view.filterEdit()->setText(QStringLiteral("running"));
        QCOMPARE(view.tableView()->model()->rowCount(), 1);
        view.filterEdit()->clear();
        QCOMPARE(view.tableView()->model()->rowCount(), 5);
    }

    void contextMenuStates_data() {
        QTest::addColumn<QList<qint64>>("ids");
        QTest::addColumn<QList<bool>>("enabled"); // duplicate, stop, delete, export config, export model
        QTest::newRow("nothing") << QList<qint64>{} << QList<bool>{false, false, false, false, false};
        QTest::newRow("completed with model")
            << QList<qint64>{1} << QList<bool>{true, false, true, true, true};
        QTest::newRow("running") << QList<qint64>{2} << QList<bool>{true, true, false, true, false};
        QTest::newRow("diverged") << QList<qint64>{3} << QList<bool>{true, false, true, true, false};
        QTest::newRow("queued") << QList<qint64>{4} << QList<bool>{true, true, false, true, false};
        QTest::newRow("two finished") << QList<qint64>{1, 5} << QList<bool>{false, false, true, false, false};
        QTest::newRow("finished and running")
            << QList<qint64>{1, 2} << QList<bool>{false, false, false, false, false};
    }
    void contextMenuStates() {
        QFETCH(QList<qint64>, ids);
        QFETCH(QList<bool>, enabled);
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunsTableView view;
        view.setRunsModel(&model);
        view.selectRuns(ids);
        QCOMPARE(view.selectedRunIds(), ids);
        std::unique_ptr<QMenu> menu(view.createContextMenu());
        const char* names[] = {"duplicateAction", "stopAction", "deleteAction", "exportConfigAction",
                               "exportModelAction"};
        for (int i = 0; i < 5; ++i) {
            QAction* item = action(*menu, names[i]);
            QVERIFY2(item, names[i]);
            QVERIFY2(item->isEnabled() == enabled[i], names[i]);
        }
    }

    void actionsEmitTheirRuns() {
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunsTableView view;
        view.setRunsModel(&model);
        QSignalSpy duplicate(&view, &RunsTableView::duplicateRequested);
        QSignalSpy stop(&view, &RunsTableView::stopRequested);
        QSignalSpy exportConfig(&view, &RunsTableView::exportConfigRequested);
        QSignalSpy exportModel(&view, &RunsTableView::exportModelRequested);
        QSignalSpy deleted(&view, &RunsTableView::deleteRequested);

        view.selectRuns({2});
        std::unique_ptr<QMenu> menu(view.createContextMenu());
        action(*menu, "stopAction")->trigger();
        action(*menu, "duplicateAction")->trigger();
        QCOMPARE(stop.count(), 1);
        QCOMPARE(stop.last().at(0).toLongLong(), qint64(2));
        QCOMPARE(duplicate.last().at(0).toLongLong(), qint64(2));

        view.selectRuns({5});
        menu.reset(view.createContextMenu());
        action(*menu, "exportConfigAction")->trigger();
        action(*menu, "exportModelAction")->trigger();
        QCOMPARE(exportConfig.last().at(0).toLongLong(), qint64(5));
        QCOMPARE(exportModel.last().at(0).toLongLong(), qint64(5));

        view.setConfirmDeletes(false);
        view.selectRuns({3, 1, 5});
        menu.reset(view.createContextMenu());
        action(*menu, "deleteAction")->trigger();
        QCOMPARE(deleted.count(), 1);
        QCOMPARE(deleted.last().at(0).value<QList<qint64>>(), (QList<qint64>{1, 3, 5}));
        // The view only asks: the runs stay until the app removes them.
        QCOMPARE(model.runCount(), 5);
    }

    // "Fork from Here..." needs one run with somewhere to continue from: a running run (the end of its
    // epoch) or a checkpoint; a disabled entry says why in its tooltip.
    void forkActionStates_data() {
        QTest::addColumn<QList<qint64>>("ids");
        QTest::addColumn<bool>("enabled");
        QTest::addColumn<QString>("tooltip");
        QTest::newRow("checkpoint") << QList<qint64>{1} << true << QStringLiteral("after epoch 7");
        QTest::newRow("running") << QList<qint64>{2} << true << QStringLiteral("end of the epoch");
        QTest::newRow("diverged") << QList<qint64>{3} << false << QStringLiteral("failed or diverged");
        QTest::newRow("queued") << QList<qint64>{4} << true << QStringLiteral("end of the epoch");
        QTest::newRow("no checkpoint") << QList<qint64>{5} << false << QStringLiteral("no checkpoint");
        QTest::newRow("two runs") << QList<qint64>{1, 5} << false << QStringLiteral("Select one run");
    }
    void forkActionStates() {
        QFETCH(QList<qint64>, ids);
        QFETCH(bool, enabled);
        QFETCH(QString, tooltip);
        std::vector<RunRecord> runs = sampleRuns();
        runs[0].hasCheckpoint = true;
        runs[0].summary.epochs = 7;
        RunsTableModel model;
        model.setRuns(runs);
        RunsTableView view;
        view.setRunsModel(&model);
        view.selectRuns(ids);
        std::unique_ptr<QMenu> menu(view.createContextMenu());
        QVERIFY(menu->toolTipsVisible());
        QAction* fork = action(*menu, "forkAction");
        QVERIFY(fork);
        QCOMPARE(fork->isEnabled(), enabled);
        QVERIFY2(fork->toolTip().contains(tooltip), qPrintable(fork->toolTip()));
        if (!enabled)
            return;
        QSignalSpy requested(&view, &RunsTableView::forkRequested);
        fork->trigger();
        QCOMPARE(requested.count(), 1);
        QCOMPARE(requested.last().at(0).toLongLong(), ids.front());
    }

    // A run that ends with its weights brings a checkpoint: it may be forked at once. A fork names its
    // origin in the name's tooltip.
    void forksShowTheirOrigin() {
        std::vector<RunRecord> runs = sampleRuns();
        runs[4].parentRun = 1;
        runs[4].parentEpoch = 12;
        RunsTableModel model;
        model.setRuns(runs);
        auto nameTip = [&model](RunId id) {
            return model.index(model.rowForRun(id), RunsTableModel::NameColumn)
                .data(Qt::ToolTipRole)
                .toString();
        };
        QCOMPARE(nameTip(5), QStringLiteral("forked from #1 after epoch 12"));
        QVERIFY(nameTip(1).isEmpty());
        model.runQueued(6, "alpha-fork", runs[0].specJson, RunOrigin{1, 7});
        QCOMPARE(nameTip(6), QStringLiteral("forked from #1 after epoch 7"));

        RunsTableView view;
        view.setRunsModel(&model);
        view.selectRuns({2});
        RunEvent finished;
        finished.kind = RunEventKind::Finished;
        finished.runId = 2;
        finished.summary.status = RunStatus::Stopped;
        finished.summary.epochs = 3;
        model.applyEvent(finished);
        std::unique_ptr<QMenu> menu(view.createContextMenu());
        QVERIFY(!action(*menu, "forkAction")->isEnabled()); // stopped, and nothing to continue from
        finished.checkpoint =
            std::make_shared<const TrainingCheckpoint>(TrainingCheckpoint{3, 120, 10, "sgd", {}});
        model.applyEvent(finished);
        menu.reset(view.createContextMenu());
        QVERIFY(action(*menu, "forkAction")->isEnabled());
        QVERIFY2(action(*menu, "forkAction")->toolTip().contains(QStringLiteral("after epoch 3")),
                 qPrintable(action(*menu, "forkAction")->toolTip()));
    }

    void paintsRunningRowsWithAProgressBar() {
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunEvent steps;
        steps.kind = RunEventKind::Steps;
        steps.runId = 2;
        steps.steps.push_back(StepRecord{40, 2, 0.5f, 0.01f, 1.0f});
        model.applyEvent(steps);
        const QModelIndex status = model.index(model.rowForRun(2), RunsTableModel::StatusColumn);
        QVERIFY(status.data(RunsTableModel::ProgressRole).toDouble() > 0.0);
        RunsTableView view;
        view.setRunsModel(&model);
        view.resize(900, 300);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const QImage image = view.grab().toImage();
        QVERIFY(!image.isNull());
    }

    // The data set each run trained on, its tags and note show as columns, and the filter finds a
    // run by any of them (a note's later lines too).
    void dataSetTagsAndNotesShowAndFilter() {
        std::vector<RunRecord> runs = sampleRuns();
        ExperimentSpec digits = defaultExperiment();
        digits.data.kind = DataKind::Csv;
        digits.data.path = "/data/sets/digits.csv";
        digits.data.target = "digit";
        runs[0].specJson = experimentSpecToJson(digits);
        runs[0].tags = {"baseline", "lr sweep"};
        runs[0].note = "first line\nwarm restarts helped";
        RunsTableModel model;
        model.setRuns(runs);
        auto cell = [&model](RunId id, int column) {
            return model.index(model.rowForRun(id), column).data().toString();
        };
        QCOMPARE(model.headerData(RunsTableModel::DataSetColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Data set"));
        QCOMPARE(cell(1, RunsTableModel::DataSetColumn), QStringLiteral("digits.csv"));
        QCOMPARE(cell(2, RunsTableModel::DataSetColumn),
                 QString::fromLatin1(toString(defaultExperiment().data.kind)));
        QCOMPARE(cell(1, RunsTableModel::TagsColumn), QStringLiteral("baseline, lr sweep"));
        QCOMPARE(cell(1, RunsTableModel::NoteColumn), QStringLiteral("first line"));
        QCOMPARE(model.index(model.rowForRun(1), RunsTableModel::NoteColumn).data(Qt::ToolTipRole).toString(),
                 QStringLiteral("first line\nwarm restarts helped"));

        RunsTableView view;
        view.setRunsModel(&model);
        for (const QString& text :
             {QStringLiteral("digits"), QStringLiteral("sweep"), QStringLiteral("warm restarts")}) {
            view.filterEdit()->setText(text);
            QCOMPARE(view.proxyModel()->rowCount(), 1);
        }
        view.filterEdit()->clear();
        // Tags and Note... acts on one run.
        QSignalSpy annotate(&view, &RunsTableView::annotateRequested);
        view.selectRuns({1});
        std::unique_ptr<QMenu> menu(view.createContextMenu());
        QVERIFY(action(*menu, "annotateAction")->isEnabled());
        action(*menu, "annotateAction")->trigger();
        QCOMPARE(annotate.last().at(0).toLongLong(), qint64(1));
        view.selectRuns({1, 2});
        menu.reset(view.createContextMenu());
        QVERIFY(!action(*menu, "annotateAction")->isEnabled());
        // Set later, from the store: the row changes.
        model.setRunNotes(2, {QStringLiteral("retry")}, QString());
        view.filterEdit()->setText(QStringLiteral("retry"));
        QCOMPARE(view.proxyModel()->rowCount(), 1);
    }

    // A long run's epochs ("14698/100000") and durations read in full, not "14698/10000…".
    void longValuesFitTheirColumns() {
        RunsTableModel model;
        model.setRuns(sampleRuns());
        RunsTableView view;
        view.setRunsModel(&model);
        const QFontMetrics metrics = view.tableView()->fontMetrics();
        const QHeaderView* header = view.tableView()->horizontalHeader();
        QVERIFY(header->sectionSize(RunsTableModel::EpochsColumn) >
                metrics.horizontalAdvance(QStringLiteral("14698/100000")));
        QVERIFY(header->sectionSize(RunsTableModel::DurationColumn) >
                metrics.horizontalAdvance(QStringLiteral("12 h 59 min")));
    }

    // The dialog checks each tag as it is typed, with the store's rule and words.
    void notesDialogRefusesBadTags() {
        RunNotesDialog dialog(QStringLiteral("alpha #1"), {QStringLiteral("a")}, QStringLiteral("n"));
        QCOMPARE(dialog.tags(), (QStringList{QStringLiteral("a")}));
        dialog.tagsEdit()->setText(QStringLiteral(" baseline ,, lr sweep , "));
        QCOMPARE(dialog.tags(), (QStringList{QStringLiteral("baseline"), QStringLiteral("lr sweep")}));
        QVERIFY(dialog.problem().isEmpty());
        dialog.tagsEdit()->setText(QString(70, QLatin1Char('x')));
        QVERIFY2(dialog.problem().contains(QStringLiteral("at most 64 bytes")), qPrintable(dialog.problem()));
        dialog.tagsEdit()->setText(QStringLiteral("ok, bell\a"));
        QVERIFY2(dialog.problem().contains(QStringLiteral("control character")),
                 qPrintable(dialog.problem()));
    }
};

QTEST_MAIN(TestRunsTableView)
#include "tst_runs_table_view.moc"
