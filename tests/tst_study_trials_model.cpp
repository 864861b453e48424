// The study's trials table model: number formats, the columns it shows and how they sort, live
// updates in place, filtering by text and by state, and the CSV export of the visible trials.

#include "study_view_test_support.h"

using namespace tunelab;
using namespace tunelab::test;

class TestStudyTrialsModel : public QObject {
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
    void exportsTheVisibleTrialsAsCsv();
};

void TestStudyTrialsModel::formatsNumbers_data() {
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

void TestStudyTrialsModel::formatsNumbers() {
    QFETCH(double, value);
    QFETCH(bool, log);
    QFETCH(QString, expected);
    QCOMPARE(StudyTrialsModel::formatNumber(value, log), expected);
}

void TestStudyTrialsModel::modelShowsColumns_data() {
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

void TestStudyTrialsModel::modelShowsColumns() {
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

void TestStudyTrialsModel::modelSortsByNumericValue_data() {
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

void TestStudyTrialsModel::modelSortsByNumericValue() {
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

void TestStudyTrialsModel::upsertUpdatesInPlaceAndInserts() {
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

void TestStudyTrialsModel::filtersByTextAndHidesPrunedAndFailed_data() {
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

void TestStudyTrialsModel::filtersByTextAndHidesPrunedAndFailed() {
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

void TestStudyTrialsModel::exportsTheVisibleTrialsAsCsv() {
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

QTEST_MAIN(TestStudyTrialsModel)
#include "tst_study_trials_model.moc"
