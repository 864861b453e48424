// The search-space model: adding a parameter suggests a range from its current value, edits update
// the space, bad edits are kept and flagged until fixed, the space's JSON round-trips, invalid
// spaces load for repair, and the model passes QAbstractItemModelTester.

#include "search/search_space.h"
#include "search/search_space_model.h"

#include "search_space_test_support.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtTest>

using namespace tunelab;
using namespace tunelab::test;

namespace {

QModelIndex cell(const SearchSpaceModel& model, int row, int column) {
    return model.index(row, column);
}

} // namespace

class TestSearchSpaceModel : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void addParameterSuggestsRange_data();
    void addParameterSuggestsRange();
    void addingTwiceKeepsOneRow();
    void editsUpdateTheSpace();
    void badEditsAreKeptAndFlagged_data();
    void badEditsAreKeptAndFlagged();
    void fixingAnEditClearsTheFlag();
    void spaceJsonRoundTrips();
    void loadsInvalidSpacesForRepair();
    void modelPassesTester();
};

void TestSearchSpaceModel::addParameterSuggestsRange_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("low");
    QTest::addColumn<QString>("high");
    QTest::addColumn<bool>("log");
    QTest::addColumn<QString>("values");
    QTest::newRow("lr") << "optimizer.lr"
                        << "0.01"
                        << "float"
                        << "0.001"
                        << "0.1" << true << "";
    QTest::newRow("lr from base") << "optimizer.lr"
                                  << ""
                                  << "float"
                                  << "0.001"
                                  << "0.1" << true << "";
    QTest::newRow("batch") << "training.batch_size"
                           << "32"
                           << "int"
                           << "8"
                           << "128" << true << "";
    QTest::newRow("width") << "model.layers[0].out_features"
                           << ""
                           << "int"
                           << "4"
                           << "64" << true << "";
    QTest::newRow("type") << "optimizer.type"
                          << "\"adam\""
                          << "categorical"
                          << ""
                          << "" << false << "sgd, adagrad, rmsprop, adam, adamw";
}

void TestSearchSpaceModel::addParameterSuggestsRange() {
    QFETCH(QString, path);
    QFETCH(QString, value);
    QFETCH(QString, kind);
    QFETCH(QString, low);
    QFETCH(QString, high);
    QFETCH(bool, log);
    QFETCH(QString, values);
    SearchSpaceModel model;
    model.setBaseExperiment(QString::fromLatin1(kBase));
    QSignalSpy changed(&model, &SearchSpaceModel::spaceChanged);
    QCOMPARE(model.addParameter(path, value), 0);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(cell(model, 0, SearchSpaceModel::PathColumn).data().toString(), path);
    QCOMPARE(cell(model, 0, SearchSpaceModel::KindColumn).data().toString(), kind);
    QCOMPARE(cell(model, 0, SearchSpaceModel::LowColumn).data().toString(), low);
    QCOMPARE(cell(model, 0, SearchSpaceModel::HighColumn).data().toString(), high);
    if (kind != QLatin1String("categorical"))
        QCOMPARE(cell(model, 0, SearchSpaceModel::LogColumn).data(Qt::CheckStateRole).toInt(),
                 int(log ? Qt::Checked : Qt::Unchecked));
    QCOMPARE(cell(model, 0, SearchSpaceModel::ValuesColumn).data().toString(), values);
    QVERIFY2(model.errors().isEmpty(), qPrintable(model.errors().join('\n')));
    QCOMPARE(cell(model, 0, SearchSpaceModel::StatusColumn).data().toString(), QStringLiteral("ok"));
    QVERIFY(parseSearchSpace(model.spaceJson().toStdString()).ok());
}

void TestSearchSpaceModel::addingTwiceKeepsOneRow() {
    SearchSpaceModel model;
    QCOMPARE(model.addParameter(QStringLiteral("optimizer.lr"), QStringLiteral("0.01")), 0);
    QCOMPARE(model.addParameter(QStringLiteral("training.epochs"), QStringLiteral("5")), 1);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QCOMPARE(model.addParameter(QStringLiteral("optimizer.lr"), QStringLiteral("0.5")), 0);
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(model.parameterPaths(),
             QStringList({QStringLiteral("optimizer.lr"), QStringLiteral("training.epochs")}));
    model.removeRow(0);
    QCOMPARE(model.parameterPaths(), QStringList({QStringLiteral("training.epochs")}));
}

void TestSearchSpaceModel::editsUpdateTheSpace() {
    SearchSpaceModel model;
    model.setBaseExperiment(QString::fromLatin1(kBase));
    model.addParameter(QStringLiteral("optimizer.type"), QStringLiteral("\"adam\""));
    model.addParameter(QStringLiteral("optimizer.momentum"), QStringLiteral("0.0"));
    model.addParameter(QStringLiteral("training.batch_size"), QStringLiteral("32"));
    QSignalSpy changed(&model, &SearchSpaceModel::spaceChanged);

    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::ValuesColumn), QStringLiteral("adam, sgd")));
    QVERIFY(model.setData(cell(model, 1, SearchSpaceModel::ConditionColumn),
                          QStringLiteral("optimizer.type = sgd")));
    QVERIFY(model.setData(cell(model, 1, SearchSpaceModel::HighColumn), QStringLiteral("0.95")));
    QVERIFY(model.setData(cell(model, 2, SearchSpaceModel::LogColumn), Qt::Unchecked, Qt::CheckStateRole));
    QVERIFY(model.setData(cell(model, 2, SearchSpaceModel::LowColumn), QStringLiteral("16")));
    QVERIFY(model.setData(cell(model, 2, SearchSpaceModel::StepColumn), QStringLiteral("16")));
    QCOMPARE(changed.count(), 6);
    QVERIFY2(model.errors().isEmpty(), qPrintable(model.errors().join('\n')));

    const auto parsed = parseSearchSpace(model.spaceJson().toStdString());
    QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().c_str());
    const SearchSpace& space = parsed.value();
    QCOMPARE(space.find("optimizer.type")->values.size(), size_t(2));
    const SearchParameter* momentum = space.find("optimizer.momentum");
    QCOMPARE(momentum->high, 0.95);
    QCOMPARE(momentum->when.size(), size_t(1));
    QCOMPARE(momentum->when[0].parameter, std::string("optimizer.type"));
    QCOMPARE(momentum->when[0].values[0].json, std::string("\"sgd\""));
    const SearchParameter* batch = space.find("training.batch_size");
    QVERIFY(!batch->log);
    QCOMPARE(batch->low, 16.0);
    QCOMPARE(batch->step, 16.0);

    // Changing the kind turns a range into choices and back.
    QVERIFY(model.setData(cell(model, 2, SearchSpaceModel::KindColumn), QStringLiteral("categorical")));
    QCOMPARE(cell(model, 2, SearchSpaceModel::ValuesColumn).data().toString(), QStringLiteral("16, 128"));
    QVERIFY(!(model.flags(cell(model, 2, SearchSpaceModel::LowColumn)) & Qt::ItemIsEditable));
    QVERIFY(model.setData(cell(model, 2, SearchSpaceModel::KindColumn), QStringLiteral("int")));
    QCOMPARE(model.parameter(2).low, 16.0);
    QCOMPARE(model.parameter(2).high, 128.0);
    QVERIFY(model.setData(cell(model, 2, SearchSpaceModel::ValuesColumn), QStringLiteral("32, 64")));
    QCOMPARE(
        parseSearchSpace(model.spaceJson().toStdString()).value().find("training.batch_size")->values.size(),
        size_t(2));
    QVERIFY(model.errors().isEmpty());
}

void TestSearchSpaceModel::badEditsAreKeptAndFlagged_data() {
    QTest::addColumn<int>("row");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("message");
    QTest::newRow("low above high") << 1 << int(SearchSpaceModel::LowColumn) << "1"
                                    << "low 1 is above high 0.1";
    QTest::newRow("log of zero") << 1 << int(SearchSpaceModel::LowColumn) << "0"
                                 << "log scale needs low > 0 (low is 0)";
    QTest::newRow("missing condition")
        << 1 << int(SearchSpaceModel::ConditionColumn) << "optimizer.typ = sgd"
        << "'when' names optimizer.typ, which is not a parameter; did you mean "
           "optimizer.type?";
    QTest::newRow("impossible condition")
        << 1 << int(SearchSpaceModel::ConditionColumn) << "optimizer.type = sgdd"
        << "'when' value \"sgdd\" is not a value optimizer.type can take";
    QTest::newRow("condition without value")
        << 1 << int(SearchSpaceModel::ConditionColumn) << "optimizer.type"
        << "should read \"parameter = value, value\"";
    QTest::newRow("word for a number") << 1 << int(SearchSpaceModel::HighColumn) << "lots"
                                       << "high 'lots' is not a number";
    QTest::newRow("unknown layer") << 1 << int(SearchSpaceModel::PathColumn) << "model.layers[7].out_features"
                                   << "model.layers[7] does not exist (model.layers has 3 elements)";
    QTest::newRow("duplicate") << 1 << int(SearchSpaceModel::PathColumn) << "optimizer.type"
                               << "duplicate of parameters[0]";
    QTest::newRow("empty choices") << 0 << int(SearchSpaceModel::ValuesColumn) << ""
                                   << "needs a non-empty \"choices\" array";
}

void TestSearchSpaceModel::badEditsAreKeptAndFlagged() {
    QFETCH(int, row);
    QFETCH(int, column);
    QFETCH(QString, text);
    QFETCH(QString, message);
    SearchSpaceModel model;
    model.setBaseExperiment(QString::fromLatin1(kBase));
    model.addParameter(QStringLiteral("optimizer.type"), QStringLiteral("\"adam\""));
    model.addParameter(QStringLiteral("optimizer.lr"), QStringLiteral("0.01"));
    QVERIFY(model.errors().isEmpty());
    QSignalSpy statusChanged(&model, &QAbstractItemModel::dataChanged);

    QVERIFY(model.setData(cell(model, row, column), text));
    // The edit is kept as typed...
    QCOMPARE(cell(model, row, column).data(Qt::EditRole).toString(), text);
    // ...and the row's status names the problem.
    const QModelIndex status = cell(model, row, SearchSpaceModel::StatusColumn);
    QVERIFY2(status.data().toString().contains(message), qPrintable(status.data().toString()));
    QVERIFY(status.data(Qt::ToolTipRole).toString().contains(message));
    QCOMPARE(status.data(Qt::ForegroundRole).value<QBrush>().color(), QColor(0xb0, 0x00, 0x20));
    QVERIFY(!status.data(Qt::DecorationRole).isNull());
    QVERIFY(statusChanged.count() > 0);
    const QStringList errors = model.errors();
    QVERIFY(!errors.isEmpty());
    QVERIFY2(errors.join('\n').contains(QStringLiteral("parameters[%1]").arg(row)),
             qPrintable(errors.join('\n')));
    // The other row stays fine unless the mistake is about both.
    if (!message.startsWith(QLatin1String("duplicate")))
        QCOMPARE(cell(model, 1 - row, SearchSpaceModel::StatusColumn).data().toString(),
                 QStringLiteral("ok"));
}

void TestSearchSpaceModel::fixingAnEditClearsTheFlag() {
    SearchSpaceModel model;
    model.addParameter(QStringLiteral("optimizer.lr"), QStringLiteral("0.01"));
    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::LowColumn), QStringLiteral("abc")));
    QCOMPARE(model.errors().size(), 1);
    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::LowColumn), QStringLiteral("1e-4")));
    QVERIFY(model.errors().isEmpty());
    QCOMPARE(model.parameter(0).low, 1e-4);
    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::LowColumn), QStringLiteral("5")));
    QVERIFY(!model.errors().isEmpty());
    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::HighColumn), QStringLiteral("50")));
    QVERIFY2(model.errors().isEmpty(), qPrintable(model.errors().join('\n')));
}

void TestSearchSpaceModel::spaceJsonRoundTrips() {
    const QString example = QStringLiteral(R"({
      "parameters": [
        {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
        {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true},
        {"path": "optimizer.momentum", "kind": "float", "low": 0.0, "high": 0.99,
         "when": {"optimizer.type": ["sgd"]}},
        {"path": "optimizer.weight_decay", "kind": "float", "values": [0, 1e-4, 1e-3]},
        {"path": "training.batch_size", "kind": "int", "low": 16, "high": 256, "log": true},
        {"path": "model.layers[0].out_features", "kind": "int", "low": 32, "high": 256, "step": 32},
        {"path": "model.layers[1]", "kind": "categorical", "choices": [{"type": "relu"}, {"type": "gelu"}]},
        {"path": "training.epochs", "kind": "fixed", "value": 5}
      ]
    })");
    SearchSpaceModel model;
    QVERIFY(model.setSpaceJson(example));
    QCOMPARE(model.rowCount(), 8);
    QCOMPARE(cell(model, 2, SearchSpaceModel::ConditionColumn).data().toString(),
             QStringLiteral("optimizer.type = sgd"));
    QCOMPARE(cell(model, 6, SearchSpaceModel::ValuesColumn).data().toString(),
             QStringLiteral(R"({"type":"relu"}, {"type":"gelu"})"));
    QCOMPARE(cell(model, 5, SearchSpaceModel::StepColumn).data().toString(), QStringLiteral("32"));
    QVERIFY(model.errors().isEmpty());

    const QString written = model.spaceJson();
    const auto original = parseSearchSpace(example.toStdString());
    const auto again = parseSearchSpace(written.toStdString());
    QVERIFY2(again.ok(), qPrintable(written));
    const auto a = editableParameters(original.value());
    const auto b = editableParameters(again.value());
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(b[i].path, a[i].path);
        QCOMPARE(b[i].kind, a[i].kind);
        QCOMPARE(b[i].low, a[i].low);
        QCOMPARE(b[i].high, a[i].high);
        QCOMPARE(b[i].log, a[i].log);
        QCOMPARE(b[i].step, a[i].step);
        QCOMPARE(b[i].values, a[i].values);
        QCOMPARE(b[i].when.size(), a[i].when.size());
    }
    SearchSpaceModel reloaded;
    QVERIFY(reloaded.setSpaceJson(written));
    QCOMPARE(reloaded.spaceJson(), written);
    QVERIFY(!model.setSpaceJson(QStringLiteral("[1, 2]")));
    QCOMPARE(model.rowCount(), 8);
}

void TestSearchSpaceModel::loadsInvalidSpacesForRepair() {
    // A space saved with a flagged row opens with the row and its message, ready to fix.
    SearchSpaceModel model;
    QVERIFY(model.setSpaceJson(QStringLiteral(
        R"({"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 1, "high": 0.5},
                           {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]}]})")));
    QCOMPARE(model.rowCount(), 2);
    QVERIFY(model.rowError(0).contains(QStringLiteral("low 1 is above high 0.5")));
    QVERIFY(model.rowError(1).isEmpty());
    QCOMPARE(cell(model, 1, SearchSpaceModel::ValuesColumn).data().toString(), QStringLiteral("adam, sgd"));
}

void TestSearchSpaceModel::modelPassesTester() {
    SearchSpaceModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setBaseExperiment(QString::fromLatin1(kBase));
    model.addParameter(QStringLiteral("optimizer.lr"), QStringLiteral("0.01"));
    model.addParameter(QStringLiteral("optimizer.type"), QStringLiteral("\"adam\""));
    model.addParameter(QStringLiteral("model.layers[1]"), QStringLiteral(R"({"type":"relu"})"));
    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::KindColumn), QStringLiteral("fixed")));
    QVERIFY(model.setData(cell(model, 0, SearchSpaceModel::KindColumn), QStringLiteral("float")));
    QVERIFY(model.setData(cell(model, 1, SearchSpaceModel::ConditionColumn), QStringLiteral("x = 1")));
    QVERIFY(!model.setData(cell(model, 1, SearchSpaceModel::StatusColumn), QStringLiteral("fine")));
    QVERIFY(!model.setData(cell(model, 1, SearchSpaceModel::LowColumn), QStringLiteral("1")));
    model.removeRow(1);
    QVERIFY(model.setSpaceJson(model.spaceJson()));
    QCOMPARE(model.rowCount(), 2);
    model.removeRows(0, 2);
    QCOMPARE(model.rowCount(), 0);
}

QTEST_MAIN(TestSearchSpaceModel)
#include "tst_search_space_model.moc"
